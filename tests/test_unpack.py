"""Safe unpacking of transfer packages: traversal, links, devices and bombs refused; good bags found."""
from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
import warnings
import zipfile
import zlib
from pathlib import Path

import bagit
import py7zr
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.unpack import UnpackLimits, safe_member_path, unpack_transfer
from kernel.errors import InputError, UnsafeArchive

SMALL = UnpackLimits(max_total_bytes=10 * 1024 * 1024, max_ratio=200.0, max_members=100)


@pytest.fixture()
def bag(tmp_path: Path) -> Path:
    folder = tmp_path / "sip-001"
    (folder / "chat").mkdir(parents=True)
    (folder / "chat" / "_chat.txt").write_text("12/01/2024, 10:15 - Anna: Hallo\n", encoding="utf-8")
    (folder / "empty.txt").touch()
    bagit.make_bag(str(folder), checksums=["sha256"])
    return folder


def _files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*"))


def _zip_of(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files_under(folder):
            archive.write(path, prefix + path.relative_to(folder).as_posix())
    return target


def _zip_with(target: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return target


def _tar_with(target: Path, members: list[tarfile.TarInfo], mode: str = "w") -> Path:
    with tarfile.open(target, mode) as archive:
        for member in members:
            data = b"x" * member.size if member.isreg() else None
            archive.addfile(member, io.BytesIO(data) if data is not None else None)
    return target


def _tar_member(name: str, kind: bytes = tarfile.REGTYPE, size: int = 1, linkname: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.size = size if kind == tarfile.REGTYPE else 0
    member.linkname = linkname
    return member


def _assert_refused(source: Path, staging: Path, error: type[Exception], fragment: str,
                    limits: UnpackLimits = SMALL) -> None:
    with pytest.raises(error) as caught:
        unpack_transfer(source, staging, limits)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not staging.exists() or list(staging.iterdir()) == []


# --- good packages ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", ["", "sip-001/"])
def test_zip_of_a_bag_unpacks_to_its_root(bag: Path, tmp_path: Path, prefix: str) -> None:
    source = _zip_of(bag, tmp_path / "sip.zip", prefix)
    root = unpack_transfer(source, tmp_path / "staging")
    assert (root / "bagit.txt").is_file()
    assert root.is_relative_to(tmp_path / "staging")
    assert (root / "data" / "chat" / "_chat.txt").read_bytes() == (bag / "data" / "chat" / "_chat.txt").read_bytes()
    assert bagit.Bag(str(root)).is_valid()


def test_7z_of_a_bag_unpacks_to_its_root(bag: Path, tmp_path: Path) -> None:
    source = tmp_path / "sip.7z"
    with py7zr.SevenZipFile(source, "w") as archive:
        archive.writeall(bag, "sip-001")
    root = unpack_transfer(source, tmp_path / "staging")
    assert root.name == "sip-001"
    assert (root / "data" / "empty.txt").stat().st_size == 0
    assert bagit.Bag(str(root)).is_valid()


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_tar_of_a_bag_unpacks_to_its_root(bag: Path, tmp_path: Path, mode: str) -> None:
    source = tmp_path / ("sip.tar" if mode == "w" else "sip.tar.gz")
    with tarfile.open(source, mode) as archive:
        archive.add(bag, "sip-001")
    root = unpack_transfer(source, tmp_path / "staging")
    assert bagit.Bag(str(root)).is_valid()


def test_folder_is_returned_as_is(bag: Path, tmp_path: Path) -> None:
    assert unpack_transfer(bag, tmp_path / "staging") == bag
    assert unpack_transfer(bag.parent, tmp_path / "staging") == bag
    assert not (tmp_path / "staging").exists()


# --- refused: paths and links -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, fragment", [
    ("../evil.txt", "'..'"),
    ("bag/../../evil.txt", "'..'"),
    ("/abs.txt", "absolute"),
    ("C:/windows.txt", "drive letter"),
    ("..\\evil.txt", "backslash"),
    ("a\x01b", "control character"),
])
def test_zip_with_escaping_name_is_refused(tmp_path: Path, name: str, fragment: str) -> None:
    source = _zip_with(tmp_path / "bad.zip", {"bagit.txt": b"BagIt-Version: 1.0\n", name: b"evil"})
    _assert_refused(source, tmp_path / "staging", UnsafeArchive, fragment)
    assert not (tmp_path / "evil.txt").exists()


def test_zip_with_symlink_entry_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "link.zip"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("bagit.txt", "BagIt-Version: 1.0\n")
        link = zipfile.ZipInfo("data/passwd")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    _assert_refused(source, tmp_path / "staging", UnsafeArchive, "symbolic link")


def test_zip_with_device_entry_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "device.zip"
    with zipfile.ZipFile(source, "w") as archive:
        device = zipfile.ZipInfo("null")
        device.create_system = 3
        device.external_attr = (stat.S_IFCHR | 0o666) << 16
        archive.writestr(device, "")
    _assert_refused(source, tmp_path / "staging", UnsafeArchive, "device")


@pytest.mark.parametrize("member, fragment", [
    (_tar_member("data/link", tarfile.SYMTYPE, linkname="/etc/passwd"), "is a link"),
    (_tar_member("data/hard", tarfile.LNKTYPE, linkname="bagit.txt"), "is a link"),
    (_tar_member("../evil.txt"), "'..'"),
    (_tar_member("/abs.txt"), "absolute"),
    (_tar_member("dev/null", tarfile.CHRTYPE), "device"),
    (_tar_member("fifo", tarfile.FIFOTYPE), "device"),
])
def test_tar_with_bad_member_is_refused(tmp_path: Path, member: tarfile.TarInfo, fragment: str) -> None:
    source = _tar_with(tmp_path / "bad.tar", [_tar_member("bagit.txt", size=20), member])
    _assert_refused(source, tmp_path / "staging", UnsafeArchive, fragment)


def _7z_with_renamed_entry(target: Path, safe_name: str, evil_name: str) -> Path:
    """py7zr refuses to write a climbing name, so write a safe one of the same length and patch the header."""
    assert len(safe_name) == len(evil_name)
    with py7zr.SevenZipFile(target, "w") as archive:
        archive.set_encoded_header_mode(False)  # names stored as plain UTF-16LE, so they can be patched
        archive.writestr(b"BagIt-Version: 1.0\n", "bagit.txt")
        archive.writestr(b"evil", safe_name)
    data = bytearray(target.read_bytes())
    next_offset, next_size = struct.unpack_from("<QQ", data, 12)
    header_at = 32 + next_offset
    header = bytes(data[header_at: header_at + next_size])
    patched = header.replace(safe_name.encode("utf-16-le"), evil_name.encode("utf-16-le"))
    assert patched != header
    data[header_at: header_at + next_size] = patched
    struct.pack_into("<I", data, 28, zlib.crc32(patched))
    struct.pack_into("<I", data, 8, zlib.crc32(bytes(data[12:32])))
    target.write_bytes(bytes(data))
    return target


def test_7z_with_climbing_name_is_refused(tmp_path: Path) -> None:
    source = _7z_with_renamed_entry(tmp_path / "bad.7z", "xx/evil.txt", "../evil.txt")
    assert "../evil.txt" in py7zr.SevenZipFile(source).getnames()
    _assert_refused(source, tmp_path / "staging", UnsafeArchive, "'..'")
    assert not (tmp_path / "evil.txt").exists()


def test_folder_with_symlink_is_refused(bag: Path, tmp_path: Path) -> None:
    os.symlink("/etc/passwd", bag / "data" / "passwd")
    with pytest.raises(UnsafeArchive, match="symbolic link"):
        unpack_transfer(bag, tmp_path / "staging")


# --- refused: bombs ---------------------------------------------------------------------------------------

def _zeros_zip(target: Path, size: int) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("bagit.txt", "BagIt-Version: 1.0\n")
        archive.writestr("data/zeros.bin", bytes(size))
    return target


def test_zip_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    source = _zeros_zip(tmp_path / "bomb.zip", 50 * 1024 * 1024)  # ~1000:1
    limits = UnpackLimits(max_total_bytes=100 * 1024 * 1024, max_ratio=200.0)
    _assert_refused(source, tmp_path / "staging", UnsafeArchive, "expands", limits)


def test_zip_over_total_size_is_refused(tmp_path: Path) -> None:
    source = _zeros_zip(tmp_path / "big.zip", 2 * 1024 * 1024)
    limits = UnpackLimits(max_total_bytes=1024 * 1024, max_ratio=1e9)
    _assert_refused(source, tmp_path / "staging", UnsafeArchive, "bytes uncompressed", limits)


def test_zip_with_too_many_members_is_refused(tmp_path: Path) -> None:
    source = _zip_with(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(20)})
    _assert_refused(source, tmp_path / "staging", UnsafeArchive, "more than 10 members",
                    UnpackLimits(max_members=10))


def test_zip_whose_header_lies_about_size_is_refused(tmp_path: Path) -> None:
    """Central and local headers claim 1 KiB; the deflate stream holds 5 MiB of zeros."""
    honest = _zeros_zip(tmp_path / "honest.zip", 5 * 1024 * 1024).read_bytes()
    real_size = struct.pack("<I", 5 * 1024 * 1024)
    lying = honest.replace(real_size, struct.pack("<I", 1024))
    assert lying != honest
    source = tmp_path / "lying.zip"
    source.write_bytes(lying)
    limits = UnpackLimits(max_total_bytes=2 * 1024 * 1024, max_ratio=1e9)
    _assert_refused(source, tmp_path / "staging", InputError, "", limits)


def test_tar_gz_bomb_is_refused_while_writing(tmp_path: Path) -> None:
    source = tmp_path / "bomb.tar.gz"
    with tarfile.open(source, "w:gz", compresslevel=9) as archive:
        data = bytes(20 * 1024 * 1024)
        archive.addfile(_tar_member("bagit.txt", size=len(data)), io.BytesIO(data))
    limits = UnpackLimits(max_total_bytes=100 * 1024 * 1024, max_ratio=200.0)
    _assert_refused(source, tmp_path / "staging", UnsafeArchive, "expands", limits)


def test_tar_over_total_size_is_refused(tmp_path: Path) -> None:
    source = _tar_with(tmp_path / "big.tar", [_tar_member("a.bin", size=600_000), _tar_member("b.bin", size=600_000)])
    _assert_refused(source, tmp_path / "staging", UnsafeArchive, "bytes",
                    UnpackLimits(max_total_bytes=1_000_000))


def test_7z_bomb_is_refused_from_its_info(tmp_path: Path) -> None:
    source = tmp_path / "bomb.7z"
    with py7zr.SevenZipFile(source, "w") as archive:
        archive.writestr(b"BagIt-Version: 1.0\n", "bagit.txt")
        archive.writestr(bytes(20 * 1024 * 1024), "data/zeros.bin")
    _assert_refused(source, tmp_path / "staging", UnsafeArchive, "expands",
                    UnpackLimits(max_total_bytes=100 * 1024 * 1024, max_ratio=200.0))


# --- refused: not a package -------------------------------------------------------------------------------

def test_random_bytes_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "sip.zip"
    source.write_bytes(os.urandom(4096))
    _assert_refused(source, tmp_path / "staging", InputError, "not a zip, 7z or tar archive")


def test_truncated_zip_is_refused(bag: Path, tmp_path: Path) -> None:
    whole = _zip_of(bag, tmp_path / "sip.zip").read_bytes()
    source = tmp_path / "cut.zip"
    source.write_bytes(whole[: len(whole) // 2])
    _assert_refused(source, tmp_path / "staging", InputError, "zip")


def test_empty_zip_has_no_bag(tmp_path: Path) -> None:
    source = _zip_with(tmp_path / "empty.zip", {})
    _assert_refused(source, tmp_path / "staging", InputError, "no BagIt bag in")


def test_folder_without_bagit_txt_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-bag"
    (folder / "data").mkdir(parents=True)
    with pytest.raises(InputError, match="no BagIt bag in"):
        unpack_transfer(folder, tmp_path / "staging")


def test_two_bags_are_refused(tmp_path: Path) -> None:
    source = _zip_with(tmp_path / "two.zip", {"a/bagit.txt": b"x", "b/bagit.txt": b"x"})
    _assert_refused(source, tmp_path / "staging", InputError, "more than one BagIt bag")


def test_missing_source_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        unpack_transfer(tmp_path / "nothing.zip", tmp_path / "staging")


def test_staging_keeps_what_was_there(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "earlier").mkdir()
    source = _zip_with(tmp_path / "bad.zip", {"ok.txt": b"x", "../evil.txt": b"x"})
    with pytest.raises(UnsafeArchive):
        unpack_transfer(source, staging)
    assert [path.name for path in staging.iterdir()] == ["earlier"]


# --- property: no name escapes ----------------------------------------------------------------------------

NAME_PARTS = st.sampled_from(["..", ".", "", "a", "b", "/", "\\", "C:", "~", "..."])
NAMES = st.one_of(
    st.lists(NAME_PARTS, min_size=1, max_size=6).map("/".join),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(NAMES, min_size=1, max_size=4))
def test_random_entry_names_never_escape_staging(tmp_path_factory: pytest.TempPathFactory, names: list[str]) -> None:
    base = tmp_path_factory.mktemp("prop")
    staging = base / "staging"
    source = base / "random.zip"
    with zipfile.ZipFile(source, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on duplicate names; they are part of the test
        archive.writestr("bagit.txt", "BagIt-Version: 1.0\n")
        for name in names:
            archive.writestr(zipfile.ZipInfo(name), b"payload")
    try:
        unpack_transfer(source, staging, SMALL)
    except InputError:
        assert not staging.exists() or list(staging.iterdir()) == []
    outside = [path for path in base.rglob("*") if not path.is_relative_to(staging) and path != source]
    assert outside == []
    for path in staging.rglob("*") if staging.exists() else []:
        assert os.path.realpath(path).startswith(os.path.realpath(staging) + os.sep)


@given(name=NAMES)
def test_safe_member_path_is_relative_and_never_climbs(name: str) -> None:
    try:
        relative = safe_member_path(name)
    except UnsafeArchive:
        return
    assert not relative.is_absolute()
    assert ".." not in relative.parts
    assert "\\" not in str(relative)
