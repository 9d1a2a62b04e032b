"""The BlobStore port: one storage location seen as streams addressed by key, with no file system path in sight.

A key is `<AIP id>/<path in the bag>` (`aip_key`). `put` takes a stream with the digests its bytes must have and
makes it appear whole or not at all; `get` gives a stream (of a byte range, if asked); `stat`, `list` and
`delete` do what they say. Readers (DIPs, the search index, retention, fixity) go through it, so a second
implementation serves them unchanged: the local-folder one is `preservation.storage.LocalDirectoryLocation`, the
object-storage one (S3) `preservation.object_storage.ObjectStoreLocation`.
"""
from __future__ import annotations

import hashlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import BinaryIO, Iterator, Mapping, Protocol, Sequence

from kernel.atomic import DigestMismatch

__all__ = ["BlobInfo", "BlobNotFound", "BlobStore", "DigestMismatch", "aip_key", "read_verified"]


class BlobNotFound(LookupError):
    """No blob under that key (a link or a folder is no blob either)."""


@dataclass(frozen=True)
class BlobInfo:
    """What a store knows of one blob without reading it."""

    key: str
    size: int


class BlobStore(Protocol):
    """Streams by key on one storage location, known by its stable `id` (its `name` is for people)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...

    def put(self, key: str, stream: BinaryIO, *, digests: Mapping[str, str]) -> BlobInfo:
        """Store the rest of `stream` under `key`, replacing what was there, atomically and durably; only when
        its bytes have every digest in `digests` (algorithm → hex), else DigestMismatch and nothing changed."""

    def get(self, key: str, *, start: int = 0, end: int | None = None) -> AbstractContextManager[BinaryIO]:
        """The blob's bytes from `start` up to `end` (exclusive; None: to the end) as a stream; BlobNotFound."""

    def digest(self, key: str, algorithms: Sequence[str]) -> tuple[dict[str, str], int]:
        """Hex digests of the blob's bytes as stored now (algorithm → hex), read once, and its size;
        BlobNotFound. What fixity checks with: a store reads its blobs the cheapest way it has."""
    def stat(self, key: str) -> BlobInfo | None:
        """The blob's size, or None when there is no blob under `key`."""

    def list(self, prefix: str) -> Iterator[str]:
        """Every key that starts with `prefix`, which is empty or ends at a '/' (`<AIP id>/`)."""

    def delete(self, key: str) -> bool:
        """Remove the blob; whether there was one."""

    def delete_aip(self, aip_id: str) -> bool:
        """Remove every blob of the AIP as one step a crash cannot leave half done (a re-run finishes it);
        whether anything of it was there."""

    def complete_aip(self, aip_id: str) -> None:
        """Mark the AIP's bag, every blob of it put anew (a replica rebuilt from other copies), as whole again
        (object storage: its completion marker; a folder's bag needs nothing)."""

    def aip_ids(self) -> Iterator[str]:
        """Every AIP identifier with a bag here (the first part of keys, listed without listing every blob)."""

    # the event journal (preservation/event_journal.py): immutable segments, apart from the AIPs' blobs
    def put_segment(self, name: str, data: bytes) -> None:
        """Write a journal segment (`<yyyy-mm>/<name>.jsonl`) once, atomically and durably; a segment is never
        changed: writing other bytes under a name that is there raises FileExistsError."""

    def get_segment(self, name: str) -> bytes:
        """A journal segment's bytes; BlobNotFound."""

    def segments(self) -> Iterator[str]:
        """The names of every journal segment here, in order of name (of time)."""


def aip_key(aip_id: str, path: str) -> str:
    """The key of a file of an AIP (`path` as in the bag, e.g. `data/original/x.zip`)."""
    return f"{aip_id}/{path}"


def read_verified(stores: Sequence[BlobStore], key: str, sha256: str) -> bytes | None:
    """The blob's bytes from the first store whose copy has `sha256`, else None."""
    for store in stores:
        try:
            with store.get(key) as stream:
                data = stream.read()
        except BlobNotFound:
            continue
        if hashlib.sha256(data).hexdigest() == sha256:
            return data
    return None
