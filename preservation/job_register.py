"""The job register port: edepot's own record of long work (an ingest, later fixity runs, DIPs, besluiten) that a
worker does: its kind and arguments (never a secret), its state, progress and report, and who claimed it with which
fencing token. The queue that hands jobs to workers is Django's tasks API; this register is what people and the
rules read. The implementation on Django is `preservation.catalogue_db.job_store`.

States: queued → running → done (the work succeeded), failed (the content was bad: the job's own input),
error (the system failed), cancelled (before it ran). A claim raises the job's fencing token; a worker may only
finish a job while the token is still the one it claimed with.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Collection, Protocol

from preservation.work_locks import WorkLocks

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
ERROR = "error"
CANCELLED = "cancelled"
JOB_STATES = (QUEUED, RUNNING, DONE, FAILED, ERROR, CANCELLED)
FINISHED = (DONE, FAILED, ERROR, CANCELLED)


class ClaimLost(Exception):
    """A worker's claim on its job was taken over: it may not commit anything of it."""


@dataclass(frozen=True)
class JobRecord:
    """One job as the register keeps it."""

    job_id: str
    kind: str
    arguments: dict[str, Any]
    state: str
    enqueued_by: str
    organisation: str
    created: datetime
    progress: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] | None = None
    error: str = ""
    attempts: int = 0
    fencing: int = 0
    worker: str = ""
    lease_expires: datetime | None = None
    heartbeat: datetime | None = None
    task_id: str = ""
    started: datetime | None = None
    finished: datetime | None = None
    verified: bool = False  # the person who queued it gave their own token then: it runs with their credential

    def to_dict(self) -> dict[str, Any]:
        def moment(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {"job_id": self.job_id, "kind": self.kind, "arguments": self.arguments, "state": self.state,
                "enqueued_by": self.enqueued_by, "organisation": self.organisation, "created": moment(self.created),
                "progress": self.progress, "report": self.report, "error": self.error, "attempts": self.attempts,
                "worker": self.worker, "started": moment(self.started), "finished": moment(self.finished)}


class Fencing(Protocol):
    """What a worker's claim on its job gives the work it does: the locks it holds them under, a check that the
    claim still holds (before every storage completion and catalogue commit), and a note of the work committed."""

    @property
    def locks(self) -> WorkLocks: ...

    def check(self) -> None:
        """Raise ClaimLost unless the job still runs under this claim (inside the caller's transaction, its row
        locked until the transaction ends)."""

    def progress(self, stage: str, done: int = 0, total: int = 0) -> None:
        """Tell the job's followers how far the work is: the stage running, and of a stage's files how many of
        how many are done (recorded at most twice a second)."""

    def committed(self, report: dict[str, Any]) -> None:
        """Inside the transaction that commits the job's work: note what it made, so a worker taking the job over
        after this one stalled before ending it finds the work done instead of doing it twice."""


class JobRegister(Protocol):
    """Jobs; each method one transaction, or part of the caller's."""

    def add(self, job: JobRecord) -> None:
        """Record a new job."""
    def job(self, job_id: str) -> JobRecord | None:
        """The job, or None."""
    def jobs(self, state: str | None = None) -> list[JobRecord]:
        """Every job (in one state), newest first."""
    def followed(self, *, organisations: Collection[str] | None, queued_by: str, limit: int,
                 after: tuple[datetime, str] | None = None) -> list[JobRecord]:
        """Jobs of those organisations (None: every job) and those `queued_by` that person, newest first, at most
        `limit`, those after `after` (created, job id) on that list when given."""
    def set_organisation(self, job_id: str, organisation: str) -> None:
        """The organisation whose records the job works on, once it is known (an ingest's, when its SIP is read)."""
    def set_task(self, job_id: str, task_id: str, state: str) -> None:
        """The queue entry that runs the job now, and its state (queued again for a retry)."""
    def claim(self, job_id: str, worker: str, now: datetime, lease_expires: datetime) -> JobRecord | None:
        """Take a queued job for `worker`: running, one more attempt, a new fencing token; None when it is not
        queued (cancelled, or claimed by another)."""
    def finish(self, job_id: str, fencing: int, state: str, now: datetime, *, report: dict[str, Any] | None,
               error: str) -> bool:
        """End a running job, only while `fencing` is still its token; whether it was ended."""
    def cancel(self, job_id: str, now: datetime) -> bool:
        """Cancel a queued job; whether it was queued."""
    def hold_claim(self, job_id: str, fencing: int) -> None:
        """Inside the caller's transaction: lock the job's row and raise ClaimLost unless it still runs under
        `fencing` (another worker took it over after this one's lease ran out)."""
    def set_progress(self, job_id: str, fencing: int, progress: dict[str, Any]) -> None:
        """How far the running job is, while `fencing` is still its token."""
    def note_report(self, job_id: str, fencing: int, report: dict[str, Any]) -> None:
        """Keep `report` with the running job (in the caller's transaction), while `fencing` is still its token."""
    def extend(self, job_id: str, fencing: int, now: datetime, lease_expires: datetime) -> bool:
        """A heartbeat: the lease runs on while `fencing` is still the job's; whether it was."""
    def expired(self, now: datetime) -> list[JobRecord]:
        """Running jobs whose lease ran out before `now` (their worker died or stalled)."""
    def requeue(self, job_id: str, fencing: int) -> bool:
        """Queue a running job whose lease ran out again, unless it was claimed or ended since."""
