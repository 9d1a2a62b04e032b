"""The catalogue's retention tables on the Django ORM: schedules, appraisal history, holds, destruction lists,
approvals, the destruction journal and tombstones (Archiefwet 1995 art. 3/5 appraisal and destruction, and the
Woo/litigation hold that suspends it).

A base of `DjangoCatalogue`, so a destruction changes the AIP tables and writes its tombstone in one
transaction. History is appended, never updated in place; a hold's lifting fills in its lift columns once.
Each write is a journalled change (`DjangoCatalogue._change`) made by its `_apply_<kind>` method, which a
rebuild replays.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Collection, ContextManager, Sequence

from django.db import connections
from django.db.models import Count, Exists, Max, OuterRef, Subquery

from preservation.catalogue import GONE_STATES
from preservation.catalogue_db import models as m
from preservation.event_journal import Change
from preservation.metadata.premis import PremisEvent
from preservation.retention_catalogue import Approval, DueGroup, Hold, Rejection, RetentionRow, StoredList

_HOLD_FIELDS = ("hold_id", "record_id", "reason", "placed_by", "placed_at", "lifted_by", "lifted_at", "lift_reason")
_JOURNAL_FIELDS = ("list_id", "record_id", "step", "target", "state", "at")
_ROW_FIELDS = ("record_id", "aip_id", "title", "mdto", "override", "updated")
APPROVED, REJECTED = "approved", "rejected"


class RetentionStore:
    """Retention methods of the catalogue; each public method is one transaction."""

    _alias: str

    def _atomic(self) -> ContextManager[Any]:
        raise NotImplementedError

    def _objects(self, model: Any) -> Any:
        raise NotImplementedError

    def batch(self) -> ContextManager[None]:
        raise NotImplementedError

    def _change(self, kind: str, **rows: Any) -> Any:
        raise NotImplementedError

    def _insert_events(self, aip_id: str | None, events: Sequence[PremisEvent]) -> None:
        raise NotImplementedError

    # -- schedules and appraisal history

    def retention_row(self, record_id: str) -> RetentionRow | None:
        """The record's retention entry, or None when none was computed yet."""
        row = self._objects(m.Retention).filter(record_id=record_id).first()
        return _retention(row) if row else None

    def retention_rows(self) -> list[RetentionRow]:
        """Every record's retention entry, by record identifier."""
        return [_retention(r) for r in self._objects(m.Retention).order_by("record_id")]

    def save_retention(self, row: RetentionRow, action: str, by: str, reason: str,
                       before: dict[str, Any] | None, events: Sequence[PremisEvent]) -> None:
        """Store a record's retention entry with its history line and PREMIS events, in one transaction."""
        with self.batch():
            self._change("retention", record_id=row.record_id, aip_id=row.aip_id, title=row.title, mdto=row.mdto,
                         override=row.override, updated=row.updated, action=action, by=by, reason=reason,
                         before=before)
            self._insert_events(row.aip_id, events)

    def _apply_retention(self, c: Change) -> None:
        self._save_row(c)
        self._objects(m.AppraisalChange).create(
            record_id=c["record_id"], at=c["updated"], action=c["action"], by=c["by"], reason=c["reason"],
            before=c["before"], after={**c["mdto"], **c["override"]})

    def _apply_retention_restored(self, c: Change) -> None:  # a schedule older than the journal, with its history
        self._save_row(c)
        self._objects(m.AppraisalChange).bulk_create([m.AppraisalChange(record_id=c["record_id"], **line)
                                                      for line in c["history"]])

    def _save_row(self, c: Change) -> None:
        from preservation.retention import stored_schedule

        self._objects(m.Retention).update_or_create(record_id=c["record_id"], defaults={
            **{k: c[k] for k in _ROW_FIELDS[1:]}, **stored_schedule(c["mdto"], c["override"])})

    def _kept(self, organisations: Collection[str] | None) -> Any:
        """The retention rows of records still kept (an AIP not gone, no tombstone), each annotated with its
        `owner` (the organisation of its newest AIP), of those organisations."""
        owner = self._objects(m.Aip).filter(aip_id=OuterRef("aip_id")).values("organisation")[:1]
        # Asked per retention row (EXISTS by index), so that the few rows the caller's dates select are checked,
        # never a list of every kept AIP or tombstone made first.
        kept = self._objects(m.Aip).filter(record_id=OuterRef("record_id")).exclude(state__in=GONE_STATES)
        rows = (self._objects(m.Retention)
                .filter(Exists(kept))
                .exclude(Exists(self._objects(m.Tombstone).filter(record_id=OuterRef("record_id"))))
                .annotate(owner=Subquery(owner)))
        return rows if organisations is None else rows.filter(owner__in=sorted(organisations))

    def _due(self, before: date, organisations: Collection[str] | None) -> Any:
        held = self._objects(m.Hold).filter(lifted_at__isnull=True).values("record_id")
        return (self._kept(organisations).filter(status="destroy", destruction_date__lt=before)
                .exclude(record_id__in=held))

    def due_groups(self, before: date, *, organisations: Collection[str] | None) -> list[DueGroup]:
        """How many kept, unheld records of those organisations are due for destruction before `before`, per
        selectielijst category and organisation; one grouped query."""
        rows = (self._due(before, organisations).values("category", "owner")
                .annotate(n=Count("pk"), label=Max("category_label"))
                .order_by("category", "owner"))
        return [DueGroup(r["category"], r["label"] or "", r["owner"] or "", r["n"]) for r in rows]

    def due_records(self, before: date, *, organisations: Collection[str] | None,
                    categories: Collection[str] | None = None, after: str = "", limit: int | None = None,
                    oldest_first: bool = False) -> list[tuple[RetentionRow, str]]:
        """The kept, unheld records of those organisations (and categories) due for destruction before `before`,
        each with its organisation, by record identifier from after `after` (or with `oldest_first` by
        destruction date), at most `limit`."""
        rows = self._due(before, organisations)
        if categories is not None:
            rows = rows.filter(category__in=sorted(categories))
        if after:
            rows = rows.filter(record_id__gt=after)
        order = ("destruction_date", "record_id") if oldest_first else ("record_id",)
        rows = rows.order_by(*order).values_list(*_ROW_FIELDS, "owner")
        return [(RetentionRow(*r[:6]), r[6] or "") for r in (rows[:limit] if limit is not None else rows)]

    def transfer_records(self, latest_start: date, *, organisations: Collection[str] | None,
                         limit: int | None = None) -> list[tuple[RetentionRow, str]]:
        """The kept B records of those organisations whose term started on or before `latest_start`, each with
        its organisation, oldest start first, at most `limit`."""
        rows = (self._kept(organisations).filter(status="transfer", term_start__lte=latest_start)
                .order_by("term_start", "record_id").values_list(*_ROW_FIELDS, "owner"))
        return [(RetentionRow(*r[:6]), r[6] or "") for r in (rows[:limit] if limit is not None else rows)]

    def count_due(self, before: date, latest_start: date, *,
                  organisations: Collection[str] | None) -> tuple[int, int]:
        """How many kept records of those organisations are due for destruction before `before` (not held), and
        how many B records' terms started on or before `latest_start` (due for transfer)."""
        return (self._due(before, organisations).count(),
                self._kept(organisations).filter(status="transfer", term_start__lte=latest_start).count())

    def appraisal_history(self, record_id: str) -> list[dict[str, Any]]:
        """Every change of the record's appraisal, oldest first."""
        rows = (self._objects(m.AppraisalChange).filter(record_id=record_id).order_by("at", "id")
                .values("at", "action", "by", "reason", "before", "after"))
        return [{**r, "at": r["at"].isoformat()} for r in rows]

    # -- holds

    def add_hold(self, hold: Hold, aip_id: str, events: Sequence[PremisEvent]) -> None:
        """Place a hold, with its PREMIS event."""
        with self.batch():
            self._change("hold", hold_id=hold.hold_id, record_id=hold.record_id, reason=hold.reason,
                         placed_by=hold.placed_by, placed_at=hold.placed_at)
            self._insert_events(aip_id, events)

    def _apply_hold(self, c: Change) -> None:
        self._objects(m.Hold).create(**{k: c[k] for k in _HOLD_FIELDS[:5]})

    def lift_holds(self, record_id: str, by: str, reason: str, at: datetime, aip_id: str,
                   events: Sequence[PremisEvent], *, only: str | None = None) -> int:
        """Lift every active hold on the record (those placed for the reason `only`, when given); returns how
        many were lifted."""
        with self.batch():
            rows = self._objects(m.Hold).filter(record_id=record_id, lifted_at__isnull=True)
            if only is not None:
                rows = rows.filter(reason=only)
            active = list(rows.values_list("hold_id", flat=True))
            if active:
                self._change("holds_lifted", hold_ids=active, by=by, at=at, reason=reason)
                self._insert_events(aip_id, events)
            return len(active)

    def _apply_holds_lifted(self, c: Change) -> None:
        self._objects(m.Hold).filter(hold_id__in=c["hold_ids"], lifted_at__isnull=True).update(
            lifted_by=c["by"], lifted_at=c["at"], lift_reason=c["reason"])

    def holds(self, record_id: str | None = None, active_only: bool = False) -> list[Hold]:
        """Holds, oldest first; of one record when given; only those not lifted with `active_only`."""
        rows = self._objects(m.Hold).order_by("placed_at", "id")
        if record_id is not None:
            rows = rows.filter(record_id=record_id)
        if active_only:
            rows = rows.filter(lifted_at__isnull=True)
        return [Hold(*r) for r in rows.values_list(*_HOLD_FIELDS)]

    # -- destruction lists, approvals, journal, tombstones

    def save_destruction_list(self, stored: StoredList) -> None:
        """Store a destruction list as drawn up."""
        self._change("destruction_list", list_id=stored.list_id, created=stored.created, digest=stored.digest,
                     content=stored.content)

    def _apply_destruction_list(self, c: Change) -> None:
        self._objects(m.DestructionList).create(**{k: c[k] for k in ("list_id", "created", "digest", "content")})

    def destruction_list(self, list_id: str) -> StoredList | None:
        """One destruction list, or None."""
        row = (self._objects(m.DestructionList).filter(list_id=list_id)
               .values_list("list_id", "created", "digest", "content").first())
        return StoredList(*row) if row else None

    def destruction_lists(self, *, organisations: Collection[str] | None = None,
                          newest: int | None = None) -> list[StoredList]:
        """Every destruction list (of those organisations), oldest first; only the `newest` so many when given."""
        rows = self._objects(m.DestructionList)
        if organisations is not None:
            rows = rows.filter(content__organisation__in=sorted(organisations))
        if newest is not None:
            picked = rows.order_by("-created", "-list_id").values_list("list_id", "created", "digest", "content")
            return [StoredList(*r) for r in reversed(picked[:newest])]
        return [StoredList(*r) for r in rows.order_by("created", "list_id")
                .values_list("list_id", "created", "digest", "content")]

    def destruction_list_ids_since(self, prefix: str) -> list[str]:
        """The ids of destruction lists whose id starts with `prefix`."""
        return list(self._objects(m.DestructionList).filter(list_id__startswith=prefix)
                    .values_list("list_id", flat=True))

    def add_approval(self, approval: Approval, events: Sequence[tuple[str, PremisEvent]]) -> None:
        """Record an approval of a list's content digest, with an event per AIP on the list."""
        self._add_verdict(approval, APPROVED, "", events)

    def add_rejection(self, rejection: Rejection, events: Sequence[tuple[str, PremisEvent]]) -> None:
        """Record that a list (its content digest) was rejected, with the reason and an event per AIP on it."""
        self._add_verdict(rejection.approval, REJECTED, rejection.reason, events)

    def _add_verdict(self, approval: Approval, verdict: str, reason: str,
                     events: Sequence[tuple[str, PremisEvent]]) -> None:
        with self.batch():
            self._change("approval", list_id=approval.list_id, digest=approval.digest, by=approval.by,
                         role=approval.role, at=approval.at, verdict=verdict, reason=reason)
            for aip_id, event in events:
                self._insert_events(aip_id, [event])

    def _apply_approval(self, c: Change) -> None:
        self._objects(m.DestructionApproval).create(
            destruction_list_id=c["list_id"], digest=c["digest"], by=c["by"], role=c["role"], at=c["at"],
            verdict=c.get("verdict", APPROVED), reason=c.get("reason", ""))

    def approvals(self, list_id: str) -> list[Approval]:
        """The approvals of one list, oldest first."""
        rows = (self._objects(m.DestructionApproval).filter(destruction_list_id=list_id, verdict=APPROVED)
                .order_by("at", "id").values_list("destruction_list_id", "digest", "by", "role", "at"))
        return [Approval(*r) for r in rows]

    def rejections(self, list_id: str) -> list[Rejection]:
        """The rejections of one list, oldest first."""
        rows = (self._objects(m.DestructionApproval).filter(destruction_list_id=list_id, verdict=REJECTED)
                .order_by("at", "id").values_list("destruction_list_id", "digest", "by", "role", "at", "reason"))
        return [Rejection(Approval(*r[:5]), r[5]) for r in rows]

    def journal(self, list_id: str, record_id: str, step: str, target: str, state: str, at: datetime) -> None:
        """Write one step of a destruction to the journal (before doing it: "started"; after: "done")."""
        self._change("destruction_step", list_id=list_id, record_id=record_id, step=step, target=target,
                     state=state, at=at)

    def _apply_destruction_step(self, c: Change) -> None:
        self._objects(m.DestructionStep).update_or_create(
            list_id=c["list_id"], record_id=c["record_id"], step=c["step"], target=c["target"],
            defaults={"state": c["state"], "at": c["at"]})

    def journal_entries(self, list_id: str | None = None, record_id: str | None = None) -> list[dict[str, str]]:
        """Journal steps in order of writing (of one list, of one record)."""
        rows = self._objects(m.DestructionStep).order_by("id")
        if list_id is not None:
            rows = rows.filter(list_id=list_id)
        if record_id is not None:
            rows = rows.filter(record_id=record_id)
        return [{**r, "at": r["at"].isoformat()} for r in rows.values(*_JOURNAL_FIELDS)]

    def mark_destroying(self, aip_ids: Sequence[str], state: str) -> None:
        """Set the lifecycle state of AIPs about to be destroyed, so fixity leaves them alone."""
        self._change("aip_state", aip_ids=list(aip_ids), state=state, unless_gone=False)

    def complete_destruction(self, record_id: str, list_id: str, at: datetime, tombstone: dict[str, Any],
                             aip_ids: Sequence[str], state: str, events: Sequence[tuple[str, PremisEvent]]) -> None:
        """The last step of destroying a record: its AIPs lose their replicas and files in the catalogue,
        are marked destroyed, and the tombstone and deaccession events are written; one transaction."""
        with self.batch():
            self._change("destruction_done", record_id=record_id, list_id=list_id, at=at, tombstone=tombstone,
                         aip_ids=list(aip_ids), state=state)
            for aip_id, event in events:
                self._insert_events(aip_id, [event])

    def _apply_destruction_done(self, c: Change) -> None:
        for model in (m.Replica, m.File, m.Dip, m.Identification, m.FileLoss):
            self._objects(model).filter(aip_id__in=c["aip_ids"]).delete()
        self._objects(m.Aip).filter(aip_id__in=c["aip_ids"]).update(state=c["state"])
        self._objects(m.Tombstone).get_or_create(record_id=c["record_id"], defaults={
            "list_id": c["list_id"], "destroyed": c["at"], "content": c["tombstone"]})

    def tombstone(self, record_id: str) -> dict[str, Any] | None:
        """What was destroyed of a record, or None."""
        content: dict[str, Any] | None = (self._objects(m.Tombstone).filter(record_id=record_id)
                                          .values_list("content", flat=True).first())
        return content

    def tombstones(self, list_id: str | None = None) -> list[dict[str, Any]]:
        """Every tombstone (of one list), by record."""
        rows = self._objects(m.Tombstone).order_by("record_id")
        if list_id is not None:
            rows = rows.filter(list_id=list_id)
        return list(rows.values_list("content", flat=True))

    def aips_of_record(self, record_id: str) -> list[tuple[str, str]]:
        """(aip_id, state) of every AIP that holds the record, in any state, oldest first."""
        return list(self._objects(m.Aip).filter(record_id=record_id).order_by("created", "aip_id")
                    .values_list("aip_id", "state"))

    def dip_paths(self, aip_id: str) -> list[tuple[str, str]]:
        """(dip_id, path) of every DIP holding the AIP: its own DIPs and every DIP the access register says
        holds it."""
        found = dict(self._objects(m.Dip).filter(aip_id=aip_id).values_list("dip_id", "path"))
        delivered = self._objects(m.AccessDipAip).filter(aip_id=aip_id).values_list("dip_id", flat=True)
        found.update(self._objects(m.AccessDip).filter(dip_id__in=list(delivered)).values_list("dip_id", "path"))
        return sorted(found.items())

    def scrub(self) -> None:
        """Rewrite the database so no freed page still holds deleted bytes: on SQLite the file, and the WAL
        emptied; on PostgreSQL every table and index (VACUUM FULL; its WAL and backups are the server's)."""
        connection = connections[self._alias]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("VACUUM FULL")
                return
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _retention(row: m.Retention) -> RetentionRow:
    return RetentionRow(row.record_id, row.aip_id, row.title, row.mdto, row.override, row.updated)
