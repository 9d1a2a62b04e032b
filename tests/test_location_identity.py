"""Storage locations by identity: reordering the configuration remaps no replica, a new location never takes the
identity of one the catalogue knows, a location dropped from the configuration is reported by fixity and doctor,
and a data dir made by 0.2.0 keeps its locations' identities (then its place in the configuration) on upgrade."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from edepot.cli import main
from kernel.config import Config, load_config
from kernel.errors import InputError
from preservation.storage import MARKER, open_locations
from tests.aip_factory import make_aip
from tests.conftest import FIXED_NOW
from tests.datadir_answers import FIXTURE_DATA, copy_data_dir, edepot


def configure(data_dir: Path, *entries: str) -> Config:
    """Write `[storage] locations = [entries]` (TOML values) into the data dir's edepot.toml; the configuration."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "edepot.toml").write_text(f"[storage]\nlocations = [{', '.join(entries)}]\n", encoding="utf-8")
    return load_config(data_dir, clock=lambda: FIXED_NOW)


def run(config: Config, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["--data-dir", str(config.data_dir), "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_reordering_the_configuration_remaps_no_replica(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second, new = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    config = configure(tmp_path / "data", f'"{first}"', f'"{second}"')
    aip_id = make_aip(config, files=3)
    assert json.loads((first / MARKER).read_text()) == {"id": "location-1", "name": "location-1"}
    damaged = first / aip_id[:2] / aip_id / "data" / "preservation" / "f1.bin"
    damaged.write_bytes(b"not what was stored")

    # reordered, with a new location in front: the place of the old ones changes, their identity does not
    config = configure(tmp_path / "data", f'"{new}"', f'"{second}"', f'"{first}"')
    assert [(loc.root, loc.id) for loc in open_locations(config.storage_locations, config)] == [
        (new, "location-3"), (second, "location-2"), (first, "location-1")]
    code, report = run(config, capsys, "fixity", "run", "--all")
    assert code == 0, report
    assert [(f["location"], f["path"], f["repaired_from"]) for f in report["findings"]] == [
        ("location-1", "data/preservation/f1.bin", "location-2")]
    assert damaged.read_bytes() != b"not what was stored"


def test_a_new_location_without_a_marker_takes_no_identity_the_catalogue_knows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second, new = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    config = configure(tmp_path / "data", f'"{first}"', f'"{second}"')
    make_aip(config, files=2)
    (first / MARKER).unlink()  # a lost marker: the catalogue still knows the folder's identity
    config = configure(tmp_path / "data", f'"{new}"', f'"{second}"', f'"{first}"')
    code, report = run(config, capsys, "fixity", "run", "--all")
    assert code == 0 and report["findings"] == []
    _code, report = run(config, capsys, "doctor")  # the new location lacks the AIP: nothing else is amiss
    assert {(f["check"], f["subject"]) for f in report["findings"] if f["status"] == "problem"} == {
        ("storage location location-3", str(new))}


def test_a_dropped_location_is_reported_by_fixity_and_doctor(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    config = configure(tmp_path / "data", f'"{first}"', f'"{second}"')
    aip_id = make_aip(config, files=2)
    config = configure(tmp_path / "data", f'"{second}"')
    code, report = run(config, capsys, "fixity", "run", "--all")
    assert code == 1
    assert [(f["aip_id"], f["location"], f["kind"], f["mended"]) for f in report["findings"]] == [
        (aip_id, "location-1", "location not configured", False)]
    code, report = run(config, capsys, "doctor")
    problems = [f for f in report["findings"] if f["status"] == "problem"]
    assert code == 1 and [(f["check"], f["subject"]) for f in problems] == [
        ("storage location location-1", str(first))]
    assert "not in the configuration" in problems[0]["detail"] and "1 replica" in problems[0]["detail"]


def test_a_configured_identity_and_name_are_kept_and_a_contradiction_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    config = configure(tmp_path / "data", f'{{root = "{first}", id = "kelder", name = "Kelder stadhuis"}}',
                       f'"{second}"')
    make_aip(config, files=2)
    assert json.loads((first / MARKER).read_text()) == {"id": "kelder", "name": "Kelder stadhuis"}
    db = sqlite3.connect(config.data_dir / "catalogue.sqlite")
    assert db.execute("SELECT location_id, name, root FROM storage_locations ORDER BY location_id").fetchall() == [
        ("kelder", "Kelder stadhuis", str(first)), ("location-2", "location-2", str(second))]
    assert sorted(r[0] for r in db.execute("SELECT location FROM replicas")) == ["kelder", "location-2"]
    db.close()
    config = configure(tmp_path / "data", f'{{root = "{first}", id = "zolder"}}', f'"{second}"')
    with pytest.raises(InputError, match="holds the identity 'kelder'"):
        open_locations(config.storage_locations, config)
    assert main(["--data-dir", str(config.data_dir), "fixity", "run", "--all"]) == 2
    assert "error E100" in capsys.readouterr().err
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / MARKER).write_bytes((second / MARKER).read_bytes())  # a copied folder keeps the marker
    config = configure(tmp_path / "data", f'"{second}"', f'"{tmp_path / "copy"}"')
    with pytest.raises(InputError, match="both are 'location-2'"):
        open_locations(config.storage_locations, config)


def test_a_0_2_0_data_dir_keeps_its_locations_after_upgrade_however_they_are_reordered(tmp_path: Path) -> None:
    data = copy_data_dir(tmp_path / "data", FIXTURE_DATA)
    storage = data / "storage"
    assert edepot(data, ["upgrade", "--user", "A. Archivaris"])["exit"] == 0
    for n in (1, 2):
        assert json.loads((storage / f"location-{n}" / MARKER).read_text())["id"] == f"location-{n}"
    with open(data / "edepot.toml", "a", encoding="utf-8") as toml:
        toml.write(f'\n[storage]\nlocations = ["{storage / "location-2"}", "{storage / "location-1"}"]\n')
    (bag,) = [b for b in (storage / "location-2").glob("*/*") if (b / "bagit.txt").is_file()][:1]
    (bag / "bagit.txt").write_text("damaged\n")
    answer = edepot(data, ["fixity", "run", "--aip", bag.name])
    assert answer["exit"] == 0, answer
    assert [(f["location"], f["path"], f["repaired_from"]) for f in answer["json"]["findings"]] == [
        ("location-2", "bagit.txt", "location-1")]
