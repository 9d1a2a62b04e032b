"""The copies of an AIP on its way to the storage locations (ingest/replication.py)."""
from __future__ import annotations

from pathlib import Path

from ingest.replication import Replication
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
