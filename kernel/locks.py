"""Locks under `<data>/locks/` that tell work that is running from the leftovers of work that was killed.

Each lock is a file held with `fcntl.flock`, taken without waiting. The kernel drops such a lock when the
process holding it ends in any way (kill -9 included), so a lock file that can be taken belongs to no one:

- a named lock (`aip-<id>.lock`, `record-<digest>.lock`): one holder at a time, e.g. one ingest per AIP;
- a work claim (`work-<hex>.lock`): its file lists, one JSON string a line after a JSON header, each staging
  path the work makes, written before the path is made. A claim someone else can take is dead work: what it
  lists is a leftover to remove (preservation/leftovers.py).

A holder removes its file when it lets go. Taking a lock checks, once it is held, that the file is still the one
at the path (another process may have removed it in between), and starts again if not.
"""
from __future__ import annotations

import fcntl
import json
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

CLAIM_PREFIX = "work-"
SUFFIX = ".lock"


@dataclass
class HeldLock:
    """A lock this process holds; `note` records a path of its work in the lock file."""

    path: Path
    fd: int

    def note(self, path: Path) -> None:
        """Record that this work makes `path` (call before making it)."""
        os.write(self.fd, (json.dumps(str(path)) + "\n").encode("utf-8", "surrogateescape"))
        os.fsync(self.fd)

    def release(self, *, remove: bool = True) -> None:
        """Remove the lock file (unless `remove` is false) and let go of the lock."""
        if self.fd < 0:
            return
        try:
            if remove:
                self.path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)
            self.fd = -1


@dataclass(frozen=True)
class LockInfo:
    """What a lock file says: who took it, for what, and the paths its work makes."""

    path: Path
    header: dict[str, Any]
    paths: tuple[Path, ...]

    @property
    def is_claim(self) -> bool:
        return self.path.name.startswith(CLAIM_PREFIX)

    def describe(self) -> str:
        """`<kind> (pid N, started T)`, for messages."""
        kind = self.header.get("kind") or self.path.name.removesuffix(SUFFIX)
        return f"{kind} (pid {self.header.get('pid', '?')}, started {self.header.get('started', '?')})"


def try_lock(path: Path, kind: str, started: str = "") -> HeldLock | None:
    """Take the lock at `path` without waiting, recording `kind`, this process and `started` in it; None when
    another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _take(path, create=True)
    if fd is None:
        return None
    os.ftruncate(fd, 0)
    header = {"kind": kind, "pid": os.getpid(), "started": started}
    os.write(fd, (json.dumps(header) + "\n").encode("utf-8"))
    return HeldLock(path, fd)


def take_if_dead(path: Path) -> HeldLock | None:
    """The lock at `path`, as it was left, when no process holds it (its work died); None while one does or when
    the file is gone. Read it with `read_lock`, clear what it lists, then `release` it."""
    fd = _take(path, create=False)
    return HeldLock(path, fd) if fd is not None else None


def claim_work(locks_dir: Path, kind: str, started: str = "") -> HeldLock:
    """A new work claim under `locks_dir`, held until released; `note` each staging path before making it."""
    while True:  # a cleaner may take a claim in the instant between its making and its locking: make another
        held = try_lock(locks_dir / f"{CLAIM_PREFIX}{uuid.uuid4().hex}{SUFFIX}", kind, started)
        if held is not None:
            return held


@contextmanager
def claimed_work(locks_dir: Path, kind: str, started: str = "") -> Iterator[HeldLock]:
    """`claim_work` for the length of a block."""
    held = claim_work(locks_dir, kind, started)
    try:
        yield held
    finally:
        held.release()


def read_lock(path: Path) -> LockInfo:
    """The header and paths a lock file holds (what can be read of it: a damaged line is passed over)."""
    header: dict[str, Any] = {}
    paths: list[Path] = []
    try:
        lines = path.read_bytes().decode("utf-8", "surrogateescape").splitlines()
    except OSError:
        lines = []
    for n, line in enumerate(lines):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if n == 0 and isinstance(value, dict):
            header = value
        elif isinstance(value, str):
            paths.append(Path(value))
    return LockInfo(path, header, tuple(paths))


def lock_files(locks_dir: Path) -> list[Path]:
    """Every lock file under `locks_dir`, claims and named locks."""
    if not locks_dir.is_dir():
        return []
    return sorted(p for p in locks_dir.iterdir() if p.name.endswith(SUFFIX) and p.is_file())


def _take(path: Path, *, create: bool) -> int | None:
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | (os.O_CREAT if create else 0), 0o644)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        if _still_at(path, fd):
            return fd
        os.close(fd)  # removed by its holder after we opened it: open what is there now
        if not create:
            return None


def _still_at(path: Path, fd: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False
