"""SQL a migration runs on one kind of database only (Django's loader passes over this module: its name starts
with an underscore)."""
from __future__ import annotations

from typing import Sequence

from django.db import migrations


def run_on(vendor: str, forwards: Sequence[str], backwards: Sequence[str]) -> migrations.RunPython:
    """A migration step that runs `forwards` (undone by `backwards`), statement by statement, when the catalogue's
    database is `vendor` ("sqlite", "postgresql"), and nothing on any other."""
    def statements(run: Sequence[str]):  # noqa: ANN202
        def execute(apps, schema_editor) -> None:  # noqa: ANN001
            if schema_editor.connection.vendor == vendor:
                for statement in run:
                    schema_editor.execute(statement)
        return execute
    return migrations.RunPython(statements(forwards), statements(backwards))
