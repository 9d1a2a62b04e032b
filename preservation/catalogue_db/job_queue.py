"""The job queue (`preservation.job_queue`) on Django's tasks API with its database backend: the queue table is
in the catalogue; a worker takes the next task under a row lock that other workers skip."""
from __future__ import annotations

import importlib
import threading
from typing import Any, Callable

from preservation.catalogue_db.database import ensure_django, use_queue_of


def enqueue(catalogue_url: str, task: Any, *args: str, first: bool = False) -> str:
    """Put `task` with its arguments in the queue of the catalogue at `catalogue_url` (`first`: at a higher
    priority than the default); the entry's id."""
    use_queue_of(catalogue_url)
    return str((task.using(priority=50) if first else task).enqueue(*args).id)


def work(catalogue_url: str, *, tasks_module: str, once: bool, interval: float, worker_id: str,
         reap: Callable[[], None], reap_every: float) -> int:
    """Run queued tasks until stopped, or with `once` until the queue is empty; `reap` first and then every
    `reap_every` seconds in a thread of its own. Returns how many tasks were run."""
    ensure_django()
    use_queue_of(catalogue_url)
    importlib.import_module(tasks_module)  # a task is run by its path: its module must be importable
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(queue_names=["default"], interval=interval, batch=once, backend_name="default",
                    startup_delay=False, max_tasks=None, worker_id=worker_id, excluded_queue_names=[])
    stop = threading.Event()
    reap()  # before the first task: the jobs of a worker that died while none ran
    if not once:
        threading.Thread(target=_every, args=(reap, reap_every, stop), name="reaper", daemon=True).start()
    worker.configure_signals()
    try:
        worker.run()
    finally:
        worker.reset_signals()
        stop.set()
    return worker._run_tasks


def _every(action: Callable[[], None], seconds: float, stop: threading.Event) -> None:
    from django.db import connections

    while not stop.wait(seconds):
        try:
            action()
        finally:
            connections.close_all()  # this thread's connections only
