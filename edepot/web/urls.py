"""The web's URLs: the read-only admin at /admin/ when `[web] admin = true`, else nothing there (404)."""
from __future__ import annotations

from django.conf import settings
from django.urls import URLPattern, URLResolver, path

urlpatterns: list[URLPattern | URLResolver] = []

if settings.EDEPOT_ADMIN:
    from edepot.web.admin import site

    urlpatterns.append(path("admin/", site.urls))
