"""What needs an archivist's attention costs the same for an organisation of ten times as many AIPs when the few
held, damaged, lost and due records are the same: each part starts from those few rows and looks their AIP up,
and the records due are found by the index of their stored destruction dates. Counted in SQLite's own steps (its virtual
machine's instructions), not in seconds."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from edepot.service import Depot
from edepot.service.person import Person
from kernel.config import load_config
from preservation.retention import stored_schedule

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
DUE = 10  # records due for destruction, whatever the number of AIPs (half of them Een's, three of those held)


def _depot(data: Path, aips: int) -> Depot:
    """A depot of two organisations with `aips` AIPs each, DUE of them due, three of Een's held, two of its
    replicas damaged and a file lost; an archivist of Een acting."""
    config = load_config(data)
    with Depot(config, person=None) as depot:
        _, token = depot.add_person("A. Beheer", roles=[("administrator", None)])
    with Depot(config, person=Person("A. Beheer"), token=token) as depot:
        for organisation in ("gm0001", "gm0002"):
            depot.add_organisation(organisation, name=f"Gemeente {organisation}")
        depot.add_person("A. Een", roles=[("archivist", "gm0001")])
    from preservation.catalogue_db import models as m  # once the catalogue is open (Django is set up)
    from preservation.catalogue_db.database import catalogue_alias

    alias = catalogue_alias(config.catalogue_url)
    made = [m.Aip(aip_id=f"aip-{n:06}", sip_digest=f"sip-{n}", record_id=f"WA-{n:06}", title=f"Gesprek {n}",
                  created=NOW, state="stored", payload_bytes=1, payload_files=1,
                  organisation=("gm0001", "gm0002")[n % 2]) for n in range(2 * aips)]
    m.Aip.objects.using(alias).bulk_create(made, batch_size=5000)
    m.Replica.objects.using(alias).bulk_create(
        [m.Replica(aip_id=a.aip_id, location="a", path="/a", last_verified=NOW,
                   status="damaged" if n in (0, 2) else "intact") for n, a in enumerate(made)], batch_size=5000)
    m.FileLoss.objects.using(alias).bulk_create([m.FileLoss(aip_id=made[4].aip_id, path="x", declared=NOW,
                                                            declared_by="A. Een", reason="weg")])
    day = date(1990, 1, 1)
    mdtos = [{"record_id": a.record_id, "title": a.title, "waardering": "V",
              "looptijd": "P10Y" if n < DUE else "P100Y", "trigger": None,
              "startdatum": None, "einddatum": None, "dekking_begin": (day + timedelta(days=n % 5000)).isoformat(),
              "dekking_eind": (day + timedelta(days=n % 5000)).isoformat(),
              "category": {"code": None, "label": None, "list": None}} for n, a in enumerate(made)]
    m.Retention.objects.using(alias).bulk_create(  # with the due dates the catalogue keeps beside each appraisal
        [m.Retention(record_id=a.record_id, aip_id=a.aip_id, title=a.title, override={}, updated=NOW, mdto=mdto,
                     **stored_schedule(mdto, {})) for a, mdto in zip(made, mdtos)], batch_size=5000)
    m.Hold.objects.using(alias).bulk_create([m.Hold(hold_id=f"hold-{n}", record_id=made[n].record_id,
                                                    reason="Woo-verzoek", placed_by="A. Een", placed_at=NOW)
                                             for n in (0, 2, 4)])
    return Depot(config, person=Person("A. Een"), vouched=True)


def _steps(depot: Depot, ask: Any) -> tuple[Any, int]:
    """What `ask()` answers, and the SQLite steps (in hundreds) it took."""
    from django.db import connections

    connection = connections[depot.store.directory._alias]
    connection.ensure_connection()
    counted = [0]

    def count() -> int:
        counted[0] += 1
        return 0

    connection.connection.set_progress_handler(count, 100)
    try:
        return ask(), counted[0]
    finally:
        connection.connection.set_progress_handler(None, 0)


def test_an_organisations_dashboard_costs_the_same_at_ten_times_its_aips(tmp_path: Path) -> None:
    costs = []
    for aips in (1_000, 10_000):
        with _depot(tmp_path / f"data-{aips}", aips) as depot:
            depot.attention()  # the first question warms the connection and its caches
            found, steps = _steps(depot, depot.attention)
        assert found.holds.count == 3 and found.damage.count == 3 and found.due.count == DUE // 2 - 3  # Een's, not the held
        assert {d.what for d in found.damage.first} == {"damaged", "lost"}
        assert all(h.organisation == "gm0001" for h in found.holds.first)
        costs.append(steps)
    assert costs[1] <= 2 * max(costs[0], 1), f"{costs[0]}00 steps at 1,000 AIPs, {costs[1]}00 at 10,000"
