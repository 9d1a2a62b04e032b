"""Faults: a full disk is a storage failure with a report and nothing stored; the same SIP twice at once gives one
AIP; a second SIP of a record needs --new-version; the duplicate check comes after validation with a digest that
tells every file name apart; and what a killed `dip create` or `ingest` left is removed by the next run of the
same command, `dip purge` and `edepot doctor`, never the staging of a run still going."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import bagit
import pytest

from edepot.cli import main
from ingest.pipeline import ingest
from ingest.sip import create_sip
from kernel.atomic import is_temporary_name
from kernel.config import Config, load_config
from kernel.errors import AlreadyIngested, InvalidPackage, RecordExists
from kernel.locks import claim_work
from preservation.catalogue import open_catalogue
from preservation.doctor import Status, run_doctor
from preservation.leftovers import NOT_REMOVED, clear_leftovers
from preservation.storage import open_locations
from tests.conftest import FIXED_NOW, REPO

SAMPLE = next((REPO / "samples" / "whatsapp-ios-nl").glob("*.zip"))
T = TypeVar("T")


@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A small tmpfs mounted at `where` (root only; outside CI the test is skipped without root)."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("mount tests need root in CI")
        pytest.skip("mounting a tmpfs needs root")
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def with_locations(config: Config, *roots: Path) -> Config:
    """The configuration with these storage locations, written to edepot.toml too (for the command line)."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    (config.data_dir / "edepot.toml").write_text(
        "[storage]\nlocations = [" + ", ".join(f'"{r}"' for r in roots) + "]\n", encoding="utf-8")
    return dataclasses.replace(config, storage_locations=roots)


def catalogued(config: Config) -> list[str]:
    catalogue = open_catalogue(config.catalogue_url)
    try:
        return [aip.aip_id for aip in catalogue.aips()]
    finally:
        catalogue.close()


def rejection_reports(config: Config) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((config.data_dir / "reports").glob("*-rejected-*.json"))]


def test_a_full_storage_location_is_a_storage_failure_naming_it_with_a_report_and_nothing_stored(
        config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sip = create_sip([SAMPLE], tmp_path / "sip", config).path
    with tmpfs(tmp_path / "small", "128k") as small:
        config = with_locations(config, tmp_path / "big", small)
        code = main(["--data-dir", str(config.data_dir), "ingest", str(sip)])
        err = capsys.readouterr().err
        where = f"storage location location-2 ({small})"
        assert code == 3 and err.startswith(f"edepot: error E500: {where} failed: No space left") and "report: " in err
        (report,) = rejection_reports(config)
        assert report["error"]["ref"] == "E500" and report["error"]["location"] == where
        for location in open_locations(config.storage_locations):  # nothing half stored, nothing left over
            assert not list(location.aip_ids()) and not list((location.root / ".incoming").iterdir())
        assert catalogued(config) == []


def test_a_full_staging_folder_names_the_data_directory_and_the_report_is_still_written(
        config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sip = create_sip([SAMPLE], tmp_path / "sip", config).path
    with tmpfs(config.staging_dir, "96k"):
        code = main(["--data-dir", str(config.data_dir), "ingest", str(sip)])
        err = capsys.readouterr().err
        assert code == 3, err
        assert err.startswith(f"edepot: error E500: the data directory ({config.data_dir}) failed: No space left")
        (report,) = rejection_reports(config)
        assert report["status"] == "rejected" and report["error"]["ref"] == "E500"
        assert not list(config.staging_dir.iterdir())
    assert catalogued(config) == []


def test_any_command_writing_to_a_full_or_read_only_file_system_exits_3_not_2(
        config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with tmpfs(tmp_path / "usb", "64k") as usb:
        code = main(["--data-dir", str(config.data_dir), "sip", "create", str(SAMPLE), "--out", str(usb / "sip")])
        err = capsys.readouterr().err
        assert code == 3 and err.startswith("edepot: error E500: ") and "No space left" in err, err
        assert not list(usb.iterdir())  # the SIP appears whole or not at all
        subprocess.run(["mount", "-o", "remount,ro", str(usb)], check=True)
        code = main(["--data-dir", str(config.data_dir), "sip", "create", str(SAMPLE), "--out", str(usb / "sip")])
        err = capsys.readouterr().err
        assert code == 3 and "Read-only file system" in err, err


def run_ingest(config: Config, sip: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "EDEPOT_DATA"}
    return subprocess.Popen([sys.executable, "-m", "edepot.cli", "--data-dir", str(config.data_dir), "ingest",
                             str(sip)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def test_the_same_sip_ingested_twice_at_once_gives_one_aip_and_e106(config: Config, tmp_path: Path) -> None:
    sip = create_sip([SAMPLE], tmp_path / "sip", config).path
    runs = [run_ingest(config, sip) for _ in range(2)]
    outcomes = sorted((run.wait(timeout=300), *run.communicate()) for run in runs)
    (ok, _out, ok_err), (refused, _, err) = outcomes
    assert ok == 0, ok_err
    assert refused == 2 and err.startswith("edepot: error E106: ") and "No such file" not in err, err
    assert len(catalogued(config)) == 1
    for location in open_locations(config.storage_locations):
        assert len(list(location.aip_ids())) == 1 and not list((location.root / ".incoming").iterdir())
    assert not list(config.locks_dir.iterdir())  # every lock let go


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Path, str]:
    """A data directory holding one AIP: its configuration, its SIP and its AIP identifier."""
    root = tmp_path_factory.mktemp("held")
    config = load_config(root / "data", clock=lambda: FIXED_NOW)
    sip = create_sip([SAMPLE], root / "sip", config).path
    return config, sip, ingest(sip, config).aip_id


def test_a_second_sip_of_a_record_is_refused_unless_asked_as_a_new_version(held: tuple[Config, Path, str],
                                                                            tmp_path: Path) -> None:
    config, _sip, aip_id = held
    other = create_sip([SAMPLE], tmp_path / "other", config, tz="Europe/London")  # same record, another SIP
    with pytest.raises(RecordExists) as caught:
        ingest(other.path, config)
    assert caught.value.ref == "E108" and caught.value.exit_code == 2
    assert f"record {other.record_id} is archived already (AIP {aip_id}" in caught.value.message
    assert caught.value.remedy == "new-version" and "version 2 of the record" in caught.value.hint
    assert "--" not in caught.value.hint  # the command line adds its flag (edepot/remedies.py)
    assert catalogued(config) == [aip_id]  # (with --new-version it becomes version 2: tests/test_end_to_end.py)


def test_a_broken_sip_gets_its_real_problem_not_e106(held: tuple[Config, Path, str], tmp_path: Path) -> None:
    config, sip, _aip_id = held
    broken = Path(shutil.copytree(sip, tmp_path / "broken"))
    original = next((broken / "data" / "original").iterdir())
    damaged = bytearray(original.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01  # the manifest is the one ingested before; the bytes are not
    original.write_bytes(bytes(damaged))
    with pytest.raises(InvalidPackage) as caught:
        ingest(broken, config)
    assert caught.value.ref == "E300" and any("sha256" in p for p in caught.value.problems), caught.value.problems


def test_the_sip_digest_tells_a_line_feed_from_a_percent_escape(tmp_path: Path) -> None:
    from ingest.stages import sip_digest

    digests = []
    for n, name in enumerate(["a\nb.txt", "a%0Ab.txt"]):
        bag = tmp_path / f"bag{n}"
        bag.mkdir()
        (bag / name).write_bytes(b"the same bytes")
        bagit.make_bag(str(bag), checksums=["sha256"])  # the manifest lines of both read "… data/a%0Ab.txt"
        digests.append(sip_digest(bag))
    assert (tmp_path / "bag0" / "manifest-sha256.txt").read_bytes() == (tmp_path / "bag1" / "manifest-sha256.txt").read_bytes()
    assert digests[0] != digests[1]


def test_a_sip_known_by_the_digest_of_an_older_catalogue_is_still_refused(held: tuple[Config, Path, str]) -> None:
    config, sip, aip_id = held
    lines = sorted((sip / "manifest-sha256.txt").read_bytes().splitlines())
    older = hashlib.sha256(b"\n".join(lines)).hexdigest()  # what catalogues held before
    db = sqlite3.connect(config.catalogue_url.removeprefix("sqlite:///"))
    (now,) = db.execute("SELECT sip_digest FROM aips WHERE aip_id = ?", (aip_id,)).fetchone()
    with db:
        db.execute("UPDATE aips SET sip_digest = ? WHERE aip_id = ?", (older, aip_id))
    try:
        with pytest.raises(AlreadyIngested, match=aip_id):
            ingest(sip, config)
    finally:
        with db:
            db.execute("UPDATE aips SET sip_digest = ? WHERE aip_id = ?", (now, aip_id))
        db.close()


def start(config: Config, *args: str | Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "EDEPOT_DATA"}
    return subprocess.Popen([sys.executable, "-m", "edepot.cli", "--data-dir", str(config.data_dir), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
                            start_new_session=True)


def wait_for(found: Callable[[], T], process: subprocess.Popen[str]) -> T:
    """Poll until `found` returns something, while the process runs."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"the command ended before the moment awaited: {process.communicate()}")
        time.sleep(0.005)
    pytest.fail("the moment awaited never came")


def kill(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


def partials(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if is_temporary_name(p.name)]


def edepot_json(config: Config, capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, dict]:
    code = main(["--data-dir", str(config.data_dir), "--json", *map(str, args)])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_a_killed_dip_create_leaves_staging_that_purge_doctor_and_the_next_run_remove(
        held: tuple[Config, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, _sip, aip_id = held
    out = tmp_path / "deliveries" / "dip"
    out.parent.mkdir()

    def killed_half_way() -> Path:
        process = start(config, "dip", "create", "--aip", aip_id, "--out", out)
        (partial,) = wait_for(lambda: partials(out.parent), process)
        kill(process)
        assert partial.is_dir() and not out.exists()
        return partial

    running = start(config, "dip", "create", "--aip", aip_id, "--out", out)
    (partial,) = wait_for(lambda: partials(out.parent), running)
    os.killpg(running.pid, signal.SIGSTOP)  # still running, only paused: its staging is not touched
    try:
        findings = run_doctor(config)
        assert [f.status for f in findings if f.subject == str(partial)] == [Status.IN_USE]
        assert partial.is_dir()
    finally:
        kill(running)

    code, purged = edepot_json(config, capsys, "dip", "purge")
    assert code == 0 and [(f["path"], f["state"]) for f in purged["leftovers"]] == [(str(partial), "removed")]
    assert not partials(out.parent)

    partial = killed_half_way()
    code, report = edepot_json(config, capsys, "doctor", "--dry-run")
    assert [f["status"] for f in report["findings"] if f["subject"] == str(partial)] == ["found"] and partial.is_dir()
    code, report = edepot_json(config, capsys, "doctor")
    assert code == 0 and [f["status"] for f in report["findings"] if f["subject"] == str(partial)] == ["removed"]
    assert not partials(out.parent)

    killed_half_way()
    code, made = edepot_json(config, capsys, "dip", "create", "--aip", aip_id, "--out", out)
    assert code == 0 and (out / "dip.json").is_file()
    assert partials(out.parent) == [] and not list(config.locks_dir.iterdir())


def test_a_killed_ingest_leaves_staging_that_doctor_lists_and_the_next_ingest_removes(
        config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sip = create_sip([SAMPLE], tmp_path / "sip", config).path
    incoming = [root / ".incoming" for root in config.storage_locations]
    process = start(config, "ingest", sip)  # killed once its copies to storage have begun
    wait_for(lambda: all(folder.is_dir() and any(folder.iterdir()) for folder in incoming), process)
    kill(process)
    left = list(config.staging_dir.iterdir()) + [p for folder in incoming for p in folder.iterdir()]
    assert len(left) == 3 and any(p.name.startswith("ingest-") for p in left)

    code, report = edepot_json(config, capsys, "doctor", "--dry-run")
    listed = sorted(f["subject"] for f in report["findings"]
                    if f["status"] == "found" and not f["subject"].startswith(str(config.locks_dir)))
    assert code == 0 and listed == sorted(map(str, left)) and all(p.exists() for p in left)

    code, _ = edepot_json(config, capsys, "ingest", tmp_path / "not-a-sip")  # the next run, however it ends
    assert code == 2 and not any(p.exists() for p in left) and not list(config.locks_dir.glob("work-*"))


def test_a_claim_naming_a_path_outside_the_staging_areas_never_has_it_removed(config: Config, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    claim = claim_work(config.locks_dir, "dip create")
    claim.note(precious)
    claim.release(remove=False)  # as a killed process lets go: the claim stays, dead
    (found,) = clear_leftovers(config)
    assert (found.path, found.state) == (precious, NOT_REMOVED) and precious.is_dir()
    assert not list(config.locks_dir.iterdir())


def test_doctor_names_a_read_only_location_as_a_problem(config: Config, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    with tmpfs(tmp_path / "replica", "1m") as replica:
        config = with_locations(config, tmp_path / "first", replica)
        (tmp_path / "first").mkdir()
        subprocess.run(["mount", "-o", "remount,ro", str(replica)], check=True)
        code, report = edepot_json(config, capsys, "doctor")
        problems = [(f["check"], f["subject"]) for f in report["findings"] if f["status"] == "problem"]
        assert code == 1 and problems == [("storage location location-2", str(replica))]
        assert "read-only" in next(f["detail"] for f in report["findings"] if f["subject"] == str(replica))


def test_a_name_holding_a_nul_is_escaped_in_the_metadata_and_its_sip_ingests(config: Config, tmp_path: Path) -> None:
    export = tmp_path / "chat.txt"
    export.write_bytes(b"14-03-2024 10:15 - Jan\x00Jansen: hallo\n14-03-2024 10:16 - Piet: ja\n")
    sip = create_sip([export], tmp_path / "sip", config)
    metadata = b"".join(p.read_bytes() for p in (sip.path / "data" / "metadata").rglob("*.xml"))
    assert b"Jan\\x00Jansen" in metadata and b"\x00" not in metadata
    result = ingest(sip.path, dataclasses.replace(config, scan_required=False))
    stored = next(Path(p) for p in result.locations) / "data" / "original" / "chat.txt"
    assert stored.read_bytes() == export.read_bytes()  # the original keeps its NUL
