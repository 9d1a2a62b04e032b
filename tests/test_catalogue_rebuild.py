"""`edepot catalogue rebuild`: with the catalogue's database deleted, the catalogue is made again from the storage
locations alone (each AIP's PREMIS and the event journal) — the same AIPs, versions, files, replicas and events —
and what the locations disagree on is reported."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edepot.cli import main
from ingest.pipeline import ingest
from kernel.config import Config
from preservation.catalogue import Catalogue, open_catalogue
from preservation.catalogue_db.database import sqlite_path
from preservation.storage import open_locations
from tests.test_destruction import acting, ingest_record


def snapshot(catalogue: Catalogue) -> dict[str, Any]:
    """Everything the rebuild must give back of the AIPs kept (a replica's last verification is not in storage)."""
    aips = catalogue.aips()
    kept = {a.aip_id for a in aips}
    return {
        "aips": aips,
        "versions": {a.aip_id: catalogue.versions(a.sip_digest, a.record_id) for a in aips},
        "files": {a.aip_id: catalogue.files(a.aip_id) for a in aips},
        "identifications": {a.aip_id: catalogue.identifications(a.aip_id) for a in aips},
        "replicas": {a.aip_id: [(r.location, r.path) for r in catalogue.replicas(a.aip_id)] for a in aips},
        "events": sorted(((aip_id, e) for aip_id, e in catalogue.all_events() if aip_id is None or aip_id in kept),
                         key=lambda x: x[1].identifier),
    }


def rebuild(config: Config, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["--data-dir", str(config.data_dir), "--json", "catalogue", "rebuild"])
    return code, json.loads(capsys.readouterr().out or "{}")


def test_a_deleted_catalogue_is_rebuilt_from_the_locations(config: Config, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    kept, _token = ingest_record(config, tmp_path, {"waardering": "B"})
    second = ingest(next(tmp_path.glob("sip-*")), config, new_version=True)
    due, _token = ingest_record(config, tmp_path)
    acting(config, "W. Woo").place_hold(kept.record_id, reason="Woo-verzoek")  # events after ingest
    beheer = acting(config, "B. Beheer")
    drawn = beheer.draw_up_destruction_list()
    assert drawn is not None
    acting(config, "A. Archivaris").approve_destruction_list(drawn.list_id, role="archivaris")
    assert beheer.destroy_destruction_list(drawn.list_id).destroyed == [due.record_id]
    catalogue = open_catalogue(config.catalogue_url)
    before = snapshot(catalogue)
    catalogue.close()
    assert {a.aip_id for a in before["aips"]} == {kept.aip_id, second.aip_id}
    assert [v.version for v in before["versions"][second.aip_id]] == [1, 2]
    assert {"hold", "ingestion", "replication"} <= {e.type for _a, e in before["events"]}

    code, _report = rebuild(config, capsys)
    assert code == 2  # the catalogue is there: never merged into
    sqlite_path(config.catalogue_url).unlink()
    code, report = rebuild(config, capsys)
    assert code == 0, report
    assert report["aips"] == [kept.aip_id, second.aip_id] and report["destroyed"] == [due.aip_id] and report["divergence"] == []
    assert snapshot(open_catalogue(config.catalogue_url)) == before


def test_divergence_between_locations_is_reported(config: Config, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    ingested, _token = ingest_record(config, tmp_path, refresh=False)
    first, second = open_locations(config.storage_locations, config)
    lost = next(second.segments())
    (second.root / "journal" / lost).unlink()
    sqlite_path(config.catalogue_url).unlink()
    code, report = rebuild(config, capsys)
    assert code == 1 and report["aips"] == [ingested.aip_id]
    assert report["divergence"] == [f"{second.id}: 1 journal segment(s) missing, e.g. {lost}"]
    assert {r.location for r in open_catalogue(config.catalogue_url).replicas(ingested.aip_id)} == {first.id, second.id}
