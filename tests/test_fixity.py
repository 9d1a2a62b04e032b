"""Fixity: every kind of damage is found; single-replica damage is repaired; double damage is reported."""
from __future__ import annotations

import random
import shutil
from datetime import timedelta
from pathlib import Path

import bagit
import pytest

from kernel.config import Config
from preservation.catalogue import AipState, ReplicaStatus, open_catalogue
from preservation.fixity import DamageKind, FixityReport, run_fixity
from preservation.storage import open_locations
from tests.aip_factory import bag_of, make_aip


def fixity(config: Config, **kwargs: object) -> FixityReport:
    catalogue = open_catalogue(config.catalogue_url)
    try:
        return run_fixity(config, catalogue, open_locations(config.storage_locations), **kwargs)  # type: ignore[arg-type]
    finally:
        catalogue.close()


def flip_byte(path: Path, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    if not data:
        path.write_bytes(b"x")
        return
    i = rng.randrange(len(data))
    data[i] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))


def test_a_stored_aip_is_a_valid_bag_in_both_locations(config: Config) -> None:
    aip_id = make_aip(config)
    for n in (0, 1):
        bagit.Bag(str(bag_of(config, aip_id, n))).validate()
    report = fixity(config)
    assert report.intact and not report.findings
    assert report.files_checked == 2 * (6 + 6)  # payload + bagit, bag-info, 2 manifests, 2 tag manifests


def test_flip_delete_and_stray_are_all_found_and_repaired(config: Config) -> None:
    aip_id = make_aip(config)
    first, second = bag_of(config, aip_id, 0), bag_of(config, aip_id, 1)
    flip_byte(first / "data/preservation/f3.bin", random.Random(1))
    (second / "data/original/file 0%.bin").unlink()
    (second / "data" / "stray.txt").write_text("not part of the AIP")

    report = fixity(config)
    found = {(f.location, f.path, f.kind) for f in report.findings}
    assert found == {
        ("location-1", "data/preservation/f3.bin", DamageKind.MODIFIED),
        ("location-2", "data/original/file 0%.bin", DamageKind.MISSING),
        ("location-2", "data/stray.txt", DamageKind.EXTRA),
    }
    assert report.intact
    assert not (second / "data" / "stray.txt").exists()
    assert list(config.quarantine_dir.rglob("stray.txt*"))
    for n in (0, 1):
        bagit.Bag(str(bag_of(config, aip_id, n))).validate()
    assert fixity(config).findings == []

    catalogue = open_catalogue(config.catalogue_url)
    try:
        types = [e.type for e in catalogue.events(aip_id)]
        statuses = {r.location: r.status for r in catalogue.replicas(aip_id)}
    finally:
        catalogue.close()
    assert types.count("repair") == 3 and types.count("fixity check") == 4
    assert statuses == {"location-1": ReplicaStatus.INTACT, "location-2": ReplicaStatus.INTACT}


@pytest.mark.parametrize("trial", range(40))
def test_random_single_replica_damage_is_found_and_repaired(config: Config, trial: int) -> None:
    rng = random.Random(trial)
    aip_id = make_aip(config, files=rng.randint(1, 8), seed=trial)
    location = rng.randrange(2)
    bag = bag_of(config, aip_id, location)
    victims = sorted(p for p in bag.rglob("*") if p.is_file())
    victim = rng.choice(victims)
    kind = rng.choice(["flip", "truncate", "delete", "extra", "rename"])
    if kind == "flip":
        flip_byte(victim, rng)
    elif kind == "truncate":
        victim.write_bytes(victim.read_bytes()[:-1] if victim.stat().st_size else b"grown")
    elif kind == "delete":
        victim.unlink()
    elif kind == "extra":
        (victim.parent / f"extra-{trial}.tmp").write_bytes(b"extra")
    else:
        victim.rename(victim.with_name(victim.name + ".renamed"))

    report = fixity(config)
    assert report.findings, f"{kind} of {victim} was not found"
    assert all(f.location == f"location-{location + 1}" for f in report.findings)
    assert report.intact
    for n in (0, 1):
        bagit.Bag(str(bag_of(config, aip_id, n))).validate()
    assert fixity(config).findings == []


def test_damage_to_every_replica_is_reported_and_nothing_is_overwritten(config: Config) -> None:
    aip_id = make_aip(config)
    damaged = []
    for n in (0, 1):
        target = bag_of(config, aip_id, n) / "data/preservation/f2.bin"
        target.write_bytes(f"damaged in replica {n}".encode())
        damaged.append(target)
    report = fixity(config)
    assert not report.intact
    assert {(f.location, f.kind, f.mended) for f in report.findings} == {
        ("location-1", DamageKind.MODIFIED, False), ("location-2", DamageKind.MODIFIED, False)}
    assert [p.read_bytes() for p in damaged] == [b"damaged in replica 0", b"damaged in replica 1"]
    catalogue = open_catalogue(config.catalogue_url)
    try:
        assert catalogue.aip(aip_id).state is AipState.DAMAGED
    finally:
        catalogue.close()


def test_a_missing_replica_is_rebuilt_from_the_other(config: Config) -> None:
    aip_id = make_aip(config)
    shutil.rmtree(bag_of(config, aip_id, 1))
    report = fixity(config)
    assert report.intact and [f.kind for f in report.findings] == [DamageKind.REPLICA_MISSING]
    assert report.findings[0].repaired_from == "location-1"
    bagit.Bag(str(bag_of(config, aip_id, 1))).validate()


def test_budget_verifies_least_recently_verified_first(config: Config) -> None:
    ids = [make_aip(config, seed=s) for s in range(3)]
    clock_values = iter(range(1, 100))
    base = config.clock()  # the moment of ingest; each night is a day later
    ticking = Config(**{**config.__dict__, "clock": lambda: base + timedelta(days=next(clock_values))})
    seen: list[str] = []
    for _night in range(3):
        report = fixity(ticking, max_bytes=1)
        assert len(report.aips_checked) == 1 and len(report.aips_skipped) == 2
        seen += report.aips_checked
    assert sorted(seen) == sorted(ids)


def test_a_renamed_file_is_named_back(config: Config) -> None:
    aip_id = make_aip(config)
    bag = bag_of(config, aip_id, 0)
    (bag / "data/preservation/f2.bin").rename(bag / "data/preservation/f2-renamed.bin")
    report = fixity(config)
    assert [(f.kind, f.path, f.found_as) for f in report.findings] == [
        (DamageKind.RENAMED, "data/preservation/f2.bin", "data/preservation/f2-renamed.bin")]
    assert report.intact and not list(config.quarantine_dir.rglob("*"))
    bagit.Bag(str(bag)).validate()


def test_a_bag_the_catalogue_does_not_know_is_reported_and_left_alone(config: Config) -> None:
    aip_id = make_aip(config)
    stranger = bag_of(config, aip_id, 1).parent.parent / "ff" / "ffffffff-0000-4000-8000-000000000000"
    shutil.copytree(bag_of(config, aip_id, 1), stranger)
    report = fixity(config)
    assert [(f.kind, f.location) for f in report.findings] == [(DamageKind.UNKNOWN_BAG, "location-2")]
    assert not report.intact and stranger.is_dir()
    assert [f.kind for f in fixity(config, aip_ids=[aip_id]).findings] == []  # a targeted run looks at its AIP only


def test_a_week_of_nightly_budgeted_runs_covers_the_whole_archive(config: Config) -> None:
    ids = [make_aip(config, files=3, seed=s) for s in range(7)]
    nights = iter(range(1, 100))
    base = config.clock()
    nightly = Config(**{**config.__dict__, "clock": lambda: base + timedelta(days=next(nights))})
    verified = [aip for _ in range(7) for aip in fixity(nightly, max_bytes=1).aips_checked]
    assert sorted(verified) == sorted(ids)  # each AIP exactly once in seven nights


def test_reports_are_written_and_on_failure_runs_when_damage_remains(config: Config, tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    aip_id = make_aip(config)
    for n in (0, 1):
        (bag_of(config, aip_id, n) / "data/preservation/f1.bin").write_bytes(b"gone bad")
    alert = tmp_path / "alert.txt"
    result = subprocess.run(
        [sys.executable, "-m", "edepot.cli", "--data-dir", str(config.data_dir), "--json", "fixity", "run",
         "--on-failure", f'cp "$EDEPOT_FIXITY_REPORT" {alert}'],
        capture_output=True, text=True, env={**os.environ, "EDEPOT_SCHEMA_DIR": ""},
    )
    assert result.returncode == 1, result.stderr
    output = json.loads(result.stdout)
    assert json.loads(alert.read_text()) == json.loads(Path(output["report_json"]).read_text())
    page = Path(output["report_html"]).read_text(encoding="utf-8")
    assert aip_id in page and "NIET HERSTELD" in page and "data/preservation/f1.bin" in page
    assert (config.data_dir / "reports" / "fixity" / "latest.html").read_text(encoding="utf-8") == page


def test_schedule_prints_and_installs_a_nightly_timer(config: Config, tmp_path: Path) -> None:
    import subprocess
    import sys

    units = tmp_path / "units"
    units.mkdir()
    schedule = [sys.executable, "-m", "edepot.cli", "--data-dir", str(config.data_dir), "fixity", "schedule",
                "--at", "03:15", "--max-seconds", "7200", "--install", str(units)]
    unattended = subprocess.run(schedule, capture_output=True, text=True)  # nobody to act at night: refused
    assert unattended.returncode == 2 and "E112" in unattended.stderr and "[operator] name" in unattended.stderr
    assert not list(units.iterdir())
    config.data_dir.mkdir(parents=True, exist_ok=True)
    (config.data_dir / "edepot.toml").write_text('[operator]\nname = "N. Nachtdienst"\n', encoding="utf-8")
    result = subprocess.run(schedule, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "act as the configured operator, N. Nachtdienst" in result.stdout
    timer = (units / "edepot-fixity.timer").read_text()
    service = (units / "edepot-fixity.service").read_text()
    assert "OnCalendar=*-*-* 03:15:00" in timer and "Persistent=true" in timer
    assert str(config.data_dir) in service and "--max-seconds 7200" in service
    assert "15 3 * * *" in result.stdout
    purge = (units / "edepot-dip-purge.service").read_text()  # expired DIPs are removed daily as well
    assert "dip purge" in purge and str(config.data_dir) in purge
    assert "OnCalendar=*-*-* 00:15:00" in (units / "edepot-dip-purge.timer").read_text()
    assert "dip purge" in result.stdout.split("crontab")[-1]
    bad = subprocess.run([sys.executable, "-m", "edepot.cli", "fixity", "schedule", "--at", "25:00"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
