"""The virus check with the real ClamAV: clamscan with a signature database the test makes (EICAR), and a
real clamd started on its own socket with that database."""
from __future__ import annotations

import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from preservation import scan as scan_module
from preservation.scan import scan_tree, scratch_root, signature_release
from tests.media_factory import EICAR, eicar_database


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "data").mkdir(parents=True)
    (root / "data" / "clean.txt").write_text("hallo")
    with zipfile.ZipFile(root / "data" / "export.zip", "w") as archive:
        archive.writestr("_chat.txt", "[14-03-2024 10:00:00] A: hoi\n")
        archive.writestr("nested/eicar.com", EICAR)
    (root / "data" / "eicar.com").write_bytes(EICAR)
    return root


def test_clamscan_finds_eicar_loose_and_inside_a_zip(tree: Path, tmp_path: Path) -> None:
    db = eicar_database(tmp_path / "db")
    result = scan_tree(tree, db)
    assert result.method == "clamscan" and result.scanned and not result.clean
    assert {i.path for i in result.infections} == {"data/eicar.com", "data/export.zip"}
    assert all("Edepot.Test.EICAR" in i.signature for i in result.infections)
    assert result.engine.startswith("ClamAV ") and "edepot-test.hdb" in result.signatures


@pytest.mark.parametrize("room", [True, False])
def test_clamscan_works_in_memory_where_there_is_room_and_finds_what_it_unpacks_either_way(
        tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, room: bool) -> None:
    if room and scratch_root() is None:
        pytest.skip(f"{scan_module.SCRATCH_ROOT} is not a memory file system with room here")
    if not room:
        monkeypatch.setattr(scan_module, "SCRATCH_NEEDED", 1 << 62)
    assert scratch_root() == (scan_module.SCRATCH_ROOT if room else None)
    result = scan_tree(tree, eicar_database(tmp_path / "db"))
    assert {i.path for i in result.infections} == {"data/eicar.com", "data/export.zip"}  # the zip's: unpacked
    assert not result.errors
    assert not list(scan_module.SCRATCH_ROOT.glob("edepot-clamav-*"))  # its scratch folder is gone


def test_a_clean_tree_is_clean(tree: Path, tmp_path: Path) -> None:
    (tree / "data" / "eicar.com").unlink()
    (tree / "data" / "export.zip").unlink()
    result = scan_tree(tree, eicar_database(tmp_path / "db"))
    assert result.clean and result.files == 1


def test_signature_release_reads_cvd_headers_and_names_custom_databases(tmp_path: Path) -> None:
    cvd = tmp_path / "daily.cvd"
    cvd.write_bytes(b"ClamAV-VDB:23 Nov 2026 08-00 +0000:27480:2000000:90:X:Y:raynman:1700000000".ljust(512))
    eicar_database(tmp_path)
    release = signature_release(tmp_path)
    assert "daily 27480" in release and "custom edepot-test.hdb sha256 " in release


@pytest.mark.skipif(shutil.which("clamd") is None, reason="clamd (Debian clamav-daemon) is not installed")
def test_a_running_clamd_is_used_over_its_socket(tree: Path, tmp_path: Path) -> None:
    db_dir = tmp_path / "clamd-db"
    eicar_database(db_dir)
    # a body signature too, so EICAR is found inside a bigger file; clamd gets it by path, not by stream
    (db_dir / "edepot-test.ndb").write_text(f"Edepot.Test.EICAR.Body:0:*:{EICAR.hex()}\n")
    (tree / "data" / "big.bin").write_bytes(bytes(3 << 20) + EICAR + bytes(1000))
    sock = tmp_path / "clamd.sock"
    conf = tmp_path / "clamd.conf"
    (tree / "data" / "huge.bin").write_bytes(bytes(5 << 20))  # over clamd's MaxFileSize below: not fully scanned
    conf.write_text(f"LocalSocket {sock}\nDatabaseDirectory {db_dir}\nForeground yes\nLogFile {tmp_path / 'log'}\n"
                    "StreamMaxLength 1M\nMaxFileSize 4M\nMaxScanSize 4M\nAlertExceedsMax yes\n")
    daemon = subprocess.Popen(["clamd", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.1)
        result = scan_tree(tree, None, clamd_socket=sock)
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
    assert result.method == "clamd"
    assert {i.path for i in result.infections} == {"data/eicar.com", "data/export.zip", "data/big.bin"}
    assert len(result.errors) == 1 and result.errors[0].startswith("data/huge.bin: not fully scanned")
    assert not result.clean


def test_files_over_clamavs_default_limits_are_scanned_not_skipped(tmp_path: Path) -> None:
    """clamscan skips files over 100 MB silently by default; edepot raises the limits so a big export is read."""
    root = tmp_path / "tree"
    root.mkdir()
    with open(root / "big-export.bin", "wb") as out:
        out.write(bytes(110 << 20))
        out.write(EICAR)
    db = tmp_path / "db" / "body.ndb"
    db.parent.mkdir()
    db.write_text(f"Edepot.Test.EICAR.Body:0:*:{EICAR.hex()}\n")
    result = scan_tree(root, db)
    assert [i.path for i in result.infections] == ["big-export.bin"]
