"""The job register port (`preservation.job_register.JobRegister`) on the catalogue's Django models."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from preservation.job_register import CANCELLED, QUEUED, RUNNING, JobRecord

_FIELDS = ("job_id", "kind", "arguments", "state", "enqueued_by", "organisation", "created", "progress", "report",
           "error", "attempts", "fencing", "worker", "lease_expires", "heartbeat", "task_id", "started", "finished")


class DjangoJobRegister:
    """Jobs in the catalogue behind a Django database alias."""

    def __init__(self, alias: str) -> None:
        self._alias = alias

    def _rows(self) -> Any:
        from preservation.catalogue_db.models import Job

        return Job.objects.using(self._alias)

    def add(self, job: JobRecord) -> None:
        """Record a new job."""
        self._rows().create(**{name: getattr(job, name) for name in _FIELDS})

    def job(self, job_id: str) -> JobRecord | None:
        """The job, or None."""
        row = self._rows().filter(job_id=job_id).values_list(*_FIELDS).first()
        return JobRecord(*row) if row else None

    def jobs(self, state: str | None = None) -> list[JobRecord]:
        """Every job (in one state), newest first."""
        rows = self._rows().order_by("-created", "job_id")
        if state:
            rows = rows.filter(state=state)
        return [JobRecord(*row) for row in rows.values_list(*_FIELDS)]

    def set_task(self, job_id: str, task_id: str, state: str) -> None:
        """The queue entry that runs the job now, and its state."""
        self._rows().filter(job_id=job_id).update(task_id=task_id, state=state)

    def claim(self, job_id: str, worker: str, now: datetime, lease_expires: datetime) -> JobRecord | None:
        """Take a queued job for `worker` with a new fencing token; None when it is not queued."""
        from django.db import transaction
        from django.db.models import F

        with transaction.atomic(using=self._alias):
            taken = self._rows().filter(job_id=job_id, state=QUEUED).update(
                state=RUNNING, worker=worker, started=now, heartbeat=now, lease_expires=lease_expires,
                attempts=F("attempts") + 1, fencing=F("fencing") + 1)
            return self.job(job_id) if taken else None

    def finish(self, job_id: str, fencing: int, state: str, now: datetime, *, report: dict[str, Any] | None,
               error: str) -> bool:
        """End a running job, only while `fencing` is still its token."""
        return bool(self._rows().filter(job_id=job_id, state=RUNNING, fencing=fencing).update(
            state=state, finished=now, report=report, error=error, lease_expires=None))

    def cancel(self, job_id: str, now: datetime) -> bool:
        """Cancel a queued job; whether it was queued."""
        return bool(self._rows().filter(job_id=job_id, state=QUEUED).update(state=CANCELLED, finished=now))
