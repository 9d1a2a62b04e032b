"""The Depot's rules for jobs: long work put in the queue by a person and done by a worker, as that person.

Queueing is allowed to whoever may do the work itself (an ingest: a records manager or archivist of the SIP's
organisation, checked again when the worker runs it). What a job works on is copied into the data directory's
intake folder first (`<data>/intake/<job id>/`), never read from a path local to the machine that queued it; the
arguments name that copy, never a secret. A worker claims a job (a new fencing token), does it as the person who
queued it, and ends it done, failed (the SIP was refused: its own content) or error (the system failed); a job
still queued can be cancelled, and one that failed or erred can be queued again.
"""
from __future__ import annotations

import shutil
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from edepot.service.base import DepotBase, audited
from edepot.service.job_kinds import BESLUIT, DESTRUCTION, DIP, FIXITY, INGEST, KINDS
from edepot.service.person import Person
from kernel.config import Config
from kernel.errors import EdepotError, InputError, NotFound, NotPermitted
from preservation.job_register import CANCELLED, DONE, ERROR, FAILED, QUEUED, RUNNING, Fencing, JobRecord
from preservation.work_locks import end_holders, holder_name, open_work_locks, sessions_gone, worker_holder

if TYPE_CHECKING:
    from preservation.doctor import Finding


class JobsService(DepotBase):
    """Jobs queued by people and done by workers."""

    @audited("ingest queue")
    def queue_ingest(self, source: Path, *, new_version: bool = False, move: bool = False) -> JobRecord:
        """Queue the ingest of a SIP (folder or packed file): it is copied into the intake folder (a packed SIP
        moved there with `move`: one received into the data directory) and a worker ingests it as the acting
        person. InputError when the SIP is not there."""
        person = self.authorise(KINDS[INGEST].action)
        if not source.exists():
            raise InputError(f"{source} does not exist")
        organisation = self._sip_organisation(source)
        if organisation:
            self.authorise(KINDS[INGEST].action, [organisation])
        job_id = str(uuid.uuid4())
        intake = intake_folder(self.config, job_id)
        staged = intake.with_name(f".{job_id}.partial")
        try:
            if source.is_dir():
                shutil.copytree(source, staged / source.name, symlinks=True)
            else:
                staged.mkdir(parents=True)
                if move:
                    source.rename(staged / source.name)
                else:
                    shutil.copy2(source, staged / source.name)
            staged.rename(intake)
        except OSError as error:
            shutil.rmtree(staged, ignore_errors=True)
            raise InputError(f"cannot copy {source} into the intake folder: {error.strerror}") from None
        return enqueue_job(self, INGEST, {"sip": f"intake/{job_id}/{source.name}", "new_version": new_version},
                           by=person, job_id=job_id, organisation=organisation)

    def _sip_organisation(self, source: Path) -> str:
        """The organisation of a SIP folder's archiefvormer, read before it is queued; "" for a packed SIP (read
        when the worker unpacks it) and for a SIP whose archiefvormer cannot be told (the worker refuses it)."""
        from ingest.stages import read_record_summary
        from ingest.unpack import find_bag_root

        if not source.is_dir():
            return ""
        try:
            record = read_record_summary(find_bag_root(source))
            return self.organisation_of_archiefvormer(record.archiefvormer, record.archiefvormer_id)
        except (EdepotError, OSError, ValueError):
            return ""

    @audited("job queue")
    def queue(self, kind: str, arguments: dict[str, Any]) -> JobRecord:
        """Queue a job of `kind` (edepot/service/job_kinds.py; not an ingest, which `queue_ingest` queues with its
        SIP) with its `arguments` (never a secret), done by a worker as the acting person, who must be allowed
        the kind's work (checked again, in full, when it runs)."""
        found = KINDS.get(kind)
        if found is None or kind == INGEST:
            raise InputError(f"no kind of job {kind!r}", hint=f"one of: {', '.join(k for k in KINDS if k != INGEST)}")
        person = self.authorise(found.action, everywhere=found.everywhere)
        organisation = self._job_organisation(kind, arguments)
        reach = self.reach(found.action)
        if organisation and reach is not None and organisation not in reach:  # another's: not found, as on a screen
            raise NotFound(f"nothing to queue a {kind} job of: not found", hint="name your own organisation's")
        return enqueue_job(self, kind, arguments, by=person, organisation=organisation)

    def _job_organisation(self, kind: str, arguments: dict[str, Any]) -> str:
        """The one organisation whose records a job of `kind` works on, from its AIPs, list or Woo request; ""
        when it works on several or on every organisation's."""
        found: set[str] = set()
        try:
            if kind == FIXITY:
                found = {self.catalogue.aip(a).organisation for a in arguments.get("aip_ids") or []}
                found |= set(arguments.get("organisations") or [])
            elif kind == DESTRUCTION:
                from preservation.destruction import read_list

                found = {read_list(self.catalogue, arguments["list"])[0].content.get("organisation", "")}
            elif kind == DIP:
                found = {o for record in arguments.get("records") or [] for o in self.record_organisations(record)}
            elif kind == BESLUIT:
                request = self.store.woo.request(arguments["request_id"])
                found = {request.organisation} if request else set()
        except (EdepotError, KeyError, OSError, ValueError):  # the worker refuses what names nothing that is there
            return ""
        return found.pop() if len(found) == 1 else ""

    @audited("jobs list")
    def jobs(self, state: str | None = None, *, organisation: str | None = None) -> list[JobRecord]:
        """The jobs the acting person queued, and those of the organisations they follow the jobs of (as an
        archivist or administrator; of every organisation for one of every organisation), newest first; with
        `organisation`, only that organisation's."""
        return [j for j in self.store.jobs.jobs(state) if self._may_see(j)
                and (organisation is None or j.organisation == organisation)]

    def followed_jobs(self, *, limit: int, before: str | None = None) -> list[JobRecord]:
        """A page of the jobs `jobs` gives (newest first, at most `limit`), asked of the catalogue with the bound
        in the query; `before`: the jobs after that job on the list (the next page). Not audited: it is read
        again and again while a screen is open."""
        followed = self.followed_organisations()
        after = self.store.jobs.job(before) if before else None
        return self.store.jobs.followed(organisations=followed, queued_by=self.identified("follow jobs").name,
                                        limit=limit, after=(after.created, after.job_id) if after else None)

    def job_status(self, job_id: str) -> JobRecord:
        """One job, as `job` gives it, in one query by its id: what a screen polls while the job runs (not
        audited, for that reason)."""
        found = self.store.jobs.job(job_id)
        if found is None or not self._may_see(found):
            raise NotFound(f"no job {job_id!r}", hint="list the jobs you queued")
        return found

    @audited("jobs show")
    def job(self, job_id: str) -> JobRecord:
        """One job; NotFound for a job the acting person may not see."""
        return self.job_status(job_id)

    def ingest_report(self, job_id: str) -> dict[str, Any] | None:
        """The ingest report (its JSON document) of an ingest job the acting person may see that ended, accepted or
        refused, with every place in the data directory named relative to it; None when there is none (the job
        did not reach a report, or is not an ingest)."""
        import json

        job = self.job_status(job_id)
        if job.kind != INGEST or job.finished is None:
            return None
        reports = self.config.data_dir / "reports"
        if job.report and job.report.get("report"):
            found: list[Path] = [self.config.data_dir / job.report["report"][0]]
        else:  # a refusal's report is named by time and SIP: the ones written while the job ran, for its intake copy
            start, end = (job.started or job.created) - timedelta(seconds=1), job.finished + timedelta(seconds=1)
            found = [p for p in sorted(reports.glob("*-rejected-*.json"))
                     if f"{start:%Y%m%dT%H%M%SZ}" <= p.name[:16] <= f"{end:%Y%m%dT%H%M%SZ}"]
        for path in found:
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                continue
            if job.report or f"/intake/{job_id}/" in text:
                document: dict[str, Any] = json.loads(self._shown(text))
                return document
        return None

    @audited("jobs cancel")
    def cancel_job(self, job_id: str) -> JobRecord:
        """Cancel a job still queued (a running one runs to its end)."""
        found = self.job(job_id)
        if not self.store.jobs.cancel(job_id, self.now()):
            raise InputError(f"job {job_id} is {found.state}: only a queued job is cancelled")
        return self.job(job_id)

    @audited("jobs retry")
    def retry_job(self, job_id: str) -> JobRecord:
        """Queue a job that failed, erred or was cancelled once more."""
        found = self.job(job_id)
        if found.state not in (FAILED, ERROR, CANCELLED):
            raise InputError(f"job {job_id} is {found.state}: only a failed, erred or cancelled job is queued again")
        with self.store.atomic():
            _enqueue(self, job_id)
        return self.job(job_id)

    def _may_see(self, job: JobRecord) -> bool:
        """One's own jobs, and those of the organisations one follows the jobs of (`followed_organisations`)."""
        if self._anonymous_reading() or job.enqueued_by == self.identified("follow jobs").name:
            return True
        followed = self.followed_organisations()
        return followed is None or job.organisation in followed

    def followed_organisations(self) -> frozenset[str] | None:
        """The organisations whose jobs the acting person follows besides their own (None: every organisation's,
        jobs of none too): an archivist's or administrator's."""
        try:
            return self.reach("follow jobs")
        except NotPermitted:
            return frozenset()

    # -- what a worker does

    def run(self, job_id: str, *, worker: str,
            work: Callable[[JobRecord, Fencing], dict[str, Any]]) -> JobRecord | None:
        """Do a queued job (`work` does it under the claim's fencing and returns its report) as the person who
        queued it, as `worker`; None when it is no longer queued (cancelled, or taken by another worker). The job
        ends done, failed or error, and only while this worker's fencing token is still the job's; every write
        the work makes in the catalogue checks that token first (`UnitOfWork.fenced`). A job whose
        work an earlier claim committed (its worker stalled before ending it) ends done with that work's report."""
        lease = timedelta(seconds=self.config.job_lease_seconds)
        now = self.now()
        job = self.store.jobs.claim(job_id, worker, now, now + lease)
        if job is None:
            return None
        state, report, error = DONE, job.report, ""
        if report is None:
            with _Heartbeat(self, job, lease), _Claim(self, job) as claim, self.store.fenced(claim.hold):
                self.job_locks = claim.locks
                try:
                    report = work(job, claim)
                except EdepotError as refused:  # the content or the request was refused: the job's own problem
                    state, error = FAILED, self._shown(f"{refused.ref}: {refused.message}")
                except Exception as failure:  # the system failed (or the claim was lost: then nothing is recorded)
                    state, error = ERROR, self._shown(f"{type(failure).__name__}: {failure}")
                finally:
                    self.job_locks = None
            if report is None:  # kept when the work was committed before it failed: a retry then ends it done
                report = (self.store.jobs.job(job_id) or job).report
        if state == DONE and report is not None and report.get("indexed") is False:
            report = self._index_and_schedule(report)
        self.store.jobs.finish(job_id, job.fencing, state, self.now(), report=report, error=error)
        return self.store.jobs.job(job_id)

    def _shown(self, error: str) -> str:
        """A job's error as its followers see it (on the command line, the dashboard, the API): the places in the
        data directory named relative to it, so that no server path is shown."""
        return error.replace(f"{self.config.data_dir.resolve()}/", "").replace(f"{self.config.data_dir}/", "")

    def _index_and_schedule(self, report: dict[str, Any]) -> dict[str, Any]:
        """Finish an ingest an earlier claim committed but did not index: its AIP indexed for search and its record
        scheduled, from storage (a ToPX-only AIP gets neither, as at ingest)."""
        from access.search import reindex
        from preservation.retention import schedule_stored_aip

        reindex(self.config, self.store, aip_id=report["aip_id"])
        try:
            schedule_stored_aip(self.catalogue, report["aip_id"], self.now(), stores=self.store.storage,
                                person=self.person.name if self.person else "")
        except InputError:
            pass
        return {**report, "indexed": True}

    def reap(self) -> list[str]:
        """Queue again every running job whose worker let its lease run out (died, or stalled), and on
        PostgreSQL at once every job whose worker's locks session is gone (the worker died); returns their ids.
        A stalled worker's sessions are ended first on PostgreSQL (its locks and any row it locked are let go),
        and once it wakes up it can publish and commit nothing of the job (its fencing token is old)."""
        now = self.now()
        lost = self.store.jobs.expired(now)
        expired = {j.job_id for j in lost}
        settled = [j for j in self.store.jobs.jobs(RUNNING)
                   if j.job_id not in expired and j.started is not None and now - j.started > _SETTLING]
        gone = sessions_gone(self.config, [holder_name(j.job_id, j.fencing) for j in settled])
        lost += [j for j in settled if holder_name(j.job_id, j.fencing) in gone]
        requeued = []
        for job in lost:
            end_holders(self.config, holder_name(job.job_id, job.fencing), worker_holder(job.worker))
            with self.store.atomic():
                if self.store.jobs.requeue(job.job_id, job.fencing):
                    _enqueue(self, job.job_id, first=True)  # it waited long enough: before the jobs queued since
                    requeued.append(job.job_id)
        return requeued


_SETTLING = timedelta(seconds=3)  # a job claimed this recently may not have opened its locks session yet
_ORPHAN_AFTER = 3600  # seconds before an intake folder of no job is taken for a queueing that was interrupted


def intake_findings(depot: DepotBase, *, dry_run: bool = False) -> list[Finding]:
    """What lies in the intake folder (`edepot doctor`): the copy of a job done, or of no job at all for an
    hour (its queueing was interrupted), is removed (listed with `dry_run`); a failed, erred or cancelled job's is
    kept for a retry; a copy still being made is left alone."""
    from preservation.doctor import Finding, Status

    root = depot.config.data_dir / "intake"
    folders = sorted(root.iterdir()) if root.is_dir() else []
    try:
        jobs = {j.job_id: j for j in depot.store.jobs.jobs()} if folders else {}
    except Exception as error:  # a catalogue the other checks report on: say so here and change nothing
        return [Finding("intake", Status.PROBLEM, str(root), f"the jobs cannot be read: {error}")]
    findings = []
    for folder in folders:
        if folder.name.startswith("."):  # `queue_ingest` copying now, or killed while it did
            findings.append(Finding("intake", Status.IN_USE, str(folder), "a SIP being copied in for a job, "
                                    "or left by one killed while it did: remove it once no queueing runs"))
            continue
        job = jobs.get(folder.name)
        if job is None and time.time() - folder.stat().st_mtime < _ORPHAN_AFTER:  # its job may be being recorded
            findings.append(Finding("intake", Status.IN_USE, str(folder), "input of a job being queued now"))
            continue
        if job is not None and job.state != DONE:
            findings.append(Finding("intake", Status.OK, str(folder), f"input of job {job.job_id} ({job.state})"
                                    + ("" if job.state in (QUEUED, RUNNING) else "; kept for a retry")))
            continue
        if not dry_run:
            shutil.rmtree(folder)
        findings.append(Finding("intake", Status.FOUND if dry_run else Status.REMOVED, str(folder),
                                f"input of job {folder.name}, which is done" if job else
                                "input of no job (its queueing was interrupted)"))
    return findings or [Finding("intake", Status.OK, str(root), "no input of jobs waiting")]


def enqueue_job(depot: DepotBase, kind: str, arguments: dict[str, Any], *, by: Person,
                job_id: str | None = None, organisation: str = "") -> JobRecord:
    """Record a job of `kind` queued by `by` (authorised by the caller) for the records of `organisation` ("":
    not known yet, or several) and put it in the queue, in one transaction; `job_id` when the caller copied its
    input into the intake folder under it already."""
    job = JobRecord(job_id or str(uuid.uuid4()), kind, arguments, QUEUED, by.name, organisation, depot.now(),
                    verified=by.verified)
    with depot.store.atomic():
        depot.store.jobs.add(job)
        _enqueue(depot, job.job_id)
    return depot.store.jobs.job(job.job_id) or job


def _enqueue(depot: DepotBase, job_id: str, *, first: bool = False) -> None:
    """Put the job in the queue (in the caller's transaction; `first`: before the jobs queued without it): a
    task a worker takes."""
    from edepot.service.job_runner import run_job
    from preservation.job_queue import enqueue

    task_id = enqueue(depot.config.catalogue_url, run_job, str(depot.config.data_dir), job_id, first=first)
    depot.store.jobs.set_task(job_id, task_id, QUEUED)


def intake_folder(config: Config, job_id: str) -> Path:
    """Where the input of job `job_id` is copied before it is queued (`<data>/intake/<job>/`)."""
    return config.data_dir / "intake" / job_id


class _Claim:
    """A worker's claim on one job (`preservation.job_register.Fencing`): the locks of its work, held under the
    claim's name, and the fencing checks of its commits."""

    def __init__(self, depot: JobsService, job: JobRecord) -> None:
        self.depot, self.job = depot, job
        self.locks = open_work_locks(depot.config, holder=holder_name(job.job_id, job.fencing))
        self._shown: tuple[str, float] = ("", 0.0)

    def __enter__(self) -> _Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.locks.close()

    def check(self) -> None:
        with self.depot.store.atomic():
            self.hold()

    def hold(self) -> None:
        """In the caller's transaction: lock the job's row, ClaimLost unless this claim still holds."""
        self.depot.store.jobs.hold_claim(self.job.job_id, self.job.fencing)

    def progress(self, stage: str, done: int = 0, total: int = 0) -> None:
        now = time.monotonic()
        if stage == self._shown[0] and now - self._shown[1] < 0.5 and done != total:
            return
        self._shown = (stage, now)
        self.depot.store.jobs.set_progress(self.job.job_id, self.job.fencing,
                                           {"stage": stage, "done": done, "total": total})

    def committed(self, report: dict[str, Any]) -> None:
        self.depot.store.jobs.note_report(self.job.job_id, self.job.fencing, report)


class _Heartbeat:
    """While a job runs, its lease is renewed every third of its length (on a connection of its own)."""

    def __init__(self, depot: JobsService, job: JobRecord, lease: timedelta) -> None:
        import threading

        self.depot, self.job, self.lease = depot, job, lease
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat {job.job_id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _beat(self) -> None:
        try:
            while not self.stop.wait(self.lease.total_seconds() / 3):
                now = self.depot.now()
                if not self.depot.store.jobs.extend(self.job.job_id, self.job.fencing, now, now + self.lease):
                    return  # taken over: the commit's fencing check refuses this worker's work
        finally:
            self.depot.store.close()  # this thread's connection


def worker_name() -> str:
    """This worker's name: host and process."""
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"

