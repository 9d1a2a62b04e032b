"""/api/v1/: the operations, and the OpenAPI 3 schema at /api/v1/schema/."""
from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView

from edepot.web.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]), name="api-schema"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("", include("edepot.web.api.directory")),
    path("", include("edepot.web.api.aips")),
    path("dashboard/", views.DashboardView.as_view(), name="api-dashboard"),
    path("audit/", views.AuditView.as_view(), name="api-audit"),
]
