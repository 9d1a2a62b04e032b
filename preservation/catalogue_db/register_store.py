"""The access register port (`preservation.access_register.AccessRegister`) on the catalogue's Django models."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Iterator, Sequence

from preservation.access_register import DeliveredAip, DipEntry, DipState, LogEntry, Permit
from preservation.record_access import Restriction

_DIP_FIELDS = ("dip_id", "path", "requester", "purpose", "role", "request_date", "created", "expires", "state",
               "purged", "selection", "files")
_LOG_FIELDS = ("entry_id", "at", "action", "actor", "requester", "purpose", "dip_id", "records", "until", "detail")


class DjangoAccessRegister:
    """Permits, DIPs, the log and decided restrictions in the catalogue behind a Django database alias; each public method is one
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

    def __enter__(self) -> "DjangoAccessRegister":
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


    def decided_restrictions(self) -> dict[str, Restriction]:
        """Record kenmerk → the restriction decided last after ingest (records never decided again are absent)."""
        from preservation.catalogue_db.models import RestrictionDecision

        rows = (RestrictionDecision.objects.using(self._alias).order_by("entry_id")
                .values_list("record_id", "label", "grounds", "until"))
        return {record_id: Restriction(label, tuple(grounds), until) for record_id, label, grounds, until in rows}

    def record_restriction(self, record_id: str, restriction: Restriction, *, by: str, reason: str,
                           at: datetime) -> None:
        """Append a decided restriction."""
        from preservation.catalogue_db.models import RestrictionDecision

        RestrictionDecision.objects.using(self._alias).create(
            record_id=record_id, at=at, by=by, reason=reason, label=restriction.label,
            grounds=list(restriction.grounds), until=restriction.until)

def _dips(rows: Any) -> list[DipEntry]:
    return [DipEntry(**{**row, "state": DipState(row["state"])})
            for row in rows.order_by("created", "dip_id").values(*_DIP_FIELDS)]
