"""Upgrade a catalogue in place: one written by edepot 0.2.0 (no migrations), or one behind on migrations.

Crash-safe in this order: (1) a copy of the old catalogue is kept beside it (`<name>.<version>.bak`), made with
SQLite's backup API so the write-ahead log is in it; (2) the new catalogue is built under a temporary name —
from a 0.2.0 file by copying every row of every table into the migrated schema (in order of writing, times as
UTC timestamps, JSON parsed), the full-text index rebuilt from the copied messages, the row counts compared;
from a migrated file by running the missing migrations on a copy; (3) it replaces the old file in one rename.
A crash before (3) leaves the old catalogue as it was and a re-run starts again; after (3) it is done.
The upgrade is recorded as a repository PREMIS event naming the person who ran it.

A PostgreSQL catalogue behind on migrations gets the missing ones in one transaction (PostgreSQL's DDL is
transactional) together with the upgrade's event: a crash leaves it as it was and a re-run does it all. No copy
is kept beside it: a PostgreSQL database's backups are the server's (pg_dump, WAL archiving).
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable

from kernel.errors import InputError
from kernel.version import EDEPOT_AGENT_ID, edepot_version
from preservation.catalogue_db.database import (
    applied_migrations,
    applied_migrations_at,
    ensure_django,
    forget,
    is_postgres,
    migrate,
    migration_names,
    register_database,
    register_postgres,
    shown_url,
    sqlite_path,
    template_catalogue,
)

LEGACY_VERSION = "0.2.0"
COPY_CHUNK = 5000


@dataclass
class UpgradeResult:
    """What an upgrade did: from which state to which migration, where the old catalogue was kept, the rows."""

    catalogue: Path | str  # a file, or a PostgreSQL URL without its password
    upgraded_from: str  # "0.2.0", a migration name, or "current" when nothing was to be done
    upgraded_to: str
    backup: Path | None = None
    rows: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"catalogue": str(self.catalogue), "from": self.upgraded_from, "to": self.upgraded_to,
                "backup": str(self.backup) if self.backup else None, "rows": self.rows}


def upgrade_catalogue(url: str, *, by: str, now: datetime) -> UpgradeResult:
    """Bring the catalogue at `url` to this edepot's newest migration, keeping a copy of the old one beside it.

    Nothing is lost: every row of a 0.2.0 catalogue is copied, and the counts are checked before the new file
    takes the old one's place. A catalogue already current is left as it is.
    """
    ensure_django()
    if is_postgres(url):
        return _upgrade_postgres(url, by=by, now=now)
    path = sqlite_path(url)
    shipped = migration_names()
    if not path.exists():
        raise InputError(f"there is no catalogue at {path} to upgrade")
    has_tables, applied = applied_migrations(path)
    if applied == shipped:
        return UpgradeResult(path, "current", shipped[-1])
    if any(name not in shipped for name in applied):
        raise InputError(f"the catalogue {path} was written by a newer edepot; it is left as it is")
    forget(url)
    upgraded_from = applied[-1] if applied else LEGACY_VERSION
    backup = _backup(path, label=LEGACY_VERSION if not applied else applied[-1])
    staged = path.with_name(f".{path.name}.upgrading")
    staged.unlink(missing_ok=True)
    if applied:
        _copy_file(backup, staged)
        _migrate_copy(staged)
        rows = _counts(staged)
    elif has_tables:
        _copy_file(template_catalogue(), staged)
        rows = _copy_legacy_rows(backup, staged)
    else:  # an empty SQLite file: nothing to keep
        _copy_file(template_catalogue(), staged)
        rows = {}
    _close(staged)
    _record_upgrade(staged, by=by, now=now, upgraded_from=upgraded_from, upgraded_to=shipped[-1])
    _drop_journal(path)
    os.replace(staged, path)
    _fsync_dir(path.parent)
    return UpgradeResult(path, upgraded_from, shipped[-1], backup, rows)


def _upgrade_postgres(url: str, *, by: str, now: datetime) -> UpgradeResult:
    """Apply a PostgreSQL catalogue's missing migrations and record the upgrade, in one transaction."""
    from django.db import transaction

    shipped = migration_names()
    alias = register_postgres(url)
    has_tables, applied = applied_migrations_at(alias)
    where = shown_url(url)
    if not has_tables:
        raise InputError(f"there is no catalogue in {where} to upgrade",
                         hint="an empty database becomes a catalogue when edepot first opens it")
    if applied == shipped:
        return UpgradeResult(where, "current", shipped[-1])
    if any(name not in shipped for name in applied):
        raise InputError(f"the catalogue {where} was written by a newer edepot; it is left as it is")
    if not applied:
        raise InputError(f"the catalogue {where} has tables but no migrations; it is left as it is")
    with transaction.atomic(using=alias):
        migrate(alias)
        _record_event(alias, by=by, now=now, upgraded_from=applied[-1], upgraded_to=shipped[-1],
                      kept="every row kept, in one transaction")
        rows = {m._meta.db_table: m.objects.using(alias).count() for m in _models()}
    return UpgradeResult(where, applied[-1], shipped[-1], None, rows)


def _models() -> list[Any]:
    from django.apps import apps

    return list(apps.get_app_config("catalogue").get_models())


def _backup(path: Path, *, label: str) -> Path:
    """A consistent copy of the catalogue (write-ahead log included), kept beside it; an earlier one is kept."""
    target = path.with_name(f"{path.name}.{label}.bak")
    if target.exists():
        target = path.with_name(f"{path.name}.{label}.{uuid.uuid4().hex[:8]}.bak")
    staged = target.with_name(f".{target.name}.partial")
    source = sqlite3.connect(path)
    copy = sqlite3.connect(staged)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        source.close()
    with open(staged, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(staged, target)
    return target


def _copy_file(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)  # streamed: a catalogue of millions of messages is never held whole


def _migrate_copy(staged: Path) -> None:
    """Run the catalogue's missing migrations on the copy, and let go of it (its journal mode is changed next)."""
    from django.db import connections

    alias = register_database(staged)
    try:
        migrate(alias)
    finally:
        connections[alias].close()


def _derived(row: Any) -> Any:
    """The row with what a later catalogue keeps beside what 0.2.0 had: a retention entry's stored schedule."""
    from preservation.catalogue_db import models as m

    if isinstance(row, m.Retention):
        from preservation.retention import stored_schedule

        for name, value in stored_schedule(row.mdto, row.override).items():
            setattr(row, name, value)
    return row


def _copy_legacy_rows(legacy: Path, staged: Path) -> dict[str, int]:
    """Copy every row of a 0.2.0 catalogue into the migrated one; the counts must match table by table."""
    from django.apps import apps
    from django.db import connections, transaction

    alias = register_database(staged, options={"timeout": 60})
    old = sqlite3.connect(f"file:{legacy}?mode=ro", uri=True)
    old.row_factory = sqlite3.Row
    counts: dict[str, int] = {}
    try:
        old_tables = {r[0] for r in old.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        with transaction.atomic(using=alias):
            for model in apps.get_app_config("catalogue").get_models():
                table = model._meta.db_table
                if table not in old_tables:
                    continue
                rows = old.execute(f'SELECT rowid AS "_rowid", * FROM "{table}" ORDER BY rowid')
                columns = {d[0] for d in rows.description}
                # the integer key 0.2.0 lacked (it keeps write order) takes the row's rowid; another column it
                # lacked (a record's organisation) takes the field's default
                converters = [(f.attname, f.column if f.column in columns else "_rowid", _converter(f))
                              for f in model._meta.concrete_fields if f.column in columns or f.primary_key]
                batch = []
                for row in rows:
                    batch.append(_derived(model(**{attname: convert(row[column])
                                                   for attname, column, convert in converters})))
                    if len(batch) == COPY_CHUNK:  # memory stays flat however many rows a table holds
                        model.objects.using(alias).bulk_create(batch, batch_size=500)
                        batch = []
                model.objects.using(alias).bulk_create(batch, batch_size=500)
                copied = model.objects.using(alias).count()
                expected = old.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
                if copied != expected:
                    raise InputError(f"upgrading table {table} copied {copied} of {expected} rows; nothing changed")
                counts[table] = copied
            if "search_messages" in counts:
                with connections[alias].cursor() as cursor:
                    cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    finally:
        old.close()
        connections[alias].close()
    return counts


def _converter(model_field: Any) -> Callable[[Any], Any]:
    kind = model_field.get_internal_type()
    if kind == "DateTimeField":
        return _to_datetime
    if kind == "DateField":
        return lambda v: date.fromisoformat(v) if isinstance(v, str) and v else v
    if kind == "JSONField":
        return lambda v: json.loads(v) if isinstance(v, str) else v
    return lambda v: v


def _to_datetime(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return value or None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _counts(path: Path) -> dict[str, int]:
    from django.apps import apps

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {m._meta.db_table: db.execute(f'SELECT COUNT(*) FROM "{m._meta.db_table}"').fetchone()[0]
                for m in apps.get_app_config("catalogue").get_models()}
    finally:
        db.close()


def _record_event(alias: str, *, by: str, now: datetime, upgraded_from: str, upgraded_to: str, kept: str) -> None:
    from preservation.catalogue_db import models as m

    m.Event.objects.using(alias).create(
        event_id=str(uuid.uuid4()), aip=None, type="metadata modification", date_time=now,
        outcome="success", detail=f"catalogue upgraded in place from {upgraded_from} to migration {upgraded_to} "
                                  f"by edepot {edepot_version()}",
        outcome_detail=kept, agents=[EDEPOT_AGENT_ID, by], source_objects=[], outcome_objects=[])


def _record_upgrade(staged: Path, *, by: str, now: datetime, upgraded_from: str, upgraded_to: str) -> None:
    alias = register_database(staged, options={"timeout": 60})
    from django.db import connections

    try:
        _record_event(alias, by=by, now=now, upgraded_from=upgraded_from, upgraded_to=upgraded_to,
                      kept="every row kept; the old catalogue kept beside it")
        with connections[alias].cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=DELETE")
    finally:
        connections[alias].close()


def _close(staged: Path) -> None:
    db = sqlite3.connect(staged)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")
    finally:
        db.close()


def _drop_journal(path: Path) -> None:
    """Fold the old catalogue's write-ahead log into it and remove it, so it cannot be replayed onto the new file."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)



