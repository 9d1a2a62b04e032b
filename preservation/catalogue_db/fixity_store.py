"""The fixity overview port (`preservation.fixity_overview.FixityQueries`) on the catalogue's Django models: the
figures of every location in a few queries (one over the replicas grouped by location, four per location), the lists counted in the database and cut to their first rows there."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Collection, Sequence

from django.db.models import Count, Exists, OuterRef, Q, Sum

from preservation.attention import Bounded
from preservation.catalogue import GONE_STATES, AipState, ReplicaStatus
from preservation.catalogue_db import models as m
from preservation.fixity_overview import (
    RUN,
    KnownLoss,
    LastRun,
    LocationFigures,
    OpenDamage,
    Tally,
)
from preservation.metadata.premis import PremisEvent

_OPEN = [ReplicaStatus.DAMAGED.value, ReplicaStatus.MISSING.value]
# Damage still open: a replica found damaged or missing, of an AIP still damaged (one whose damaged files were all
# restored since, or declared lost, is `stored` or `incomplete` until the next run checks its replicas again).
_STILL_OPEN = Q(status__in=_OPEN, aip__state=AipState.DAMAGED.value)
_CHUNK = 500


class DjangoFixityQueries:
    """Bounded questions for the fixity overview, on a Django database alias."""

    def __init__(self, alias: str) -> None:
        self._alias = alias

    def _objects(self, model: Any) -> Any:
        return model.objects.using(self._alias)

    @staticmethod
    def _kept(rows: Any, organisations: Collection[str] | None) -> Any:
        """Rows (of a model with an `aip`) of AIPs still kept, of those organisations."""
        rows = rows.exclude(aip__state__in=GONE_STATES)
        return rows if organisations is None else rows.filter(aip__organisation__in=sorted(organisations))

    def _tallies(self, organisations: Collection[str] | None) -> Any:
        rows = self._objects(m.FixityTally)
        return rows if organisations is None else rows.filter(organisation__in=sorted(organisations))

    def figures(self, locations: Sequence[str], *, organisations: Collection[str] | None,
                since: datetime) -> list[LocationFigures]:
        """Each of `locations` (and every other location holding replicas) with its figures."""
        grouped = {row["location"]: row for row in self._kept(self._objects(m.Replica), organisations)
                   .values("location").order_by().annotate(
                       n=Count("pk"), total=Sum("aip__payload_bytes"),
                       verified=Sum("aip__payload_bytes", filter=Q(last_verified__gte=since)),
                       damaged=Count("pk", filter=_STILL_OPEN))}
        figures = []
        for location in [*locations, *sorted(set(grouped) - set(locations))]:
            row = grouped.get(location, {})
            lost = self._kept(self._objects(m.FileLoss), organisations).filter(Exists(
                self._objects(m.Replica).filter(aip_id=OuterRef("aip_id"), location=location))).count()
            repairs = self._tallies(organisations).filter(location=location, finished__gte=since).aggregate(
                n=Sum("repaired"))["n"]
            figures.append(LocationFigures(location, row.get("n") or 0, row.get("total") or 0,
                                           row.get("verified") or 0, row.get("damaged") or 0, repairs or 0, lost,
                                           self._last_run(location, organisations)))
        return figures

    def _last_run(self, location: str | None, organisations: Collection[str] | None, *,
                  by: str | None = None) -> LastRun | None:
        """The last run (at `location`, by `by`) that checked AIPs of those organisations, summed over them."""
        rows = self._tallies(organisations).filter(kind=RUN)
        if location is not None:
            rows = rows.filter(location=location)
        if by is not None:
            rows = rows.filter(scheduled=True, by=by)
        last = rows.order_by("-finished", "-id").values_list("run_id", "by", "scheduled").first()
        if last is None:
            return None
        tallies = list(rows.filter(run_id=last[0]).values_list(
            "location", "started", "finished", "aips", "found", "repaired", "unrepaired"))
        checked: dict[str, int] = {}  # per location: an AIP is counted once however many replicas it has
        for row in tallies:
            checked[row[0]] = checked.get(row[0], 0) + row[3]
        return LastRun(last[0], min(row[1] for row in tallies), max(row[2] for row in tallies), last[1], last[2],
                       max(checked.values()), *(sum(row[i] for row in tallies) for i in (4, 5, 6)))

    def last_scheduled_run(self, *, organisations: Collection[str] | None, operator: str) -> LastRun | None:
        """The last run by the data directory's `operator` that checked AIPs of those organisations."""
        return self._last_run(None, organisations, by=operator)

    def open_damage(self, *, organisations: Collection[str] | None, limit: int) -> Bounded[OpenDamage]:
        """Replicas damaged or missing now; most recently verified first."""
        rows = self._kept(self._objects(m.Replica).filter(_STILL_OPEN), organisations)
        first = rows.order_by("-last_verified", "aip_id", "location").values_list(
            "aip_id", "aip__record_id", "aip__organisation", "location", "status", "last_verified")[:limit]
        return Bounded(rows.count(), [OpenDamage(*row) for row in first])

    def known_losses(self, *, organisations: Collection[str] | None, limit: int) -> Bounded[KnownLoss]:
        """Files declared lost; most recently declared first."""
        rows = self._kept(self._objects(m.FileLoss), organisations)
        first = rows.order_by("-declared", "aip_id", "path").values_list(
            "aip_id", "aip__record_id", "aip__organisation", "path", "declared", "declared_by", "reason")[:limit]
        return Bounded(rows.count(), [KnownLoss(*row) for row in first])

    def record_tallies(self, tallies: Sequence[Tally]) -> None:
        """Keep what a run or restore did, per location and organisation."""
        self._objects(m.FixityTally).bulk_create([m.FixityTally(
            run_id=t.run_id, kind=t.kind, location=t.location, organisation=t.organisation, started=t.started,
            finished=t.finished, by=t.by, scheduled=t.scheduled, aips=t.aips, bytes=t.bytes, found=t.found,
            repaired=t.repaired, unrepaired=t.unrepaired) for t in tallies])

    def aip_events(self, aip_id: str, types: Sequence[str], *, limit: int,
                   at: datetime | None = None) -> list[PremisEvent]:
        """The AIP's newest events of these types (at the moment `at` only, when given), newest first."""
        from preservation.catalogue_db.store import _EVENT_FIELDS, _event

        rows = self._objects(m.Event).filter(aip_id=aip_id, type__in=list(types))
        if at is not None:
            rows = rows.filter(date_time=at)
        rows = rows.order_by("-date_time", "-id").values_list(*_EVENT_FIELDS)[:limit]
        return [_event(row) for row in rows]

    def replicas_of(self, aip_ids: Collection[str]) -> list[tuple[str, str, str, int]]:
        """(AIP, location, organisation, payload bytes) of every replica of these AIPs."""
        wanted: list[str] = sorted(aip_ids)
        found: list[tuple[str, str, str, int]] = []
        for start in range(0, len(wanted), _CHUNK):
            found += self._objects(m.Replica).filter(aip_id__in=wanted[start:start + _CHUNK]).values_list(
                "aip_id", "location", "aip__organisation", "aip__payload_bytes")
        return found
