"""The URLs of the administrators' screens of people and organisations."""
from __future__ import annotations

from django.urls import URLPattern, path

from edepot.web import converters  # noqa: F401  (registers <name:...>)
from edepot.web import directory_views as views

urlpatterns: list[URLPattern] = [
    path("people/", views.people, name="people"),
    path("people/<name:name>/", views.person, name="person"),
    path("people/<name:name>/roles/", views.grant, name="person-grant"),
    path("people/<name:name>/disable/", views.disable, name="person-disable"),
    path("people/<name:name>/tokens/", views.issue_token, name="person-token"),
    path("people/<name:name>/password/", views.set_password, name="person-password"),
    path("organisations/", views.organisations, name="organisations"),
]
