"""Writing an AIP to every storage location while ingest still works on it (OAIS Archival Storage, "Receive Data").

As soon as the virus check has passed, the files that are final already (the originals, the SIP's metadata and
the export's unpacked members: the bulk of the bytes) are copied into a private incoming folder on every
location, in the background, while identification, validation, normalisation and rendering keep the processor
busy. `finish` copies what came after (preservation copies, metadata, PREMIS, tag files), reads every copy back
and checks it against the sealed digests, puts each location's file system on disk (one syncfs, not an fsync per
file: kernel/atomic.py) and only then makes each bag visible with one rename.
A failure leaves nothing visible and removes the incoming folders; a crash leaves only incoming folders, which
the next ingest of the same AIP removes (preservation/storage.py).

The first location on the staging folder's file system takes the staged files as hard links instead of copies
(flushed and read back all the same; every other location gets copies of its own, so no two replicas share a
file). Removing the staging folder then frees no disk blocks: on a file system mounted with `discard`, freeing
the blocks of ten thousand files that reached the disk costs the device a trim each, seconds in all.
"""
from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

from kernel.atomic import COPY_THREADS, flush_file_system
from kernel.errors import InvalidPackage
from kernel.hashing import digest_file
from preservation.aip import AipBuilder, SealedFile
from preservation.storage import StorageLocation

T = TypeVar("T")


class Replication:
    """The copies of one AIP on its way to every storage location."""

    def __init__(self, aip: AipBuilder, locations: Sequence[StorageLocation], aip_id: str,
                 announce: Callable[[Path], None] = lambda _path: None) -> None:
        """`announce` is told each incoming folder's path before it is made (to claim it, kernel/locks.py)."""
        self.aip = aip
        self.locations = list(locations)
        self.aip_id = aip_id
        self.incoming = {location.id: location.open_incoming(aip_id, announce) for location in self.locations}
        self._pool = ThreadPoolExecutor(max_workers=COPY_THREADS)
        self._copies: dict[tuple[str, str], Future[str]] = {}  # (location, AIP path) → sha256 of the copy
        self._published = False
        self._linking = _sharing_file_system(aip.root, [(loc.id, self.incoming[loc.id]) for loc in self.locations])

    def send(self, relatives: Iterable[str]) -> None:
        """Start copying these files of the AIP (paths as in the bag) to every location, if not sent yet."""
        for relative in relatives:
            for location in self.locations:
                if (location.id, relative) not in self._copies:
                    target = self.incoming[location.id] / relative
                    self._copies[(location.id, relative)] = self._pool.submit(
                        _copy, self.aip.path(relative), target, link=location.id == self._linking)

    def finish(self, sealed: Sequence[SealedFile]) -> list[Path | str]:
        """Send what is left of the sealed bag, verify every copy against its sha256 and publish each bag;
        returns the bags in location order. Raises InvalidPackage, publishing nothing, when a copy is bad."""
        self.send(f.path for f in sealed)
        wanted = {f.path for f in sealed}
        for location in self.locations:
            bad = [f.path for f in sealed if not self._verified(location, f)]
            if bad:
                raise InvalidPackage(f"the copy in {location.name} does not verify", bad)
            for (name, relative), _copy_done in self._copies.items():
                if name == location.id and relative not in wanted:  # sent early, not part of the bag after all
                    (self.incoming[name] / relative).unlink(missing_ok=True)
        self._pool.shutdown()
        flushed: set[int] = set()
        for location in self.locations:  # once per file system: every file of every incoming bag on disk
            incoming = self.incoming[location.id]
            device = incoming.stat().st_dev
            if device not in flushed:
                _named(location.address, flush_file_system, incoming)
                flushed.add(device)
        bags: list[Path | str] = []
        try:
            for location in self.locations:
                bags.append(_named(location.address, location.publish_bag, self.incoming[location.id], self.aip_id))
        except BaseException:  # all or none: a bag in some locations only is not kept either
            for location, bag in zip(self.locations, bags):
                if isinstance(bag, Path):
                    shutil.rmtree(bag, ignore_errors=True)
                else:
                    location.delete_aip(self.aip_id)
            raise
        self._published = True
        return bags

    def abandon(self) -> None:
        """Stop and remove the incoming folders, unless `finish` published the bags."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        if not self._published:
            for folder in self.incoming.values():
                shutil.rmtree(folder, ignore_errors=True)

    def _verified(self, location: StorageLocation, sealed: SealedFile) -> bool:
        try:
            if self._copies[(location.id, sealed.path)].result() == sealed.sha256:
                return True
        except FileNotFoundError:  # the staged file was replaced while it was being sent early
            pass
        # copied before its last change (or damaged on the way): copy it once more from the sealed staging file
        target = self.incoming[location.id] / sealed.path
        return _copy(self.aip.path(sealed.path), target, link=location.id == self._linking) == sealed.sha256


def _sharing_file_system(staging: Path, incoming: Sequence[tuple[str, Path]]) -> str | None:
    """The id of the first location whose incoming folder is on the file system of `staging`, if any: the
    location given hard links."""
    device = staging.stat().st_dev
    return next((location for location, folder in incoming if folder.stat().st_dev == device), None)


def _copy(source: Path, target: Path, *, link: bool = False) -> str:
    """Copy (or, with `link`, hard-link a staged file that is no link itself) and read the copy back: the sha256
    of what the location holds. `finish` puts it on disk."""
    if link:
        target.unlink(missing_ok=True)  # sent before, linked to a staged file since written anew
    if not (link and not source.is_symlink() and _named(target, _link, source, target)):
        target.parent.mkdir(parents=True, exist_ok=True)
        _named(target, shutil.copy2, source, target)
    return digest_file(target, ("sha256",))[0]["sha256"]


def _link(source: Path, target: Path) -> bool:
    """Make `target` a hard link to `source`; False when the file system cannot link them (then the file is to
    be copied)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError as error:
        if error.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EOPNOTSUPP):
            return False
        raise
    return True


def _named(place: Path | str, step: Callable[..., T], *args: Any) -> T:
    """Run `step`; an OS error that names no file (a failed write or fsync) is given `place`, so that a storage
    failure can say which location it was."""
    try:
        return step(*args)
    except OSError as error:
        if error.filename is None:
            error.filename = str(place)
        raise
