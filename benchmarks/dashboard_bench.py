"""The dashboard and the audit log on a big archive: how long each part takes for an archivist of one organisation
(of ten) and for one of every organisation, on a catalogue of `--records` records and one a tenth of its size.

    .venv/bin/python benchmarks/dashboard_bench.py [--records 100000] [--audit 1000000] [--runs 5]

The rows are written straight into the catalogue's tables (SQLite) in bulk, not through ingest: per record an AIP
with two replicas (1% damaged), a retention entry (waardering V or B, dekking from 1990 on, so many are due),
holds on 1%, a job per ten records (5% failed), fifty open destruction lists, and `--audit` audit entries.
Prints the median of `--runs` calls per part at both sizes and the ratio of the big to the small: a bounded part
stays near 1, the records due too (their dates are kept with each record's appraisal and counted in the catalogue).
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = ROOT / "benchmarks" / ".work" / "dashboard"
ORGANISATIONS = [f"gm{n:04}" for n in range(1, 11)]


def build(data: Path, records: int, audit: int) -> dict[str, str]:
    """A data directory with ten organisations, an archivist of one and of all, and the rows; their tokens."""
    from edepot.service import Depot
    from edepot.service.person import Person
    from kernel.config import load_config

    config = load_config(data)
    with Depot(config, person=None) as depot:
        _, token = depot.add_person("A. Beheer", roles=[("administrator", None)])
    tokens = {"A. Beheer": token}
    with Depot(config, person=Person("A. Beheer"), token=token) as depot:
        for organisation in ORGANISATIONS:
            depot.add_organisation(organisation, name=f"Gemeente {organisation}")
        tokens["A. Een"] = depot.add_person("A. Een", roles=[("archivist", ORGANISATIONS[0])])[1]
        tokens["A. Alle"] = depot.add_person("A. Alle", roles=[("archivist", None)])[1]
    from preservation.catalogue_db import models as m  # once the catalogue is open (Django is set up)
    from preservation.catalogue_db.database import catalogue_alias

    alias = catalogue_alias(config.catalogue_url)
    rng = random.Random(7)
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)

    def bulk(model: Any, rows: list[Any]) -> None:
        model.objects.using(alias).bulk_create(rows, batch_size=5000)

    aips = [m.Aip(aip_id=f"aip-{n:07}", sip_digest=f"sip-{n}", record_id=f"WA-{n:07}", title=f"Gesprek {n}",
                  created=now, state="stored", payload_bytes=1000, payload_files=5,
                  organisation=ORGANISATIONS[n % 10]) for n in range(records)]
    bulk(m.Aip, aips)
    bulk(m.Replica, [m.Replica(aip_id=a.aip_id, location=location, path=f"/srv/{location}/{a.aip_id}",
                               last_verified=now, status="damaged" if n % 100 == 0 and location == "b" else "intact")
                     for n, a in enumerate(aips) for location in ("a", "b")])
    from preservation.retention import stored_schedule

    appraisals = [_appraisal(a.record_id, a.title, rng) for a in aips]
    bulk(m.Retention, [m.Retention(record_id=a.record_id, aip_id=a.aip_id, title=a.title, override={}, updated=now,
                                   mdto=mdto, **stored_schedule(mdto, {})) for a, mdto in zip(aips, appraisals)])
    bulk(m.Hold, [m.Hold(hold_id=f"hold-{n}", record_id=aips[n].record_id, reason="Woo-verzoek", placed_by="R. X",
                         placed_at=now) for n in range(0, records, 100)])
    bulk(m.Job, [m.Job(job_id=f"job-{n:07}", kind="ingest", arguments={}, state="failed" if n % 20 == 0 else "done",
                       enqueued_by="R. X", organisation=ORGANISATIONS[n % 10], created=now - timedelta(minutes=n))
                 for n in range(records // 10)])
    bulk(m.DestructionList, [m.DestructionList(list_id=f"VL-{n}", created=now, digest="x", content={
        "organisation": ORGANISATIONS[n % 10], "drawn_up_by": "R. X",
        "items": [{"record_id": f"WA-{i:07}"} for i in range(500)]}) for n in range(50)])
    bulk(m.AuditEntry, [m.AuditEntry(at=now - timedelta(seconds=n), person=f"P. {n % 50}", action="aip show",
                                     target=f"aip-{n:07}", organisation=ORGANISATIONS[n % 10], outcome="done",
                                     detail="", address=None) for n in range(audit)])
    return tokens


def _appraisal(record_id: str, title: str, rng: random.Random) -> dict[str, Any]:
    day = date(1990, 1, 1) + timedelta(days=rng.randrange(13000))
    return {"record_id": record_id, "title": title, "waardering": rng.choice("VB"), "looptijd": "P10Y",
            "trigger": None, "startdatum": None, "einddatum": None, "dekking_begin": day.isoformat(),
            "dekking_eind": day.isoformat(),
            "category": {"code": f"1.{rng.randrange(20)}", "label": "Categorie", "list": "Selectielijst 2020"}}


def timings(data: Path, tokens: dict[str, str], runs: int) -> dict[str, float]:
    """The median seconds of each part and of the whole, for each archivist."""
    from edepot.service import Depot
    from edepot.service.person import Person
    from kernel.config import load_config

    config = load_config(data)
    found: dict[str, float] = {}
    for name in ("A. Een", "A. Alle"):
        with Depot(config, person=Person(name), token=tokens[name]) as depot:
            reach = depot.reach("restore files")
            queries = depot.store.attention
            parts: dict[str, Callable[[], Any]] = {
                "whole dashboard": lambda: depot.attention(),
                "failed jobs": lambda: queries.jobs(("failed", "error"), organisations=reach, queued_by=name, limit=5),
                "damage": lambda: queries.damage(organisations=reach, limit=5),
                "lists to approve": lambda: depot._awaiting_approval(reach, name),
                "records due": lambda: depot._due(reach),
                "holds": lambda: queries.active_holds(organisations=reach, limit=5),
                "audit log, first page": lambda: depot.audit_log(newest_first=True, limit=51),
                "audit log, one person": lambda: depot.audit_log(person="P. 7", newest_first=True, limit=51),
            }
            for part, call in parts.items():
                seconds = []
                for _ in range(runs):
                    start = time.perf_counter()
                    call()
                    seconds.append(time.perf_counter() - start)
                found[f"{name}: {part}"] = statistics.median(seconds)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = {}
    for size in (args.records // 10, args.records):
        data = WORK / f"data-{size}"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        start = time.perf_counter()
        tokens = build(data, size, args.audit * size // args.records)
        print(f"{size} records, {args.audit * size // args.records} audit entries written in "
              f"{time.perf_counter() - start:.0f} s")
        results[size] = timings(data, tokens, args.runs)
    small, big = results[args.records // 10], results[args.records]
    print(f"\n{'part':48} {args.records // 10:>9} {args.records:>9}  ratio")
    for part in big:
        print(f"{part:48} {small[part] * 1000:7.1f}ms {big[part] * 1000:7.1f}ms  {big[part] / small[part]:5.1f}")
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
