"""Named locks as PostgreSQL session advisory locks (`preservation.work_locks` on a PostgreSQL catalogue).

Each run holds its locks on a connection of its own, named after the holder (its `application_name`), so the
server lets go of them when the run's process dies, and the reaper can end the connection of a run that stalled
past its lease (`end_sessions`). A lock's key is the first 8 bytes of the SHA-256 of its name.
"""
from __future__ import annotations

import hashlib
from typing import Any, Sequence

_HOLDER_QUERY = """
    SELECT a.application_name, a.pid, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"""


def lock_key(name: str) -> int:
    """The advisory lock key (a signed 64-bit number) of a lock's name."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


class _AdvisoryHeld:
    def __init__(self, locks: AdvisoryLocks, key: int) -> None:
        self._locks, self._key = locks, key

    def release(self) -> None:
        self._locks.release(self._key)


class AdvisoryLocks:
    """The locks of one run, on one connection to the catalogue's database named `holder`."""

    def __init__(self, url: str, *, holder: str) -> None:
        import psycopg

        self._connection: Any = psycopg.connect(url, autocommit=True, application_name=holder[:63])
        self._held: set[int] = set()

    def try_hold(self, name: str, *, kind: str, started: str) -> _AdvisoryHeld | None:
        key = lock_key(name)
        taken = self._connection.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]
        if not taken:
            return None
        self._held.add(key)
        return _AdvisoryHeld(self, key)

    def release(self, key: int) -> None:
        """Let go of the lock with `key`, when still held (a connection ended by the reaper holds nothing)."""
        if key in self._held:
            self._held.discard(key)
            if not self._connection.closed:
                try:
                    self._connection.execute("SELECT pg_advisory_unlock(%s)", (key,))
                except Exception:  # the connection was ended under us: the server let go already
                    self._connection.close()

    def holder(self, name: str) -> str:
        key = lock_key(name)
        row = self._connection.execute(_HOLDER_QUERY, ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF)).fetchone()
        if row is None:
            return "nobody (let go just now)"
        application, pid, since = row
        return f"{application or 'a session'} (server process {pid}, connected {since.isoformat(timespec='seconds')})"

    def close(self) -> None:
        self._held.clear()
        self._connection.close()


def end_sessions(url: str, holders: Sequence[str]) -> int:
    """End every connection to the catalogue's database whose name is one of `holders`; how many."""
    import psycopg

    with psycopg.connect(url, autocommit=True, application_name="edepot reaper") as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ANY(%s)"
            " AND datname = current_database() AND pid <> pg_backend_pid()", ([h[:63] for h in holders],)).fetchall()
    return sum(1 for (ended,) in rows if ended)


def open_sessions(url: str, holders: Sequence[str]) -> set[str]:
    """Which of the names `holders` have a connection open to the catalogue's database now."""
    import psycopg

    wanted = {h[:63]: h for h in holders}
    with psycopg.connect(url, autocommit=True, application_name="edepot reaper") as connection:
        rows = connection.execute("SELECT DISTINCT application_name FROM pg_stat_activity WHERE "
                                  "application_name = ANY(%s) AND datname = current_database()",
                                  (list(wanted),)).fetchall()
    return {wanted[name] for (name,) in rows}
