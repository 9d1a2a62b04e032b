"""The web application: Django settings built from a data directory's edepot.toml, its URLs and its WSGI entry.

Only the web process uses these settings (DJANGO_SETTINGS_MODULE=edepot.web.settings); the command line keeps
its own minimal set-up (preservation.catalogue_db.database.ensure_django), so no command pays for the web's apps.
"""
