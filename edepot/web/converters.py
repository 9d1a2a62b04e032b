"""A person's name in a URL path: any text, a slash and a percent sign escaped (names are the directory's, and a
name may hold characters a path segment does not). Importing this module registers it as `<name:...>`."""
from __future__ import annotations

from urllib.parse import unquote

from django.urls import register_converter


class PersonName:
    """`<name:...>`: one path segment that is a person's name."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        # reverse() quotes the result once more; the server unquotes once, to_python the second time
        return value.replace("%", "%25").replace("/", "%2F")


register_converter(PersonName, "name")
