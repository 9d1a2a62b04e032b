"""The attention port (`preservation.attention.AttentionQueries`) on the catalogue's Django models: each question
one or two queries, counted in the database and cut to the first few rows there."""
from __future__ import annotations

from typing import Any, Collection, Sequence

from django.db.models import Exists, OuterRef, Q

from preservation.attention import Bounded, Damage, HeldRecord, OpenList
from preservation.catalogue import GONE_STATES, ReplicaStatus
from preservation.catalogue_db import models as m
from preservation.catalogue_db.job_store import JOB_FIELDS
from preservation.job_register import JobRecord
from preservation.retention_catalogue import Hold

_HOLD_FIELDS = ("hold_id", "record_id", "reason", "placed_by", "placed_at", "lifted_by", "lifted_at", "lift_reason")


class DjangoAttention:
    """Bounded questions about what needs attention, on a Django database alias."""

    def __init__(self, alias: str) -> None:
        self._alias = alias

    def _objects(self, model: Any) -> Any:
        return model.objects.using(self._alias)

    def _kept_records(self, organisations: Collection[str] | None) -> Any:
        """The record ids of AIPs still kept, of those organisations (a subquery)."""
        return self._kept_aips(organisations).values("record_id")

    def _kept_aips(self, organisations: Collection[str] | None, **outer: str) -> Any:
        """The AIPs still kept, of those organisations; with `outer` (field: the outer row's field), those of the
        outer row: asked as EXISTS per row of a small table (damage, holds), so an organisation's many AIPs
        are never read to find its few such rows."""
        aips = self._objects(m.Aip).exclude(state__in=GONE_STATES)
        if organisations is not None:
            aips = aips.filter(organisation__in=sorted(organisations))
        return aips.filter(**{field: OuterRef(name) for field, name in outer.items()})

    def jobs(self, states: Sequence[str], *, organisations: Collection[str] | None, queued_by: str | None,
             limit: int) -> Bounded[JobRecord]:
        """Jobs in `states` of those organisations, and those `queued_by` that person; newest first."""
        rows = self._objects(m.Job).filter(state__in=list(states))
        if organisations is not None:
            mine = Q(enqueued_by__iexact=" ".join(queued_by.split())) if queued_by else Q(pk__in=[])
            rows = rows.filter(Q(organisation__in=sorted(organisations)) | mine)
        first = rows.order_by("-created", "job_id").values_list(*JOB_FIELDS)[:limit]
        return Bounded(rows.count(), [JobRecord(*row) for row in first])

    def damage(self, *, organisations: Collection[str] | None, limit: int) -> Bounded[Damage]:
        """Replicas damaged or missing, and files declared lost, of AIPs still kept; most recent first."""
        def scope(rows: Any) -> Any:
            return rows.filter(Exists(self._kept_aips(organisations, aip_id="aip_id")))

        replicas = scope(self._objects(m.Replica).filter(
            status__in=[ReplicaStatus.DAMAGED.value, ReplicaStatus.MISSING.value]))
        losses = scope(self._objects(m.FileLoss))
        found = [Damage(aip, record, organisation, status, location, at) for aip, record, organisation, status,
                 location, at in replicas.order_by("-last_verified", "aip_id").values_list(
                     "aip_id", "aip__record_id", "aip__organisation", "status", "location", "last_verified")[:limit]]
        found += [Damage(aip, record, organisation, "lost", path, at) for aip, record, organisation, path, at in
                  losses.order_by("-declared", "aip_id").values_list(
                      "aip_id", "aip__record_id", "aip__organisation", "path", "declared")[:limit]]
        found.sort(key=lambda d: (d.since is not None, d.since), reverse=True)
        return Bounded(replicas.count() + losses.count(), found[:limit])

    def open_destruction_lists(self, *, organisations: Collection[str] | None) -> list[OpenList]:
        """Destruction lists of which no record was destroyed yet, oldest first."""
        destroyed = self._objects(m.Tombstone).values("list_id")
        rows = (self._objects(m.DestructionList).exclude(list_id__in=destroyed).order_by("created", "list_id")
                .values_list("list_id", "created", "digest", "content__organisation", "content__drawn_up_by"))
        lists = [row for row in rows if organisations is None or (row[3] or "") in organisations]
        approvals: dict[str, list[tuple[str, str]]] = {}
        for list_id, digest, by, role in (self._objects(m.DestructionApproval)
                                          .filter(destruction_list_id__in=[row[0] for row in lists])
                                          .order_by("at").values_list("destruction_list_id", "digest", "by", "role")):
            if any(row[0] == list_id and row[2] == digest for row in lists):
                approvals.setdefault(list_id, []).append((by, role))
        return [OpenList(list_id, created, organisation or "", drawn_up_by or "",
                         tuple(by for by, _ in approvals.get(list_id, [])),
                         tuple(role for _, role in approvals.get(list_id, [])))
                for list_id, created, _digest, organisation, drawn_up_by in lists]

    def active_holds(self, *, organisations: Collection[str] | None, limit: int) -> Bounded[HeldRecord]:
        """Holds not lifted, on records of those organisations; newest first."""
        rows = self._objects(m.Hold).filter(lifted_at__isnull=True)
        if organisations is not None:
            rows = rows.filter(Exists(self._kept_aips(organisations, record_id="record_id")))
        first = [Hold(*row) for row in rows.order_by("-placed_at", "-id").values_list(*_HOLD_FIELDS)[:limit]]
        owners = dict(self._objects(m.Aip).filter(record_id__in=[h.record_id for h in first])
                      .values_list("record_id", "organisation"))
        return Bounded(rows.count(), [HeldRecord(h, owners.get(h.record_id, "")) for h in first])
