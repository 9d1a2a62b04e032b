"""Fixity when the file system says no: names as long as a name can be, and a location that is read-only.

A repair that fails is a finding with the OS error and a failed repair event; the run goes on with every other
AIP, writes its report, exits 1 and runs --on-failure.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import bagit
import pytest

from ingest.unpack import unpack_transfer
from kernel.config import Config
from preservation.catalogue import open_catalogue
from preservation.fixity import DamageKind
from tests.aip_factory import bag_of, make_aip
from tests.test_fixity import fixity

LONG_NAME = "n" * 246 + ".bin"  # 250 characters: a legitimate name, 5 bytes short of the limit


def test_a_file_with_a_250_character_name_is_rebuilt_and_a_long_stray_quarantined(config: Config) -> None:
    aip_id = make_aip(config, original_name=LONG_NAME)
    first, second = bag_of(config, aip_id, 0), bag_of(config, aip_id, 1)
    (second / "data/original" / LONG_NAME).unlink()
    (first / "data/preservation" / ("s" * 250)).write_bytes(b"a stray with a long name")

    report = fixity(config)
    assert {(f.location, f.kind, f.mended) for f in report.findings} == {
        ("location-2", DamageKind.MISSING, True), ("location-1", DamageKind.EXTRA, True)}
    assert report.intact
    assert [p.name for p in config.quarantine_dir.rglob("s" * 250)] == ["s" * 250]  # quarantined under its own name

    shutil.rmtree(second)
    report = fixity(config)
    assert [(f.kind, f.mended) for f in report.findings] == [(DamageKind.REPLICA_MISSING, True)]
    for bag in (first, second):
        bagit.Bag(str(bag)).validate()
        assert not [p for p in bag.rglob("*") if p.name.startswith(".")]  # no staging file left behind


def test_a_transfer_package_with_a_long_name_unpacks(tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    bagit.make_bag(str(bag.mkdir() or bag))
    package = tmp_path / ("p" * 251 + ".zip")
    with zipfile.ZipFile(package, "w") as archive:
        for path in sorted(bag.rglob("*")):
            archive.write(path, path.relative_to(tmp_path))
    root = unpack_transfer(package, tmp_path / "staging")
    assert (root / "bagit.txt").is_file()


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs, writable until the test calls `remount_read_only` on it (root only: chmod does not stop root)."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("mounting a tmpfs needs root, and CI is set")
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "mounted"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def remount_read_only(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)


def test_a_read_only_location_fails_the_repair_and_the_run_goes_on(tmp_path: Path, read_only_mount: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    writable = tmp_path / "location-a"
    (data / "edepot.toml").write_text(f'[storage]\nlocations = ["{writable}", "{read_only_mount}"]\n')
    from kernel.config import load_config

    config = load_config(data)
    on_read_only = make_aip(config, seed=1)
    elsewhere = make_aip(config, seed=2)
    (bag_of(config, on_read_only, 1) / "data/preservation/f2.bin").unlink()
    (bag_of(config, on_read_only, 1) / "data/stray.txt").write_text("not part of the AIP")
    (bag_of(config, elsewhere, 0) / "data/preservation/f1.bin").write_bytes(b"flipped")
    remount_read_only(read_only_mount)

    alert = tmp_path / "alert.json"
    result = subprocess.run(
        [sys.executable, "-m", "edepot.cli", "--data-dir", str(data), "--json", "fixity", "run",
         "--on-failure", f'cp "$EDEPOT_FIXITY_REPORT" {alert}'],
        capture_output=True, text=True, env={**os.environ, "EDEPOT_SCHEMA_DIR": ""},
    )
    assert result.returncode == 1, result.stderr
    output = json.loads(result.stdout)
    assert json.loads(alert.read_text()) == json.loads(Path(output["report_json"]).read_text())
    assert sorted(output["aips_checked"]) == sorted([on_read_only, elsewhere])
    failed = {(f["aip_id"], f["path"], f["kind"]): f for f in output["findings"] if not f["mended"]}
    assert set(failed) == {(on_read_only, "data/preservation/f2.bin", "missing"),
                           (on_read_only, "data/stray.txt", "extra")}
    assert all("Read-only file system (EROFS)" in f["outcome"] for f in failed.values())
    assert [(f["aip_id"], f["repaired_from"]) for f in output["findings"] if f["mended"]] == [
        (elsewhere, "location-2")]
    bagit.Bag(str(bag_of(config, elsewhere, 0))).validate()

    catalogue = open_catalogue(config.catalogue_url)
    try:
        repairs = [e for e in catalogue.events(on_read_only) if e.type == "repair"]
    finally:
        catalogue.close()
    assert len(repairs) == 2 and {e.outcome for e in repairs} == {"failure"}
    assert all("Read-only file system" in e.outcome_detail for e in repairs)
    page = Path(output["report_html"]).read_text(encoding="utf-8")
    assert "NIET HERSTELD: Read-only file system (EROFS)" in page  # the findings row names the OS error
