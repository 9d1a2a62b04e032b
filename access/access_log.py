"""Access: the register of permits, delivered DIPs and the access log, kept in the catalogue.

Archiefwet 1995 art. 16-17 (the archivist may grant consultation of restricted records) and the Woo's
duty to account for what was disclosed: who got what, when, why and until when.

    access_permits   a permit for one record to one named person until a date, with the reason
    access_dips      every DIP: requester, purpose, role, request date, expiry, where, state
    access_dip_aips  the AIPs a DIP holds, with how many messages and redactions of each
    access_log       one row per act: permit granted, DIP delivered, DIP purged (append only)

The tables are the catalogue's models (`preservation.catalogue_db.models`); the catalogue's migrations own them.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Iterator, Sequence

from preservation.catalogue_db.database import catalogue_alias


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


_DIP_FIELDS = ("dip_id", "path", "requester", "purpose", "role", "request_date", "created", "expires", "state",
               "purged", "selection", "files")
_LOG_FIELDS = ("entry_id", "at", "action", "actor", "requester", "purpose", "dip_id", "records", "until", "detail")


class AccessRegister:
    """Permits, DIPs and the log in the catalogue behind a Django database alias; each public method is one
    transaction, or part of the caller's when one runs (`transaction.atomic(using=alias)`)."""

    def __init__(self, alias: str) -> None:
        self._alias = alias

    def close(self) -> None:
        """Release this thread's connection to the catalogue, unless a caller's transaction still runs on it
        (the next query opens it again)."""
        from django.db import connections

        connection = connections[self._alias]
        if not connection.in_atomic_block:
            connection.close()

    def __enter__(self) -> "AccessRegister":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _log(self, at: datetime, action: str, actor: str, requester: str, purpose: str, dip_id: str | None,
             records: Sequence[str], until: date | None, detail: str) -> None:
        from preservation.catalogue_db.models import AccessLogEntry

        AccessLogEntry.objects.using(self._alias).create(
            at=at, action=action, actor=actor, requester=requester, purpose=purpose, dip_id=dip_id,
            records=list(records), until=until, detail=detail)

    def grant_permit(self, record_id: str, grantee: str, until: date, reason: str, granted_by: str,
                     now: datetime) -> Permit:
        """Record a permit and its log entry."""
        from django.db import transaction

        from preservation.catalogue_db.models import AccessPermit

        permit = Permit(str(uuid.uuid4()), record_id, grantee, until, reason, granted_by, now)
        with transaction.atomic(using=self._alias):
            AccessPermit.objects.using(self._alias).create(
                permit_id=permit.permit_id, record_id=record_id, grantee=grantee, until=until, reason=reason,
                granted_by=granted_by, granted=now)
            self._log(now, "permit", granted_by, grantee, reason, None, [record_id], until,
                      f"permit {permit.permit_id} to consult record {record_id}")
        return permit

    def permits(self, grantee: str | None = None) -> list[Permit]:
        """Every permit (of one grantee), oldest first."""
        from preservation.catalogue_db.models import AccessPermit

        rows = AccessPermit.objects.using(self._alias).order_by("granted")
        if grantee:
            rows = rows.filter(grantee=grantee)
        return [Permit(*r) for r in rows.values_list("permit_id", "record_id", "grantee", "until", "reason",
                                                     "granted_by", "granted")]

    def permitted_records(self, grantee: str, on: date) -> set[str]:
        """Record kenmerken the grantee holds a permit for that runs on `on` (inclusive)."""
        from preservation.catalogue_db.models import AccessPermit

        return set(AccessPermit.objects.using(self._alias).filter(grantee=grantee, until__gte=on)
                   .values_list("record_id", flat=True))

    def record_delivery(self, entry: DipEntry, aips: Sequence[DeliveredAip], actor: str) -> None:
        """Record a delivered DIP, the AIPs it holds, and the log entry, in one transaction."""
        from django.db import transaction

        from preservation.catalogue_db.models import AccessDip, AccessDipAip

        with transaction.atomic(using=self._alias):
            AccessDip.objects.using(self._alias).create(
                dip_id=entry.dip_id, path=entry.path, requester=entry.requester, purpose=entry.purpose,
                role=entry.role, request_date=entry.request_date, created=entry.created, expires=entry.expires,
                state=entry.state.value, purged=None, selection=entry.selection, files=entry.files)
            AccessDipAip.objects.using(self._alias).bulk_create(
                [AccessDipAip(dip_id=entry.dip_id, aip_id=a.aip_id, record_id=a.record_id, decision=a.decision,
                              messages=a.messages, redactions=a.redactions) for a in aips], batch_size=500)
            delivered = [a for a in aips if a.messages]
            self._log(entry.created, "dip-delivered", actor, entry.requester, entry.purpose, entry.dip_id,
                      [a.record_id for a in aips], entry.expires,
                      f"{sum(a.messages for a in delivered)} messages of {len(delivered)} records, "
                      f"{sum(a.redactions for a in aips)} redactions, {entry.files} files at {entry.path}")

    def dips(self, state: DipState | None = None) -> list[DipEntry]:
        """Every DIP (in one state), oldest first."""
        from preservation.catalogue_db.models import AccessDip

        rows = AccessDip.objects.using(self._alias)
        if state:
            rows = rows.filter(state=state.value)
        return _dips(rows)

    def dip_aips(self, dip_id: str) -> list[DeliveredAip]:
        """The AIPs a DIP holds, in the order they were recorded."""
        from preservation.catalogue_db.models import AccessDipAip

        rows = AccessDipAip.objects.using(self._alias).filter(dip_id=dip_id).order_by("id")
        return [DeliveredAip(*r) for r in rows.values_list("aip_id", "record_id", "decision", "messages",
                                                           "redactions")]

    def dips_holding(self, aip_id: str) -> list[DipEntry]:
        """Delivered DIPs that hold messages of this AIP, oldest first."""
        from preservation.catalogue_db.models import AccessDip, AccessDipAip

        holding = AccessDipAip.objects.using(self._alias).filter(aip_id=aip_id, messages__gt=0).values("dip_id")
        return _dips(AccessDip.objects.using(self._alias).filter(dip_id__in=holding, state=DipState.DELIVERED.value))

    def mark_removed(self, entry: DipEntry, state: DipState, now: datetime, actor: str, detail: str) -> None:
        """A DIP's folder is gone: its state, and the log entry."""
        from django.db import transaction

        from preservation.catalogue_db.models import AccessDip

        with transaction.atomic(using=self._alias):
            AccessDip.objects.using(self._alias).filter(dip_id=entry.dip_id).update(state=state.value, purged=now)
            records = [a.record_id for a in self.dip_aips(entry.dip_id)]
            action = "dip-purged" if state is DipState.PURGED else "dip-withdrawn"
            self._log(now, action, actor, entry.requester, entry.purpose, entry.dip_id, records, entry.expires, detail)

    def log(self, requester: str | None = None, dip_id: str | None = None) -> Iterator[LogEntry]:
        """The log, oldest first (of one requester, or about one DIP)."""
        from preservation.catalogue_db.models import AccessLogEntry

        rows = AccessLogEntry.objects.using(self._alias).order_by("entry_id")
        if requester:
            rows = rows.filter(requester=requester)
        if dip_id:
            rows = rows.filter(dip_id=dip_id)
        for row in rows.values(*_LOG_FIELDS).iterator(chunk_size=2000):
            yield LogEntry(**{**row, "records": tuple(row["records"])})


def _dips(rows: Any) -> list[DipEntry]:
    return [DipEntry(**{**row, "state": DipState(row["state"])})
            for row in rows.order_by("created", "dip_id").values(*_DIP_FIELDS)]


def open_register(catalogue_url: str) -> AccessRegister:
    """The access register in the catalogue at `catalogue_url` (CatalogueUpgradeNeeded for another edepot's)."""
    return AccessRegister(catalogue_alias(catalogue_url))
