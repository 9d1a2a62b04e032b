"""A worker: takes the queued jobs of one data directory and does them (`edepot.service.job_runner`), queueing
again, every half lease (every two seconds at most), the jobs whose worker died or let their lease run out."""
from __future__ import annotations

from kernel.config import Config
from preservation.job_queue import work


def run_worker(config: Config, *, once: bool = False, interval: float = 1.0) -> int:
    """Do queued jobs of the data directory until stopped (SIGINT or SIGTERM end it after the running job), or
    with `once` until the queue is empty; returns how many jobs were taken."""
    from edepot.service.jobs import worker_name
    from preservation.job_queue import name_connections
    from preservation.work_locks import worker_holder

    name_connections(worker_holder(worker_name()))  # before the first connection: the reaper ends them by it

    def reap() -> None:
        from edepot.service import Depot

        with Depot(config, person=None) as depot:
            depot.reap()
            depot.expire_uploads()

    return work(config.catalogue_url, tasks_module="edepot.service.job_runner", once=once, interval=interval,
                worker_id=worker_name(), reap=reap,
                reap_every=min(config.job_lease_seconds / 2, 2.0))
