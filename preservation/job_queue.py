"""The job queue port: jobs put in a queue in the catalogue, and a worker loop that takes them one at a time.

The queue is Django's tasks API with its database backend (`preservation.catalogue_db.job_queue`); the tasks
themselves and what they do are the Depot service's (`edepot.service.job_runner`).
"""
from __future__ import annotations

from typing import Any, Callable


def enqueue(catalogue_url: str, task: Any, *args: str, first: bool = False) -> str:
    """Put `task` (a task of Django's tasks API) with its arguments in the queue of the catalogue at
    `catalogue_url`, in the caller's transaction (`first`: before everything queued without it); returns the
    queue entry's id."""
    from preservation.catalogue_db.job_queue import enqueue as enqueue_task

    return enqueue_task(catalogue_url, task, *args, first=first)


def work(catalogue_url: str, *, tasks_module: str, once: bool, interval: float, worker_id: str,
         reap: Callable[[], None], reap_every: float) -> int:
    """Take and run queued tasks (defined in `tasks_module`) until stopped (SIGINT or SIGTERM end it after the
    running task), or with `once` until the queue is empty; `reap` runs first and every `reap_every` seconds
    beside it. Returns how many tasks were run."""
    from preservation.catalogue_db.job_queue import work as work_queue

    return work_queue(catalogue_url, tasks_module=tasks_module, once=once, interval=interval, worker_id=worker_id,
                      reap=reap, reap_every=reap_every)


def name_connections(name: str) -> None:
    """Name the catalogue connections this process opens from now on (PostgreSQL's `application_name`), so that
    the server's list of sessions tells whose each is: the reaper ends a stalled worker's sessions by it."""
    from preservation.catalogue_db.database import name_connections as name_them

    name_them(name)
