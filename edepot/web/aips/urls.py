"""The URLs of the AIP screens."""
from __future__ import annotations

from django.urls import URLPattern, path

from edepot.web.aips import views

urlpatterns: list[URLPattern] = [
    path("aips/", views.aip_list, name="aips"),
    path("aips/<str:aip_id>/", views.aip, name="aip"),
    path("aips/<str:aip_id>/dip/", views.make_dip, name="aip-dip"),
    path("aips/<str:aip_id>/dips/<str:dip_id>/", views.download_dip, name="aip-dip-download"),
]
