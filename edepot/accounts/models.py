"""The web's user: Django's own, under edepot's name (AUTH_USER_MODEL = "accounts.User")."""
from __future__ import annotations

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A person who signs in to the web application."""
