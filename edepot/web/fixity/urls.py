"""The URLs of the fixity screen."""
from __future__ import annotations

from django.urls import URLPattern, path

from edepot.web.fixity import views

urlpatterns: list[URLPattern] = [
    path("fixity/", views.overview, name="fixity"),
    path("fixity/run/", views.run, name="fixity-run"),
    path("fixity/aip/<str:aip_id>/", views.aip, name="fixity-aip"),
    path("fixity/aip/<str:aip_id>/restore/", views.restore, name="fixity-restore"),
    path("fixity/aip/<str:aip_id>/loss/", views.declare_loss, name="fixity-declare-loss"),
]
