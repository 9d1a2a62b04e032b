"""Copy a catalogue to another database, SQLite to PostgreSQL or back, verified by counts and digests.

Every row of every catalogue table is copied into the target, a catalogue at the newest migration that must
still be empty, in one transaction on each side (the source is read as one snapshot). The full-text index is
rebuilt in the target's own way from the copied messages. Each table's rows are then counted and digested on
both sides (an order-free digest: the sum of each row's SHA-256, so SQLite's and PostgreSQL's orderings do not
matter); any difference rolls the whole copy back. The copy is recorded in the target as a repository PREMIS
event naming the person who ran it. The source is left as it was, and the data directory's configuration too:
pointing `[catalogue] url` at the copy is the operator's step.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from kernel.errors import InputError
from kernel.version import EDEPOT_AGENT_ID, edepot_version
from preservation.catalogue_db.database import catalogue_alias, shown_url

CHUNK = 5000


@dataclass
class CopyResult:
    """What a copy did: from where to where, and each table's rows and digest (equal on both sides)."""

    source: str
    target: str
    rows: dict[str, int] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "rows": self.rows, "digests": self.digests}


def _models() -> list[Any]:
    from django.apps import apps

    return list(apps.get_app_config("catalogue").get_models())  # in definition order: referenced tables first


def _rows(model: Any, alias: str) -> Iterable[tuple]:
    names = [f.attname for f in model._meta.concrete_fields]
    return model.objects.using(alias).values_list(*names).iterator(chunk_size=CHUNK)


def table_digest(model: Any, alias: str) -> tuple[int, str]:
    """(rows, digest) of one table: the sum modulo 2**256 of each row's SHA-256 over its values as JSON."""
    count, total = 0, 0
    for row in _rows(model, alias):
        encoded = json.dumps(row, default=str, sort_keys=True, ensure_ascii=False).encode()
        total = (total + int.from_bytes(hashlib.sha256(encoded).digest(), "big")) % (1 << 256)
        count += 1
    return count, f"{total:064x}"


def copy_catalogue(source_url: str, target_url: str, *, by: str, now: datetime) -> CopyResult:
    """Copy the catalogue at `source_url` into the empty catalogue at `target_url` (made there when the
    database or file is new); InputError when the target is the source or holds anything."""
    from django.core.management.color import no_style
    from django.db import connections, transaction

    from preservation.catalogue_db import models as m
    from preservation.catalogue_db.search_store import search_index_at

    source, target = catalogue_alias(source_url), catalogue_alias(target_url)
    if source == target or connections[source].settings_dict == connections[target].settings_dict:
        raise InputError("the catalogue cannot be copied onto itself", hint="name another database with --to")
    models = _models()
    for model in models:
        if model.objects.using(target).exists():
            raise InputError(f"the target catalogue is not empty (table {model._meta.db_table} has rows)",
                             hint="copy into a new database or file")
    result = CopyResult(shown_url(source_url), shown_url(target_url))
    with transaction.atomic(using=target), transaction.atomic(using=source):
        for model in models:
            batch: list[Any] = []
            names = [f.attname for f in model._meta.concrete_fields]
            for row in _rows(model, source):
                batch.append(model(**dict(zip(names, row))))
                if len(batch) >= CHUNK:
                    model.objects.using(target).bulk_create(batch)
                    batch = []
            model.objects.using(target).bulk_create(batch)
        with connections[target].cursor() as cursor:  # PostgreSQL's sequences continue after the copied ids
            for statement in connections[target].ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
        search_index_at(target).rebuild_full_text()
        for model in models:
            copied = table_digest(model, source)
            if table_digest(model, target) != copied:
                raise InputError(f"the copy of table {model._meta.db_table} differs from the source; "
                                 "nothing was copied")
            result.rows[model._meta.db_table], result.digests[model._meta.db_table] = copied
        m.Event.objects.using(target).create(
            event_id=str(uuid.uuid4()), aip=None, type="metadata modification", date_time=now, outcome="success",
            detail=f"catalogue copied from another database by edepot {edepot_version()}",
            outcome_detail=f"{sum(result.rows.values())} rows in {len(result.rows)} tables, each counted and "
                           "digested on both sides", agents=[EDEPOT_AGENT_ID, by], source_objects=[],
            outcome_objects=[])
    return result
