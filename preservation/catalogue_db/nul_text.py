"""Text that may hold NUL characters, in a database whose text type cannot (PostgreSQL's cannot; SQLite's can).

A chat message may hold a NUL (U+0000): the original export and the canonical JSON in the AIP keep it as it came.
On PostgreSQL the catalogue stores such text with each NUL written as U+FFFF followed by "0", and a U+FFFF of the
text itself doubled, and reads it back exactly as it was, so both backends answer with the same text. U+FFFF is
a Unicode noncharacter, reserved for a program's internal use, so the stored form stays readable and searchable
text everywhere else. SQLite keeps the text as it is.
"""
from __future__ import annotations

import re
from typing import Any

from django.db import models

_ESCAPE = "\uffff"
_TO_STORE = re.compile("[\x00\uffff]")
_STORED = re.compile("\uffff(.)", re.DOTALL)


def stored_text(text: str) -> str:
    """`text` as a PostgreSQL text column holds it (NUL → U+FFFF "0", U+FFFF → U+FFFF U+FFFF)."""
    if "\x00" not in text and _ESCAPE not in text:
        return text
    return _TO_STORE.sub(lambda m: _ESCAPE + ("0" if m.group() == "\x00" else _ESCAPE), text)


def read_text(stored: str) -> str:
    """The text `stored_text` stored, as it was."""
    if _ESCAPE not in stored:
        return stored
    return _STORED.sub(lambda m: "\x00" if m.group(1) == "0" else m.group(1), stored)


class NulTextField(models.TextField):
    """A text column whose values may hold NUL characters (kept on PostgreSQL as `stored_text` writes them)."""

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        value = super().get_db_prep_value(value, connection, prepared)
        return stored_text(value) if connection.vendor == "postgresql" and isinstance(value, str) else value

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return read_text(value) if connection.vendor == "postgresql" and isinstance(value, str) else value

    def deconstruct(self) -> Any:
        # the column is an ordinary text column in every database, so the migrations name TextField
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs
