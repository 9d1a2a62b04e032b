"""Archival Storage: the places AIPs are kept: local directories, and object stores (preservation/object_storage.py).

A location holds each AIP as a BagIt folder at `<root>/<id[0:2]>/<id>/`. Every write goes through a
staging folder inside the location (same file system), is fsynced, and appears with one rename, so a
crash leaves either no AIP or the whole AIP (OAIS Archival Storage: "Receive Data", "Replace Media").

A location is known by its identity, never by its place in the configuration: replicas in the catalogue name
it. The identity is the configuration's `id`, else the one written once into the location itself
(`.edepot-location.json`), else the one the catalogue registered for its folder; a location that has none of
these (a new one) gets `location-N`, N its place in the configuration unless that identity is taken. So the
configuration may be reordered, and a location dropped from it is still known to the catalogue (fixity and
`edepot doctor` report it).
"""
from __future__ import annotations

import errno
import io
import json
import os
import shutil
import stat
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterator, Mapping, Protocol, Sequence, cast

from kernel.atomic import (
    copy_tree_durably,
    fsync_dir,
    publish_directory,
    remove_tree_durably,
    write_bytes_atomic,
    write_stream_atomic,
)
from kernel.config import Config
from kernel.errors import InputError, StorageFailure
from kernel.hashing import digest_file
from preservation.blobstore import BlobInfo, BlobNotFound, BlobStore
from preservation.object_storage import ObjectStoreLocation, is_object_address, object_store_at

if TYPE_CHECKING:  # the catalogue's types only: importing it costs every command's startup (lxml, PREMIS)
    from preservation.catalogue import Catalogue, LocationRecord

MARKER = ".edepot-location.json"  # a location's identity and name, written into it once
TRASH = ".destroying"  # a bag being removed is renamed here first
JOURNAL = "journal"  # the event journal's segments (preservation/event_journal.py)


class StorageLocation(BlobStore, Protocol):
    """A place that keeps AIPs: read, repaired and removed by key (BlobStore); a whole bag written by ingest
    appears there at once (a folder: with one rename; object storage: its completion marker written last)."""

    @property
    def address(self) -> str:
        """Where the location is, as the catalogue registers it (a folder, or `s3://bucket/prefix?…`)."""

    def bag_address(self, aip_id: str) -> str:
        """Where the AIP's bag is (whether or not it is there), as its replica records it."""

    def store_bag(self, staged_bag: Path, aip_id: str) -> Path | str:
        """Copy a finished bag in under `aip_id`, atomically; replaces a leftover of an interrupted run."""

    def open_incoming(self, aip_id: str, announce: Callable[[Path], None] = lambda _path: None) -> Path:
        """A new private folder in which a bag of `aip_id` is assembled before `publish_bag`; `announce` is told
        its path before it is made (to claim it, kernel/locks.py)."""

    def publish_bag(self, incoming: Path, aip_id: str) -> Path | str:
        """Make the bag assembled in `incoming` (every file of it on disk already: fsynced when written, or its
        file system flushed) the AIP's bag, whole or not at all; returns where it is."""

    def read_marker(self) -> dict[str, str] | None:
        """The identity and name the location holds, if it holds them."""

    def write_marker(self, identity: dict[str, str]) -> None:
        """Write the identity and name into the location."""


@dataclass(frozen=True)
class LocalDirectoryLocation:
    """An AIP store on a local or mounted file system, known by its stable `id` (its `name` is for people)."""

    root: Path
    id: str
    name: str

    @property
    def address(self) -> str:
        return str(self.root)

    def bag_path(self, aip_id: str) -> Path:
        return self.root / aip_id[:2] / aip_id

    def bag_address(self, aip_id: str) -> str:
        return str(self.bag_path(aip_id))

    def read_marker(self) -> dict[str, str] | None:
        return _read_marker(self.root)

    def write_marker(self, identity: dict[str, str]) -> None:
        write_bytes_atomic(self.root / MARKER, json.dumps(identity, ensure_ascii=False).encode("utf-8") + b"\n")

    def complete_aip(self, aip_id: str) -> None:
        """Nothing to do: a folder's bag is there once its files are."""

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

    # -- the BlobStore port (preservation/blobstore.py): a key is <AIP id>/<path in the bag>

    def put(self, key: str, stream: BinaryIO, *, digests: Mapping[str, str]) -> BlobInfo:
        """Store `stream` under `key` atomically and fsynced, when its bytes have `digests` (DigestMismatch)."""
        return BlobInfo(key, write_stream_atomic(self._blob_path(key), stream, digests=digests))

    @contextmanager
    def get(self, key: str, *, start: int = 0, end: int | None = None) -> Iterator[BinaryIO]:
        """The blob's bytes (from `start` up to `end`) as a stream; BlobNotFound for no file, a link or a folder."""
        path = self._blob_file(key)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except (FileNotFoundError, NotADirectoryError):
            raise BlobNotFound(key) from None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise BlobNotFound(key) from None
            raise
        # unbuffered: readers read in large blocks, and a fixity run opens tens of thousands of small blobs
        with open(fd, "rb", buffering=0) as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise BlobNotFound(key)
            if start == 0 and end is None:
                yield stream
            else:
                stream.seek(start)
                yield cast(BinaryIO, io.BufferedReader(_Slice(stream, None if end is None else max(0, end - start))))

    def digest(self, key: str, algorithms: Sequence[str]) -> tuple[dict[str, str], int]:
        """Hex digests and size of the blob's bytes, read once (a small one in one read); BlobNotFound."""
        try:
            return digest_file(self._blob_file(key), algorithms, follow_links=False)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobNotFound(key) from None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise BlobNotFound(key) from None
            raise

    def stat(self, key: str) -> BlobInfo | None:
        """The blob's size, or None (no file, a link or a folder)."""
        try:
            found = os.lstat(self._blob_path(key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        return BlobInfo(key, found.st_size) if stat.S_ISREG(found.st_mode) else None

    def list(self, prefix: str) -> Iterator[str]:
        """Every key starting with `prefix` ("" or "<AIP id>/…"), each AIP's in the order of its folders."""
        if not prefix:
            for aip_id in self.aip_ids():
                yield from self.list(f"{aip_id}/")
            return
        aip_id = prefix.split("/", 1)[0]
        bag = str(self.bag_path(aip_id))
        for dirpath, dirnames, filenames in os.walk(bag):
            dirnames.sort()
            for name in sorted(filenames):
                key = f"{aip_id}/{os.path.join(dirpath, name)[len(bag) + 1:]}"
                if key.startswith(prefix):
                    yield key

    def delete(self, key: str) -> bool:
        """Remove the blob (its folder's entry flushed); whether there was one."""
        path = self._blob_path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        fsync_dir(path.parent)
        return True

    def delete_aip(self, aip_id: str) -> bool:
        """Remove the AIP's bag: renamed into the location's trash first (one atomic step), then deleted."""
        if not aip_id or aip_id.startswith(".") or "/" in aip_id:
            raise ValueError(f"not an AIP identifier: {aip_id!r}")
        bag = self.bag_path(aip_id)
        removed = remove_tree_durably(bag, self.root / TRASH)
        if bag.parent.is_dir() and not any(bag.parent.iterdir()):
            bag.parent.rmdir()
        return removed

    # -- the event journal: <root>/journal/<yyyy-mm>/<segment>.jsonl

    def put_segment(self, name: str, data: bytes) -> None:
        """Write the segment once, atomically and fsynced; FileExistsError for other bytes under its name."""
        path = self._segment_path(name)
        if path.is_file():
            if path.read_bytes() != data:
                raise FileExistsError(errno.EEXIST, "a journal segment is never changed", str(path))
            return
        write_bytes_atomic(path, data)

    def get_segment(self, name: str) -> bytes:
        """The segment's bytes; BlobNotFound."""
        try:
            return self._segment_path(name).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobNotFound(f"{JOURNAL}/{name}") from None

    def segments(self) -> Iterator[str]:
        """Every segment's name, by month and then by name."""
        journal = self.root / JOURNAL
        if not journal.is_dir():
            return
        for month in sorted(journal.iterdir()):
            if month.is_dir() and not month.name.startswith("."):
                yield from (f"{month.name}/{p.name}" for p in sorted(month.iterdir())
                            if p.suffix == ".jsonl" and not p.name.startswith(".") and p.is_file())

    def _segment_path(self, name: str) -> Path:
        month, _, file = name.partition("/")
        if not month or not file.endswith(".jsonl") or "/" in file or month.startswith(".") or file.startswith("."):
            raise ValueError(f"not a journal segment: {name!r}")
        return self.root / JOURNAL / month / file

    def _blob_path(self, key: str) -> Path:
        return Path(self._blob_file(key))

    def _blob_file(self, key: str) -> str:
        """The file behind a key, as a string (no Path objects on the path of every read)."""
        aip_id, _, relative = key.partition("/")
        parts = relative.split("/")
        if not aip_id or aip_id.startswith(".") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"not a blob key: {key!r}")
        return f"{self.root}/{aip_id[:2]}/{aip_id}/{relative}"


def location_of_bag(bag: str, aip_id: str, identity: str, known: Sequence[LocationRecord] = ()) -> StorageLocation:
    """The location (`identity`) that holds `bag` as the bag of `aip_id`, for a replica recorded there on a location
    no longer configured (a bucket is reopened at the address the catalogue registered, `known`); ValueError when
    `bag` is not where that AIP's bag would be."""
    location: StorageLocation
    if is_object_address(bag):
        record = next((k for k in known if k.location_id == identity and is_object_address(k.root)), None)
        if record is None:
            raise ValueError(f"refusing to touch {bag}: the catalogue knows no object store {identity}")
        location = object_store_at(record.root, identity=identity, name=record.name)
    else:
        location = LocalDirectoryLocation(root=Path(bag).parent.parent, id=identity, name=identity)
    if location.bag_address(aip_id) != bag:
        raise ValueError(f"refusing to touch {bag}: not the bag of AIP {aip_id}")
    return location


def open_locations(roots: Sequence[Path], config: Config | None = None,
                   known: Sequence[LocationRecord] = ()) -> list[LocalDirectoryLocation]:
    """The storage locations at `roots` (in that order), each with its identity: the configuration's `id`
    (`config`), else the one the location holds, else the one the catalogue registered for its folder (`known`),
    else `location-N` for the N-th root (or the next N free). Nothing is written. InputError when a location holds
    another identity than the configuration gives it, or two locations have the same one."""
    settings = [config.location_setting(root) if config else None for root in roots]
    markers = [_read_marker(root) for root in roots]
    by_root = {Path(k.root): k for k in known}
    ids: list[str | None] = []
    for root, setting, marker in zip(roots, settings, markers):
        held = marker.get("id") if marker else None
        if setting and setting.id and held and held != setting.id:
            raise InputError(f"storage location {root} holds the identity {held!r}, the configuration says "
                             f"{setting.id!r}", hint=f"correct the id in the configuration, or {root / MARKER}")
        ids.append((setting.id if setting else None) or held or (by_root[root].location_id if root in by_root
                                                                 else None))
    taken = {k.location_id for k in known} | {i for i in ids if i}
    for index, identity in enumerate(ids):
        if identity is None:
            number = index + 1
            while f"location-{number}" in taken:
                number += 1
            ids[index] = f"location-{number}"
            taken.add(f"location-{number}")
    seen: dict[str, Path] = {}
    locations = []
    for root, setting, marker, identity in zip(roots, settings, markers, ids):
        assert identity is not None
        if identity in seen:
            raise InputError(f"storage locations {seen[identity]} and {root} both are {identity!r}",
                             hint=f"a copied location keeps its {MARKER}: give the copy an identity of its own")
        seen[identity] = root
        name = ((setting.name if setting else None) or (marker.get("name") if marker else None)
                or (by_root[root].name if root in by_root and by_root[root].location_id == identity else None)
                or identity)
        locations.append(LocalDirectoryLocation(root=root, id=identity, name=name))
    return locations


class _Slice(io.RawIOBase):
    """At most `left` bytes (None: all) of an open file, from where it stands."""

    def __init__(self, stream: BinaryIO, left: int | None) -> None:
        self._stream, self._left = stream, left

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._left is not None:
            view = view[:self._left]
        n = self._stream.readinto(view)  # type: ignore[attr-defined]
        if self._left is not None:
            self._left -= n
        return n


def configured_locations(config: Config, catalogue: Catalogue) -> list[StorageLocation]:
    """The configured storage locations, each with its identity (see `open_configured`)."""
    return open_configured(config, catalogue.locations())


def open_configured(config: Config, known: Sequence[LocationRecord] = ()) -> list[StorageLocation]:
    """Every configured storage location: the folders (`open_locations`), then the object stores, each with the
    identity the configuration gives it. Nothing is written, nothing is asked of an object store. InputError when
    two locations have the same identity."""
    folders: list[StorageLocation] = list(open_locations(config.storage_locations, config, known))
    taken = {location.id: location.address for location in folders}
    stores: list[StorageLocation] = []
    for setting in config.object_stores:
        if setting.id in taken:
            raise InputError(f"storage locations {taken[setting.id]} and s3://{setting.bucket}/{setting.prefix} both "
                             f"are {setting.id!r}", hint="give each location an identity of its own")
        store = ObjectStoreLocation(setting, scratch=config.staging_dir)
        registered = next((k for k in known if k.location_id == setting.id), None)
        if setting.name is None and registered is not None:
            store.name = registered.name
        taken[setting.id] = store.address
        stores.append(store)
    return folders + stores


def register_locations(locations: Sequence[StorageLocation], catalogue: Catalogue, *,
                       now: datetime) -> None:
    """Record each location's identity in the catalogue (when it changed) and in the location (when it lacks it),
    so that it stays the same whatever becomes of the configuration. A location that cannot be written keeps its
    identity in the catalogue alone until a later registration writes it."""
    recorded = {k.location_id: k for k in catalogue.locations()}
    for location in locations:
        was = recorded.get(location.id)
        if was is None or (was.name, was.root) != (location.name, location.address):
            from preservation.catalogue import LocationRecord

            catalogue.register_location(LocationRecord(location.id, location.name, location.address, now))
        held = location.read_marker()
        # a bucket holding another identity (not checked on opening, which asks nothing of it) is never relabelled
        if held != {"id": location.id, "name": location.name} and (held is None or held["id"] == location.id):
            try:
                location.write_marker({"id": location.id, "name": location.name})
            except OSError:
                pass


def registered_locations(known: Sequence[LocationRecord]) -> list[StorageLocation]:
    """The locations the catalogue registered (`known`) that are there and hold their identity: where the
    catalogue writes its event journal (a folder not mounted, or taken by another location, is left alone)."""
    found: list[StorageLocation] = []
    for record in known:
        location: StorageLocation
        if is_object_address(record.root):
            location = object_store_at(record.root, identity=record.location_id, name=record.name)
        elif record.root:
            location = LocalDirectoryLocation(root=Path(record.root), id=record.location_id, name=record.name)
        else:
            continue
        marker = location.read_marker()
        if marker is not None and marker["id"] == record.location_id:
            found.append(location)
    return found


def dropped_locations(locations: Sequence[StorageLocation], catalogue: Catalogue
                      ) -> list[tuple[LocationRecord, int]]:
    """The locations the catalogue knows of (registered, or holding replicas of AIPs still kept) that are not
    among `locations`, each with how many replicas it holds; a location of unknown folder has root ""."""
    from preservation.catalogue import LocationRecord

    configured = {location.id for location in locations}
    counts = catalogue.replicas_by_location()
    registered = {k.location_id: k for k in catalogue.locations()}
    unknown = datetime.min
    return [(registered.get(identity) or LocationRecord(identity, identity, "", unknown), counts.get(identity, 0))
            for identity in sorted(set(registered) | set(counts)) if identity not in configured]


def _read_marker(root: Path) -> dict[str, str] | None:
    """The identity and name a location holds, if it holds them (and they can be read)."""
    try:
        held = json.loads((root / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(held, dict) or not isinstance(held.get("id"), str):
        return None
    return {"id": held["id"], "name": str(held.get("name") or held["id"])}


def storage_failure(error: OSError, config: Config, *, unnamed: str = "") -> StorageFailure:
    """The StorageFailure (E500, exit 3) an OS error of a full, read-only or failing file system amounts to, naming
    the storage location (its configured name and root) or the data directory the failed path lies in, else the
    path itself, else `unnamed` (what was being written when the error names no path).

    A copy names its source and its target; the target is judged first, since writing is what fails on a full
    or read-only file system.
    """
    try:
        named = [(location.name, location.address) for location in open_configured(config)]
    except InputError:  # two locations claiming one identity: named by their folders alone
        named = [(str(root), str(root)) for root in config.storage_locations]
    places = [(f"storage location {name} ({address.split('?')[0]})", address) for name, address in named]
    places.append((f"the data directory ({config.data_dir})", str(config.data_dir)))
    names = [str(p) if is_object_address(str(p)) else os.path.abspath(p) for p in (error.filename2, error.filename)
             if isinstance(p, (str, Path))]
    where = next((name for given in names for name, address in places if given == address or (
        not is_object_address(address) and Path(os.path.abspath(given)).is_relative_to(address))), "")
    where = where or (names[0] if names else unnamed or "a file system edepot writes to")
    return StorageFailure(f"{where} failed: {error.strerror or error}", location=where,
                          hint="nothing half-written was kept; run the command again once it has room or is writable")
