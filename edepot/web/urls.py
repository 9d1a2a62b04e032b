"""The web's URLs: the screens, the JSON API under /api/v1/, and the read-only admin at /admin/ when
`[web] admin = true` (else nothing there: 404)."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from edepot.web import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard, name="dashboard"),
    path("audit/", views.audit, name="audit-log"),
    path("sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="sign-out"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("edepot.web.api.urls")),
]

if settings.EDEPOT_ADMIN:
    from edepot.web.admin import site

    urlpatterns.append(path("admin/", site.urls))
