"""Django settings of the web application, built from the data directory's edepot.toml.

The data directory is `$EDEPOT_DATA`, else `./edepot-data`, as for the command line. Its catalogue is the web's
default database, with the same SQLite options as every command's (WAL, IMMEDIATE transactions, a busy
timeout); the web's own tables (users, sessions, the admin's) live in the same file, beside the catalogue's, and
its migration check only looks at the catalogue's. `[web] admin = true` turns on the read-only admin.
"""
from __future__ import annotations

from edepot.web.secret import secret_key
from kernel.config import DEFAULT_TIMEZONE, load_config
from preservation.catalogue_db.database import database_settings

EDEPOT_CONFIG = load_config()
EDEPOT_ADMIN = EDEPOT_CONFIG.web.admin

SECRET_KEY = secret_key(EDEPOT_CONFIG)
DEBUG = False
ALLOWED_HOSTS = list(EDEPOT_CONFIG.web.allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.admin.apps.SimpleAdminConfig",  # the admin without autodiscovery: edepot.web.admin is its site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "preservation.catalogue_db",
    "django_tasks",
    "django_tasks_db",
    "edepot.accounts",
    "edepot.web",
]
AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "edepot.web.urls"
WSGI_APPLICATION = "edepot.web.wsgi.application"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]

DATABASES = {"default": database_settings(EDEPOT_CONFIG.catalogue_url)}
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # the job queue, in the catalogue
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [{"NAME": f"django.contrib.auth.password_validation.{name}"} for name in (
    "UserAttributeSimilarityValidator", "MinimumLengthValidator", "CommonPasswordValidator",
    "NumericPasswordValidator")]

USE_TZ = True
TIME_ZONE = DEFAULT_TIMEZONE
STATIC_URL = "static/"
STATIC_ROOT = EDEPOT_CONFIG.data_dir / "web-static"
