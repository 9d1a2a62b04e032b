"""A zip hides nothing only when its bytes are its members and its own structure: ingest relies on this to
scan the unpacked members instead of the zip (ingest/zip_coverage.py)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from ingest.zip_coverage import zip_hides_nothing

MEMBERS = {"_chat.txt": b"[14-03-2024 09:58:12] Petra: hallo\n" * 50, "00001-PHOTO.jpg": bytes(range(256)) * 40}


def write_zip(path: Path, compression: int = zipfile.ZIP_DEFLATED, comment: bytes = b"",
              force_zip64: bool = False, streamed: bool = False) -> Path:
    target: io.BytesIO | Path = io.BytesIO() if streamed else path
    with zipfile.ZipFile(target, "w", compression) as archive:
        archive.comment = comment
        for name, data in MEMBERS.items():
            with archive.open(zipfile.ZipInfo(name), "w", force_zip64=force_zip64) as member:
                member.write(data)
    if isinstance(target, io.BytesIO):
        path.write_bytes(target.getvalue())
    return path


class _Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors after each member."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.buffer += data
        return len(data)


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
@pytest.mark.parametrize("comment", [b"", b"made on an iPhone"])
def test_a_plain_zip_hides_nothing(tmp_path: Path, compression: int, comment: bytes) -> None:
    assert zip_hides_nothing(write_zip(tmp_path / "export.zip", compression, comment))


def test_zip64_records_are_structure(tmp_path: Path) -> None:
    assert zip_hides_nothing(write_zip(tmp_path / "export.zip", force_zip64=True))


def test_data_descriptors_are_structure(tmp_path: Path) -> None:
    stream = _Unseekable()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in MEMBERS.items():
            archive.writestr(name, data)
    path = tmp_path / "streamed.zip"
    path.write_bytes(bytes(stream.buffer))
    with zipfile.ZipFile(path) as archive:
        assert all(info.flag_bits & 0x08 for info in archive.infolist())
    assert zip_hides_nothing(path)


def test_a_program_in_front_is_found(tmp_path: Path) -> None:
    plain = write_zip(tmp_path / "plain.zip").read_bytes()
    self_extractor = tmp_path / "sfx.zip"
    self_extractor.write_bytes(b"MZ" + bytes(510) + plain)  # zip readers still open it: offsets are relative
    with zipfile.ZipFile(self_extractor) as archive:
        assert archive.read("_chat.txt") == MEMBERS["_chat.txt"]
    assert not zip_hides_nothing(self_extractor)


def test_bytes_after_the_end_record_are_found(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "export.zip")
    path.write_bytes(path.read_bytes() + b"payload after the end")
    assert not zip_hides_nothing(path)


def test_a_gap_between_members_is_found(tmp_path: Path) -> None:
    path = tmp_path / "gap.zip"
    with open(path, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
        archive.writestr("_chat.txt", MEMBERS["_chat.txt"])
        handle.seek(archive.start_dir)
        handle.write(b"hidden between the members")
        archive.start_dir = handle.tell()  # zipfile's own write position: the next member goes after the gap
        archive.writestr("00001-PHOTO.jpg", MEMBERS["00001-PHOTO.jpg"])
    with zipfile.ZipFile(path) as archive:
        assert archive.read("00001-PHOTO.jpg") == MEMBERS["00001-PHOTO.jpg"]
    assert not zip_hides_nothing(path)


def test_not_a_zip_is_not_trusted(tmp_path: Path) -> None:
    assert not zip_hides_nothing(_write(tmp_path / "x.zip", b"PK\x03\x04 broken"))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
