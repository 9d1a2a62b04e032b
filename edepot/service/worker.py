"""The worker loop: Django's tasks API with its database backend takes the next queued task from the catalogue's
queue table (a row lock, skipping rows others hold, so two workers never take one task) and runs it
(`edepot.service.job_runner.run_job`)."""
from __future__ import annotations

import threading

from kernel.config import Config


def run_worker(config: Config, *, once: bool = False, interval: float = 1.0) -> int:
    """Do queued jobs of the data directory until stopped (SIGINT or SIGTERM end it after the running job), or
    with `once` until the queue is empty; returns how many tasks were run."""
    from preservation.catalogue_db.database import ensure_django, use_queue_of

    ensure_django()
    use_queue_of(config.catalogue_url)
    from django_tasks_db.management.commands.db_worker import Worker

    import edepot.service.job_runner  # noqa: F401  (the task must be importable by its path)
    from edepot.service.jobs import worker_name

    worker = Worker(queue_names=["default"], interval=interval, batch=once, backend_name="default",
                    startup_delay=False, max_tasks=None, worker_id=worker_name(), excluded_queue_names=[])
    reaper = _Reaper(config)
    reaper.reap()  # before the first task: jobs of a worker that died while none ran
    if not once:
        reaper.start()
    worker.configure_signals()
    try:
        worker.run()
    finally:
        worker.reset_signals()
        reaper.stop.set()
    return worker._run_tasks


class _Reaper(threading.Thread):
    """Queues again, every half lease, the jobs whose worker let their lease run out."""

    def __init__(self, config: Config) -> None:
        super().__init__(name="reaper", daemon=True)
        self.config = config
        self.stop = threading.Event()

    def reap(self) -> None:
        from django.db import connections

        from edepot.service import Depot

        try:
            with Depot(self.config, person=None) as depot:
                depot.reap()
        finally:
            connections.close_all()

    def run(self) -> None:
        while not self.stop.wait(self.config.job_lease_seconds / 2):
            self.reap()
