"""The fixity screen on a big archive: how long the overview (every location's figures, the open damage, the known
losses, the schedule) and one AIP's fixity page take for an archivist of one organisation (of ten) and for one of
every organisation, on a catalogue of `--aips` AIPs and one a tenth of its size.

    .venv/bin/python benchmarks/fixity_overview_bench.py [--aips 10000] [--runs 40] [--postgresql]

The rows are written straight into the catalogue's tables (SQLite) in bulk, not through ingest: per AIP two
replicas (half verified in the last 30 days, 1% of the AIPs damaged), 0.5% with a file declared lost, and a year of
nightly runs' tallies (per night, location and organisation). Prints the median and p95 of `--runs` calls at both
sizes and the ratio of the big to the small (target: p95 < 300 ms at 10,000 AIPs), then the query plans of the
overview's queries. With `--postgresql`, the catalogue is in a PostgreSQL cluster the benchmark starts (as the tests
do), not in SQLite.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = ROOT / "benchmarks" / ".work" / "fixity-overview"
ORGANISATIONS = [f"gm{n:04}" for n in range(1, 11)]
NOW = datetime.now(timezone.utc)


def build(data: Path, aips: int) -> dict[str, str]:
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
        locations = [location.id for location in depot.store.storage]
    from preservation.catalogue_db import models as m  # once the catalogue is open (Django is set up)
    from preservation.catalogue_db.database import catalogue_alias

    alias = catalogue_alias(config.catalogue_url)

    def bulk(model: Any, rows: list[Any]) -> None:
        model.objects.using(alias).bulk_create(rows, batch_size=5000)

    rows = [m.Aip(aip_id=f"aip-{n:07}", sip_digest=f"sip-{n}", record_id=f"WA-{n:07}", title=f"Gesprek {n}",
                  created=NOW - timedelta(days=400), state="damaged" if n % 100 == 0 else "stored",
                  payload_bytes=1000 + n, payload_files=5, organisation=ORGANISATIONS[n % 10]) for n in range(aips)]
    bulk(m.Aip, rows)
    bulk(m.Replica, [m.Replica(aip_id=a.aip_id, location=location, path=f"/srv/{location}/{a.aip_id}",
                               last_verified=NOW - timedelta(days=n % 60, hours=1),
                               status="damaged" if a.state == "damaged" else "intact")
                     for n, a in enumerate(rows) for location in locations])
    bulk(m.FileLoss, [m.FileLoss(aip_id=a.aip_id, path="data/original/x.zip", declared=NOW, declared_by="A. Een",
                                 reason="geen kopie") for n, a in enumerate(rows) if n % 200 == 7])
    bulk(m.FixityTally, [m.FixityTally(
        run_id=f"run-{night}", kind="run", location=location, organisation=organisation,
        started=NOW - timedelta(days=night, hours=2), finished=NOW - timedelta(days=night, hours=1),
        by="Nachtelijke controle", scheduled=True, aips=aips // 600, bytes=aips * 2, found=night % 3,
        repaired=night % 3) for night in range(365) for location in locations for organisation in ORGANISATIONS])
    from django.db import connections

    with connections[alias].cursor() as cursor:
        cursor.execute("ANALYZE")  # the planner's statistics, as autovacuum (PostgreSQL) or `edepot doctor` keep them
    return tokens


def timings(data: Path, tokens: dict[str, str], runs: int) -> dict[str, tuple[float, float]]:
    """(median, p95) seconds of the overview and of one AIP's page, for each archivist."""
    from edepot.service import Depot
    from edepot.service.person import Person
    from kernel.config import load_config

    config = load_config(data)
    found: dict[str, tuple[float, float]] = {}
    for name in ("A. Een", "A. Alle"):
        with Depot(config, person=Person(name), token=tokens[name], vouched=True) as depot:
            parts: dict[str, Callable[[], Any]] = {
                "overview": depot.fixity_overview,
                "one damaged AIP": lambda: depot.aip_fixity("aip-0000000"),
            }
            for part, call in parts.items():
                call()  # the connection opened, the locations resolved
                seconds = []
                for _ in range(runs):
                    start = time.perf_counter()
                    call()
                    seconds.append(time.perf_counter() - start)
                seconds.sort()
                found[f"{name}: {part}"] = (statistics.median(seconds), seconds[int(0.95 * (len(seconds) - 1))])
    return found


def plans(data: Path) -> None:
    """The database's plan of each query the overview makes, for an archivist of one organisation."""
    from django.db import connections

    from edepot.service import Depot
    from edepot.service.person import Person
    from kernel.config import load_config
    from preservation.catalogue_db.database import catalogue_alias

    config = load_config(data)
    connection = connections[catalogue_alias(config.catalogue_url)]
    with Depot(config, person=Person("A. Een"), vouched=True) as depot:
        with connection.execute_wrapper(_explain):
            depot.fixity_overview()


def _explain(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    if sql.startswith("SELECT") and any(table in sql for table in ('"replicas"', '"fixity_tallies"', '"file_losses"')):
        sqlite = context["connection"].vendor == "sqlite"
        context["cursor"].execute(f"EXPLAIN {'QUERY PLAN ' if sqlite else ''}{sql}", params or ())
        plan = [row[-1] for row in context["cursor"].fetchall()]
        print(f"\n{sql[:150]}…\n  " + "\n  ".join(plan))
    return execute(sql, params, many, context)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aips", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--postgresql", action="store_true", help="the catalogue in PostgreSQL, not SQLite")
    args = parser.parse_args()
    cluster = None
    if args.postgresql:
        from tests.postgres_cluster import Cluster

        cluster = Cluster()
    results = {}
    for size in (args.aips // 10, args.aips):
        data = WORK / f"data-{size}"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        if cluster is not None:
            (data / "edepot.toml").write_text(f'[catalogue]\nurl = "{cluster.database()}"\n', encoding="utf-8")
        start = time.perf_counter()
        tokens = build(data, size)
        print(f"{size} AIPs written in {time.perf_counter() - start:.0f} s")
        results[size] = timings(data, tokens, args.runs)
    small, big = results[args.aips // 10], results[args.aips]
    print(f"\n{'part':32} {args.aips // 10:>7} median/p95 {args.aips:>9} median/p95  p95 ratio")
    for part in big:
        print(f"{part:32} {small[part][0] * 1000:7.1f} {small[part][1] * 1000:7.1f} ms   "
              f"{big[part][0] * 1000:7.1f} {big[part][1] * 1000:7.1f} ms  {big[part][1] / small[part][1]:5.1f}"
              f"  {'PASS' if big[part][1] < 0.3 else 'FAIL'}")
    plans(WORK / f"data-{args.aips}")
    if cluster is not None:
        from django.db import connections

        connections.close_all()
        cluster.stop()
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
