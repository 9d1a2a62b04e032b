"""Django settings of the web application, built from the data directory's edepot.toml.

The data directory is `$EDEPOT_DATA`, else `./edepot-data`, as for the command line. Its catalogue is the web's
default database, with the same SQLite options as every command's (WAL, IMMEDIATE transactions, a busy
timeout); the web's own tables (sessions, the shadow users of registered people) live in the same file, beside
the catalogue's, and its migration check only looks at the catalogue's. People, their roles and passwords are
the catalogue's directory (`edepot user add`); the web signs them in against it (`edepot.web.auth`).
`[web] admin = true` turns on the read-only admin. Sign-in's second factor, throttling, single sign-on, session
limits and security headers: `edepot.web.sign_in`, `edepot.web.oidc`, and the block at the end.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from csp.constants import NONE, SELF

from edepot.web.secret import secret_key
from kernel.config import DEFAULT_TIMEZONE, load_config
from kernel.errors import InputError
from preservation.catalogue_db.database import QueueRouter, database_settings

WEB = Path(__file__).resolve().parent
EDEPOT_CONFIG = load_config()
EDEPOT_ADMIN = EDEPOT_CONFIG.web.admin

SECRET_KEY = secret_key(EDEPOT_CONFIG)
DEBUG = False
ALLOWED_HOSTS = list(EDEPOT_CONFIG.web.allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.admin.apps.SimpleAdminConfig",  # the admin without autodiscovery: edepot.web.admin is its site
    "django.contrib.auth",
    "axes",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "preservation.catalogue_db",
    "django_tasks",
    "django_tasks_db",
    "edepot.accounts",
    "edepot.web",
]
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "edepot.web.auth.DirectoryBackend",
                           "edepot.web.oidc.ProviderBackend"]
LOGIN_URL = "sign-in"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "sign-in"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "edepot.web.auth.RegisteredPersonMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "edepot.web.sign_in.SessionLimitsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]
ROOT_URLCONF = "edepot.web.urls"
WSGI_APPLICATION = "edepot.web.wsgi.application"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.template.context_processors.i18n",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
        "edepot.web.auth.person_context",
        "edepot.web.directory_views.administration_context",
        "edepot.web.navigation.navigation",
    ]},
}]

DATABASES = {"default": database_settings(EDEPOT_CONFIG.catalogue_url)}
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # the job queue, in the catalogue


class _QueueOnTheCatalogueConnection(QueueRouter):
    """Queues a job on the catalogue's own connection, in the transaction that records it (on another connection
    to the same SQLite file the insert would wait on that transaction's lock); before anything is queued in this
    process (the web's own migrations at start), on the web's database, which is the same catalogue."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        try:
            return super().db_for_read(model, **hints)
        except InputError:
            return None

    db_for_write = db_for_read


DATABASE_ROUTERS = [_QueueOnTheCatalogueConnection()]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Dutch first; English through Django's i18n (the language switch, or the browser's Accept-Language)
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
LOCALE_PATHS = [WEB / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = DEFAULT_TIMEZONE

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

STATIC_URL = "static/"
STATIC_ROOT = EDEPOT_CONFIG.data_dir / "web-static"  # where `collectstatic` puts them for production
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True  # `edepot serve` serves the package's static files without a collectstatic step

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["edepot.web.api.auth.PersonalTokenAuthentication",
                                       "rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "edepot.web.api.errors.api_error",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "edepot API",
    "DESCRIPTION": "The e-Depot's operations for scripts and other systems, with the command line's error "
                   "references. Authenticate with a personal token: `Authorization: Token <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# -- sign-in, sessions and security headers ([web] in edepot.toml)

WEB_SETTINGS = EDEPOT_CONFIG.web
SESSION_COOKIE_AGE = WEB_SETTINGS.session_idle_seconds  # renewed on every request: the idle limit
SESSION_SAVE_EVERY_REQUEST = True  # (the overall limit: edepot.web.sign_in.SessionLimitsMiddleware)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = WEB_SETTINGS.https
if WEB_SETTINGS.https:  # behind a reverse proxy that ends TLS and says so
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {"DIRECTIVES": {
    "default-src": [SELF], "script-src": [SELF], "style-src": [SELF], "img-src": [SELF, "data:"],
    "connect-src": [SELF], "form-action": [SELF], "frame-ancestors": [NONE], "base-uri": [NONE],
    "object-src": [NONE]}}

AXES_FAILURE_LIMIT = WEB_SETTINGS.sign_in_failures
AXES_COOLOFF_TIME = timedelta(seconds=WEB_SETTINGS.lockout_seconds)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # one name from one address
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "edepot.web.sign_in.throttled_name"
AXES_LOCKOUT_CALLABLE = "edepot.web.sign_in.locked_out"
AXES_VERBOSE = False

if WEB_SETTINGS.oidc is not None:
    OIDC_RP_CLIENT_ID = WEB_SETTINGS.oidc.client_id
    OIDC_RP_CLIENT_SECRET = WEB_SETTINGS.oidc.client_secret()
    OIDC_RP_SIGN_ALGO = "RS256"
    OIDC_TIMEOUT = 10
    OIDC_RP_SCOPES = WEB_SETTINGS.oidc.scopes
    OIDC_OP_AUTHORIZATION_ENDPOINT = WEB_SETTINGS.oidc.endpoints.get("authorization_endpoint")
    OIDC_OP_TOKEN_ENDPOINT = WEB_SETTINGS.oidc.endpoints.get("token_endpoint")
    OIDC_OP_USER_ENDPOINT = WEB_SETTINGS.oidc.endpoints.get("userinfo_endpoint")
    OIDC_OP_JWKS_ENDPOINT = WEB_SETTINGS.oidc.endpoints.get("jwks_uri")
    OIDC_CALLBACK_CLASS = "edepot.web.oidc.ProviderCallbackView"
    LOGIN_REDIRECT_URL_FAILURE = "/sign-in/?sso=refused"
