"""Access: the register of permits, delivered DIPs and the access log, kept in the catalogue's file.

Archiefwet 1995 art. 16-17 (the archivist may grant consultation of restricted records) and the Woo's
duty to account for what was disclosed: who got what, when, why and until when.

    access_permits   a permit for one record to one named person until a date, with the reason
    access_dips      every DIP: requester, purpose, role, request date, expiry, where, state
    access_dip_aips  the AIPs a DIP holds, with how many messages and redactions of each
    access_log       one row per act: permit granted, DIP delivered, DIP purged (append only)

Tables of their own in the catalogue's SQLite file (additive; the catalogue's tables are untouched).
"""
from __future__ import annotations

import getpass
import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Iterator, Sequence

from preservation.search_index import sqlite_path

SCHEMA = """
CREATE TABLE IF NOT EXISTS access_permits (
    permit_id TEXT PRIMARY KEY,
    record_id TEXT NOT NULL,
    grantee TEXT NOT NULL,
    until TEXT NOT NULL,
    reason TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS access_permits_record ON access_permits(record_id, grantee);
CREATE TABLE IF NOT EXISTS access_dips (
    dip_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    requester TEXT NOT NULL,
    purpose TEXT NOT NULL,
    role TEXT NOT NULL,
    request_date TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT,
    state TEXT NOT NULL,
    purged TEXT,
    selection TEXT NOT NULL,
    files INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS access_dip_aips (
    dip_id TEXT NOT NULL REFERENCES access_dips(dip_id),
    aip_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    decision TEXT NOT NULL,
    messages INTEGER NOT NULL,
    redactions INTEGER NOT NULL,
    PRIMARY KEY (dip_id, aip_id)
);
CREATE INDEX IF NOT EXISTS access_dip_aips_aip ON access_dip_aips(aip_id);
CREATE TABLE IF NOT EXISTS access_log (
    entry_id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    requester TEXT NOT NULL,
    purpose TEXT NOT NULL,
    dip_id TEXT,
    records TEXT NOT NULL,
    until TEXT,
    detail TEXT NOT NULL
);
"""


class DipState(str, Enum):
    DELIVERED = "delivered"
    PURGED = "purged"  # expired and removed by `edepot dip purge`
    WITHDRAWN = "withdrawn"  # removed because a record in it was destroyed


@dataclass(frozen=True)
class Permit:
    permit_id: str
    record_id: str
    grantee: str
    until: date
    reason: str
    granted_by: str
    granted: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"permit_id": self.permit_id, "record_id": self.record_id, "grantee": self.grantee,
                "until": self.until.isoformat(), "reason": self.reason, "granted_by": self.granted_by,
                "granted": self.granted.isoformat()}


@dataclass(frozen=True)
class DeliveredAip:
    aip_id: str
    record_id: str
    decision: str  # openbaar, deels openbaar, niet openbaar
    messages: int
    redactions: int


@dataclass(frozen=True)
class DipEntry:
    dip_id: str
    path: str
    requester: str
    purpose: str
    role: str
    request_date: date
    created: datetime
    expires: date | None
    state: DipState
    purged: datetime | None
    selection: dict[str, Any]
    files: int

    def to_dict(self) -> dict[str, Any]:
        return {"dip_id": self.dip_id, "path": self.path, "requester": self.requester, "purpose": self.purpose,
                "role": self.role, "request_date": self.request_date.isoformat(), "created": self.created.isoformat(),
                "expires": self.expires.isoformat() if self.expires else None, "state": self.state.value,
                "purged": self.purged.isoformat() if self.purged else None, "selection": self.selection,
                "files": self.files}


@dataclass(frozen=True)
class LogEntry:
    entry_id: int
    at: datetime
    action: str  # permit, dip-delivered, dip-purged, dip-withdrawn
    actor: str
    requester: str
    purpose: str
    dip_id: str | None
    records: tuple[str, ...]
    until: date | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "at": self.at.isoformat(), "action": self.action, "actor": self.actor,
                "requester": self.requester, "purpose": self.purpose, "dip_id": self.dip_id,
                "records": list(self.records), "until": self.until.isoformat() if self.until else None,
                "detail": self.detail}


def current_actor() -> str:
    """Who runs the command, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class AccessRegister:
    """Permits, DIPs and the log in one SQLite file; each public method is one transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "AccessRegister":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _log(self, at: datetime, action: str, actor: str, requester: str, purpose: str, dip_id: str | None,
             records: Sequence[str], until: date | None, detail: str) -> None:
        self._db.execute(
            "INSERT INTO access_log (at, action, actor, requester, purpose, dip_id, records, until, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at.isoformat(), action, actor, requester, purpose, dip_id, json.dumps(list(records), ensure_ascii=False),
             until.isoformat() if until else None, detail))

    def grant_permit(self, record_id: str, grantee: str, until: date, reason: str, granted_by: str,
                     now: datetime) -> Permit:
        """Record a permit and its log entry."""
        permit = Permit(str(uuid.uuid4()), record_id, grantee, until, reason, granted_by, now)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("INSERT INTO access_permits VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (permit.permit_id, record_id, grantee, until.isoformat(), reason, granted_by,
                              now.isoformat()))
            self._log(now, "permit", granted_by, grantee, reason, None, [record_id], until,
                      f"permit {permit.permit_id} to consult record {record_id}")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return permit

    def permits(self, grantee: str | None = None) -> list[Permit]:
        """Every permit (of one grantee), oldest first."""
        sql = "SELECT * FROM access_permits" + (" WHERE grantee = ?" if grantee else "") + " ORDER BY granted"
        rows = self._db.execute(sql, (grantee,) if grantee else ())
        return [Permit(r[0], r[1], r[2], date.fromisoformat(r[3]), r[4], r[5], datetime.fromisoformat(r[6]))
                for r in rows]

    def permitted_records(self, grantee: str, on: date) -> set[str]:
        """Record kenmerken the grantee holds a permit for that runs on `on` (inclusive)."""
        rows = self._db.execute("SELECT record_id FROM access_permits WHERE grantee = ? AND until >= ?",
                                (grantee, on.isoformat()))
        return {r[0] for r in rows}

    def record_delivery(self, entry: DipEntry, aips: Sequence[DeliveredAip], actor: str) -> None:
        """Record a delivered DIP, the AIPs it holds, and the log entry, in one transaction."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "INSERT INTO access_dips VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (entry.dip_id, entry.path, entry.requester, entry.purpose, entry.role, entry.request_date.isoformat(),
                 entry.created.isoformat(), entry.expires.isoformat() if entry.expires else None, entry.state.value,
                 None, json.dumps(entry.selection, ensure_ascii=False), entry.files))
            self._db.executemany("INSERT INTO access_dip_aips VALUES (?, ?, ?, ?, ?, ?)",
                                 [(entry.dip_id, a.aip_id, a.record_id, a.decision, a.messages, a.redactions)
                                  for a in aips])
            delivered = [a for a in aips if a.messages]
            self._log(entry.created, "dip-delivered", actor, entry.requester, entry.purpose, entry.dip_id,
                      [a.record_id for a in aips], entry.expires,
                      f"{sum(a.messages for a in delivered)} messages of {len(delivered)} records, "
                      f"{sum(a.redactions for a in aips)} redactions, {entry.files} files at {entry.path}")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def dips(self, state: DipState | None = None) -> list[DipEntry]:
        sql = "SELECT * FROM access_dips" + (" WHERE state = ?" if state else "") + " ORDER BY created, dip_id"
        return [_dip(r) for r in self._db.execute(sql, (state.value,) if state else ())]

    def dip_aips(self, dip_id: str) -> list[DeliveredAip]:
        rows = self._db.execute("SELECT aip_id, record_id, decision, messages, redactions FROM access_dip_aips "
                                "WHERE dip_id = ? ORDER BY rowid", (dip_id,))
        return [DeliveredAip(*r) for r in rows]

    def dips_holding(self, aip_id: str) -> list[DipEntry]:
        """Delivered DIPs that hold messages of this AIP."""
        rows = self._db.execute(
            "SELECT d.* FROM access_dips d JOIN access_dip_aips a ON a.dip_id = d.dip_id "
            "WHERE a.aip_id = ? AND a.messages > 0 AND d.state = ?", (aip_id, DipState.DELIVERED.value))
        return [_dip(r) for r in rows]

    def mark_removed(self, entry: DipEntry, state: DipState, now: datetime, actor: str, detail: str) -> None:
        """A DIP's folder is gone: its state, and the log entry."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("UPDATE access_dips SET state = ?, purged = ? WHERE dip_id = ?",
                             (state.value, now.isoformat(), entry.dip_id))
            records = [a.record_id for a in self.dip_aips(entry.dip_id)]
            action = "dip-purged" if state is DipState.PURGED else "dip-withdrawn"
            self._log(now, action, actor, entry.requester, entry.purpose, entry.dip_id, records, entry.expires, detail)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def log(self, requester: str | None = None, dip_id: str | None = None) -> Iterator[LogEntry]:
        """The log, oldest first (of one requester, or about one DIP)."""
        where, params = [], []
        if requester:
            where.append("requester = ?")
            params.append(requester)
        if dip_id:
            where.append("dip_id = ?")
            params.append(dip_id)
        sql = "SELECT * FROM access_log" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY entry_id"
        for r in self._db.execute(sql, params):
            yield LogEntry(r[0], datetime.fromisoformat(r[1]), r[2], r[3], r[4], r[5], r[6], tuple(json.loads(r[7])),
                           date.fromisoformat(r[8]) if r[8] else None, r[9])


def _dip(r: Sequence[Any]) -> DipEntry:
    return DipEntry(r[0], r[1], r[2], r[3], r[4], date.fromisoformat(r[5]), datetime.fromisoformat(r[6]),
                    date.fromisoformat(r[7]) if r[7] else None, DipState(r[8]),
                    datetime.fromisoformat(r[9]) if r[9] else None, json.loads(r[10]), r[11])


def open_register(catalogue_url: str) -> AccessRegister:
    """The access register in the catalogue's SQLite file."""
    return AccessRegister(sqlite_path(catalogue_url))
