"""The access register port: permits, delivered DIPs, the access log and restrictions decided after ingest.

Archiefwet 1995 art. 16-17 (the archivist may grant consultation of restricted records) and the Woo's
duty to account for what was disclosed: who got what, when, why and until when.

    access_permits   a permit for one record to one named person until a date, with the reason
    access_dips      every DIP: requester, purpose, role, request date, expiry, where, state
    access_dip_aips  the AIPs a DIP holds, with how many messages and redactions of each
    access_log       one row per act: permit granted, DIP delivered, DIP purged (append only)

    restriction_decisions  a record's openness decided after ingest (append only; the newest counts)

`AccessRegister` is what the engine needs of it; the implementation on the catalogue's Django models is
`preservation.catalogue_db.register_store`. Get one from a unit of work (`preservation.unit_of_work`), or on its
own with `open_register`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Iterator, Protocol, Sequence

from preservation.record_access import Restriction


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


class AccessRegister(Protocol):
    """Permits, DIPs, the access log and decided restrictions. Each method that writes is one transaction, or
    part of the unit of work's when one runs."""

    def close(self) -> None: ...
    def __enter__(self) -> "AccessRegister": ...
    def __exit__(self, *exc: object) -> None: ...
    def grant_permit(self, record_id: str, grantee: str, until: date, reason: str, granted_by: str,
                     now: datetime) -> Permit:
        """Record a permit and its log entry."""
    def permits(self, grantee: str | None = None) -> list[Permit]:
        """Every permit (of one grantee), oldest first."""
    def permitted_records(self, grantee: str, on: date) -> set[str]:
        """Record kenmerken the grantee holds a permit for that runs on `on` (inclusive)."""
    def record_delivery(self, entry: DipEntry, aips: Sequence[DeliveredAip], actor: str) -> None:
        """Record a delivered DIP, the AIPs it holds, and the log entry, in one transaction."""
    def dips(self, state: DipState | None = None) -> list[DipEntry]:
        """Every DIP (in one state), oldest first."""
    def dip_aips(self, dip_id: str) -> list[DeliveredAip]:
        """The AIPs a DIP holds, in the order they were recorded."""
    def dips_holding(self, aip_id: str) -> list[DipEntry]:
        """Delivered DIPs that hold messages of this AIP, oldest first."""
    def mark_removed(self, entry: DipEntry, state: DipState, now: datetime, actor: str, detail: str) -> None:
        """A DIP's folder is gone: its state, and the log entry."""
    def log(self, requester: str | None = None, dip_id: str | None = None) -> Iterator[LogEntry]:
        """The log, oldest first (of one requester, or about one DIP)."""
    def decided_restrictions(self) -> dict[str, Restriction]:
        """Record kenmerk → the restriction decided last after ingest (records never decided again are absent)."""
    def record_restriction(self, record_id: str, restriction: Restriction, *, by: str, reason: str,
                           at: datetime) -> None:
        """Append a decided restriction."""


def open_register(catalogue_url: str) -> AccessRegister:
    """The access register in the catalogue at `catalogue_url` (CatalogueUpgradeNeeded for another edepot's)."""
    from preservation.catalogue_db.database import catalogue_alias

    alias = catalogue_alias(catalogue_url)  # sets Django up first
    from preservation.catalogue_db.register_store import DjangoAccessRegister

    return DjangoAccessRegister(alias)
