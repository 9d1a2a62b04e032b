"""The web's URLs: the screens, the JSON API under /api/v1/, and the read-only admin at /admin/ when
`[web] admin = true` (else nothing there: 404)."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from edepot.web import sign_in, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard, name="dashboard"),
    path("sign-in/", sign_in.SignInView.as_view(), name="sign-in"),
    path("sign-in/code/", sign_in.sign_in_code, name="sign-in-code"),
    path("sign-in/enrol/", sign_in.sign_in_enrol, name="sign-in-enrol"),
    path("second-factor/", sign_in.second_factor, name="second-factor"),
    path("audit/", views.audit, name="audit-log"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="sign-out"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("edepot.web.directory_urls")),
    path("", include("edepot.web.transfers.urls")),
    path("", include("edepot.web.aips.urls")),
    path("", include("edepot.web.fixity.urls")),
    path("", include("edepot.web.retention.urls")),
    path("api/v1/", include("edepot.web.api.urls")),
]

if settings.EDEPOT_CONFIG.web.oidc is not None:
    from edepot.web.oidc import ProviderCallbackView, ProviderRequestView

    urlpatterns += [path("oidc/authenticate/", ProviderRequestView.as_view(), name="oidc_authentication_init"),
                    path("oidc/callback/", ProviderCallbackView.as_view(), name="oidc_authentication_callback")]

if settings.EDEPOT_ADMIN:
    from edepot.web.admin import site

    urlpatterns.append(path("admin/", site.urls))
