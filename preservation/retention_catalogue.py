"""The catalogue's retention tables: schedules, appraisal history, holds, destruction lists, approvals,
the destruction journal and tombstones (OAIS Data Management for Archiefwet 1995 art. 3/5 appraisal and
destruction, and the Woo/litigation hold that suspends it).

A mixin of `preservation.catalogue.SqliteCatalogue`, so that everything stays behind one catalogue seam
and a destruction can change the AIP tables and write its tombstone in one transaction. Rows here are
never updated in place where history matters: appraisal changes, holds, approvals and journal steps are
appended; a hold's lifting fills in its lift columns once.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ContextManager, Sequence

from preservation.metadata.premis import PremisEvent

RETENTION_SCHEMA = """
CREATE TABLE IF NOT EXISTS retention (
    record_id TEXT PRIMARY KEY,
    aip_id TEXT NOT NULL,
    title TEXT NOT NULL,
    mdto TEXT NOT NULL,
    override TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS appraisal_history (
    record_id TEXT NOT NULL,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    by TEXT NOT NULL,
    reason TEXT NOT NULL,
    before TEXT,
    after TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS appraisal_history_record ON appraisal_history(record_id, at);
CREATE TABLE IF NOT EXISTS holds (
    hold_id TEXT PRIMARY KEY,
    record_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    placed_by TEXT NOT NULL,
    placed_at TEXT NOT NULL,
    lifted_by TEXT,
    lifted_at TEXT,
    lift_reason TEXT
);
CREATE INDEX IF NOT EXISTS holds_record ON holds(record_id);
CREATE TABLE IF NOT EXISTS destruction_lists (
    list_id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    digest TEXT NOT NULL,
    content TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS destruction_approvals (
    list_id TEXT NOT NULL REFERENCES destruction_lists(list_id),
    digest TEXT NOT NULL,
    by TEXT NOT NULL,
    role TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS destruction_journal (
    list_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    step TEXT NOT NULL,
    target TEXT NOT NULL,
    state TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (list_id, record_id, step, target)
);
CREATE TABLE IF NOT EXISTS tombstones (
    record_id TEXT PRIMARY KEY,
    list_id TEXT NOT NULL,
    destroyed TEXT NOT NULL,
    content TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class RetentionRow:
    """A record's retention entry: the appraisal read from its MDTO and the changes made since."""

    record_id: str
    aip_id: str  # the newest AIP of the record, whose MDTO was read
    title: str
    mdto: dict[str, Any]
    override: dict[str, Any]
    updated: datetime


@dataclass(frozen=True)
class Hold:
    """A hold on destruction (Woo request, litigation); active while `lifted_at` is None."""

    hold_id: str
    record_id: str
    reason: str
    placed_by: str
    placed_at: datetime
    lifted_by: str | None = None
    lifted_at: datetime | None = None
    lift_reason: str | None = None


@dataclass(frozen=True)
class Approval:
    """Who approved which destruction list (by its content digest), in what role, when."""

    list_id: str
    digest: str
    by: str
    role: str
    at: datetime


@dataclass(frozen=True)
class StoredList:
    """A destruction list as drawn up: its content (JSON) and the digest that approval binds to."""

    list_id: str
    created: datetime
    digest: str
    content: dict[str, Any]


class RetentionTables:
    """Retention methods of the catalogue; each public method is one transaction."""

    _db: sqlite3.Connection

    def _transaction(self) -> ContextManager[sqlite3.Connection]:
        raise NotImplementedError

    @staticmethod
    def _insert_events(db: sqlite3.Connection, aip_id: str | None, events: Sequence[PremisEvent]) -> None:
        raise NotImplementedError

    # -- schedules and appraisal history

    def retention_row(self, record_id: str) -> RetentionRow | None:
        """The record's retention entry, or None when none was computed yet."""
        row = self._db.execute("SELECT * FROM retention WHERE record_id = ?", (record_id,)).fetchone()
        return _retention(row) if row else None

    def retention_rows(self) -> list[RetentionRow]:
        """Every record's retention entry, by record identifier."""
        return [_retention(r) for r in self._db.execute("SELECT * FROM retention ORDER BY record_id")]

    def save_retention(self, row: RetentionRow, action: str, by: str, reason: str,
                       before: dict[str, Any] | None, events: Sequence[PremisEvent]) -> None:
        """Store a record's retention entry with its history line and PREMIS events, in one transaction."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO retention VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(record_id) DO UPDATE SET "
                "aip_id = excluded.aip_id, title = excluded.title, mdto = excluded.mdto, "
                "override = excluded.override, updated = excluded.updated",
                (row.record_id, row.aip_id, row.title, _dump(row.mdto), _dump(row.override), row.updated.isoformat()),
            )
            db.execute(
                "INSERT INTO appraisal_history VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row.record_id, row.updated.isoformat(), action, by, reason,
                 _dump(before) if before is not None else None, _dump({**row.mdto, **row.override})),
            )
            self._insert_events(db, row.aip_id, events)

    def appraisal_history(self, record_id: str) -> list[dict[str, Any]]:
        """Every change of the record's appraisal, oldest first."""
        rows = self._db.execute(
            "SELECT at, action, by, reason, before, after FROM appraisal_history WHERE record_id = ? "
            "ORDER BY at, rowid", (record_id,))
        return [{"at": r[0], "action": r[1], "by": r[2], "reason": r[3],
                 "before": json.loads(r[4]) if r[4] else None, "after": json.loads(r[5])} for r in rows]

    # -- holds

    def add_hold(self, hold: Hold, aip_id: str, events: Sequence[PremisEvent]) -> None:
        """Place a hold, with its PREMIS event."""
        with self._transaction() as db:
            db.execute("INSERT INTO holds VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL)",
                       (hold.hold_id, hold.record_id, hold.reason, hold.placed_by, hold.placed_at.isoformat()))
            self._insert_events(db, aip_id, events)

    def lift_holds(self, record_id: str, by: str, reason: str, at: datetime, aip_id: str,
                   events: Sequence[PremisEvent]) -> int:
        """Lift every active hold on the record; returns how many were lifted."""
        with self._transaction() as db:
            lifted = db.execute(
                "UPDATE holds SET lifted_by = ?, lifted_at = ?, lift_reason = ? "
                "WHERE record_id = ? AND lifted_at IS NULL", (by, at.isoformat(), reason, record_id)).rowcount
            if lifted:
                self._insert_events(db, aip_id, events)
            return lifted

    def holds(self, record_id: str | None = None, active_only: bool = False) -> list[Hold]:
        """Holds, oldest first; of one record when given; only those not lifted with `active_only`."""
        sql, params = "SELECT * FROM holds WHERE 1 = 1", list[str]()
        if record_id is not None:
            sql, params = sql + " AND record_id = ?", [record_id]
        if active_only:
            sql += " AND lifted_at IS NULL"
        return [_hold(r) for r in self._db.execute(sql + " ORDER BY placed_at, rowid", params)]

    # -- destruction lists, approvals, journal, tombstones

    def save_destruction_list(self, stored: StoredList) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO destruction_lists VALUES (?, ?, ?, ?)",
                       (stored.list_id, stored.created.isoformat(), stored.digest, _dump(stored.content)))

    def destruction_list(self, list_id: str) -> StoredList | None:
        row = self._db.execute("SELECT * FROM destruction_lists WHERE list_id = ?", (list_id,)).fetchone()
        return StoredList(row[0], datetime.fromisoformat(row[1]), row[2], json.loads(row[3])) if row else None

    def destruction_lists(self) -> list[StoredList]:
        rows = self._db.execute("SELECT * FROM destruction_lists ORDER BY created, list_id")
        return [StoredList(r[0], datetime.fromisoformat(r[1]), r[2], json.loads(r[3])) for r in rows]

    def destruction_list_ids_since(self, prefix: str) -> list[str]:
        rows = self._db.execute("SELECT list_id FROM destruction_lists WHERE list_id LIKE ?", (prefix + "%",))
        return [r[0] for r in rows]

    def add_approval(self, approval: Approval, events: Sequence[tuple[str, PremisEvent]]) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO destruction_approvals VALUES (?, ?, ?, ?, ?)",
                       (approval.list_id, approval.digest, approval.by, approval.role, approval.at.isoformat()))
            for aip_id, event in events:
                self._insert_events(db, aip_id, [event])

    def approvals(self, list_id: str) -> list[Approval]:
        rows = self._db.execute("SELECT * FROM destruction_approvals WHERE list_id = ? ORDER BY at, rowid",
                                (list_id,))
        return [Approval(r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4])) for r in rows]

    def journal(self, list_id: str, record_id: str, step: str, target: str, state: str, at: datetime) -> None:
        """Write one step of a destruction to the journal (before doing it: "started"; after: "done")."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO destruction_journal VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "state = excluded.state, at = excluded.at",
                (list_id, record_id, step, target, state, at.isoformat()))

    def journal_entries(self, list_id: str | None = None, record_id: str | None = None) -> list[dict[str, str]]:
        sql, params = "SELECT * FROM destruction_journal WHERE 1 = 1", list[str]()
        if list_id is not None:
            sql, params = sql + " AND list_id = ?", [*params, list_id]
        if record_id is not None:
            sql, params = sql + " AND record_id = ?", [*params, record_id]
        rows = self._db.execute(sql + " ORDER BY rowid", params)
        return [{"list_id": r[0], "record_id": r[1], "step": r[2], "target": r[3], "state": r[4], "at": r[5]}
                for r in rows]

    def mark_destroying(self, aip_ids: Sequence[str], state: str) -> None:
        """Set the lifecycle state of AIPs about to be destroyed, so fixity leaves them alone."""
        with self._transaction() as db:
            db.executemany("UPDATE aips SET state = ? WHERE aip_id = ?", [(state, a) for a in aip_ids])

    def complete_destruction(self, record_id: str, list_id: str, at: datetime, tombstone: dict[str, Any],
                             aip_ids: Sequence[str], state: str, events: Sequence[tuple[str, PremisEvent]]) -> None:
        """The last step of destroying a record: its AIPs lose their replicas and files in the catalogue,
        are marked destroyed, and the tombstone and deaccession events are written; one transaction."""
        with self._transaction() as db:
            for aip_id in aip_ids:
                db.execute("DELETE FROM replicas WHERE aip_id = ?", (aip_id,))
                db.execute("DELETE FROM files WHERE aip_id = ?", (aip_id,))
                db.execute("DELETE FROM dips WHERE aip_id = ?", (aip_id,))
                for table in ("identifications", "file_losses"):
                    if self._has_tables(table):
                        db.execute(f"DELETE FROM {table} WHERE aip_id = ?", (aip_id,))
                db.execute("UPDATE aips SET state = ? WHERE aip_id = ?", (state, aip_id))
            db.execute("INSERT INTO tombstones VALUES (?, ?, ?, ?) ON CONFLICT(record_id) DO NOTHING",
                       (record_id, list_id, at.isoformat(), _dump(tombstone)))
            for aip_id, event in events:
                self._insert_events(db, aip_id, [event])

    def tombstone(self, record_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT content FROM tombstones WHERE record_id = ?", (record_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def tombstones(self, list_id: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT content FROM tombstones", list[str]()
        if list_id is not None:
            sql, params = sql + " WHERE list_id = ?", [list_id]
        return [json.loads(r[0]) for r in self._db.execute(sql + " ORDER BY record_id", params)]

    def aips_of_record(self, record_id: str) -> list[tuple[str, str]]:
        """(aip_id, state) of every AIP that holds the record, in any state, oldest first."""
        rows = self._db.execute("SELECT aip_id, state FROM aips WHERE record_id = ? ORDER BY created, aip_id",
                                (record_id,))
        return [(r[0], r[1]) for r in rows]

    def dip_paths(self, aip_id: str) -> list[tuple[str, str]]:
        """(dip_id, path) of every DIP holding the AIP that the catalogue lists: its own `dips` table and,
        where access keeps its register in the same file, every DIP that register says holds it."""
        found = {r[0]: r[1] for r in self._db.execute("SELECT dip_id, path FROM dips WHERE aip_id = ?", (aip_id,))}
        if self._has_tables("access_dips", "access_dip_aips"):
            rows = self._db.execute(
                "SELECT d.dip_id, d.path FROM access_dips d JOIN access_dip_aips a ON a.dip_id = d.dip_id "
                "WHERE a.aip_id = ?", (aip_id,))
            found.update({r[0]: r[1] for r in rows})
        return sorted(found.items())

    def _has_tables(self, *names: str) -> bool:
        marks = ", ".join("?" for _ in names)
        rows = self._db.execute(f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ({marks})", names)
        return bool(rows.fetchone()[0] == len(names))

    def scrub(self) -> None:
        """Rewrite the database file so no freed page still holds deleted bytes, and empty the WAL."""
        self._db.execute("VACUUM")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _retention(row: Sequence[Any]) -> RetentionRow:
    return RetentionRow(row[0], row[1], row[2], json.loads(row[3]), json.loads(row[4]),
                        datetime.fromisoformat(row[5]))


def _hold(row: Sequence[Any]) -> Hold:
    return Hold(row[0], row[1], row[2], row[3], datetime.fromisoformat(row[4]), row[5],
                datetime.fromisoformat(row[6]) if row[6] else None, row[7])
