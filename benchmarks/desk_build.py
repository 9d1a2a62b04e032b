"""The big catalogue the desk benchmark serves: `--aips` AIPs over five organisations, their messages, and what a
desk in use for years holds beside them, written straight into the catalogue's tables in bulk (not through
ingest), on SQLite or PostgreSQL. Used by desk_bench.py; kept under its --work folder and used again.

Per AIP: five files, two replicas (0.5% damaged), an ingestion event and six fixity checks, a retention entry
(waardering V or B, dekking from 1990 on, so many are due), `--messages / --aips` messages (search_10m.py's
generator: Dutch-like text, Zipf words) with their full-text index; a hold on 1%; an ingest job per AIP and a
fixity job per ten (3% failed); forty destruction lists of up to 200 records (some approved); `--audit` audit
entries by the desk's people and others.
"""
from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

ORGANISATIONS = [f"gm{n:04}" for n in range(1, 6)]
PASSWORD = "een-lang-wachtwoord-2026"
ADMIN = "A. Beheer"
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Sitter:
    """One of the desk's people: their name, roles ("role@organisation", or "role" for every organisation) and
    the organisation whose records they open."""

    name: str
    roles: tuple[str, ...]
    organisation: str


def desk_people() -> list[Sitter]:
    """Twenty people: per organisation two archivists, a records manager and a reviewer, one of the archivists
    serving every organisation."""
    people = []
    for n, organisation in enumerate(ORGANISATIONS, start=1):
        people += [Sitter(f"Archivaris {n}", (f"archivist@{organisation}",), organisation),
                   Sitter(f"Archivaris {n}b", ("archivist",) if n == 1 else (f"archivist@{organisation}",),
                          organisation),
                   Sitter(f"Recordmanager {n}", (f"records-manager@{organisation}",), organisation),
                   Sitter(f"Beoordelaar {n}", (f"reviewer@{organisation}",), organisation)]
    return people


def build(data: Path, *, aips: int, messages: int, audit: int) -> dict[str, Any]:
    """Fill the catalogue of the data directory `data` (its edepot.toml names it); what the pages ask about: per
    organisation an AIP, a job and a destruction list."""
    from edepot.service import Depot
    from edepot.service.person import Person
    from kernel.config import load_config

    config = load_config(data)
    with Depot(config, person=None) as depot:
        _, token = depot.add_person(ADMIN, roles=[("administrator", None)], password=PASSWORD)
    with Depot(config, person=Person(ADMIN), token=token) as depot:
        for organisation in ORGANISATIONS:
            depot.add_organisation(organisation, name=f"Gemeente {organisation}")
        for sitter in desk_people():
            depot.add_person(sitter.name, roles=[(r.split("@")[0], r.split("@")[1] if "@" in r else None)
                                                 for r in sitter.roles], password=PASSWORD)
    plan = _rows(config.catalogue_url, aips=aips, messages=messages, audit=audit)
    _messages(config.catalogue_url, plan, messages)
    return {"aip": {o: f"bench-{ORGANISATIONS.index(o):05}" for o in ORGANISATIONS},
            "job": {o: f"job-ingest-{ORGANISATIONS.index(o):06}" for o in ORGANISATIONS},
            "list": {o: f"VL-{ORGANISATIONS.index(o):03}" for o in ORGANISATIONS}}


def _rows(url: str, *, aips: int, messages: int, audit: int) -> list[Any]:
    from search_10m import chats

    from preservation.catalogue_db import models as m
    from preservation.catalogue_db.database import catalogue_alias
    from preservation.retention import stored_schedule

    alias = catalogue_alias(url)
    rng = random.Random(7)
    plan = chats(messages, aips)  # the chats' access facts; AIP n is chat n

    def bulk(model: Any, rows: Any) -> None:
        batch: list[Any] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 5000:
                model.objects.using(alias).bulk_create(batch)
                batch = []
        model.objects.using(alias).bulk_create(batch)

    def organisation(n: int) -> str:
        return ORGANISATIONS[n % len(ORGANISATIONS)]

    made = [m.Aip(aip_id=chat.aip_id, sip_digest=f"sha256:{n:064x}", record_id=chat.facts.record_id,
                  title=chat.facts.title, created=NOW - timedelta(minutes=7 * (aips - n)), state="stored",
                  payload_bytes=rng.randrange(10_000, 50_000_000), payload_files=5, organisation=organisation(n))
            for n, chat in enumerate(plan)]
    bulk(m.Aip, made)
    bulk(m.File, (m.File(aip_id=a.aip_id, path=f"representations/original/data/{name}", role="original",
                         size=1000 + i, sha256=f"{n * 5 + i:064x}", puid=puid, format_name=format_name,
                         mime_type=mime)
                  for n, a in enumerate(made)
                  for i, (name, puid, format_name, mime) in enumerate([
                      ("_chat.txt", "x-fmt/111", "Plain Text File", "text/plain"),
                      ("IMG-0001.jpg", "fmt/43", "JPEG File Interchange Format", "image/jpeg"),
                      ("IMG-0002.jpg", "fmt/43", "JPEG File Interchange Format", "image/jpeg"),
                      ("PTT-0001.opus", "fmt/946", "Opus", "audio/ogg"),
                      ("besluit.pdf", "fmt/276", "Acrobat PDF 1.7", "application/pdf")])))
    bulk(m.Replica, (m.Replica(aip_id=a.aip_id, location=location, path=f"/srv/{location}/{a.aip_id}",
                               last_verified=NOW - timedelta(days=n % 90),
                               status="damaged" if n % 200 == 0 and location == "b" else "intact")
                     for n, a in enumerate(made) for location in ("a", "b")))
    agents = ["person:Archivaris 1"]  # as the catalogue keeps an event's agents
    bulk(m.Event, (m.Event(event_id=f"ev-{a.aip_id}-{k}", aip_id=a.aip_id, type="ingestion" if k == 0 else
                           "fixity check", date_time=a.created + timedelta(days=30 * k), outcome="success",
                           detail="", outcome_detail="", agents=agents, source_objects=[], outcome_objects=[])
                   for a in made for k in range(7)))
    appraisals = [_appraisal(a.record_id, a.title, rng) for a in made]
    bulk(m.Retention, (m.Retention(record_id=a.record_id, aip_id=a.aip_id, title=a.title, override={},
                                   updated=NOW, mdto=mdto, **stored_schedule(mdto, {}))  # with its due dates
                       for a, mdto in zip(made, appraisals)))
    bulk(m.Hold, (m.Hold(hold_id=f"hold-{n}", record_id=made[n].record_id, reason="Woo-verzoek",
                         placed_by="Recordmanager 1", placed_at=NOW) for n in range(0, aips, 100)))
    jobs = [m.Job(job_id=f"job-ingest-{n:06}", kind="ingest", arguments={"sip": f"/intake/sip-{n}"},
                  state="failed" if n % 33 == 0 else "done", enqueued_by="Archivaris 1",
                  organisation=organisation(n), created=NOW - timedelta(minutes=7 * (aips - n)),
                  finished=NOW - timedelta(minutes=7 * (aips - n) - 3)) for n in range(aips)]
    jobs += [m.Job(job_id=f"job-fixity-{n:06}", kind="fixity", arguments={}, state="done",
                   enqueued_by="Archivaris 2", organisation=organisation(n), created=NOW - timedelta(hours=n))
             for n in range(aips // 10)]
    bulk(m.Job, jobs)
    lists = [m.DestructionList(list_id=f"VL-{n:03}", created=NOW - timedelta(days=n), digest=f"{n:064x}", content={
        "organisation": organisation(n), "drawn_up_by": f"Recordmanager {n % 5 + 1}",
        "items": [{"record_id": made[i].record_id} for i in range(n % 5, min(aips, 1000), 5)][:200]})
        for n in range(40)]
    bulk(m.DestructionList, lists)
    bulk(m.DestructionApproval, (m.DestructionApproval(destruction_list_id=dl.list_id, digest=dl.digest,
                                                       by=f"Beoordelaar {n % 5 + 1}", role="reviewer", at=NOW)
                                 for n, dl in enumerate(lists) if n % 2))
    names = [s.name for s in desk_people()] + [f"Medewerker {n}" for n in range(30)]
    bulk(m.AuditEntry, (m.AuditEntry(at=NOW - timedelta(seconds=n), person=names[n % len(names)],
                                     action=("aip show", "search", "sign in", "fixity run")[n % 4],
                                     target=f"bench-{n % aips:05}", organisation=organisation(n), outcome="done",
                                     detail="", address="web from 127.0.0.1") for n in range(audit)))
    return plan


def _appraisal(record_id: str, title: str, rng: random.Random) -> dict[str, Any]:
    day = date(1990, 1, 1) + timedelta(days=rng.randrange(13000))
    return {"record_id": record_id, "title": title, "waardering": rng.choice("VB"), "looptijd": "P10Y",
            "trigger": None, "startdatum": None, "einddatum": None, "dekking_begin": day.isoformat(),
            "dekking_eind": day.isoformat(), "category": {"code": None, "label": None, "list": None}}


def _messages(url: str, plan: list[Any], messages: int) -> None:
    """The chats' messages and their full-text index, as search_10m.py writes them."""
    from search_10m import POOL, build_postgres, build_sqlite, text_pool

    from preservation.catalogue_db.database import forget, sqlite_path

    pool = text_pool(min(POOL, messages))
    forget(url)
    current(url)  # (a migration added while the rows were written)
    if url.startswith("postgresql"):
        build_postgres(url, plan, pool)
    else:
        build_sqlite(sqlite_path(url), plan, pool)


def current(url: str) -> None:
    """Apply the migrations the benchmark's catalogue at `url` lacks, in place (not `edepot catalogue upgrade`,
    which keeps a copy of the old file first: this is the benchmark's own data)."""
    from preservation.catalogue_db.database import migrate, register_database, register_postgres, sqlite_path

    migrate(register_postgres(url) if url.startswith("postgresql") else register_database(sqlite_path(url)))
