"""Leftovers of interrupted work: the staging a killed command left behind, told apart from live work and removed.

edepot stages work in `<data>/staging/` (ingest, SIP validation), in `.incoming/` of each storage location and of
the quarantine (copies before their rename), and beside a DIP being made (`.<name>.<hex>.partial`, which holds
the unredacted originals). Every run claims its staging in `<data>/locks/` before making it (kernel/locks.py), and
the claim dies with the process. So an entry is a leftover when no live claim covers it: listed by a claim whose
process is gone, or lying in a staging area with no claim at all (left by a run of an edepot without claims).

A path a dead claim lists is removed only when it lies in a staging area or has a staging name
(kernel.atomic.is_temporary_name): never anything else, whatever the claim file says.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernel.atomic import is_temporary_name
from kernel.config import Config
from kernel.locks import HeldLock, LockInfo, lock_files, read_lock, take_if_dead

REMOVED = "removed"
WOULD_REMOVE = "would be removed"
IN_USE = "in use"  # the work is running: left alone
NOT_REMOVED = "not removed"


@dataclass(frozen=True)
class Leftover:
    """One piece of staging found: where, what made it, and what was done with it."""

    path: Path
    origin: str  # "ingest (pid 12, started …)", or "no claim"
    state: str  # REMOVED, WOULD_REMOVE, IN_USE or NOT_REMOVED
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "origin": self.origin, "state": self.state, "note": self.note}


def staging_areas(config: Config) -> list[Path]:
    """The folders edepot stages work in, under the data directory and in each storage location."""
    return [config.staging_dir, config.quarantine_dir / ".incoming",
            *(root / ".incoming" for root in config.storage_locations)]


def clear_leftovers(config: Config, *, kinds: Collection[str] = (), dry_run: bool = False) -> list[Leftover]:
    """Remove the leftovers of interrupted work (only list them with `dry_run`); returns every entry found, live
    work included (state IN_USE, left alone).

    With `kinds` (e.g. {"ingest"}), only the claims of work of those kinds, with what they list: what the next
    run of a command clears of its own. Without, everything: claims and named locks of every kind, and staging no
    claim covers (`edepot doctor`).
    """
    areas = staging_areas(config)
    # listed before the claims are read: whatever is made after this has its claim there already
    unclaimed = [] if kinds else [entry for area in areas if area.is_dir() for entry in sorted(area.iterdir())]
    found: list[Leftover] = []
    live: list[LockInfo] = []
    dead: list[tuple[HeldLock, LockInfo]] = []
    for path in lock_files(config.locks_dir):
        info = read_lock(path)
        if kinds and not (info.is_claim and info.header.get("kind") in kinds):
            continue  # not even taken for a moment: a run about to take that lock would find it busy
        held = take_if_dead(path)
        if held is None:
            live.append(info)
        else:
            dead.append((held, read_lock(path)))
    for held, info in dead:
        found += [_remove(path, f"{info.describe()}, ended without finishing", areas, dry_run)
                  for path in info.paths if os.path.lexists(path)]
        if not info.is_claim:
            found.append(Leftover(info.path, info.describe(), WOULD_REMOVE if dry_run else REMOVED,
                                  "a lock no process holds"))
        held.release(remove=not dry_run)
    for info in live:
        found += [Leftover(path, info.describe(), IN_USE) for path in info.paths if os.path.lexists(path)]
    listed = {p for _held, info in dead for p in info.paths} | {p for info in live for p in info.paths}
    found += [_remove(entry, "no claim", areas, dry_run) for entry in unclaimed
              if entry not in listed and os.path.lexists(entry)]
    return found


def _remove(path: Path, origin: str, areas: list[Path], dry_run: bool) -> Leftover:
    if not _in_staging(path, areas) and not is_temporary_name(path.name):
        return Leftover(path, origin, NOT_REMOVED, "not a staging path: left for an administrator")
    if dry_run:
        return Leftover(path, origin, WOULD_REMOVE)
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as error:
        return Leftover(path, origin, NOT_REMOVED, f"{error.strerror or error}")
    return Leftover(path, origin, REMOVED)


def _in_staging(path: Path, areas: list[Path]) -> bool:
    normal = Path(os.path.normpath(path))
    return any(normal != area and normal.is_relative_to(area) for area in areas)
