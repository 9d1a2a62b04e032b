"""The AIP port of the archivist's screens: AIPs filtered and paged in the database, and one AIP's files, events,
versions and own DIPs a page at a time, so that asking stays cheap with ten thousand AIPs and years of fixity
events. The implementation on Django is `preservation.catalogue_db.aip_listing_store`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Collection, Protocol

if TYPE_CHECKING:  # the rows' types only: the screens' constants below are imported by every command
    from preservation.catalogue import AipRecord, FileRecord
    from preservation.job_register import JobRecord
    from preservation.metadata.premis import PremisEvent
    from preservation.record_access import Restriction

# What an AIP's state filter may ask for: its lifecycle state, or one of these.
KEPT = "kept"  # not destroyed or being destroyed
HELD = "held"  # kept, its record under a hold not lifted
DUE = "due"  # kept, its record due for destruction or transfer (by the dates the service gives: DueBy)
GONE = "destroyed"  # destroyed or being destroyed: a tombstone says what was there


@dataclass(frozen=True)
class AipFilters:
    """Which AIPs to list: of one organisation, whose record's period (dekkingInTijd) overlaps `since`..`until`,
    in a state (an AipState value, or KEPT, HELD, DUE, GONE), with a file of a format (a PUID, or part of a
    format's name). None: any."""

    organisation: str | None = None
    since: date | None = None
    until: date | None = None
    state: str | None = None
    format: str | None = None


@dataclass(frozen=True)
class DueBy:
    """When a record counts as due: due for destruction before `destruction_before` (and not held), or a B
    record whose term started on or before `term_started_by` (due for transfer)."""

    destruction_before: date
    term_started_by: date


@dataclass(frozen=True)
class AipPage:
    """One page of AIPs newest first, how many AIPs the filters match in all, whether older ones follow, and the
    version of each AIP of the page after the first of its record."""

    aips: list[AipRecord]
    count: int
    more: bool
    versions: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FilePage:
    """Some of an AIP's files by path, from `offset`, and how many it has."""

    files: list[FileRecord]
    count: int
    offset: int


@dataclass(frozen=True)
class EventPage:
    """Some of an AIP's PREMIS events, newest first, each with its place in the catalogue (`before` of the next
    page), and whether older ones follow."""

    events: list[tuple[int, PremisEvent]]
    more: bool


@dataclass(frozen=True)
class VersionRow:
    """An AIP of one record, with its version number and state."""

    aip_id: str
    version: int
    created: datetime
    state: str


@dataclass(frozen=True)
class OwnDip:
    """A DIP made for the archive's own use of one AIP alone, still delivered (not purged)."""

    dip_id: str
    path: str
    created: datetime
    files: int


class AipQueries(Protocol):
    """Bounded questions about AIPs, each for `organisations` (None: every organisation's, records of none too)."""

    def page(self, filters: AipFilters, *, organisations: Collection[str] | None, due: DueBy | None,
             before: str | None, limit: int) -> AipPage:
        """AIPs matching `filters` (DUE: records due by the dates of `due`), newest first, after the AIP `before`."""
    def find(self, aip_id: str) -> AipRecord | None:
        """The AIP, destroyed ones too; None when the catalogue does not know it."""
    def files(self, aip_id: str, *, offset: int, limit: int) -> FilePage:
        """The AIP's files by path, `limit` from `offset`."""
    def events(self, aip_id: str, *, before: int | None, limit: int) -> EventPage:
        """The AIP's events newest first, older than the one at `before`."""
    def versions(self, record_id: str) -> list[VersionRow]:
        """The AIPs of the record, oldest version first."""
    def own_dips(self, aip_id: str) -> list[OwnDip]:
        """The archive's own DIPs of this AIP alone still delivered, newest first."""
    def dip_jobs(self, aip_id: str) -> list[JobRecord]:
        """The DIP jobs queued or running that make a DIP of this AIP alone, oldest first."""
    def metadata_files(self, aip_id: str) -> list[FileRecord]:
        """The AIP's MDTO informatieobject documents (not those of its files), by path."""
    def restriction(self, record_id: str) -> Restriction | None:
        """The restriction decided last for the record after ingest, if any."""
