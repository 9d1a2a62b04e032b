"""Archival Storage: the places AIPs are kept. One small seam: local directories now, object stores later.

A location holds each AIP as a BagIt folder at `<root>/<id[0:2]>/<id>/`. Every write goes through a
staging folder inside the location (same file system), is fsynced, and appears with one rename, so a
crash leaves either no AIP or the whole AIP (OAIS Archival Storage: "Receive Data", "Replace Media").
"""
from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol

from kernel.atomic import copy_file_atomic, copy_tree_durably, fsync_dir, publish_directory
from kernel.config import Config
from kernel.errors import StorageFailure


class StorageLocation(Protocol):
    """What the rest of edepot needs of a place that keeps AIPs."""

    name: str

    def store_bag(self, staged_bag: Path, aip_id: str) -> Path:
        """Copy a finished bag in under `aip_id`, atomically; replaces a leftover of an interrupted run."""

    def open_incoming(self, aip_id: str, announce: Callable[[Path], None] = lambda _path: None) -> Path:
        """A new private folder on this location in which a bag of `aip_id` is assembled before `publish_bag`;
        `announce` is told its path before it is made (to claim it, kernel/locks.py)."""

    def publish_bag(self, incoming: Path, aip_id: str) -> Path:
        """Make the bag assembled in `incoming` (every file of it fsynced when written) the AIP's bag with one
        rename; returns where it is."""

    def bag_path(self, aip_id: str) -> Path:
        """Where the AIP's bag root is (whether or not it exists)."""

    def aip_ids(self) -> Iterator[str]:
        """Every AIP identifier that has a bag here."""

    def replace_file(self, aip_id: str, relative: str, good_copy: Path) -> None:
        """Put a verified copy of one file of an AIP in place, atomically."""

    def quarantine_file(self, aip_id: str, relative: str, quarantine_root: Path) -> Path:
        """Move a file that does not belong to an AIP out of it; returns where it went."""


@dataclass(frozen=True)
class LocalDirectoryLocation:
    """An AIP store on a local or mounted file system."""

    root: Path
    name: str

    def bag_path(self, aip_id: str) -> Path:
        return self.root / aip_id[:2] / aip_id

    def store_bag(self, staged_bag: Path, aip_id: str) -> Path:
        incoming = self.open_incoming(aip_id)
        copy_tree_durably(staged_bag, incoming)
        return self.publish_bag(incoming, aip_id)

    def open_incoming(self, aip_id: str, announce: Callable[[Path], None] = lambda _path: None) -> Path:
        incoming_root = self.root / ".incoming"
        incoming_root.mkdir(parents=True, exist_ok=True)
        for stale in incoming_root.glob(f"{aip_id}.*"):  # left by an interrupted ingest of the same AIP
            shutil.rmtree(stale, ignore_errors=True)
        incoming = incoming_root / f"{aip_id}.{uuid.uuid4().hex}"
        announce(incoming)
        incoming.mkdir()
        return incoming

    def publish_bag(self, incoming: Path, aip_id: str) -> Path:
        target = self.bag_path(aip_id)
        if target.exists():
            # A leftover of an interrupted ingest of the same AIP (not yet in the catalogue): swap it out.
            trash = self.root / ".incoming" / f"stale-{uuid.uuid4().hex}"
            target.rename(trash)
            fsync_dir(target.parent)
            shutil.rmtree(trash)
        publish_directory(incoming, target, files_durable=True)
        return target

    def aip_ids(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for shard in sorted(self.root.iterdir()):
            if shard.name.startswith(".") or not shard.is_dir():
                continue
            for bag in sorted(shard.iterdir()):
                if bag.is_dir() and (bag / "bagit.txt").is_file():
                    yield bag.name

    def replace_file(self, aip_id: str, relative: str, good_copy: Path) -> None:
        copy_file_atomic(good_copy, self.bag_path(aip_id) / relative)

    def quarantine_file(self, aip_id: str, relative: str, quarantine_root: Path) -> Path:
        source = self.bag_path(aip_id) / relative
        # A folder per move keeps the file's own name (which may be as long as a name can be) and apart from
        # an earlier one of the same name.
        target = quarantine_root / self.name / aip_id / uuid.uuid4().hex[:8] / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(target))
        fsync_dir(source.parent)
        return target


def open_locations(roots: tuple[Path, ...]) -> list[LocalDirectoryLocation]:
    """The configured storage locations, named location-1, location-2, ... in configuration order."""
    return [LocalDirectoryLocation(root=root, name=f"location-{i}") for i, root in enumerate(roots, start=1)]


def storage_failure(error: OSError, config: Config, *, unnamed: str = "") -> StorageFailure:
    """The StorageFailure (E500, exit 3) an OS error of a full, read-only or failing file system amounts to, naming
    the storage location (its configured name and root) or the data directory the failed path lies in, else the
    path itself, else `unnamed` (what was being written when the error names no path).

    A copy names its source and its target; the target is judged first, since writing is what fails on a full
    or read-only file system.
    """
    places = [(f"storage location {location.name} ({location.root})", location.root)
              for location in open_locations(config.storage_locations)]
    places.append((f"the data directory ({config.data_dir})", config.data_dir))
    paths = [Path(os.path.abspath(p)) for p in (error.filename2, error.filename) if isinstance(p, (str, Path))]
    where = next((name for path in paths for name, root in places if path.is_relative_to(root)), "")
    where = where or (str(paths[0]) if paths else unnamed or "a file system edepot writes to")
    return StorageFailure(f"{where} failed: {error.strerror or error}", location=where,
                          hint="nothing half-written was kept; run the command again once it has room or is writable")
