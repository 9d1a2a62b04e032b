"""Data Management: the catalogue of AIPs, their replicas, files, PREMIS events and DIPs.

The `Catalogue` port and the rows it deals in, free of any database library: `open_catalogue` gives the
implementation for the configured URL (the Django ORM on SQLite, in `preservation.catalogue_db`). Lifecycle state is stored and queried (AipState), never inferred from where files lie.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Collection, Protocol, Sequence

from preservation.event_journal import Segment
from preservation.metadata.premis import PremisEvent
from preservation.retention_catalogue import Approval, DueGroup, Hold, Rejection, RetentionRow, StoredList


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
    organisation: str = ""  # the archiefvormer's organisation id; "" before organisations were registered


@dataclass(frozen=True)
class ReplicaRecord:
    aip_id: str
    location: str
    path: str
    last_verified: datetime | None
    status: ReplicaStatus


@dataclass(frozen=True)
class LocationRecord:
    """A storage location as the catalogue knows it: its stable identity, its name and the folder it was
    registered at (replicas name the identity, never the folder)."""

    location_id: str
    name: str
    root: str
    registered: datetime


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


class Catalogue(Protocol):
    """What the engine needs from the catalogue of AIPs, their events and retention (one transaction a call, or
    one for every call inside `batch()`; each transaction's events and changes are in the storage locations' event
    journal before it commits).

    The embedded implementation is the Django ORM on SQLite (`preservation.catalogue_db.store`).
    """

    url: str

    def close(self) -> None: ...
    def aip_for_sip(self, sip_digest: str) -> str | None: ...
    def record_ingest(self, aip: AipRecord, replicas: Sequence[ReplicaRecord], files: Sequence[FileRecord],
                      events: Sequence[PremisEvent], version: AipVersion | None = None,
                      identifications: Sequence[IdentificationRecord] = ()) -> None: ...
    def restore_aip(self, aip: AipRecord, replicas: Sequence[ReplicaRecord], files: Sequence[FileRecord],
                    events: Sequence[PremisEvent], version: AipVersion | None,
                    identifications: Sequence[IdentificationRecord]) -> None: ...
    def restore_events(self, aip_id: str | None, events: Sequence[PremisEvent]) -> None: ...
    def restore_changes(self, changes: Sequence[dict[str, Any]]) -> list[str]: ...
    def batch(self) -> AbstractContextManager[None]: ...
    def unjournalled_rows(self, journalled_aips: Collection[str], changes: Sequence[dict[str, Any]]) -> Segment: ...
    def add_events(self, aip_id: str | None, events: Sequence[PremisEvent]) -> None: ...
    def versions(self, sip_digest: str, record_id: str) -> list[AipVersion]: ...
    def aip(self, aip_id: str) -> AipRecord: ...
    def aips(self, *, include_gone: bool = False) -> list[AipRecord]: ...
    def organisations_of(self, record: str) -> set[str]: ...
    def assign_organisation(self, aip_ids: Sequence[str], organisation: str) -> None: ...
    def aips_by_last_verified(self) -> list[AipRecord]: ...
    def replicas(self, aip_id: str) -> list[ReplicaRecord]: ...
    def locations(self) -> list[LocationRecord]: ...
    def register_location(self, location: LocationRecord) -> None: ...
    def replicas_by_location(self) -> dict[str, int]: ...
    def identifications(self, aip_id: str) -> list[IdentificationRecord]: ...
    def files(self, aip_id: str) -> list[FileRecord]: ...
    def events(self, aip_id: str) -> list[PremisEvent]: ...
    def all_events(self) -> list[tuple[str | None, PremisEvent]]: ...
    def recent_events(self, types: Sequence[str], limit: int = 500) -> list[tuple[str | None, PremisEvent]]: ...
    def record_verification(self, aip_id: str, location: str, when: datetime, status: ReplicaStatus,
                            events: Sequence[PremisEvent]) -> None: ...
    def set_state(self, aip_id: str, state: AipState) -> None: ...
    def declare_losses(self, aip_id: str, losses: Sequence[FileLoss], events: Sequence[PremisEvent]) -> None: ...
    def record_recovery(self, aip_id: str, paths: Sequence[str], events: Sequence[PremisEvent]) -> None: ...
    def losses(self, aip_id: str) -> list[FileLoss]: ...
    def record_dip(self, dip_id: str, aip_id: str, path: Path, created: datetime) -> None: ...

    # retention (preservation.retention, preservation.destruction)
    def retention_row(self, record_id: str) -> RetentionRow | None: ...
    def retention_rows(self) -> list[RetentionRow]: ...
    def due_groups(self, before: date, *, organisations: Collection[str] | None) -> list[DueGroup]: ...
    def due_records(self, before: date, *, organisations: Collection[str] | None,
                    categories: Collection[str] | None = None, after: str = "", limit: int | None = None,
                    oldest_first: bool = False) -> list[tuple[RetentionRow, str]]: ...
    def count_due(self, before: date, latest_start: date, *,
                  organisations: Collection[str] | None) -> tuple[int, int]: ...
    def transfer_records(self, latest_start: date, *, organisations: Collection[str] | None,
                         limit: int | None = None) -> list[tuple[RetentionRow, str]]: ...
    def save_retention(self, row: RetentionRow, action: str, by: str, reason: str,
                       before: dict[str, Any] | None, events: Sequence[PremisEvent]) -> None: ...
    def appraisal_history(self, record_id: str) -> list[dict[str, Any]]: ...
    def add_hold(self, hold: Hold, aip_id: str, events: Sequence[PremisEvent]) -> None: ...
    def lift_holds(self, record_id: str, by: str, reason: str, at: datetime, aip_id: str,
                   events: Sequence[PremisEvent], *, only: str | None = None) -> int: ...
    def holds(self, record_id: str | None = None, active_only: bool = False) -> list[Hold]: ...
    def save_destruction_list(self, stored: StoredList) -> None: ...
    def destruction_list(self, list_id: str) -> StoredList | None: ...
    def destruction_lists(self, *, organisations: Collection[str] | None = None,
                          newest: int | None = None) -> list[StoredList]: ...
    def destruction_list_ids_since(self, prefix: str) -> list[str]: ...
    def add_approval(self, approval: Approval, events: Sequence[tuple[str, PremisEvent]]) -> None: ...
    def approvals(self, list_id: str) -> list[Approval]: ...
    def add_rejection(self, rejection: Rejection, events: Sequence[tuple[str, PremisEvent]]) -> None: ...
    def rejections(self, list_id: str) -> list[Rejection]: ...
    def journal(self, list_id: str, record_id: str, step: str, target: str, state: str, at: datetime) -> None: ...
    def journal_entries(self, list_id: str | None = None, record_id: str | None = None) -> list[dict[str, str]]: ...
    def mark_destroying(self, aip_ids: Sequence[str], state: str) -> None: ...
    def complete_destruction(self, record_id: str, list_id: str, at: datetime, tombstone: dict[str, Any],
                             aip_ids: Sequence[str], state: str,
                             events: Sequence[tuple[str, PremisEvent]]) -> None: ...
    def tombstone(self, record_id: str) -> dict[str, Any] | None: ...
    def tombstones(self, list_id: str | None = None) -> list[dict[str, Any]]: ...
    def aips_of_record(self, record_id: str) -> list[tuple[str, str]]: ...
    def dip_paths(self, aip_id: str) -> list[tuple[str, str]]: ...
    def scrub(self) -> None: ...


def open_catalogue(url: str, *, afresh: bool = False) -> Catalogue:
    """The catalogue behind a URL: `sqlite:////abs/path.sqlite` (four slashes for an absolute path); `afresh`:
    as it is now, whatever this process had open there before (a catalogue removed or replaced since).

    Sets Django up on first use; E111 when the catalogue was written by another edepot version.
    """
    from preservation.catalogue_db.database import ensure_django, forget

    ensure_django()
    if afresh:
        forget(url)
    from preservation.catalogue_db.store import DjangoCatalogue

    return DjangoCatalogue(url)
