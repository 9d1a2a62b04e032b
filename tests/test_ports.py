"""The ports: one unit of work is one transaction across the catalogue, the access register and the search index,
the Depot service hands the engine its ports, and only the catalogue implementation, the service wiring and the
adapters import Django."""
from __future__ import annotations

import ast
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from kernel.model import Message, MessageKind
from preservation.metadata.premis import PremisEvent
from preservation.record_access import Openness, RecordAccess, Restriction
from preservation.unit_of_work import open_unit_of_work
from tests.conftest import REPO

AT = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


class Interrupted(Exception):
    pass


def test_what_one_unit_of_work_writes_in_atomic_is_kept_together_or_not_at_all(catalogue_url: str) -> None:
    store = open_unit_of_work(catalogue_url)
    event = PremisEvent("e-1", "metadata modification", AT, "toets", "success", "", ("person:T. Toets",), (), ())
    message = Message(1, AT, "A", MessageKind.TEXT, "vergunning verleend")
    facts = RecordAccess("R-1", "gesprek", Openness.OPEN)
    with pytest.raises(Interrupted):
        with store.atomic():
            store.register.grant_permit("R-1", "Z. Onderzoeker", date(2027, 1, 1), "onderzoek", "A. Archivaris", AT)
            store.register.record_restriction("R-1", Restriction("Geen beperking"), by="A. Archivaris",
                                              reason="getoetst", at=AT)
            store.catalogue.add_events(None, [event])
            store.search.index("aip-1", [message], facts, AT)
            raise Interrupted  # a crash between the writes
    assert store.register.permits() == [] and store.register.decided_restrictions() == {}
    assert store.catalogue.recent_events(["metadata modification"]) == []
    assert store.search.records() == []
    with store.atomic():
        store.register.record_restriction("R-1", Restriction("Geen beperking"), by="A. Archivaris",
                                          reason="getoetst", at=AT)
        store.catalogue.add_events(None, [event])
        store.search.index("aip-1", [message], facts, AT)
    store.close()
    again = open_unit_of_work(catalogue_url)
    assert list(again.register.decided_restrictions()) == ["R-1"]
    assert [e.identifier for _, e in again.catalogue.recent_events(["metadata modification"])] == ["e-1"]
    assert [r.aip_id for r in again.search.records()] == ["aip-1"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_only_the_catalogue_implementation_and_the_web_import_django() -> None:
    allowed = ("preservation/catalogue_db/", "edepot/web/", "edepot/accounts/")
    offenders = []
    for package in ("kernel", "ingest", "preservation", "access", "edepot"):
        for path in sorted((REPO / package).rglob("*.py")):
            where = path.relative_to(REPO).as_posix()
            if where.startswith(allowed):
                continue
            reached = {name for name in _imports(path)
                       if name.split(".")[0] == "django" or name.startswith("preservation.catalogue_db")}
            if reached:
                offenders.append(f"{where}: {', '.join(sorted(reached))}")
    # The ports open their implementation lazily (a function-level import in `open_*`): that is the wiring.
    wiring = {"preservation/catalogue.py", "preservation/unit_of_work.py", "preservation/access_register.py",
              "preservation/search_index.py", "preservation/doctor.py", "preservation/job_queue.py", "preservation/work_locks.py",
              "edepot/service/ingest_and_preservation.py"}
    assert [o for o in offenders if o.split(":")[0] not in wiring] == []
