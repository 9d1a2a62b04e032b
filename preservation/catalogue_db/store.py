"""The catalogue port on the Django ORM: AIPs, replicas, files, identifications, versions, losses, DIPs and
PREMIS events (`DjangoCatalogue`), with the retention tables (`preservation.catalogue_db.retention_store`).

Each public method is one transaction on the catalogue's own database alias (or part of the `batch` it runs in).
Rows come back as the engine's frozen dataclasses (preservation.catalogue), so nothing above this package sees a
model.

Every write goes into the event journal first (preservation.event_journal): a transaction's events, the rows of an
AIP it records and each other change it makes (`_change`: a kind and its rows, as JSON) are written as one segment
to every location just before it commits. A change is made by its `_apply_<kind>` method, both when it is
made and when `edepot catalogue rebuild` replays it from the journal (`restore_changes`), so the two cannot differ.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Sequence

from django.db import DatabaseError, connections, transaction
from django.db.models import Q

from kernel.errors import NotFound
from preservation.catalogue import (
    GONE_STATES,
    AipRecord,
    AipState,
    AipVersion,
    FileLoss,
    FileRecord,
    IdentificationRecord,
    LocationRecord,
    ReplicaRecord,
    ReplicaStatus,
)
from preservation.catalogue_db import models as m
from preservation.catalogue_db.database import catalogue_alias
from preservation.catalogue_db.journal_backfill import JournalBackfill, change, ingest_entry
from preservation.catalogue_db.retention_store import RetentionStore
from preservation.event_journal import Change, EventJournal, Segment
from preservation.metadata.premis import PremisEvent

BATCH = 500
_EVENT_FIELDS = ("event_id", "type", "date_time", "detail", "outcome", "outcome_detail", "agents",
                 "source_objects", "outcome_objects")
_AIP_FIELDS = ("aip_id", "sip_digest", "record_id", "title", "created", "state", "payload_bytes", "payload_files",
               "organisation")


class DjangoCatalogue(RetentionStore, JournalBackfill):
    """The catalogue behind one catalogue URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._alias = catalogue_alias(url)
        self._journal: EventJournal | None = None
        self._local = threading.local()  # this thread's segment, while a batch runs

    def event_journal(self) -> EventJournal:
        """The journal every event is written to before it is committed: the registered locations that hold their
        identity (preservation.storage.registered_locations), looked up once."""
        if self._journal is None or not self._journal.stores:  # none yet: perhaps registered since
            from preservation.storage import registered_locations

            self._journal = EventJournal(registered_locations(self.locations()))
        return self._journal

    def close(self) -> None:
        """Close this thread's connection, unless a transaction still runs on it (the next call opens it again)."""
        connection = connections[self._alias]
        if not connection.in_atomic_block:
            connection.close()

    def _atomic(self) -> Any:
        return transaction.atomic(using=self._alias)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Everything written inside is one transaction, journalled as one segment on every location before it
        commits (nothing is committed when no location takes it); inside another batch, part of that one."""
        outer: Segment | None = getattr(self._local, "segment", None)
        if outer is not None:
            marks = len(outer.entries), len(outer.aips), len(outer.changes)
            try:
                with self._atomic():
                    yield
            except BaseException:  # rolled back to the savepoint: journal none of it either
                del outer.entries[marks[0]:], outer.aips[marks[1]:], outer.changes[marks[2]:]
                raise
            return
        segment = self._local.segment = Segment()
        try:
            with self._atomic():
                yield
                if segment:
                    self.event_journal().write(segment)
        finally:
            self._local.segment = None

    def _segment(self) -> Segment:
        segment: Segment = self._local.segment
        return segment

    def _change(self, kind: str, **rows: Any) -> Any:
        """Make one change (by `_apply_<kind>`) and journal it with the batch it is part of."""
        made = change(kind, **rows)
        with self.batch():
            self._segment().changes.append(made)
            return self._apply(made)

    def _apply(self, change: Change) -> Any:
        apply = getattr(self, "_apply_" + change["kind"], None)
        if apply is None:
            raise ValueError(f"unknown change {change['kind']!r}")
        return apply(change)

    def restore_changes(self, changes: Sequence[Change]) -> list[str]:
        """Replay changes read back from the journal, in order, without journalling them again; a description of
        each one that could not be replayed (the others are kept)."""
        failed = []
        with self._atomic():
            for change in changes:
                try:
                    with self._atomic():
                        self._apply(change)
                except (ValueError, KeyError, TypeError, DatabaseError) as error:
                    failed.append(f"change {change.get('kind')!r} not replayed: {error}")
        return failed

    def _objects(self, model: Any) -> Any:
        return model.objects.using(self._alias)

    # -- AIPs

    def aip_for_sip(self, sip_digest: str) -> str | None:
        """The AIP made from a SIP with this payload digest, if any."""
        return self._objects(m.Aip).filter(sip_digest=sip_digest).values_list("aip_id", flat=True).first()

    def record_ingest(
        self,
        aip: AipRecord,
        replicas: Sequence[ReplicaRecord],
        files: Sequence[FileRecord],
        events: Sequence[PremisEvent],
        version: AipVersion | None = None,
        identifications: Sequence[IdentificationRecord] = (),
    ) -> None:
        """Record a new AIP with everything about it in one transaction (after every replica is in place); its rows
        and events go into the event journal first."""
        self._record_aip(aip, replicas, files, events, version, identifications,
                         journal=ingest_entry(aip, files, version, identifications))

    def restore_aip(self, aip: AipRecord, replicas: Sequence[ReplicaRecord], files: Sequence[FileRecord],
                    events: Sequence[PremisEvent], version: AipVersion | None,
                    identifications: Sequence[IdentificationRecord]) -> None:
        """Record an AIP as read back from the storage locations (`edepot catalogue rebuild`): as `record_ingest`,
        but not journalled again."""
        self._record_aip(aip, replicas, files, events, version, identifications, journal=None)

    def restore_events(self, aip_id: str | None, events: Sequence[PremisEvent]) -> None:
        """Events read back from the journal, recorded without journalling them again."""
        with self._atomic():
            self._insert_events(aip_id, events, journalled=False)

    def _record_aip(self, aip: AipRecord, replicas: Sequence[ReplicaRecord], files: Sequence[FileRecord],
                    events: Sequence[PremisEvent], version: AipVersion | None,
                    identifications: Sequence[IdentificationRecord], *, journal: dict[str, Any] | None) -> None:
        with self.batch():
            if journal is not None:
                self._segment().aips.append(journal)
            self._objects(m.Aip).create(
                aip_id=aip.aip_id, sip_digest=aip.sip_digest, record_id=aip.record_id, title=aip.title,
                created=aip.created, state=aip.state.value, payload_bytes=aip.payload_bytes,
                payload_files=aip.payload_files, organisation=aip.organisation)
            self._bulk(m.Replica, [dict(aip_id=r.aip_id, location=r.location, path=r.path,
                                        last_verified=r.last_verified, status=r.status.value)
                                   for r in replicas])
            self._bulk(m.File, [dict(aip_id=f.aip_id, path=f.path, role=f.role, size=f.size, sha256=f.sha256,
                                     puid=f.puid, format_name=f.format_name, mime_type=f.mime_type)
                                for f in files])
            self._insert_events(aip.aip_id, events, journalled=journal is not None)
            if version is not None:
                self._objects(m.AipVersion).create(aip_id=version.aip_id, version=version.version,
                                                   previous_aip_id=version.previous_aip, first_aip=version.first_aip)
            self._bulk(m.Identification, [
                dict(aip_id=i.aip_id, path=i.path, tool=i.tool, signature_release=i.signature_release,
                     puid=i.puid, format_name=i.format_name, format_version=i.format_version,
                     mime_type=i.mime_type, basis=i.basis)
                for i in identifications])

    def _bulk(self, model: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Insert `rows` (field name or column attribute → value; a field left out gets its default), each value
        made ready for this database by its field as `bulk_create` does, without a model instance per row: an
        ingest of 10,000 files records some 25,000 events, and the instances cost more than the inserts."""
        if not rows:
            return
        connection = connections[self._alias]
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
               f"VALUES ({', '.join(['%s'] * len(fields))})")
        keys = [f.attname if f.attname in rows[0] else f.name for f in fields]
        with connection.cursor() as cursor:
            for start in range(0, len(rows), BATCH):
                cursor.executemany(sql, [[f.get_db_prep_save(row[key] if key in row else f.get_default(), connection)
                                          for f, key in zip(fields, keys)] for row in rows[start:start + BATCH]])

    def add_events(self, aip_id: str | None, events: Sequence[PremisEvent]) -> None:
        """Append PREMIS events about an AIP (or about the repository, with aip_id None)."""
        self._insert_events(aip_id, events)

    def _insert_events(self, aip_id: str | None, events: Sequence[PremisEvent], *, journalled: bool = True) -> None:
        """Every event goes into the catalogue here, journalled with the batch it is part of (unless it was read
        back from the journal)."""
        if not journalled:
            self._insert_event_rows(aip_id, events)
            return
        with self.batch():
            self._segment().entries.extend((aip_id, e) for e in events)
            self._insert_event_rows(aip_id, events)

    def _insert_event_rows(self, aip_id: str | None, events: Sequence[PremisEvent]) -> None:
        self._bulk(m.Event, [
            dict(event_id=e.identifier, aip_id=aip_id, type=e.type, date_time=e.date_time, outcome=e.outcome,
                 detail=e.detail, outcome_detail=e.outcome_detail, agents=list(e.agents),
                 source_objects=list(e.source_objects), outcome_objects=list(e.outcome_objects))
            for e in events])

    def versions(self, sip_digest: str, record_id: str) -> list[AipVersion]:
        """The AIPs made from this SIP or holding this record, oldest version first."""
        from django.db.models import Q

        rows = (self._objects(m.Aip).filter(Q(sip_digest=sip_digest) | Q(record_id=record_id))
                .order_by("created").values_list("aip_id", flat=True))
        aip_ids = list(rows)
        known = {v[0]: v for v in self._objects(m.AipVersion).filter(aip_id__in=aip_ids)
                 .values_list("aip_id", "version", "previous_aip_id", "first_aip")}
        found = [AipVersion(a, *known[a][1:]) if a in known else AipVersion(a, 1, None, a) for a in aip_ids]
        return sorted(found, key=lambda v: v.version)  # stable: equal versions stay in order of creation

    def aip(self, aip_id: str) -> AipRecord:
        """One AIP; NotFound when the catalogue does not know it or it was destroyed."""
        row = self._objects(m.Aip).filter(aip_id=aip_id).values_list(*_AIP_FIELDS).first()
        if row is None:
            raise NotFound(f"no AIP {aip_id!r} in the catalogue",
                           hint="list the AIPs the catalogue holds").with_facts(unknown_aip=aip_id)
        if row[5] in GONE_STATES:
            raise NotFound(f"AIP {aip_id!r} was destroyed under an approved destruction list ({row[5]})",
                           hint=f"see the retention entry of record {row[2]}").with_facts(destroyed_record=row[2])
        return _aip(row)

    def aips(self, *, include_gone: bool = False) -> list[AipRecord]:
        """Every AIP still kept (not destroyed or being destroyed; with `include_gone`, those too), oldest first."""
        rows = self._objects(m.Aip)
        if not include_gone:
            rows = rows.exclude(state__in=GONE_STATES)
        rows = rows.order_by("created", "aip_id").values_list(*_AIP_FIELDS)
        return [_aip(r) for r in rows]

    def assign_organisation(self, aip_ids: Sequence[str], organisation: str) -> None:
        """Give AIPs that belong to no organisation yet (ingested before organisations were registered) theirs."""
        self._change("organisation", aip_ids=list(aip_ids), organisation=organisation)

    def _apply_organisation(self, c: Change) -> None:
        self._objects(m.Aip).filter(aip_id__in=c["aip_ids"], organisation="").update(organisation=c["organisation"])

    def organisations_of(self, record: str) -> set[str]:
        """The organisations of the AIPs (destroyed ones too) an AIP id or record kenmerk names; empty when the
        catalogue knows neither."""
        return set(self._objects(m.Aip).filter(Q(aip_id=record) | Q(record_id=record))
                   .values_list("organisation", flat=True))

    def aips_by_last_verified(self) -> list[AipRecord]:
        """Every AIP, least recently verified first (never verified first of all), for budgeted fixity runs."""
        oldest: dict[str, datetime | None] = {}
        for aip_id, verified in self._objects(m.Replica).values_list("aip_id", "last_verified"):
            if aip_id not in oldest or verified is None or (oldest[aip_id] is not None and verified < oldest[aip_id]):
                oldest[aip_id] = verified

        def key(a: AipRecord) -> tuple[Any, ...]:
            verified = oldest.get(a.aip_id)
            return (verified is not None, verified or a.created, a.created, a.aip_id)

        return sorted(self.aips(), key=key)

    def replicas(self, aip_id: str) -> list[ReplicaRecord]:
        """The AIP's replicas, by location."""
        rows = (self._objects(m.Replica).filter(aip_id=aip_id).order_by("location")
                .values_list("aip_id", "location", "path", "last_verified", "status"))
        return [ReplicaRecord(r[0], r[1], r[2], r[3], ReplicaStatus(r[4])) for r in rows]

    def locations(self) -> list[LocationRecord]:
        """Every storage location ever registered, by identity."""
        rows = (self._objects(m.StorageLocation).order_by("location_id")
                .values_list("location_id", "name", "root", "registered"))
        return [LocationRecord(*r) for r in rows]

    def register_location(self, location: LocationRecord) -> None:
        """Record a location's identity with its name and folder now (replacing what was recorded of it)."""
        with self._atomic():
            self._objects(m.StorageLocation).update_or_create(
                location_id=location.location_id,
                defaults={"name": location.name, "root": location.root, "registered": location.registered})
        self._journal = None  # looked up again: the location may be new

    def all_events(self) -> list[tuple[str | None, PremisEvent]]:
        """Every event with the AIP it is about (None: the repository), in order of writing."""
        rows = self._objects(m.Event).order_by("id").values_list("aip_id", *_EVENT_FIELDS)
        return [(r[0], _event(r[1:])) for r in rows]

    def replicas_by_location(self) -> dict[str, int]:
        """How many replicas of AIPs still kept each location identity holds."""
        counts: dict[str, int] = {}
        rows = (self._objects(m.Replica).exclude(aip__state__in=GONE_STATES).values_list("location", flat=True))
        for location in rows:
            counts[location] = counts.get(location, 0) + 1
        return counts

    def identifications(self, aip_id: str) -> list[IdentificationRecord]:
        """Every identification of the AIP's files, by path, then tool."""
        rows = (self._objects(m.Identification).filter(aip_id=aip_id).order_by("path", "tool")
                .values_list("aip_id", "path", "tool", "signature_release", "puid", "format_name",
                             "format_version", "mime_type", "basis"))
        return [IdentificationRecord(*r) for r in rows]

    def files(self, aip_id: str) -> list[FileRecord]:
        """The AIP's files, by path."""
        rows = (self._objects(m.File).filter(aip_id=aip_id).order_by("path")
                .values_list("aip_id", "path", "role", "size", "sha256", "puid", "format_name", "mime_type"))
        return [FileRecord(*r) for r in rows]

    def events(self, aip_id: str) -> list[PremisEvent]:
        """The AIP's events in time order (in order of writing where the time is the same)."""
        rows = self._objects(m.Event).filter(aip_id=aip_id).order_by("date_time", "id").values_list(*_EVENT_FIELDS)
        return [_event(r) for r in rows]

    def recent_events(self, types: Sequence[str], limit: int = 500) -> list[tuple[str | None, PremisEvent]]:
        """The newest events of the given types across all AIPs, newest first, with the AIP of each."""
        rows = (self._objects(m.Event).filter(type__in=list(types)).order_by("-date_time", "-id")
                .values_list("aip_id", *_EVENT_FIELDS)[:limit])
        return [(r[0], _event(r[1:])) for r in rows]

    def record_verification(
        self, aip_id: str, location: str, when: datetime, status: ReplicaStatus, events: Sequence[PremisEvent]
    ) -> None:
        """Store the outcome of verifying one replica, with its events, in one transaction."""
        with self.batch():
            self._change("verification", aip_id=aip_id, location=location, when=when, status=status.value)
            self._insert_events(aip_id, events)

    def _apply_verification(self, c: Change) -> None:
        self._objects(m.Replica).filter(aip_id=c["aip_id"], location=c["location"]).update(
            last_verified=c["when"], status=c["status"])

    def set_state(self, aip_id: str, state: AipState) -> None:
        """Set an AIP's lifecycle state; a destruction under way or done is never undone by it."""
        self._change("aip_state", aip_ids=[aip_id], state=state.value, unless_gone=True)

    def _apply_aip_state(self, c: Change) -> None:
        rows = self._objects(m.Aip).filter(aip_id__in=c["aip_ids"])
        if c["unless_gone"]:
            rows = rows.exclude(state__in=GONE_STATES)
        rows.update(state=c["state"])

    def declare_losses(self, aip_id: str, losses: Sequence[FileLoss], events: Sequence[PremisEvent]) -> None:
        """Record files of one AIP as lost, with the PREMIS events of the declaration, in one transaction."""
        with self.batch():
            self._change("losses_declared", losses=[{"aip_id": x.aip_id, "path": x.path, "declared": x.declared,
                                                     "declared_by": x.declared_by, "reason": x.reason}
                                                    for x in losses])
            self._insert_events(aip_id, events)

    def _apply_losses_declared(self, c: Change) -> None:
        self._bulk(m.FileLoss, c["losses"])

    def record_recovery(self, aip_id: str, paths: Sequence[str], events: Sequence[PremisEvent]) -> None:
        """Files restored from an outside copy, with their recovery events; a loss declared for one is lifted."""
        with self.batch():
            self._change("losses_withdrawn", aip_id=aip_id, paths=list(paths))
            self._insert_events(aip_id, events)

    def _apply_losses_withdrawn(self, c: Change) -> None:
        self._objects(m.FileLoss).filter(aip_id=c["aip_id"], path__in=c["paths"]).delete()

    def losses(self, aip_id: str) -> list[FileLoss]:
        """The AIP's files declared lost, by path."""
        rows = (self._objects(m.FileLoss).filter(aip_id=aip_id).order_by("path")
                .values_list("aip_id", "path", "declared", "declared_by", "reason"))
        return [FileLoss(*r) for r in rows]

    def record_dip(self, dip_id: str, aip_id: str, path: Path, created: datetime) -> None:
        """Record a DIP made of one AIP."""
        with self._atomic():
            self._objects(m.Dip).create(dip_id=dip_id, aip_id=aip_id, path=str(path), created=created)


def _event(r: Sequence[Any]) -> PremisEvent:
    return PremisEvent(
        identifier=r[0], type=r[1], date_time=r[2], detail=r[3], outcome=r[4], outcome_detail=r[5],
        agents=tuple(r[6]), source_objects=tuple(r[7]), outcome_objects=tuple(r[8]),
    )


def _aip(row: Sequence[Any]) -> AipRecord:
    return AipRecord(row[0], row[1], row[2], row[3], row[4], AipState(row[5]), row[6], row[7], row[8])
