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
    assert report.intact and {f.kind for f in report.findings} == {DamageKind.MISSING}
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
