"""The Depot's rules for the AIP screens: the list of AIPs a person may see, filtered and paged in the catalogue,
one AIP with its record's description, versions, files, replicas, events and the archive's own DIPs, and that
DIP made (a job) and downloaded.

Who sees what: the AIPs of the organisations the person's roles for "view aips" are held for; another
organisation's AIP is not found, never forbidden. The archive's own DIP is made and downloaded under "make a DIP"
(archivists, Woo officers), of the same organisations; a download is written to the audit log.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from edepot.service.access_and_delivery import AccessService, DipOrder
from edepot.service.base import audited
from kernel.errors import EdepotError, InputError, NotFound
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

if TYPE_CHECKING:
    from preservation.catalogue import AipRecord, FileLoss, ReplicaRecord
    from preservation.job_register import JobRecord
    from preservation.record_access import RecordAccess
    from preservation.retention import Schedule

PAGE = 50  # AIPs a page
MOST = 500  # AIPs an API call may ask for at once
FILES_SHOWN = 100  # files of an AIP a page
EVENTS_SHOWN = 50  # events of an AIP a page
# What the list can be filtered by: kept, the kept AIPs' lifecycle states (preservation.catalogue.AipState), held,
# due, destroyed.
STATES = (KEPT, "stored", "damaged", "incomplete", HELD, DUE, GONE)


@dataclass(frozen=True)
class Replica:
    """A replica of the AIP, with its location's name."""

    replica: ReplicaRecord
    location_name: str


@dataclass(frozen=True)
class AipOverview:
    """One AIP as its page shows it: the record's description as its MDTO gives it (None when it could not be
    read: `description_problem` says why), its retention schedule, the record's versions, a page of files and of
    events, the replicas, declared losses, and for those who may make them the archive's own DIPs and the DIP jobs
    under way."""

    aip: AipRecord
    organisation_name: str
    description: RecordAccess | None
    description_problem: str
    schedule: Schedule | None
    held: bool
    versions: list[VersionRow]
    files: FilePage
    replicas: list[Replica]
    losses: list[FileLoss]
    events: EventPage
    dips: list[OwnDip]
    dips_under_way: list[JobRecord]
    delivers: bool  # the acting person may make (and download) the archive's own DIP of it

    @property
    def gone(self) -> bool:
        """The AIP was destroyed (or is being destroyed): nothing of it is left to deliver."""
        return gone(self.aip)


@dataclass(frozen=True)
class DipDownload:
    """The archive's own DIP as one zip file, open for reading (already unlinked: it goes when it is closed)."""

    file: BinaryIO
    name: str
    size: int


class AipPagesService(AccessService):
    """The AIP screens' questions, each for the acting person's organisations."""

    @audited("aip list")
    def aip_page(self, filters: AipFilters, *, before: str | None = None, limit: int = PAGE) -> AipPage:
        """The AIPs of the acting person's organisations that `filters` match, newest first, `limit` of them older
        than the AIP `before`, and how many match in all. InputError for a state that is none of STATES, a period
        that ends before it begins or a limit out of 1..MOST; an organisation the person does not serve has none."""
        if filters.state is not None and filters.state not in STATES:
            raise InputError(f"state must be one of {', '.join(STATES)}, not {filters.state!r}")
        if filters.since and filters.until and filters.until < filters.since:
            raise InputError("the period ends before it begins")
        if not 1 <= limit <= MOST:
            raise InputError(f"limit must be from 1 to {MOST}")
        reach = self.reach("view aips")
        if reach is not None and filters.organisation is not None and filters.organisation not in reach:
            return AipPage([], 0, False)
        return self.store.aip_queries.page(filters, organisations=reach, due=self._due_by(), before=before,
                                           limit=limit)

    def _due_by(self) -> DueBy:
        """The dates by which a record counts as due today, as the dashboard and the retention screens count."""
        from preservation.retention import due_cutoff, latest_transfer_start, load_retention_settings

        settings = load_retention_settings(self.config)
        before = due_cutoff(self.now(), settings)
        return DueBy(before, latest_transfer_start(before, settings))

    @audited("aip show")
    def aip_overview(self, aip_id: str, *, events_before: int | None = None, files_from: int = 0) -> AipOverview:
        """One AIP of the acting person's organisations, destroyed ones too (NotFound, E105, for another
        organisation's, as for one the catalogue does not know), with a page of its files (from `files_from`)
        and of its events (newest first, older than `events_before`)."""
        from preservation.retention import compute_schedule, load_retention_settings

        queries = self.store.aip_queries
        aip = self._visible(aip_id, "view aips")
        catalogue = self.catalogue
        row = catalogue.retention_row(aip.record_id)
        schedule = compute_schedule(row, load_retention_settings(self.config)) if row is not None else None
        names = {o.organisation_id: o.name for o in self.store.directory.organisations()}
        locations = {loc.location_id: loc.name for loc in catalogue.locations()}
        description, problem = self._description(aip)
        delivers = self._may_on("make a DIP", aip.organisation)
        return AipOverview(
            aip=aip, organisation_name=names.get(aip.organisation, aip.organisation),
            description=description, description_problem=problem, schedule=schedule,
            held=bool(catalogue.holds(aip.record_id, active_only=True)), versions=queries.versions(aip.record_id),
            files=queries.files(aip.aip_id, offset=max(0, files_from), limit=FILES_SHOWN),
            replicas=[Replica(r, locations.get(r.location, r.location)) for r in catalogue.replicas(aip.aip_id)],
            losses=catalogue.losses(aip.aip_id),
            events=queries.events(aip.aip_id, before=events_before, limit=EVENTS_SHOWN),
            dips=queries.own_dips(aip.aip_id) if delivers else [],
            dips_under_way=queries.dip_jobs(aip.aip_id) if delivers else [], delivers=delivers)

    @audited("dip queue")
    def queue_own_dip(self, aip_id: str) -> JobRecord:
        """Queue the making of the archive's own DIP of the whole AIP (unredacted, for nobody outside the
        archive) by a worker, as the acting person; NotFound for an AIP they may not see or that was destroyed."""
        aip = self._visible(aip_id, "make a DIP")
        if gone(aip):
            raise NotFound(f"AIP {aip_id!r} was destroyed: there is nothing to deliver")
        return self.queue_dip(DipOrder(records=(aip.aip_id,)))

    @audited("dip download")
    def own_dip_download(self, aip_id: str, dip_id: str) -> DipDownload:
        """The archive's own DIP `dip_id` of the AIP as a zip file, each file as the DIP holds it (originals
        byte-identical to the SIP's); NotFound for a DIP that is not one of this AIP's own, or an AIP the acting
        person may not see."""
        from access.dip_archive import zipped_dip

        aip = self._visible(aip_id, "make a DIP")
        dip = next((d for d in self.store.aip_queries.own_dips(aip.aip_id) if d.dip_id == dip_id), None)
        if dip is None:
            raise NotFound(f"no DIP {dip_id!r} of AIP {aip_id!r}", hint="make the archive's own DIP first")
        file, size = zipped_dip(Path(dip.path), work=self.config.staging_dir)
        return DipDownload(file, f"dip-{dip.dip_id}.zip", size)

    def _visible(self, aip_id: str, action: str) -> AipRecord:
        """The AIP (destroyed ones too) when the acting person may `action` on its organisation's records;
        NotFound, as for an AIP the catalogue does not know, otherwise."""
        aip = self.store.aip_queries.find(aip_id)
        reach = self.reach(action)
        if aip is None or (reach is not None and aip.organisation not in reach):
            raise NotFound(f"no AIP {aip_id!r} in the catalogue", hint="list the AIPs and records you may see")
        if not self._anonymous_reading():
            self.authorise(action, [aip.organisation])
        return aip

    def _may_on(self, action: str, organisation: str) -> bool:
        """Whether the acting person may `action` on records of `organisation`."""
        try:
            reach = self.reach(action)
        except EdepotError:
            return False
        return reach is None or organisation in reach

    def _description(self, aip: AipRecord) -> tuple[RecordAccess | None, str]:
        """The record's description from the AIP's MDTO informatieobject (read from a replica that verifies),
        with the restriction decided after ingest in its place; None and why when it cannot be read."""
        from access.aip_files import informatieobject_file, read_verified
        from preservation.record_access import record_access_from_mdto, with_restriction

        if gone(aip):
            return None, "destroyed"
        try:
            document = informatieobject_file(self.store.aip_queries.metadata_files(aip.aip_id), aip.aip_id)
            facts = record_access_from_mdto(read_verified(document, aip.aip_id, self.store.storage))
        except EdepotError as error:
            return None, f"{error.ref} {error}"
        decided = self.store.aip_queries.restriction(aip.record_id)
        return (with_restriction(facts, decided) if decided is not None else facts), ""



def gone(aip: AipRecord) -> bool:
    """Whether the AIP was destroyed or is being destroyed: nothing of it is left to read or deliver."""
    from preservation.catalogue import GONE_STATES

    return aip.state.value in GONE_STATES
