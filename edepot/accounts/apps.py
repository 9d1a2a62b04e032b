"""The accounts application: the web's user model."""
from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "edepot.accounts"
    label = "accounts"
    verbose_name = "edepot accounts"
    default_auto_field = "django.db.models.BigAutoField"
