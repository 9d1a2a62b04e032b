"""The job register port (`preservation.job_register.JobRegister`) on the catalogue's Django models."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Collection

from preservation.job_register import CANCELLED, QUEUED, RUNNING, ClaimLost, JobRecord

JOB_FIELDS = ("job_id", "kind", "arguments", "state", "enqueued_by", "organisation", "created", "progress", "report",
           "error", "attempts", "fencing", "worker", "lease_expires", "heartbeat", "task_id", "started", "finished", "verified")


class DjangoJobRegister:
    """Jobs in the catalogue behind a Django database alias."""

    def __init__(self, alias: str) -> None:
        self._alias = alias

    def _rows(self) -> Any:
        from preservation.catalogue_db.models import Job

        return Job.objects.using(self._alias)

    def add(self, job: JobRecord) -> None:
        """Record a new job."""
        self._rows().create(**{name: getattr(job, name) for name in JOB_FIELDS})

    def job(self, job_id: str) -> JobRecord | None:
        """The job, or None."""
        row = self._rows().filter(job_id=job_id).values_list(*JOB_FIELDS).first()
        return JobRecord(*row) if row else None

    def jobs(self, state: str | None = None) -> list[JobRecord]:
        """Every job (in one state), newest first."""
        rows = self._rows().order_by("-created", "job_id")
        if state:
            rows = rows.filter(state=state)
        return [JobRecord(*row) for row in rows.values_list(*JOB_FIELDS)]

    def followed(self, *, organisations: Collection[str] | None, queued_by: str, limit: int,
                 after: tuple[datetime, str] | None = None) -> list[JobRecord]:
        """Jobs of those organisations and those `queued_by` that person, newest first, a page after `after`."""
        from django.db.models import Q

        rows = self._rows()
        if organisations is not None:
            rows = rows.filter(Q(organisation__in=sorted(organisations))
                               | Q(enqueued_by__iexact=" ".join(queued_by.split())))
        if after is not None:
            rows = rows.filter(Q(created__lt=after[0]) | Q(created=after[0], job_id__gt=after[1]))
        return [JobRecord(*row) for row in rows.order_by("-created", "job_id").values_list(*JOB_FIELDS)[:limit]]

    def set_organisation(self, job_id: str, organisation: str) -> None:
        """The organisation whose records the job works on, once it is known."""
        self._rows().filter(job_id=job_id).update(organisation=organisation)

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

    def hold_claim(self, job_id: str, fencing: int) -> None:
        """Lock the job's row in the caller's transaction; ClaimLost unless it still runs under `fencing`."""
        held = self._rows().select_for_update().filter(job_id=job_id, state=RUNNING, fencing=fencing).exists()
        if not held:
            raise ClaimLost(f"job {job_id} was taken over by another worker")

    def set_progress(self, job_id: str, fencing: int, progress: dict[str, Any]) -> None:
        """How far the running job is, while `fencing` is still its token."""
        self._rows().filter(job_id=job_id, state=RUNNING, fencing=fencing).update(progress=progress)

    def note_report(self, job_id: str, fencing: int, report: dict[str, Any]) -> None:
        """Keep `report` with the running job, while `fencing` is still its token."""
        self._rows().filter(job_id=job_id, state=RUNNING, fencing=fencing).update(report=report)

    def extend(self, job_id: str, fencing: int, now: datetime, lease_expires: datetime) -> bool:
        """A heartbeat, while `fencing` is still the job's."""
        return bool(self._rows().filter(job_id=job_id, state=RUNNING, fencing=fencing).update(
            heartbeat=now, lease_expires=lease_expires))

    def expired(self, now: datetime) -> list[JobRecord]:
        """Running jobs whose lease ran out before `now`."""
        rows = self._rows().filter(state=RUNNING, lease_expires__lt=now).order_by("created")
        return [JobRecord(*row) for row in rows.values_list(*JOB_FIELDS)]

    def requeue(self, job_id: str, fencing: int) -> bool:
        """Queue an expired running job again, unless it was claimed or ended since."""
        return bool(self._rows().filter(job_id=job_id, state=RUNNING, fencing=fencing).update(
            state=QUEUED, worker="", lease_expires=None))
