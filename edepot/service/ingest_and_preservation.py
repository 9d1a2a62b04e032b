"""The Depot's rules for ingest and preservation: ingest, fixity, repair, recovery, the catalogue's upgrade.

Who acts: every ingest, fixity run, repair, restore and declared loss is a PREMIS event naming the acting
person beside edepot; nothing is done anonymously (NoActingPerson, E112). A scheduled fixity run acts as the
data directory's configured operator, so scheduling one needs that operator. A declared loss needs a reason.
The producer's side (making SIPs) is in submission.py; the demo of the whole chain in demo.py.
"""
from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from edepot.service.aip_pages import AipPagesService
from edepot.service.base import audited
from edepot.service.person import Person
from edepot.service.submission import SubmissionService
from kernel.errors import InputError, NoActingPerson

if TYPE_CHECKING:
    from ingest.pipeline import IngestResult
    from preservation.catalogue import AipRecord, FileLoss, FileRecord, ReplicaRecord
    from preservation.catalogue_db.copy import CopyResult
    from preservation.catalogue_db.upgrade import UpgradeResult
    from preservation.doctor import Finding
    from preservation.fixity import FixityReport
    from preservation.job_register import Fencing
    from preservation.metadata.premis import PremisEvent
    from preservation.recovery import RestoreResult


@dataclass(frozen=True)
class FixityRun:
    """A fixity run's report and where it was written (JSON and HTML)."""

    report: FixityReport
    json_report: Path
    html_report: Path


@dataclass(frozen=True)
class AipDetails:
    """What the catalogue knows of one AIP: its replicas, files, declared losses and PREMIS events."""

    aip: AipRecord
    replicas: list[ReplicaRecord]
    files: list[FileRecord]
    losses: list[FileLoss]
    events: list[PremisEvent]


class PreservationService(SubmissionService, AipPagesService):
    """Ingest and preservation, each done by the acting person."""

    @audited("ingest")
    def ingest(self, source: Path, *, new_version: bool = False,
               on_stage: Callable[[str], None] = lambda _stage: None,
               on_progress: Callable[[str, int, int], None] = lambda _s, _d, _t: None,
               fencing: Fencing | None = None,
               on_admitted: Callable[[str], None] = lambda _organisation: None) -> IngestResult:
        """A SIP (folder, .zip, .7z or .tar) made an AIP on every storage location, every PREMIS event naming
        the acting person. With `new_version`, a SIP ingested before (or another SIP of a record held) becomes
        the next version of its AIP instead of being refused (E106, E108). `fencing` is the claim of the job
        doing it (ingest/pipeline.py); `on_admitted` is told the organisation of the SIP's archiefvormer once
        the acting person is found to ingest for it."""
        from ingest.pipeline import ingest

        person = self.authorise("ingest")

        def admit(archiefvormer: str, identifier: str | None) -> str:
            organisation = self.organisation_of_archiefvormer(archiefvormer, identifier)
            self.authorise("ingest", [organisation])
            on_admitted(organisation)
            return organisation

        return ingest(source, self.config, on_stage, new_version, on_progress, person=person.name, store=self.store,
                      admit=admit, fencing=fencing)

    @audited("fixity run")
    def run_fixity(self, aip_ids: list[str] | None = None, *, every_aip: bool = False,
                   max_bytes: int | None = None, max_seconds: float | None = None,
                   progress: Callable[[int], None] | None = None,
                   organisations: list[str] | None = None) -> FixityRun:
        """Verify and repair AIPs (those named, or those of `organisations`, else every one; the least recently
        verified first, within the budget unless `every_aip`), each fixity and repair event naming the acting
        person; the report is written under `<data>/reports/fixity/`, and what the run did per location is kept
        for the fixity overview."""
        from preservation.fixity import FixityReport, run_fixity
        from preservation.fixity_overview import run_tallies
        from preservation.fixity_report import write_fixity_report
        from preservation.storage import configured_locations

        if aip_ids:
            person = self.authorise("run fixity", [self.visible_aip(a, "run fixity").organisation for a in aip_ids])
        elif organisations:
            person = self.authorise("run fixity", organisations)
            aip_ids = [a.aip_id for a in self.catalogue.aips_by_last_verified() if a.organisation in organisations]
        else:
            person = self.authorise("run fixity", everywhere=True)
        with self.work_locks() as locks:
            report = FixityReport(started=self.now()) if organisations and not aip_ids else run_fixity(
                self.config, self.catalogue, configured_locations(self.config, self.catalogue), aip_ids,
                None if every_aip else max_bytes, None if every_aip else max_seconds, progress,
                person=person.name, locks=locks)
        self.store.fixity.record_tallies(run_tallies(
            report, self.store.fixity.replicas_of(report.aips_checked), run_id=str(uuid.uuid4()), by=person.name,
            scheduled=self._is_operator(person.name), finished=self.now()))
        json_report, html_report = write_fixity_report(report, self.catalogue,
                                                       self.config.data_dir / "reports" / "fixity")
        return FixityRun(report, json_report, html_report)

    def _is_operator(self, name: str) -> bool:
        """Whether `name` is the data directory's operator, whom a scheduled run acts as."""
        from preservation.directory import person_key

        return bool(self.config.operator) and person_key(name) == person_key(self.config.operator or "")

    def scheduled_operator(self) -> Person:
        """The person a scheduled (unattended) run acts as: the data directory's configured operator, never
        whoever sets the schedule up. NoActingPerson when none is configured, since every run would fail."""
        if not self.config.operator:
            raise NoActingPerson("a scheduled run acts as the data directory's operator, and none is configured",
                                 hint="set [operator] name in the data directory's edepot.toml",
                                 remedy="configure-operator")
        return Person(" ".join(self.config.operator.split()))

    @audited("aip list")
    def aips(self) -> list[AipRecord]:
        """Every AIP of the organisations whose records the acting person may see."""
        return self.visible_aips("view aips")

    @audited("aip show")
    def aip_details(self, aip_id: str) -> AipDetails:
        """One AIP as the catalogue knows it (NotFound, E105, for an unknown identifier)."""
        catalogue = self.catalogue
        aip = self.visible_aip(aip_id, "view aips")
        return AipDetails(aip, catalogue.replicas(aip.aip_id), catalogue.files(aip.aip_id),
                          catalogue.losses(aip.aip_id), catalogue.events(aip.aip_id))

    @audited("upgrade")
    def upgrade_catalogue(self) -> UpgradeResult:
        """Bring the catalogue to this version in place (the old one kept beside it), recorded as an event."""
        from preservation.catalogue_db.upgrade import upgrade_catalogue
        from preservation.storage import configured_locations, register_locations

        result = upgrade_catalogue(self.config.catalogue_url, by=self.actor("upgrading the catalogue").agent_id,
                                   now=self.now())
        # Before 0.3 a location was its place in the configuration (location-N): as configured now, it keeps that
        # identity from here on, in the catalogue and in the location itself.
        register_locations(configured_locations(self.config, self.catalogue), self.catalogue, now=self.now())
        return result

    @audited("catalogue copy")
    def copy_catalogue(self, to: str) -> CopyResult:
        """Copy the whole catalogue into the empty database at the URL `to` (SQLite or PostgreSQL), verified
        table by table by counts and digests, and recorded there as an event; this catalogue is left as it is."""
        from preservation.catalogue_db.copy import copy_catalogue

        person = self.authorise("copy the catalogue", everywhere=True)
        return copy_catalogue(self.config.catalogue_url, to, by=person.agent_id, now=self.now())

    @audited("aip restore")
    def restore_files(self, aip_id: str, *, source: Path, source_named: str | None = None) -> RestoreResult:
        """Put back an AIP's damaged or lost files from an outside copy (verified against the catalogue's
        checksums; named `source_named` in its PREMIS event, else by its path); a declared loss of a restored
        file is lifted."""
        from preservation.fixity_overview import RESTORE, Tally
        from preservation.recovery import restore_files
        from preservation.storage import configured_locations

        aip = self.visible_aip(aip_id, "restore files")
        person = self.authorise("restore files", [aip.organisation])
        started = self.now()
        result = restore_files(self.config, self.catalogue,
                               locations=configured_locations(self.config, self.catalogue),
                               aip_id=aip_id, source=source, person=person.name, source_named=source_named)
        written = Counter(location for restored in result.restored for location in restored.locations)
        self.store.fixity.record_tallies([
            Tally(str(uuid.uuid4()), RESTORE, location, aip.organisation, started, self.now(), person.name,
                  scheduled=False, aips=1, repaired=files) for location, files in sorted(written.items())])
        return result

    @audited("aip declare-loss")
    def declare_loss(self, aip_id: str, *, paths: list[str], reason: str) -> list[FileLoss]:
        """Declare files of an AIP lost (no intact copy anywhere), with a reason: fixity then reports them as
        known losses."""
        from preservation.recovery import declare_loss
        from preservation.storage import configured_locations

        if not reason.strip():
            raise InputError("a declared loss needs a reason", hint="say why no copy can be had")
        person = self.authorise("declare a loss", [self.visible_aip(aip_id, "declare a loss").organisation])
        return declare_loss(self.config, self.catalogue, locations=configured_locations(self.config, self.catalogue),
                            aip_id=aip_id, paths=paths, reason=reason.strip(), person=person.name)

    def doctor(self, *, dry_run: bool = False) -> list[Finding]:
        """The installation, data directory, storage locations and catalogue checked, and what interrupted
        commands left behind cleared (only listed with `dry_run`)."""
        from edepot.service.jobs import intake_findings
        from edepot.service.transfers import expired_uploads
        from preservation.doctor import run_doctor

        return (installation_findings() + run_doctor(self.config, dry_run=dry_run)
                + intake_findings(self, dry_run=dry_run) + expired_uploads(self, dry_run=dry_run))

    def write_trial_database(self, folder: Path | None = None) -> Path:
        """edepot's TEST virus-signature database (EICAR only) for a trial of ingest without a real one, in
        `folder` (default `<data>/trial-clamav`); every scan with it is recorded as a trial, not a check."""
        from preservation.scan import write_test_database

        return write_test_database((folder or self.config.data_dir / "trial-clamav").resolve())


def installation_findings() -> list[Finding]:
    """A problem for each of edepot's import names that another distribution also installs, or that Python
    would import from another folder than edepot's own; one OK line when there is none."""
    from edepot.installation import foreign_import_locations, shadowed_top_level_names
    from preservation.doctor import Finding, Status

    problems = [Finding("installation", Status.PROBLEM, s.name, s.message()) for s in shadowed_top_level_names()]
    problems += [Finding("installation", Status.PROBLEM, name, f"imported from {where}, not from edepot's folder")
                 for name, where in foreign_import_locations().items()]
    return problems or [Finding("installation", Status.OK, "import names",
                                "access, edepot, ingest, kernel, preservation and schemas are edepot's own")]
