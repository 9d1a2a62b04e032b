"""The copies of an AIP on its way to the storage locations (ingest/replication.py)."""
from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path

import pytest

import ingest.replication as replication_module
from ingest.replication import Replication
from kernel import atomic
from preservation.aip import AipBuilder
from preservation.storage import LocalDirectoryLocation

AIP_ID = "5ac02349-495f-5af3-af34-7ea7ba4d12d7"


def _replicated(tmp_path: Path) -> tuple[AipBuilder, list[Path]]:
    aip = AipBuilder(tmp_path / "staging" / "aip")
    aip.add_bytes("data/preservation/media/photo.jpg", b"\xff\xd8 a photo", "preservation")
    locations = [LocalDirectoryLocation(root=tmp_path / f"location-{n}", id=f"location-{n}", name=f"location-{n}")
                 for n in (1, 2)]
    replication = Replication(aip, locations, AIP_ID)
    try:
        replication.send(["data/preservation/media/photo.jpg"])  # sent early, then written anew
        aip.path("data/preservation/media/photo.jpg").unlink()
        aip.add_bytes("data/preservation/media/photo.jpg", b"\xff\xd8 the photo as sealed", "preservation")
        sealed = list(aip.digest_payload().values())
        return aip, replication.finish(sealed)
    finally:
        replication.abandon()


def test_the_first_location_on_stagings_file_system_takes_links_every_other_a_copy_of_its_own(tmp_path: Path) -> None:
    aip, bags = _replicated(tmp_path)
    staged = aip.path("data/preservation/media/photo.jpg")
    first, second = (bag / "data/preservation/media/photo.jpg" for bag in bags)
    assert first.read_bytes() == second.read_bytes() == b"\xff\xd8 the photo as sealed"
    assert first.stat().st_ino == staged.stat().st_ino  # removing staging frees no blocks
    assert second.stat().st_ino != staged.stat().st_ino and second.stat().st_nlink == 1


def test_a_file_replaced_while_it_was_sent_early_is_sent_again_from_the_sealed_staging_file(tmp_path: Path) -> None:
    aip = AipBuilder(tmp_path / "staging" / "aip")
    aip.add_bytes("data/preservation/media/photo.jpg", b"\xff\xd8 a photo", "preservation")
    locations = [LocalDirectoryLocation(root=tmp_path / f"location-{n}", id=f"location-{n}", name=f"location-{n}")
                 for n in (1, 2)]
    replication = Replication(aip, locations, AIP_ID)
    try:
        aip.path("data/preservation/media/photo.jpg").unlink()  # gone while the early copy starts: it fails
        replication.send(["data/preservation/media/photo.jpg"])
        aip.add_bytes("data/preservation/media/photo.jpg", b"\xff\xd8 the photo as sealed", "preservation")
        bags = replication.finish(list(aip.digest_payload().values()))
    finally:
        replication.abandon()
    assert [(Path(bag) / "data/preservation/media/photo.jpg").read_bytes() for bag in bags] == \
        [b"\xff\xd8 the photo as sealed"] * 2


def _many_files(tmp_path: Path, count: int) -> tuple[AipBuilder, list[LocalDirectoryLocation]]:
    aip = AipBuilder(tmp_path / "staging" / "aip")
    for n in range(count):
        aip.add_bytes(f"data/preservation/media/{n}.jpg", b"\xff\xd8 photo %d" % n, "preservation")
    locations = [LocalDirectoryLocation(root=tmp_path / f"location-{n}", id=f"location-{n}", name=f"location-{n}")
                 for n in (1, 2)]
    return aip, locations


def test_the_bags_reach_the_disk_with_one_flush_of_the_file_system_not_an_fsync_per_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aip, locations = _many_files(tmp_path, 60)
    fsyncs: list[int] = []
    flushed: list[Path] = []
    real_fsync, real_flush = os.fsync, replication_module.flush_file_system
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd))[1])
    monkeypatch.setattr(replication_module, "flush_file_system",
                        lambda folder: (flushed.append(folder), real_flush(folder))[1])
    replication = Replication(aip, locations, AIP_ID)
    try:
        bags = replication.finish(list(aip.digest_payload().values()))
    finally:
        replication.abandon()
    assert len(flushed) == 1  # both locations are on tmp_path's file system
    assert len(fsyncs) < 20  # the folders' entries only (publishing), never the 120 files
    assert all((Path(bag) / "data/preservation/media/59.jpg").read_bytes() == b"\xff\xd8 photo 59" for bag in bags)


def test_a_file_system_that_cannot_write_the_bag_publishes_nothing_and_names_the_location(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aip, locations = _many_files(tmp_path, 3)

    def failing_syncfs(_fd: int) -> int:
        ctypes.set_errno(errno.EIO)
        return -1

    monkeypatch.setattr(atomic, "_syncfs", lambda: failing_syncfs)
    replication = Replication(aip, locations, AIP_ID)
    try:
        with pytest.raises(OSError) as raised:
            replication.finish(list(aip.digest_payload().values()))
    finally:
        replication.abandon()
    assert raised.value.errno == errno.EIO and str(tmp_path / "location-1") in str(raised.value.filename)
    assert not any(location.bag_path(AIP_ID).exists() for location in locations)
    assert not any(list((location.root / ".incoming").glob(f"{AIP_ID}.*")) for location in locations)


def test_flushing_a_file_system_without_syncfs_fsyncs_every_file_below_the_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bag" / "data").mkdir(parents=True)
    for name in ("a", "b"):
        (tmp_path / "bag" / "data" / name).write_bytes(b"x")
    fsyncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(atomic, "_syncfs", lambda: None)
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd))[1])
    atomic.flush_file_system(tmp_path / "bag")
    assert len(fsyncs) == 4  # two files, two folders
