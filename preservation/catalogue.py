"""Data Management: the catalogue of AIPs, their replicas, files, PREMIS events and DIPs.

SQLite by default (one file under the data directory). The catalogue is a seam: `open_catalogue`
picks the implementation from the configured URL, so PostgreSQL can take its place later with the
same methods. Lifecycle state is stored and queried (AipState), never inferred from where files lie.
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Iterator, Sequence

from kernel.errors import InputError, NotFound
from preservation.metadata.premis import PremisEvent
from preservation.retention_catalogue import RETENTION_SCHEMA, RetentionTables

SCHEMA = """
CREATE TABLE IF NOT EXISTS aips (
    aip_id TEXT PRIMARY KEY,
    sip_digest TEXT NOT NULL,
    record_id TEXT NOT NULL,
    title TEXT NOT NULL,
    created TEXT NOT NULL,
    state TEXT NOT NULL,
    payload_bytes INTEGER NOT NULL,
    payload_files INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS aips_sip_digest ON aips(sip_digest);
CREATE TABLE IF NOT EXISTS replicas (
    aip_id TEXT NOT NULL REFERENCES aips(aip_id),
    location TEXT NOT NULL,
    path TEXT NOT NULL,
    last_verified TEXT,
    status TEXT NOT NULL,
    PRIMARY KEY (aip_id, location)
);
CREATE TABLE IF NOT EXISTS files (
    aip_id TEXT NOT NULL REFERENCES aips(aip_id),
    path TEXT NOT NULL,
    role TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    puid TEXT,
    format_name TEXT,
    mime_type TEXT,
    PRIMARY KEY (aip_id, path)
);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    aip_id TEXT REFERENCES aips(aip_id),
    type TEXT NOT NULL,
    date_time TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    outcome_detail TEXT NOT NULL,
    agents TEXT NOT NULL,
    source_objects TEXT NOT NULL,
    outcome_objects TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_aip ON events(aip_id, date_time);
CREATE TABLE IF NOT EXISTS identifications (
    aip_id TEXT NOT NULL REFERENCES aips(aip_id),
    path TEXT NOT NULL,
    tool TEXT NOT NULL,
    signature_release TEXT NOT NULL,
    puid TEXT,
    format_name TEXT,
    format_version TEXT,
    mime_type TEXT,
    basis TEXT NOT NULL,
    PRIMARY KEY (aip_id, path, tool)
);
CREATE TABLE IF NOT EXISTS aip_versions (
    aip_id TEXT PRIMARY KEY REFERENCES aips(aip_id),
    version INTEGER NOT NULL,
    previous_aip TEXT REFERENCES aips(aip_id),
    first_aip TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dips (
    dip_id TEXT PRIMARY KEY,
    aip_id TEXT NOT NULL REFERENCES aips(aip_id),
    path TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS file_losses (
    aip_id TEXT NOT NULL REFERENCES aips(aip_id),
    path TEXT NOT NULL,
    declared TEXT NOT NULL,
    declared_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (aip_id, path)
);
"""


class AipState(str, Enum):
    """Where an AIP is in its life."""

    STORED = "stored"  # every replica in place and verified at ingest
    DAMAGED = "damaged"  # a fixity run found damage it could not repair
    INCOMPLETE = "incomplete"  # files declared lost (no copy left anywhere); every other file verified
    DESTROYING = "destroying"  # on an approved destruction list, being removed (preservation/destruction.py)
    DESTROYED = "destroyed"  # destroyed: no replica or file is left; the tombstone says what was there


GONE_STATES = (AipState.DESTROYING.value, AipState.DESTROYED.value)  # not kept any more: fixity, DIPs pass them by


class ReplicaStatus(str, Enum):
    INTACT = "intact"
    REPAIRED = "repaired"
    DAMAGED = "damaged"
    MISSING = "missing"


@dataclass(frozen=True)
class AipRecord:
    aip_id: str
    sip_digest: str
    record_id: str
    title: str
    created: datetime
    state: AipState
    payload_bytes: int
    payload_files: int


@dataclass(frozen=True)
class ReplicaRecord:
    aip_id: str
    location: str
    path: str
    last_verified: datetime | None
    status: ReplicaStatus


@dataclass(frozen=True)
class FileRecord:
    aip_id: str
    path: str  # relative to the bag root, e.g. data/original/x.zip
    role: str  # original, preservation, metadata
    size: int
    sha256: str
    puid: str | None
    format_name: str | None
    mime_type: str | None


@dataclass(frozen=True)
class AipVersion:
    """An AIP's place in the versions of one record: version 1 has no previous AIP; an AIP without a row is 1."""

    aip_id: str
    version: int
    previous_aip: str | None
    first_aip: str


@dataclass(frozen=True)
class IdentificationRecord:
    """What one identification tool (with its signature release) said a file of an AIP is."""

    aip_id: str
    path: str
    tool: str  # e.g. "fido 1.6.1", "siegfried 1.11.9"
    signature_release: str  # e.g. "PRONOM v109"
    puid: str | None
    format_name: str | None
    format_version: str | None
    mime_type: str | None
    basis: str


@dataclass(frozen=True)
class FileLoss:
    """A file of an AIP declared lost: no replica holds an intact copy and no outside copy exists.

    Fixity reports it as a known loss, DIPs and the search index go on without it; `aip restore` lifts it.
    """

    aip_id: str
    path: str
    declared: datetime
    declared_by: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"aip_id": self.aip_id, "path": self.path, "declared": self.declared.isoformat(),
                "declared_by": self.declared_by, "reason": self.reason}


class SqliteCatalogue(RetentionTables):
    """The catalogue in one SQLite file; each public method is one transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._db.executescript(RETENTION_SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def aip_for_sip(self, sip_digest: str) -> str | None:
        """The AIP made from a SIP with this payload digest, if any."""
        row = self._db.execute("SELECT aip_id FROM aips WHERE sip_digest = ?", (sip_digest,)).fetchone()
        return row[0] if row else None

    def record_ingest(
        self,
        aip: AipRecord,
        replicas: Sequence[ReplicaRecord],
        files: Sequence[FileRecord],
        events: Sequence[PremisEvent],
        version: AipVersion | None = None,
        identifications: Sequence[IdentificationRecord] = (),
    ) -> None:
        """Record a new AIP with everything about it in one transaction (after every replica is in place)."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO aips VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (aip.aip_id, aip.sip_digest, aip.record_id, aip.title, aip.created.isoformat(),
                 aip.state.value, aip.payload_bytes, aip.payload_files),
            )
            db.executemany(
                "INSERT INTO replicas VALUES (?, ?, ?, ?, ?)",
                [(r.aip_id, r.location, r.path, _iso(r.last_verified), r.status.value) for r in replicas],
            )
            db.executemany(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(f.aip_id, f.path, f.role, f.size, f.sha256, f.puid, f.format_name, f.mime_type) for f in files],
            )
            self._insert_events(db, aip.aip_id, events)
            if version is not None:
                db.execute("INSERT INTO aip_versions VALUES (?, ?, ?, ?)",
                           (version.aip_id, version.version, version.previous_aip, version.first_aip))
            db.executemany(
                "INSERT INTO identifications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(i.aip_id, i.path, i.tool, i.signature_release, i.puid, i.format_name, i.format_version,
                  i.mime_type, i.basis) for i in identifications],
            )

    def add_events(self, aip_id: str | None, events: Sequence[PremisEvent]) -> None:
        """Append PREMIS events about an AIP (or about the repository, with aip_id None)."""
        with self._transaction() as db:
            self._insert_events(db, aip_id, events)

    @staticmethod
    def _insert_events(db: sqlite3.Connection, aip_id: str | None, events: Sequence[PremisEvent]) -> None:
        db.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (e.identifier, aip_id, e.type, e.date_time.isoformat(), e.outcome, e.detail, e.outcome_detail,
                 json.dumps(list(e.agents)), json.dumps(list(e.source_objects)), json.dumps(list(e.outcome_objects)))
                for e in events
            ],
        )

    def versions(self, sip_digest: str, record_id: str) -> list[AipVersion]:
        """The AIPs made from this SIP or holding this record, oldest version first."""
        rows = self._db.execute(
            "SELECT a.aip_id, COALESCE(v.version, 1), v.previous_aip, COALESCE(v.first_aip, a.aip_id) "
            "FROM aips a LEFT JOIN aip_versions v ON v.aip_id = a.aip_id "
            "WHERE a.sip_digest = ? OR a.record_id = ? ORDER BY 2, a.created",
            (sip_digest, record_id),
        )
        return [AipVersion(r[0], r[1], r[2], r[3]) for r in rows]

    def aip(self, aip_id: str) -> AipRecord:
        """One AIP; NotFound when the catalogue does not know it."""
        row = self._db.execute("SELECT * FROM aips WHERE aip_id = ?", (aip_id,)).fetchone()
        if row is None:
            raise NotFound(f"no AIP {aip_id!r} in the catalogue", hint="list them with 'edepot aip list'")
        if row[5] in GONE_STATES:
            raise NotFound(f"AIP {aip_id!r} was destroyed under an approved destruction list ({row[5]})",
                           hint="see 'edepot retention show --record " + row[2] + "'")
        return _aip(row)

    def aips(self) -> list[AipRecord]:
        """Every AIP still kept (not destroyed or being destroyed), oldest first."""
        return [_aip(r) for r in self._db.execute(
            "SELECT * FROM aips WHERE state NOT IN (?, ?) ORDER BY created, aip_id", GONE_STATES)]

    def aips_by_last_verified(self) -> list[AipRecord]:
        """Every AIP, least recently verified first (never verified first of all), for budgeted fixity runs."""
        rows = self._db.execute(
            "SELECT a.* FROM aips a LEFT JOIN replicas r ON r.aip_id = a.aip_id WHERE a.state NOT IN (?, ?) "
            "GROUP BY a.aip_id ORDER BY MIN(COALESCE(r.last_verified, '')), a.created, a.aip_id", GONE_STATES
        )
        return [_aip(r) for r in rows]

    def replicas(self, aip_id: str) -> list[ReplicaRecord]:
        rows = self._db.execute("SELECT * FROM replicas WHERE aip_id = ? ORDER BY location", (aip_id,))
        return [
            ReplicaRecord(r[0], r[1], r[2], _from_iso(r[3]), ReplicaStatus(r[4])) for r in rows
        ]

    def identifications(self, aip_id: str) -> list[IdentificationRecord]:
        """Every identification of the AIP's files, by path, then tool."""
        rows = self._db.execute("SELECT * FROM identifications WHERE aip_id = ? ORDER BY path, tool", (aip_id,))
        return [IdentificationRecord(*r) for r in rows]

    def files(self, aip_id: str) -> list[FileRecord]:
        rows = self._db.execute("SELECT * FROM files WHERE aip_id = ? ORDER BY path", (aip_id,))
        return [FileRecord(*r) for r in rows]

    def events(self, aip_id: str) -> list[PremisEvent]:
        """The AIP's events in time order."""
        rows = self._db.execute(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE aip_id = ? ORDER BY date_time, rowid", (aip_id,)
        )
        return [_event(r) for r in rows]

    def recent_events(self, types: Sequence[str], limit: int = 500) -> list[tuple[str | None, PremisEvent]]:
        """The newest events of the given types across all AIPs, newest first, with the AIP of each."""
        marks = ", ".join("?" for _ in types)
        rows = self._db.execute(
            f"SELECT aip_id, {_EVENT_COLUMNS} FROM events WHERE type IN ({marks}) "
            "ORDER BY date_time DESC, rowid DESC LIMIT ?",
            (*types, limit),
        )
        return [(r[0], _event(r[1:])) for r in rows]

    def record_verification(
        self, aip_id: str, location: str, when: datetime, status: ReplicaStatus, events: Sequence[PremisEvent]
    ) -> None:
        """Store the outcome of verifying one replica, with its events, in one transaction."""
        with self._transaction() as db:
            db.execute(
                "UPDATE replicas SET last_verified = ?, status = ? WHERE aip_id = ? AND location = ?",
                (when.isoformat(), status.value, aip_id, location),
            )
            self._insert_events(db, aip_id, events)

    def set_state(self, aip_id: str, state: AipState) -> None:
        with self._transaction() as db:
            # A destruction under way or done is never undone by a fixity run that started before it.
            db.execute("UPDATE aips SET state = ? WHERE aip_id = ? AND state NOT IN (?, ?)",
                       (state.value, aip_id, *GONE_STATES))

    def declare_losses(self, aip_id: str, losses: Sequence[FileLoss], events: Sequence[PremisEvent]) -> None:
        """Record files of one AIP as lost, with the PREMIS events of the declaration, in one transaction."""
        with self._transaction() as db:
            db.executemany("INSERT INTO file_losses VALUES (?, ?, ?, ?, ?)",
                           [(x.aip_id, x.path, x.declared.isoformat(), x.declared_by, x.reason) for x in losses])
            self._insert_events(db, aip_id, events)

    def record_recovery(self, aip_id: str, paths: Sequence[str], events: Sequence[PremisEvent]) -> None:
        """Files restored from an outside copy, with their recovery events; a loss declared for one is lifted."""
        with self._transaction() as db:
            db.executemany("DELETE FROM file_losses WHERE aip_id = ? AND path = ?", [(aip_id, p) for p in paths])
            self._insert_events(db, aip_id, events)

    def losses(self, aip_id: str) -> list[FileLoss]:
        """The AIP's files declared lost, by path."""
        rows = self._db.execute("SELECT * FROM file_losses WHERE aip_id = ? ORDER BY path", (aip_id,))
        return [FileLoss(r[0], r[1], datetime.fromisoformat(r[2]), r[3], r[4]) for r in rows]

    def record_dip(self, dip_id: str, aip_id: str, path: Path, created: datetime) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO dips VALUES (?, ?, ?, ?)", (dip_id, aip_id, str(path), created.isoformat()))


_EVENT_COLUMNS = "event_id, type, date_time, detail, outcome, outcome_detail, agents, source_objects, outcome_objects"


def _event(r: Sequence) -> PremisEvent:
    return PremisEvent(
        identifier=r[0], type=r[1], date_time=datetime.fromisoformat(r[2]), detail=r[3], outcome=r[4],
        outcome_detail=r[5], agents=tuple(json.loads(r[6])), source_objects=tuple(json.loads(r[7])),
        outcome_objects=tuple(json.loads(r[8])),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _aip(row: tuple) -> AipRecord:
    return AipRecord(row[0], row[1], row[2], row[3], datetime.fromisoformat(row[4]), AipState(row[5]), row[6], row[7])


def open_catalogue(url: str) -> SqliteCatalogue:
    """The catalogue behind a URL: `sqlite:////abs/path.sqlite` (four slashes for an absolute path) (PostgreSQL is planned, not yet here)."""
    if url.startswith("sqlite:///"):
        return SqliteCatalogue(Path(url.removeprefix("sqlite:///")))
    raise InputError(f"catalogue URL {url!r} is not supported", hint="use sqlite:///path/to/catalogue.sqlite")
