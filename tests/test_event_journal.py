"""The event journal in storage: every event the catalogue records is first written to every location as an
immutable segment (and nothing is committed when no location takes it); `edepot doctor` copies a lost segment back
from another location and reconciles journal and catalogue both ways."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from edepot.cli import main
from kernel.config import Config
from preservation.catalogue import open_catalogue
from preservation.catalogue_db.database import sqlite_path
from preservation.event_journal import decode_segment
from preservation.retention import person_agents, premis_event
from preservation.storage import LocalDirectoryLocation, open_locations
from tests.aip_factory import make_aip
from tests.conftest import FIXED_NOW
from tests.test_location_identity import configure


def doctor(config: Config, capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    main(["--data-dir", str(config.data_dir), "--json", "doctor"])
    return [f for f in json.loads(capsys.readouterr().out)["findings"] if f["check"] == "event journal"]


def journal(location: LocalDirectoryLocation) -> dict[str, bytes]:
    return {name: location.get_segment(name) for name in location.segments()}


def journalled_ids(location: LocalDirectoryLocation) -> set[str]:
    return {e.identifier for data in journal(location).values() for _aip, e in decode_segment(data).entries}


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Config, str]:
    config = configure(tmp_path / "data", f'"{tmp_path / "a"}"', f'"{tmp_path / "b"}"')
    aip_id = make_aip(config, files=2)
    bag = open_locations(config.storage_locations, config)[0].bag_path(aip_id)
    (bag / "data" / "preservation" / "f1.bin").write_bytes(b"damaged")
    assert main(["--data-dir", str(config.data_dir), "fixity", "run", "--all"]) == 0  # finds it, repairs it
    return config, aip_id


def test_every_event_is_in_the_journal_of_every_location(archive: tuple[Config, str]) -> None:
    config, aip_id = archive
    first, second = open_locations(config.storage_locations, config)
    recorded = {e.identifier for _aip, e in open_catalogue(config.catalogue_url).all_events()}
    assert len(recorded) >= 2  # the fixity run's: damage found, and the repair
    assert journalled_ids(first) == recorded == journalled_ids(second)
    assert journal(first) == journal(second)
    opening = decode_segment(journal(first)[sorted(journal(first))[0]]).aips
    assert [a["aip_id"] for a in opening] == [aip_id] and len(opening[0]["files"]) > 2  # the AIP's rows


def test_an_event_no_location_takes_is_not_committed(archive: tuple[Config, str]) -> None:
    config, aip_id = archive
    for location in open_locations(config.storage_locations, config):
        shutil.rmtree(location.root / "journal")
        (location.root / "journal").write_bytes(b"")  # no segment can be written under it
    catalogue = open_catalogue(config.catalogue_url)
    event = premis_event("appraisal", FIXED_NOW, "placed on a list", "test", person_agents("B. Beheer"))
    with pytest.raises(OSError):
        catalogue.add_events(aip_id, [event])
    assert event.identifier not in {e.identifier for e in catalogue.events(aip_id)}


def test_doctor_restores_a_lost_segment_and_reconciles_journal_and_catalogue(
        archive: tuple[Config, str], capsys: pytest.CaptureFixture[str]) -> None:
    config, _aip_id = archive
    first, second = open_locations(config.storage_locations, config)
    kept = journal(second)
    lost = sorted(kept)[-1]
    (first.root / "journal" / lost).unlink()
    db = sqlite3.connect(sqlite_path(config.catalogue_url))
    gone = db.execute("SELECT event_id FROM events ORDER BY id LIMIT 1").fetchone()[0]
    db.execute("DELETE FROM events WHERE event_id = ?", (gone,))  # an event the catalogue lost
    db.execute("INSERT INTO events (event_id, aip_id, type, date_time, outcome, detail, outcome_detail, agents, "
               "source_objects, outcome_objects) SELECT 'older-1', aip_id, type, date_time, outcome, detail, "
               "outcome_detail, agents, source_objects, outcome_objects FROM events LIMIT 1")  # one never journalled
    db.commit()
    db.close()

    findings = {f["subject"]: f for f in doctor(config, capsys)}
    assert findings["location-1"]["status"] == "restored" and "1 segment(s)" in findings["location-1"]["detail"]
    assert (first.root / "journal" / lost).read_bytes() == kept[lost]
    assert findings["catalogue"]["status"] == "problem" and gone in findings["catalogue"]["detail"]
    assert findings["storage locations"]["status"] == "restored"
    assert "older-1" in journalled_ids(first) and journal(first) == journal(second)

    findings = {f["subject"]: f for f in doctor(config, capsys)}  # what is left: the event the catalogue lost
    assert [(s, f["status"]) for s, f in findings.items()] == [("catalogue", "problem")]


def test_a_fixity_run_journals_each_aip_once(archive: tuple[Config, str]) -> None:
    config, aip_id = archive
    second = make_aip(config, files=2, seed=1)
    first_location, second_location = open_locations(config.storage_locations, config)
    before = set(journal(first_location))
    assert main(["--data-dir", str(config.data_dir), "fixity", "run", "--all"]) == 0
    written = {name: decode_segment(data) for name, data in journal(first_location).items() if name not in before}
    assert len(written) == 2 and set(journal(second_location)) == set(journal(first_location))
    for segment in written.values():  # each AIP's verification of both replicas, events, its state: one segment
        assert len({aip for aip, _e in segment.entries}) == 1
        assert [c["kind"] for c in segment.changes] == ["verification", "verification", "aip_state"]
    assert {aip for s in written.values() for aip, _e in s.entries} == {aip_id, second}
