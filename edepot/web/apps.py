"""The web as a Django application: the checks it runs before it starts or migrates."""
from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "edepot.web"
    label = "web"
    verbose_name = "edepot web"

    def ready(self) -> None:
        from django.core import checks

        from edepot.web.checks import catalogue_from_another_version

        checks.register(catalogue_from_another_version)
