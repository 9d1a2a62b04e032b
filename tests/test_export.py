"""Opening exports: loose files and zips, and every unsafe or broken input refused with the right error."""
from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from ingest.export import ExportMember, open_export
from ingest.sources import parse_export
from kernel.errors import InputError, UnknownExportFormat, UnsafeArchive

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
IOS_ZIP = SAMPLES / "whatsapp-ios-nl" / "WhatsApp Chat - Herinrichting Marktplein.zip"
CHAT = "[14-03-2024 10:15:01] Petra de Vries: Hallo\n".encode()


def write_zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return path


def test_zip_members_read_and_extract(tmp_path: Path) -> None:
    export = open_export([IOS_ZIP])
    names = [m.name for m in export.members()]
    assert names == [
        "00000005-PHOTO-2024-03-14-10-21-07.jpg",
        "00000008-AUDIO-2024-03-14-10-25-33.opus",
        "00000011-Schetsontwerp Marktplein.pdf",
        "_chat.txt",
    ]
    assert export.paths == (IOS_ZIP,)
    assert export.read("_chat.txt").startswith(b"[14-03-2024 09:58:12] Herinrichting Marktplein: ")
    target = tmp_path / "out" / "photo.jpg"
    export.extract("00000005-PHOTO-2024-03-14-10-21-07.jpg", target)
    assert target.read_bytes()[:3] == b"\xff\xd8\xff"
    member = next(m for m in export.members() if m.name == "_chat.txt")
    assert member == ExportMember("_chat.txt", len(export.read("_chat.txt")))
    written = export.extract_all(tmp_path / "all")
    assert sorted(p.name for p in written) == sorted(names)
    with pytest.raises(InputError):
        export.read("nope.txt")


def test_loose_files_export(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp-chat met Petra.txt"
    chat.write_bytes(CHAT)
    photo = tmp_path / "IMG-20240314-WA0001.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 not really")
    export = open_export([chat, photo])
    assert [m.name for m in export.members()] == [chat.name, photo.name]
    assert export.read(photo.name) == photo.read_bytes()
    files = export.source_files()
    assert [f.name for f in files] == [chat.name, photo.name]
    assert files[0].size == len(CHAT)


def test_missing_file_empty_folder_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        open_export([tmp_path / "missing.zip"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty folder"):
        open_export([tmp_path / "empty"])
    with pytest.raises(InputError):
        open_export([])
    (tmp_path / "nothing.txt").write_bytes(b"")
    with pytest.raises(InputError, match="is empty"):
        open_export([tmp_path / "nothing.txt"])


def test_export_folder_members_are_relative_sorted_paths(tmp_path: Path) -> None:
    root = tmp_path / "ChatExport_2024-03-14"
    (root / "photos").mkdir(parents=True)
    (root / "result.json").write_bytes(b'{"chats": {"list": []}}')
    (root / "photos" / "photo 1.jpg").write_bytes(b"\xff\xd8jpeg")
    export = open_export([root])
    assert [m.name for m in export.members()] == ["photos/photo 1.jpg", "result.json"]
    assert export.read("photos/photo 1.jpg") == b"\xff\xd8jpeg"
    assert export.read_head("result.json", 8) == b'{"chats"'
    with export.open("result.json") as stream:
        assert stream.read() == b'{"chats": {"list": []}}'
    files = {f.name: f for f in export.source_files()}
    assert set(files) == {"ChatExport_2024-03-14/result.json", "ChatExport_2024-03-14/photos/photo 1.jpg"}
    assert files["ChatExport_2024-03-14/result.json"].size == 23
    with pytest.raises(InputError, match="on its own"):
        open_export([root, tmp_path / "other.txt"])


def test_export_folder_with_a_link_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "export"
    root.mkdir()
    (root / "result.json").write_bytes(b"{}")
    (root / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(UnsafeArchive, match="symbolic link"):
        open_export([root])


def test_head_is_read_once_and_cut_to_the_limit(tmp_path: Path) -> None:
    chat = tmp_path / "chat.txt"
    chat.write_bytes(CHAT)
    export = open_export([chat])
    assert export.read_head(chat.name, 5) == CHAT[:5]
    chat.write_bytes(b"changed after the first look")
    assert export.read_head(chat.name) == CHAT  # cached: every format sees the same head


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(tmp_path: Path) -> None:
    chat = tmp_path / "chat.txt"
    chat.write_bytes(CHAT)
    chat.chmod(0)
    with pytest.raises(InputError, match="permission"):
        open_export([chat])


def test_random_bytes_are_unknown_format(tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 40)
    assert [m.name for m in open_export([blob]).members()] == ["blob.bin"]  # the registry decides
    with pytest.raises(UnknownExportFormat) as refused:
        parse_export([blob])
    assert "whatsapp 0" in refused.value.one_line()  # names what was tried


def test_text_that_is_not_a_chat_is_unknown_format(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("boodschappen: melk, brood\n", encoding="utf-8")
    with pytest.raises(UnknownExportFormat):
        parse_export([notes])


@pytest.mark.parametrize(
    "name",
    ["../evil.txt", "chats/../../evil.txt", "/etc/evil.txt", "\\evil.txt", "C:/evil.txt", "c:evil.txt", "a\\..\\..\\evil"],
)
def test_unsafe_entry_names(tmp_path: Path, name: str) -> None:
    archive = write_zip(tmp_path / "x.zip", [("_chat.txt", CHAT), (name, b"boo")])
    with pytest.raises(UnsafeArchive):
        open_export([archive])


def test_absolute_path_entry_written_raw(tmp_path: Path) -> None:
    # zipfile strips a leading '/' from names it is given, so set the raw name after construction
    info = zipfile.ZipInfo("x")
    info.filename = "/tmp/evil.txt"
    archive = write_zip(tmp_path / "abs.zip", [(info, b"boo")])
    with pytest.raises(UnsafeArchive, match="unsafe path"):
        open_export([archive])


def test_symlink_entry(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("link")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = write_zip(tmp_path / "link.zip", [("_chat.txt", CHAT), (link, b"/etc/passwd")])
    with pytest.raises(UnsafeArchive, match="symbolic link"):
        open_export([archive])


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "bomb.zip", [("_chat.txt", CHAT), ("zeros.bin", bytes(50 * 1024**2))])
    assert archive.stat().st_size < 1024**2
    with pytest.raises(UnsafeArchive, match="200:1"):
        open_export([archive])


def test_zip_bomb_by_total_size(tmp_path: Path) -> None:
    noise = os.urandom(3 * 1024**2)
    archive = write_zip(tmp_path / "big.zip", [("_chat.txt", CHAT), ("a.bin", noise), ("b.bin", noise)])
    with pytest.raises(UnsafeArchive, match="more than"):
        open_export([archive], max_total=5 * 1024**2)
    assert len(open_export([archive]).members()) == 3


def test_empty_zip(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "empty.zip", [])
    with pytest.raises(InputError, match="empty zip"):
        open_export([archive])


def test_corrupt_zip(tmp_path: Path) -> None:
    good = IOS_ZIP.read_bytes()
    broken = tmp_path / "broken.zip"
    broken.write_bytes(good[: len(good) // 2])
    with pytest.raises(InputError):
        open_export([broken])


def test_corrupt_member_data(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_chat.txt", CHAT * 50)
    data = bytearray(buffer.getvalue())
    data[40:60] = b"\x00" * 20  # inside the deflated stream of the first entry
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    export = open_export([damaged])
    with pytest.raises(InputError):
        export.read("_chat.txt")


def test_zip_must_be_alone(tmp_path: Path) -> None:
    chat = tmp_path / "chat.txt"
    chat.write_bytes(CHAT)
    with pytest.raises(InputError, match="on its own"):
        open_export([IOS_ZIP, chat])


def test_extract_all_stays_inside(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "nested.zip", [("_chat.txt", CHAT), ("media/a.jpg", b"x")])
    written = open_export([archive]).extract_all(tmp_path / "out")
    root = (tmp_path / "out").resolve()
    assert all(p.is_relative_to(root) for p in written)
    assert (root / "media" / "a.jpg").read_bytes() == b"x"
