"""Access: time-limited delivery: DIPs past their `--expires` day are removed, and the removal logged.

A DIP delivered with an expiry may be used up to and including that day; `edepot dip purge` (run it
daily, e.g. beside the nightly fixity run) deletes the folder of every DIP whose day has passed and
records it in the access log, naming the person who purged it. A folder is only deleted when its dip.json names that same DIP, so a
moved or reused path is never emptied by mistake (it is then logged as gone, and left alone).

Destruction of a record (retention) withdraws every delivered DIP holding it (`preservation.destruction`), so
no delivered copy of a destroyed record stays behind in the DIP area.

A DIP is made in a hidden `.<name>.<hex>.partial` folder beside its place, claimed in `<data>/locks/` while it
is made (kernel/locks.py); `clear_dip_leftovers` removes those of runs that were killed (they hold unredacted
originals), and the next `dip create`, `dip purge` and `edepot doctor` call it.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kernel.config import Config
from preservation.access_register import AccessRegister, DipEntry, DipState
from preservation.leftovers import Leftover, clear_leftovers

DIP_WORK = "dip create"  # the kind of a DIP's claim on its staging


@dataclass(frozen=True)
class Removal:
    dip_id: str
    path: str
    expires: date | None
    removed: bool  # False: the folder was already gone or is not this DIP (then left untouched)
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {"dip_id": self.dip_id, "path": self.path,
                "expires": self.expires.isoformat() if self.expires else None, "removed": self.removed,
                "note": self.note}


def purge_expired(config: Config, register: AccessRegister, *, by: str, on: date | None = None) -> list[Removal]:
    """Remove every delivered DIP whose expiry day lies before `on` (default: today), logged as done by `by`;
    returns what was done."""
    today = on or config.clock().date()
    removals = []
    for entry in register.dips(DipState.DELIVERED):
        if entry.expires is None or entry.expires >= today:
            continue
        removal = _remove(entry, f"expired after {entry.expires.isoformat()}")
        register.mark_removed(entry, DipState.PURGED, config.clock(), by, removal.note)
        removals.append(removal)
    return removals


def clear_dip_leftovers(config: Config) -> list[Leftover]:
    """Remove the staging folders of DIPs whose making was killed; returns what was found (live ones left alone)."""
    return clear_leftovers(config, kinds={DIP_WORK})


def _remove(entry: DipEntry, why: str) -> Removal:
    folder = Path(entry.path)
    if not folder.exists():
        return Removal(entry.dip_id, entry.path, entry.expires, False, f"{why}; the folder was already gone")
    try:
        named = json.loads((folder / "dip.json").read_text(encoding="utf-8")).get("dip_id")
    except (OSError, ValueError):
        named = None
    if named != entry.dip_id:
        return Removal(entry.dip_id, entry.path, entry.expires, False,
                       f"{why}; {folder} does not hold this DIP any more and was left untouched")
    shutil.rmtree(folder)
    return Removal(entry.dip_id, entry.path, entry.expires, True, f"{why}; folder removed")
