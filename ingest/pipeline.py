"""Ingest (OAIS): a SIP becomes an AIP on every storage location, recorded in the catalogue.

This function is the whole flow; each stage is in ingest/stages.py and leaves its PREMIS events.
A crash at any point leaves no AIP in the catalogue; a re-run of the same SIP finishes the job
(the AIP identifier is derived from the SIP, and stores replace leftovers of an interrupted run).
A SIP and its record are locked while they are ingested (`<data>/locks/`, released even by a killed run),
so a second run of the same SIP or record at once is refused, not mixed in.
Whatever the outcome, an ingest report (JSON and HTML, ingest/report.py) is written under
`<data>/reports/`; a rejected SIP's report says which stage refused it and why. A full, read-only or
failing file system is a StorageFailure (E500, exit 3) naming the storage location or data directory.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ingest import stages
from ingest.file_workers import file_workers
from ingest.job import IngestJob, ProgressListener, StageListener
from ingest.report import write_rejection_report, write_report
from kernel.collector import fewer_collections
from kernel.config import Config
from kernel.errors import EdepotError, is_storage_fault
from preservation.format_policy import load_policy
from preservation.job_register import Fencing
from preservation.storage import configured_locations, storage_failure
from preservation.unit_of_work import UnitOfWork, open_unit_of_work
from preservation.work_locks import open_work_locks


@dataclass(frozen=True)
class IngestResult:
    """The AIP an ingest made, where its replicas are, and where its report is."""

    aip_id: str
    record_id: str
    title: str
    locations: tuple[Path | str, ...]  # each bag: a folder, or an object store address
    files: int
    bytes: int
    events: int
    version: int = 1
    previous_aip: str | None = None
    warnings: tuple[str, ...] = ()
    report: tuple[Path, ...] = ()  # the JSON and the HTML report

    def to_dict(self) -> dict[str, object]:
        return {
            "aip_id": self.aip_id,
            "record_id": self.record_id,
            "title": self.title,
            "locations": [str(p) for p in self.locations],
            "files": self.files,
            "bytes": self.bytes,
            "events": self.events,
            "version": self.version,
            "previous_aip": self.previous_aip,
            "warnings": list(self.warnings),
            "report": [str(p) for p in self.report],
        }


def ingest(source: Path, config: Config, on_stage: StageListener = lambda _stage: None,
           new_version: bool = False, on_progress: ProgressListener = lambda _s, _d, _t: None, *,
           person: str | None = None, store: UnitOfWork | None = None,
           admit: Callable[[str, str | None], str] | None = None,
           fencing: Fencing | None = None) -> IngestResult:
    """Turn the SIP at `source` (folder, .zip, .7z or .tar) into an AIP; raises before storing on any problem.

    With `new_version`, a SIP ingested before (or another SIP of a record held) becomes the next version of
    that AIP instead of being refused. Every PREMIS event (in the AIP and the catalogue) names `person`, the
    person doing the ingest, beside edepot. A rejection raises the EdepotError after writing its report.
    The AIP is recorded through `store` (the Depot service's unit of work), else through one opened on the
    data directory's catalogue for this ingest. `admit` gives the organisation of the SIP's archiefvormer (name,
    identifier), or raises when this SIP may not be ingested by this person. With `fencing` (a job's claim), its
    check runs before the bag is published on storage (a claim taken over publishes nothing; its catalogue writes
    are checked by the job's fenced unit of work), the transaction that records the AIP notes the AIP made, and the AIP's and record's
    locks are taken under the claim; else in locks of this run's own.
    """
    job = IngestJob(config, person=person, on_stage=on_stage, on_progress=on_progress, new_version=new_version)
    if admit is not None:
        job.admit = admit
    job.fencing = fencing
    job.work_locks = fencing.locks if fencing else open_work_locks(config)
    try:
        with fewer_collections():
            return _ingest(source, job, store)
    finally:
        if fencing is None:
            job.work_locks.close()


def _ingest(source: Path, job: IngestJob, store: UnitOfWork | None) -> IngestResult:
    config = job.config
    try:
        if store is not None:
            return _run(source, job, store)
        own = open_unit_of_work(config.catalogue_url, config)
        try:
            return _run(source, job, own)
        finally:
            own.close()
    except EdepotError as error:
        _reject(source, job, error)
        raise
    except OSError as error:
        if not is_storage_fault(error):
            raise
        failure = storage_failure(error, config, unnamed=f"the data directory ({config.data_dir})")
        _reject(source, job, failure)
        raise failure from error


def _reject(source: Path, job: IngestJob, error: EdepotError) -> None:
    """Write the rejection report (after the staging is gone, so a full data directory has room for it again)."""
    job.end_stage()
    try:
        write_rejection_report(source, job, error)
    except OSError as failed:
        error.hint = f"{error.hint}; no report could be written: {failed.strerror or failed}".lstrip("; ")


def _run(source: Path, job: IngestJob, store: UnitOfWork) -> IngestResult:
    config = job.config
    policy = load_policy()
    catalogue = store.catalogue
    locations = configured_locations(config, catalogue)
    with job.staging() as staging:
        sip = stages.receive(source, staging, job)
        stages.validate(sip, job)
        stages.refuse_duplicate(sip, catalogue, job)
        aip = stages.AipBuilder(staging / "aip")
        conversation, record = stages.keep_originals(sip, aip, job)
        job.organisation = job.admit(record.archiefvormer, record.archiefvormer_id)
        media = stages.unpack_export(aip, conversation, job)
        with file_workers(len(aip.roles)) as workers:  # they start while ClamAV scans
            stages.scan(aip, source, job)
            with stages.start_replication(aip, locations, job) as replication:  # copies run in the background
                stages.identify(aip, job, workers=workers)
                stages.validate_formats(aip, job, workers=workers)
                shown = stages.normalise_files(aip, media, policy, job, workers=workers)
                stages.render_conversation(aip, conversation, shown, record, job)
                stages.update_metadata(sip, aip, job)
                sealed = stages.seal(aip, record, job, workers=workers)
                if job.fencing:  # a storage completion, like the catalogue commit, only while the claim holds
                    job.fencing.check()
                stored = stages.replicate(sealed, replication, job)
        with store.atomic():  # a job's claim is checked at the first write (UnitOfWork.fenced) and holds to the end
            stages.record(catalogue, record, sealed, locations, stored, job)
            if job.fencing:  # "indexed": a worker taking over after a stall here indexes and schedules it
                job.fencing.committed({"aip_id": job.aip_id, "record_id": record.identifier, "indexed": False})
        stages.index_and_schedule(store, aip, conversation, job)
    payload = [f for f in sealed if f.role != "tag"]
    result = IngestResult(
        aip_id=job.aip_id,
        record_id=record.identifier,
        title=record.title,
        locations=tuple(stored),
        files=len(payload),
        bytes=sum(f.size for f in payload),
        events=len(job.events),
        version=job.version.version if job.version else 1,
        previous_aip=job.version.previous_aip if job.version else None,
        warnings=tuple(job.warnings),
    )
    job.end_stage()
    return IngestResult(**{**result.__dict__, "report": write_report(source, job, result.to_dict(), payload)})
