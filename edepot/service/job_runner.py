"""The task the job queue runs (Django's tasks API): one job of one data directory, done by the Depot service as
the person who queued it. Imported only once Django is set up (`ensure_django`)."""
from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

from django_tasks import task

from kernel.errors import InputError

if TYPE_CHECKING:
    from edepot.service import Depot
    from preservation.job_register import Fencing, JobRecord


@task()
def run_job(data_dir: str, job_id: str) -> str:
    """Do the job `job_id` of the data directory at `data_dir`; returns the state it ended in ("skipped" when it
    was no longer queued: cancelled, or done by another worker)."""
    from edepot.service import Depot
    from edepot.service.jobs import intake_folder, worker_name
    from edepot.service.person import acting_person
    from kernel.config import load_config
    from preservation.job_register import DONE

    config = load_config(data_dir)
    with Depot(config, person=None) as lookup:
        job = lookup.store.jobs.job(job_id)
    if job is None:
        return "skipped"
    with Depot(config, person=acting_person(config, job.enqueued_by), vouched=job.verified) as depot:
        ended = depot.run(job_id, worker=worker_name(), work=lambda claimed, fencing: do(depot, claimed, fencing))
    if ended is not None and ended.state == DONE:  # what was copied in for it is kept for a retry until then
        shutil.rmtree(intake_folder(config, job_id), ignore_errors=True)
    return ended.state if ended else "skipped"


def do(depot: Depot, job: JobRecord, fencing: Fencing) -> dict[str, Any]:
    """The work of one job, by its kind (edepot/service/job_kinds.py), under its claim's `fencing`; its report."""
    from edepot.service.job_kinds import KINDS

    kind = KINDS.get(job.kind)
    if kind is None:
        raise InputError(f"a job of kind {job.kind!r} is not one this edepot does")
    return kind.do(depot, job, fencing)
