"""Named locks that keep two runs off one AIP or one record (`aip-<id>`, `record-<digest>`), on one machine or many.

- With a SQLite catalogue (one machine): lock files under `<data>/locks/` held with `flock` (kernel/locks.py); the
  kernel lets go of them when the holder's process ends in any way.
- With a PostgreSQL catalogue (workers on several machines): session advisory locks on a connection of their own
  (`preservation.catalogue_db.advisory_locks`); the server lets go when that connection ends. A worker names the
  connection after its job's claim, so the reaper that queues a stalled worker's job again first ends that
  connection (`end_holder`): its replacement can take the locks, and the stalled worker, once it wakes, finds its
  claim gone at the next fencing check.
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Protocol, Sequence

from kernel.config import Config
from kernel.locks import HeldLock, read_lock, try_lock

__all__ = ["Held", "WorkLocks", "aip_lock", "end_holders", "holder_name", "holding", "open_work_locks",
           "record_lock", "sessions_gone", "worker_holder"]


class Held(Protocol):
    """A lock held until released."""

    def release(self) -> None:
        """Let go of the lock (twice is harmless)."""


class WorkLocks(Protocol):
    """Where one run takes its named locks; closing it lets go of every lock it still holds."""

    def try_hold(self, name: str, *, kind: str, started: str) -> Held | None:
        """Take the lock `name` without waiting, as `kind` since `started`; None when another holds it."""

    def holder(self, name: str) -> str:
        """Who holds the lock `name` now, for a message ("nobody" when it was let go in between)."""

    def close(self) -> None:
        """Let go of every lock still held."""


class FileLocks:
    """Lock files under `<data>/locks/` (kernel/locks.py): one machine."""

    def __init__(self, locks_dir: Path) -> None:
        self._dir = locks_dir
        self._held: list[HeldLock] = []

    def try_hold(self, name: str, *, kind: str, started: str) -> Held | None:
        held = try_lock(self._dir / f"{name}.lock", kind, started)
        if held is not None:
            self._held.append(held)
        return held

    def holder(self, name: str) -> str:
        return read_lock(self._dir / f"{name}.lock").describe()

    def close(self) -> None:
        for held in reversed(self._held):
            held.release()
        self._held.clear()


def aip_lock(aip_id: str) -> str:
    """The name of the lock on one AIP (its ingest, fixity, destruction)."""
    return f"aip-{aip_id}"


def record_lock(record_id: str) -> str:
    """The name of the lock on one record (its kenmerk may be any text: the name holds its digest)."""
    return f"record-{hashlib.sha256(record_id.encode()).hexdigest()[:32]}"


@contextmanager
def holding(locks: WorkLocks, names: Sequence[str], *, kind: str, started: str) -> Iterator[str | None]:
    """Hold every lock of `names` for the block, taken without waiting; yields None when all were taken, else
    who holds the first that was not (and then none is held)."""
    held: list[Held] = []
    busy = None
    try:
        for name in names:
            taken = locks.try_hold(name, kind=kind, started=started)
            if taken is None:
                busy = locks.holder(name)
                break
            held.append(taken)
        if busy is not None:
            for lock in reversed(held):
                lock.release()
            held.clear()
        yield busy
    finally:
        for lock in reversed(held):
            lock.release()


def holder_name(job_id: str, fencing: int) -> str:
    """The name a job's locks are held under while `fencing` is its claim (what `end_holder` is given)."""
    return f"edepot job {job_id} #{fencing}"


def worker_holder(worker: str) -> str:
    """The name a worker process's own catalogue connections go by (`preservation.catalogue_db.database`)."""
    return f"edepot worker {worker}"


def open_work_locks(config: Config, *, holder: str = "edepot ingest") -> WorkLocks:
    """The locks of one run on the data directory's catalogue, held under the name `holder` (on PostgreSQL the
    connection's application name, which `end_holder` finds); close them when the run ends."""
    from preservation.catalogue_db.database import is_postgres

    if is_postgres(config.catalogue_url):
        from preservation.catalogue_db.advisory_locks import AdvisoryLocks

        return AdvisoryLocks(config.catalogue_url, holder=holder)
    return FileLocks(config.locks_dir)


def end_holders(config: Config, *holders: str) -> int:
    """End the sessions going by one of the names `holders` (a stalled worker's locks and connections), so its
    locks and row locks are free for another and it can commit nothing more once it wakes; how many were ended.
    Nothing to do on one machine: a stalled process keeps its lock files, and a replacement is refused with the
    holder named until it ends."""
    from preservation.catalogue_db.database import is_postgres

    if not is_postgres(config.catalogue_url):
        return 0
    from preservation.catalogue_db.advisory_locks import end_sessions

    return end_sessions(config.catalogue_url, holders)


def sessions_gone(config: Config, holders: Sequence[str]) -> set[str]:
    """Of the names `holders`, those under which no session is open now (on PostgreSQL: a job's locks session
    gone means its worker died); nothing on one machine, where that cannot be seen."""
    from preservation.catalogue_db.database import is_postgres

    if not holders or not is_postgres(config.catalogue_url):
        return set()
    from preservation.catalogue_db.advisory_locks import open_sessions

    return set(holders) - open_sessions(config.catalogue_url, holders)
