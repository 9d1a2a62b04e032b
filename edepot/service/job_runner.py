"""The task the job queue runs (Django's tasks API): one job of one data directory, done by the Depot service as
the person who queued it. Imported only once Django is set up (`ensure_django`)."""
from __future__ import annotations

from django_tasks import task


@task()
def run_job(data_dir: str, job_id: str) -> str:
    """Do the job `job_id` of the data directory at `data_dir`; returns the state it ended in ("skipped" when it
    was no longer queued: cancelled, or done by another worker)."""
    from edepot.service import Depot
    from edepot.service.jobs import worker_name
    from edepot.service.person import acting_person
    from kernel.config import load_config

    config = load_config(data_dir)
    with Depot(config, person=None) as lookup:
        job = lookup.store.jobs.job(job_id)
    if job is None:
        return "skipped"
    with Depot(config, person=acting_person(config, job.enqueued_by)) as depot:
        ended = depot.run(job_id, worker=worker_name())
    return ended.state if ended else "skipped"
