"""`edepot doctor`: is this installation fit to work? The data directory, each storage location and the catalogue
are checked, the event journal is reconciled with the catalogue (preservation/event_journal.py), and the leftovers
of interrupted work (preservation/leftovers.py) are listed and removed.

Each check is one function in CHECKS that takes the configuration and whether to repair, and returns typed
findings; a new check is one more function there. Nothing is repaired but leftovers of work that died and the
journal (a segment copied back from another location, events of the catalogue written to it).
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Sequence

from kernel.config import Config
from kernel.errors import EdepotError, InputError
from preservation.blobstore import BlobStore
from preservation.catalogue import Catalogue, open_catalogue
from preservation.catalogue_db.database import (
    applied_migrations,
    applied_migrations_at,
    ensure_django,
    is_postgres,
    migration_names,
    register_postgres,
    shown_url,
    sqlite_path,
)
from preservation.event_journal import EventJournal, read_journals, restore_segments
from preservation.leftovers import IN_USE, REMOVED, WOULD_REMOVE, clear_leftovers
from preservation.object_storage import ObjectStoreLocation
from preservation.storage import LocalDirectoryLocation, StorageLocation, dropped_locations, open_configured


class Status(str, Enum):
    OK = "ok"
    REMOVED = "removed"  # a leftover of interrupted work, removed
    FOUND = "found"  # a leftover of interrupted work, listed only (dry run)
    IN_USE = "in use"  # staging of a command that is running: left alone
    RESTORED = "restored"  # a journal segment copied back from another location, or events written to the journal
    PROBLEM = "problem"  # needs an administrator; `edepot doctor` exits 1


@dataclass(frozen=True)
class Finding:
    """One thing a check found: which check, how it stands, what it is about, and the details."""

    check: str
    status: Status
    subject: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "status": self.status.value, "subject": self.subject, "detail": self.detail}


Check = Callable[[Config, bool], list[Finding]]  # (configuration, repair) → findings


def check_data_dir(config: Config, repair: bool) -> list[Finding]:
    """The data directory exists and can be written, with its free space."""
    return [_file_system("data directory", config.data_dir)]


def check_locations(config: Config, repair: bool) -> list[Finding]:
    """Each storage location exists (once an AIP is held), can be written, and has a bag of every AIP held; every
    location the catalogue knows is still configured."""
    catalogue = _open_catalogue(config)
    try:
        return _check_locations(config, catalogue)
    finally:
        if catalogue is not None:
            catalogue.close()


def _check_locations(config: Config, catalogue: Catalogue | None) -> list[Finding]:
    held = {aip.aip_id for aip in catalogue.aips()} if catalogue else set()
    try:
        locations = open_configured(config, catalogue.locations() if catalogue else ())
    except InputError as error:
        return [Finding("storage locations", Status.PROBLEM, str(config.data_dir), error.message)]
    findings = [Finding(f"storage location {record.name}", Status.PROBLEM if count else Status.OK,
                        record.root or record.location_id,
                        f"{record.location_id}: not in the configuration any more, " + (
                            f"and the catalogue has {count} replica(s) there: configure it again (its folder "
                            "keeps its identity), or make other copies before retiring it" if count else
                            "and it holds no replica the catalogue knows"))
                for record, count in (dropped_locations(locations, catalogue) if catalogue else [])]
    for location in locations:
        name, where = f"storage location {location.name}", location.address.split("?")[0]
        if isinstance(location, LocalDirectoryLocation):
            if not location.root.is_dir() and not held:
                findings.append(Finding(name, Status.OK, where, "not made yet (the first ingest makes it)"))
                continue
            findings.append(_file_system(name, location.root))
        else:
            refused = location.reachable() if isinstance(location, ObjectStoreLocation) else None
            findings.append(Finding(name, Status.PROBLEM if refused else Status.OK, where,
                                    f"cannot be written: {refused}" if refused else "object store, writable"))
            if refused:
                continue
        missing = held - set(location.aip_ids())
        if missing:
            findings.append(Finding(name, Status.PROBLEM, where,
                                    f"{len(missing)} AIP(s) of the catalogue have no bag here, e.g. {min(missing)}; "
                                    "a fixity run over every AIP rebuilds them from the other locations"))
    return findings


def check_catalogue(config: Config, repair: bool) -> list[Finding]:
    """The catalogue's SQLite file passes SQLite's own consistency check; a PostgreSQL catalogue answers. Either is
    at this edepot's migration."""
    if is_postgres(config.catalogue_url):
        return [_check_postgres(config)]
    path = _catalogue_path(config)
    if path is None:
        return [Finding("catalogue", Status.OK, config.catalogue_url, "not a local SQLite file: not checked here")]
    if not path.is_file():
        return [Finding("catalogue", Status.OK, str(path), "no catalogue yet (the first ingest makes it)")]
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = [row[0] for row in db.execute("PRAGMA quick_check")]
        finally:
            db.close()
    except sqlite3.Error as error:
        return [Finding("catalogue", Status.PROBLEM, str(path), f"cannot be read: {error}")]
    if verdict != ["ok"]:
        return [Finding("catalogue", Status.PROBLEM, str(path), "; ".join(verdict[:5]))]
    return [_check_migrations(str(path), *applied_migrations(path), config, verdict="consistent")]


def _check_postgres(config: Config) -> Finding:
    """A PostgreSQL catalogue: whether it answers, and at which migration (read without migrating it)."""
    from django.db import Error as DatabaseError

    url = config.catalogue_url
    ensure_django()
    try:
        has_tables, applied = applied_migrations_at(register_postgres(url))
    except DatabaseError as error:
        return Finding("catalogue", Status.PROBLEM, shown_url(url), f"cannot be read: {str(error).strip()}")
    if not has_tables and not applied:
        return Finding("catalogue", Status.OK, shown_url(url), "no catalogue yet (the first ingest makes it)")
    return _check_migrations(shown_url(url), has_tables, applied, config, verdict="answers")


def _check_migrations(where: str, has_tables: bool, applied: list[str], config: Config, *, verdict: str) -> Finding:
    if applied != migration_names():
        written_by = "edepot 0.2.0" if has_tables and not applied else f"migration {applied[-1] if applied else '-'}"
        return Finding("catalogue", Status.PROBLEM, where,
                       f"written by {written_by}, not at this edepot's {migration_names()[-1]}: upgrade it in place "
                       "before use")
    return Finding("catalogue", Status.OK, where, f"{verdict}; {len(_catalogued_aips(config))} AIP(s)")


def check_journal(config: Config, repair: bool) -> list[Finding]:
    """The event journal against itself and the catalogue: a segment one location lacks is copied from another,
    events of the catalogue missing from the journal are written to it (when repairing); copies that differ and
    events of the journal missing from the catalogue are problems."""
    catalogue = _open_catalogue(config)
    if catalogue is None:
        return []
    try:
        locations = open_configured(config, catalogue.locations())
    except InputError:
        catalogue.close()
        return []  # check_locations says why
    try:
        # a folder not made yet (or not mounted) is not written to: the first ingest makes it; a bucket that cannot
        # be reached is check_locations' finding
        return _check_journal([loc for loc in locations if _writable(loc)], catalogue, repair)
    finally:
        catalogue.close()


def _check_journal(locations: Sequence[BlobStore], catalogue: Catalogue, repair: bool) -> list[Finding]:
    reading = read_journals(location for location in locations)
    findings = [Finding("event journal", Status.PROBLEM, segment, "its copies differ between the storage locations")
                for segment in reading.diverging]
    findings += [Finding("event journal", Status.PROBLEM, where, "not a journal segment") for where in reading.unreadable]
    restored = restore_segments(locations, reading) if repair else []
    for location, names in sorted(reading.missing.items()):
        done = [n for loc, n in restored if loc == location]
        status = Status.RESTORED if len(done) == len(names) else Status.FOUND if not repair else Status.PROBLEM
        findings.append(Finding("event journal", status, location,
                                f"{len(names)} segment(s) held elsewhere were missing, e.g. {names[0]}"
                                + (f"; {len(done)} copied back" if repair else "")))
    events = catalogue.all_events()
    known = {event.identifier for _aip, event in events}
    unrecorded = sorted(set(reading.events) - known)
    if unrecorded:
        findings.append(Finding("event journal", Status.PROBLEM, "catalogue",
                                f"{len(unrecorded)} event(s) of the journal are not in the catalogue, e.g. "
                                f"{unrecorded[0]}: the catalogue lost them, or their work was undone after they "
                                "were journalled; `edepot catalogue rebuild` restores them"))
    missing = catalogue.unjournalled_rows(reading.aips.keys(), reading.changes)
    missing.entries = [(aip_id, event) for aip_id, event in events if event.identifier not in reading.events]
    if missing:
        if repair and locations:
            EventJournal(locations).write(missing)
        findings.append(Finding("event journal", Status.RESTORED if repair and locations else Status.FOUND,
                                "storage locations", f"{len(missing.entries)} event(s), {len(missing.aips)} AIP(s) "
                                f"and {len(missing.changes)} other change(s) of the catalogue were not in the journal"
                                + ("; written to it now" if repair and locations else "")))
    return findings or [Finding("event journal", Status.OK, "storage locations",
                                f"{len(reading.events)} event(s), the same in the catalogue and every location")]


def check_leftovers(config: Config, repair: bool) -> list[Finding]:
    """Staging of commands that were killed (removed when repairing) and of commands running now (left alone)."""
    states = {REMOVED: Status.REMOVED, WOULD_REMOVE: Status.FOUND, IN_USE: Status.IN_USE}
    findings = []
    for leftover in clear_leftovers(config, dry_run=not repair):
        detail = f"left by {leftover.origin}" + (f"; {leftover.note}" if leftover.note else "")
        findings.append(Finding("leftovers", states.get(leftover.state, Status.PROBLEM), str(leftover.path), detail))
    return findings or [Finding("leftovers", Status.OK, str(config.data_dir), "no leftovers of interrupted work")]


CHECKS: tuple[Check, ...] = (check_data_dir, check_locations, check_catalogue, check_journal, check_leftovers)


def run_doctor(config: Config, *, dry_run: bool = False) -> list[Finding]:
    """Every check's findings in CHECKS order; leftovers are only listed with `dry_run`."""
    return [finding for check in CHECKS for finding in check(config, not dry_run)]


def _writable(location: StorageLocation) -> bool:
    if isinstance(location, LocalDirectoryLocation):
        return location.root.is_dir()
    return not isinstance(location, ObjectStoreLocation) or location.reachable() is None


def _file_system(name: str, path: Path) -> Finding:
    if not path.is_dir():
        return Finding(name, Status.PROBLEM, str(path), "does not exist")
    stats = os.statvfs(path)
    free = f"{stats.f_bavail * stats.f_frsize / 2**30:.1f} GiB free"
    if stats.f_flag & os.ST_RDONLY:
        return Finding(name, Status.PROBLEM, str(path), f"read-only file system; {free}")
    if stats.f_bavail == 0:
        return Finding(name, Status.PROBLEM, str(path), "full: no space left")
    return Finding(name, Status.OK, str(path), f"writable; {free}")


def _catalogue_path(config: Config) -> Path | None:
    url = config.catalogue_url
    return sqlite_path(url) if url.startswith("sqlite:///") else None


def _catalogued_aips(config: Config) -> set[str]:
    catalogue = _open_catalogue(config)
    if catalogue is None:
        return set()
    try:
        return {aip.aip_id for aip in catalogue.aips()}
    finally:
        catalogue.close()


def _open_catalogue(config: Config) -> Catalogue | None:
    """The catalogue when this edepot can read it (a local SQLite file, or a PostgreSQL database at its
    migration), else None (`check_catalogue` says why)."""
    from django.db import Error as DatabaseError

    if is_postgres(config.catalogue_url):
        ensure_django()
        try:
            has_tables, applied = applied_migrations_at(register_postgres(config.catalogue_url))
        except DatabaseError:
            return None
        if not has_tables or applied != migration_names():
            return None  # never made here: doctor looks, it does not create or migrate
    else:
        path = _catalogue_path(config)
        if path is None or not path.is_file():
            return None
    try:
        catalogue = open_catalogue(config.catalogue_url)
        catalogue.aips()
    except (EdepotError, sqlite3.Error, DatabaseError):
        return None
    return catalogue
