"""The catalogue as a Django application."""
from __future__ import annotations

from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "preservation.catalogue_db"
    label = "catalogue"
    verbose_name = "edepot catalogue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from preservation.catalogue_db.database import on_connection_created

        connection_created.connect(on_connection_created, dispatch_uid="edepot-catalogue-sqlite")
