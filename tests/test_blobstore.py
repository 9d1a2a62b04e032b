"""The BlobStore port on a local folder: a put appears whole and only with the digests it must have, a get reads a
byte range, stat, list and delete do what they say, keys cannot leave the location, and no path is in the port."""
from __future__ import annotations

import hashlib
import inspect
import io
import os
import subprocess
import typing
from pathlib import Path

import pytest

from preservation.blobstore import BlobNotFound, BlobStore, DigestMismatch
from preservation.storage import LocalDirectoryLocation
from tests.test_faults import tmpfs

AIP = "0f1e2d3c-0000-4000-8000-000000000001"


def store(root: Path) -> LocalDirectoryLocation:
    return LocalDirectoryLocation(root=root, id="location-1", name="location-1")


def sha256(data: bytes) -> dict[str, str]:
    return {"sha256": hashlib.sha256(data).hexdigest()}


def test_put_get_ranges_stat_list_and_delete(tmp_path: Path) -> None:
    blobs: BlobStore = store(tmp_path)
    data = os.urandom(3 << 20)  # more than one block of a stream copy
    assert blobs.put(f"{AIP}/data/original/x.bin", io.BytesIO(data), digests={
        **sha256(data), "sha512": hashlib.sha512(data).hexdigest()}).size == len(data)
    blobs.put(f"{AIP}/bagit.txt", io.BytesIO(b"BagIt-Version: 1.0\n"), digests=sha256(b"BagIt-Version: 1.0\n"))
    with blobs.get(f"{AIP}/data/original/x.bin") as stream:
        assert stream.read() == data
    with blobs.get(f"{AIP}/data/original/x.bin", start=(1 << 20) - 3, end=(2 << 20) + 5) as stream:
        assert stream.read() == data[(1 << 20) - 3:(2 << 20) + 5]
    with blobs.get(f"{AIP}/data/original/x.bin", start=len(data) - 10) as stream:
        assert stream.read() == data[-10:]
    stat = blobs.stat(f"{AIP}/data/original/x.bin")
    assert stat is not None and stat.size == len(data) and blobs.stat(f"{AIP}/data/none") is None
    assert list(blobs.list(f"{AIP}/")) == [f"{AIP}/bagit.txt", f"{AIP}/data/original/x.bin"]
    assert list(blobs.list(f"{AIP}/data/")) == [f"{AIP}/data/original/x.bin"]
    assert list(blobs.list("")) == list(blobs.list(f"{AIP}/")) and list(blobs.aip_ids()) == [AIP]
    assert blobs.delete(f"{AIP}/data/original/x.bin") and not blobs.delete(f"{AIP}/data/original/x.bin")
    with pytest.raises(BlobNotFound):
        with blobs.get(f"{AIP}/data/original/x.bin"):
            pass


def test_a_put_whose_bytes_lack_their_digest_changes_nothing(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    key = f"{AIP}/data/original/x.bin"
    blobs.put(key, io.BytesIO(b"the good copy"), digests=sha256(b"the good copy"))
    with pytest.raises(DigestMismatch):
        blobs.put(key, io.BytesIO(b"a damaged copy"), digests=sha256(b"the good copy"))
    with blobs.get(key) as stream:
        assert stream.read() == b"the good copy"
    assert [p.name for p in blobs.bag_path(AIP).rglob("*") if p.is_file()] == ["x.bin"]  # no staging left


def test_a_link_is_no_blob_and_a_key_cannot_leave_the_location(tmp_path: Path) -> None:
    blobs = store(tmp_path / "location")
    (tmp_path / "secret").write_text("outside")
    folder = blobs.bag_path(AIP) / "data"
    folder.mkdir(parents=True)
    (folder / "link").symlink_to(tmp_path / "secret")
    assert blobs.stat(f"{AIP}/data/link") is None
    with pytest.raises(BlobNotFound):
        with blobs.get(f"{AIP}/data/link"):
            pass
    for key in (f"{AIP}/../../secret", f"{AIP}/data//x", f"../{AIP}/x", f"{AIP}/", "/etc/passwd"):
        with pytest.raises(ValueError):
            blobs.stat(key)


def test_a_full_location_keeps_the_old_blob_and_leaves_no_staging(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "64k") as root:
        blobs = store(root)
        key = f"{AIP}/data/original/x.bin"
        blobs.put(key, io.BytesIO(b"old"), digests=sha256(b"old"))
        big = os.urandom(256 << 10)
        with pytest.raises(OSError):
            blobs.put(key, io.BytesIO(big), digests=sha256(big))
        with blobs.get(key) as stream:
            assert stream.read() == b"old"
        leftovers = subprocess.run(["find", str(root), "-type", "f"], capture_output=True, text=True).stdout.split()
        assert leftovers == [str(blobs.bag_path(AIP) / "data/original/x.bin")]


def test_the_port_speaks_of_keys_and_streams_never_of_paths() -> None:
    for name, member in inspect.getmembers(BlobStore, callable):
        if not name.startswith("_"):
            hints = typing.get_type_hints(member)
            assert Path not in hints.values() and all("Path" not in str(h) for h in hints.values()), name
