"""Django system checks of the web: run before `migrate`, `runserver` and `check` do anything."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks

from preservation.catalogue_db.database import applied_migrations, applied_migrations_at, migration_names


def catalogue_from_another_version(**kwargs: Any) -> list[checks.CheckMessage]:
    """An error when the catalogue was written by edepot 0.2.0 or a newer edepot: `migrate` would fail half-way
    on the first and undo the second; `edepot upgrade` (or that newer edepot) is what it needs."""
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        from django.db import connections

        path: Any = settings.DATABASES["default"]["NAME"]
        has_tables, applied = applied_migrations_at(connections["default"].alias)
    else:
        path = Path(settings.DATABASES["default"]["NAME"])
        if not path.is_file() or path.stat().st_size == 0:
            return []
        has_tables, applied = applied_migrations(path)
    if has_tables and not applied:
        return [checks.Error(f"the catalogue {path} was written by edepot 0.2.0", id="edepot.E001",
                             hint="upgrade it first: edepot upgrade --data-dir DATA --user NAME")]
    newer = [name for name in applied if name not in migration_names()]
    if newer:
        return [checks.Error(f"the catalogue {path} was written by a newer edepot (migration {newer[-1]})",
                             id="edepot.E002", hint="use that edepot version or newer")]
    return []
