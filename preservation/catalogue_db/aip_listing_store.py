"""The AIP port (`preservation.aip_listing.AipQueries`) on the catalogue's Django models: the list filtered,
counted and cut to a page in the database (newest first on the index of `created`), an AIP's files, events and
DIPs a page at a time."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Collection

from django.db.models import CharField, Count, Exists, F, Func, OuterRef, Q, Value
from django.db.models.functions import Coalesce

from preservation.aip_listing import (
    DUE,
    GONE,
    HELD,
    KEPT,
    AipFilters,
    AipPage,
    DueBy,
    EventPage,
    FilePage,
    OwnDip,
    VersionRow,
)
from preservation.catalogue import GONE_STATES, AipRecord, FileRecord
from preservation.catalogue_db import models as m
from preservation.catalogue_db.job_store import JOB_FIELDS
from preservation.catalogue_db.store import _AIP_FIELDS, _EVENT_FIELDS, _aip, _event
from preservation.job_register import QUEUED, RUNNING, JobRecord
from preservation.record_access import Restriction

PUID = re.compile(r"(x-)?fmt/\d+", re.IGNORECASE)
_FILE_FIELDS = ("aip_id", "path", "role", "size", "sha256", "puid", "format_name", "mime_type")
OWN_USE_ROLE = "own-use"  # the access register's role of the archive's own DIP (access.dip.DipRequest.kind)
DIPS_SHOWN = 20
VERSIONS_SHOWN = 100
DIP_JOB = "dip"  # the job kind that makes a DIP (edepot.service.job_kinds.DIP)
PUIDS_NAMED = 200  # formats a name may stand for
JOBS_LOOKED_AT = 500  # DIP jobs under way looked at for one AIP's


class DjangoAipQueries:
    """Bounded questions about AIPs, on a Django database alias."""

    def __init__(self, alias: str) -> None:
        self._alias = alias

    def _objects(self, model: Any) -> Any:
        return model.objects.using(self._alias)

    def _matching(self, filters: AipFilters, organisations: Collection[str] | None, due: DueBy | None) -> Any:
        rows = self._objects(m.Aip).all()
        if organisations is not None:
            rows = rows.filter(organisation__in=sorted(organisations))
        if filters.organisation is not None:
            rows = rows.filter(organisation=filters.organisation)
        if filters.since is not None or filters.until is not None:
            # The record's period (dekkingInTijd, as ISO text) overlaps since..until; a period with one end known
            # is that day. Its dates may carry a time, so "on or before until" is "before the day after".
            begin, end = JsonText("mdto", "dekking_begin"), JsonText("mdto", "dekking_eind")
            period = self._objects(m.Retention).annotate(first=Coalesce(begin, end), last=Coalesce(end, begin))
            if filters.since is not None:
                period = period.filter(last__gte=filters.since.isoformat())
            if filters.until is not None:
                period = period.filter(first__lt=(filters.until + timedelta(days=1)).isoformat())
            rows = rows.filter(record_id__in=period.values("record_id"))
        rows = self._in_state(rows, filters.state, due)
        if filters.format is not None:
            rows = rows.filter(Exists(self._objects(m.File).filter(aip_id=OuterRef("aip_id"),
                                                                   puid__in=self._puids(filters.format.strip()))))
        return rows

    def _puids(self, wanted: str) -> list[str]:
        """The PUIDs a format filter stands for: the PUID itself, or those of the formats whose name holds it (read
        off the index of format names, so that the AIPs are then found by the index of PUIDs)."""
        if PUID.fullmatch(wanted):
            return [wanted.lower()]
        named = self._objects(m.File).filter(format_name__icontains=wanted, puid__isnull=False)
        return sorted(set(named.values_list("puid", flat=True).distinct()[:PUIDS_NAMED]))

    def _in_state(self, rows: Any, state: str | None, due: DueBy | None) -> Any:
        if state is None:
            return rows
        if state == GONE:
            return rows.filter(state__in=GONE_STATES)
        rows = rows.exclude(state__in=GONE_STATES)
        if state == KEPT:
            return rows
        if state == HELD:
            held = self._objects(m.Hold).filter(lifted_at__isnull=True)
            return rows.filter(record_id__in=held.values("record_id"))
        if state == DUE:
            if due is None:
                raise ValueError("the AIPs due need the dates they are due by")
            held = self._objects(m.Hold).filter(lifted_at__isnull=True).values("record_id")
            destroy = Q(status="destroy", destruction_date__lt=due.destruction_before) & ~Q(record_id__in=held)
            transfer = Q(status="transfer", term_start__lte=due.term_started_by)
            return rows.filter(record_id__in=self._objects(m.Retention).filter(destroy | transfer).values("record_id"))
        return rows.filter(state=state)

    def page(self, filters: AipFilters, *, organisations: Collection[str] | None, due: DueBy | None,
             before: str | None, limit: int) -> AipPage:
        """AIPs matching `filters` (DUE: records due by the dates of `due`), newest first, after the AIP `before` (a page
        older than it; an AIP not known: from the newest)."""
        rows = self._matching(filters, organisations, due)
        count = rows.count()
        if before is not None:
            start = self._objects(m.Aip).filter(aip_id=before).values_list("created", flat=True).first()
            if start is not None:
                rows = rows.filter(Q(created__lt=start) | Q(created=start, aip_id__lt=before))
        found = [_aip(r) for r in rows.order_by("-created", "-aip_id").values_list(*_AIP_FIELDS)[:limit + 1]]
        versions = dict(self._objects(m.AipVersion).filter(aip_id__in=[a.aip_id for a in found[:limit]], version__gt=1)
                        .values_list("aip_id", "version"))
        return AipPage(found[:limit], count, len(found) > limit, versions)

    def find(self, aip_id: str) -> AipRecord | None:
        """The AIP, destroyed ones too; None when the catalogue does not know it."""
        row = self._objects(m.Aip).filter(aip_id=aip_id).values_list(*_AIP_FIELDS).first()
        return None if row is None else _aip(row)

    def files(self, aip_id: str, *, offset: int, limit: int) -> FilePage:
        """The AIP's files by path, `limit` from `offset`."""
        rows = self._objects(m.File).filter(aip_id=aip_id)
        shown = rows.order_by("path").values_list(*_FILE_FIELDS)[offset:offset + limit]
        return FilePage([FileRecord(*r) for r in shown], rows.count(), offset)

    def events(self, aip_id: str, *, before: int | None, limit: int) -> EventPage:
        """The AIP's events newest first (in order of writing where the time is the same), older than the one at
        `before`."""
        rows = self._objects(m.Event).filter(aip_id=aip_id)
        if before is not None:
            start = rows.filter(id=before).values_list("date_time", flat=True).first()
            if start is not None:
                rows = rows.filter(Q(date_time__lt=start) | Q(date_time=start, id__lt=before))
        found = list(rows.order_by("-date_time", "-id").values_list("id", *_EVENT_FIELDS)[:limit + 1])
        return EventPage([(r[0], _event(r[1:])) for r in found[:limit]], len(found) > limit)

    def versions(self, record_id: str) -> list[VersionRow]:
        """The AIPs of the record, oldest version first (an AIP without a version row is version 1)."""
        rows = list(self._objects(m.Aip).filter(record_id=record_id).order_by("created", "aip_id")
                    .values_list("aip_id", "created", "state")[:VERSIONS_SHOWN])
        numbers = dict(self._objects(m.AipVersion).filter(aip_id__in=[r[0] for r in rows])
                       .values_list("aip_id", "version"))
        return sorted((VersionRow(a, numbers.get(a, 1), created, state) for a, created, state in rows),
                      key=lambda v: (v.version, v.created))

    def own_dips(self, aip_id: str) -> list[OwnDip]:
        """The archive's own DIPs of this AIP alone still delivered, newest first."""
        holding = self._objects(m.AccessDipAip).filter(aip_id=aip_id).values("dip_id")
        alone = (self._objects(m.AccessDipAip).filter(dip_id__in=holding).values("dip_id")
                 .annotate(n=Count("id")).filter(n=1).values("dip_id"))
        rows = (self._objects(m.AccessDip).filter(dip_id__in=alone, role=OWN_USE_ROLE, state="delivered")
                .order_by("-created").values_list("dip_id", "path", "created", "files")[:DIPS_SHOWN])
        return [OwnDip(*r) for r in rows]

    def dip_jobs(self, aip_id: str) -> list[JobRecord]:
        """The DIP jobs queued or running that make a DIP of this AIP alone, oldest first."""
        rows = (self._objects(m.Job).filter(kind=DIP_JOB, state__in=[QUEUED, RUNNING]).order_by("created")
                .values_list(*JOB_FIELDS)[:JOBS_LOOKED_AT])
        return [job for job in (JobRecord(*r) for r in rows) if job.arguments.get("records") == [aip_id]]

    def metadata_files(self, aip_id: str) -> list[FileRecord]:
        """The AIP's MDTO informatieobject documents (not those of its files), by path."""
        rows = (self._objects(m.File).filter(aip_id=aip_id, path__startswith="data/metadata/",
                                             path__endswith=".mdto.xml")
                .exclude(path__endswith=".bestand.mdto.xml").order_by("path").values_list(*_FILE_FIELDS))
        return [FileRecord(*r) for r in rows]

    def restriction(self, record_id: str) -> Restriction | None:
        """The restriction decided last for the record after ingest, if any."""
        row = (self._objects(m.RestrictionDecision).filter(record_id=record_id).order_by("-entry_id")
               .values_list("label", "grounds", "until").first())
        return None if row is None else Restriction(row[0], tuple(row[1]), row[2])


class JsonText(Func):
    """A text member of a JSON column, SQL NULL when it is null or absent (Django's KT gives 'null' on SQLite)."""

    output_field = CharField()

    def __init__(self, column: str, key: str) -> None:
        super().__init__(F(column), Value(f"$.{key}"))
        self.key = key

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSON_EXTRACT", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        return f"({column} ->> %s)", [*params, self.key]
