"""`edepot catalogue rebuild`: with the catalogue's database deleted, the catalogue is made again from the storage
locations alone (each AIP's PREMIS and the event journal) — the same AIPs, versions, files, replicas (with their
last verification), events, schedules, holds, destruction lists with their approvals and steps, and tombstones,
table by table — and what the locations disagree on is reported."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from edepot.cli import main
from ingest.pipeline import ingest
from kernel.config import Config
from preservation.catalogue import AipState, ReplicaStatus, open_catalogue
from preservation.catalogue_db.database import catalogue_alias, sqlite_path
from preservation.storage import open_locations
from tests.conftest import on_catalogue
from tests.test_destruction import acting, ingest_record

# Tables not kept in storage, so not rebuilt: the access register, the search index, the people and their audit
# log, Woo requests and their decisions, jobs, DIPs (made again on request).
NOT_IN_STORAGE = {"access_permits", "access_dips", "access_dip_aips", "access_log", "access_restrictions",
                  "search_meta", "search_records", "search_senders", "search_messages", "organisations", "people",
                  "role_grants", "person_tokens", "audit_log", "dips", "woo_requests", "woo_scope", "woo_decisions",
                  "jobs", "fixity_tallies"}
REGISTERED_AGAIN = {"storage_locations": "registered"}  # the rebuild registers the configured locations anew


@pytest.fixture
def config(config: Config, catalogue_url: str) -> Config:
    """Each test on a catalogue in SQLite and in PostgreSQL."""
    return on_catalogue(config, catalogue_url)


def tables(config: Config) -> dict[str, list[str]]:
    """Every row of every catalogue table kept in storage, as JSON without its integer key, sorted."""
    from django.apps import apps

    alias = catalogue_alias(config.catalogue_url)
    found = {}
    for model in apps.get_app_config("catalogue").get_models():
        names = [f.attname for f in model._meta.concrete_fields
                 if not (f.primary_key and f.get_internal_type() in ("AutoField", "BigAutoField"))
                 and REGISTERED_AGAIN.get(model._meta.db_table) != f.attname]
        found[model._meta.db_table] = sorted(json.dumps(row, default=str, sort_keys=True) for row in
                                             model.objects.using(alias).values_list(*names))
    assert NOT_IN_STORAGE <= found.keys()
    return {table: rows for table, rows in found.items() if table not in NOT_IN_STORAGE}


def lose_catalogue(config: Config, request: pytest.FixtureRequest) -> Config:
    """The catalogue's database gone: the SQLite file deleted, or (PostgreSQL) an empty database in its place."""
    if not config.catalogue_url.startswith("postgresql:"):
        lost = sqlite_path(config.catalogue_url)
        for path in (lost, lost.with_name(lost.name + "-wal"), lost.with_name(lost.name + "-shm")):
            path.unlink(missing_ok=True)  # its write-ahead log too, which a connection still open keeps
        return config
    return on_catalogue(config, request.getfixturevalue("postgres").empty_database())


def rebuild(config: Config, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["--data-dir", str(config.data_dir), "--json", "catalogue", "rebuild"])
    return code, json.loads(capsys.readouterr().out or "{}")


def test_a_deleted_catalogue_is_rebuilt_from_the_locations(config: Config, tmp_path: Path,
                                                           request: pytest.FixtureRequest,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    kept, _token = ingest_record(config, tmp_path, {"waardering": "B"})
    second = ingest(next(tmp_path.glob("sip-*")), config, new_version=True)
    due, _token = ingest_record(config, tmp_path)
    released, _token = ingest_record(config, tmp_path)
    woo = acting(config, "W. Woo")
    woo.place_hold(kept.record_id, reason="Woo-verzoek")  # stays active
    woo.place_hold(released.record_id, reason="bezwaar")
    woo.lift_holds(released.record_id, reason="bezwaar ingetrokken")
    beheer = acting(config, "B. Beheer")
    drawn = beheer.draw_up_destruction_list()
    assert drawn is not None
    acting(config, "A. Archivaris").approve_destruction_list(drawn.list_id, role="archivaris")
    assert sorted(beheer.destroy_destruction_list(drawn.list_id).destroyed) == sorted([due.record_id,
                                                                                      released.record_id])
    first_location = open_locations(config.storage_locations, config)[0]
    (first_location.bag_path(kept.aip_id) / "data" / "preservation" / "conversation.json").write_bytes(b"{}")
    (first_location.bag_path(second.aip_id) / "bag-info.txt").unlink()  # a tag file: repaired from the other
    assert main(["--data-dir", str(config.data_dir), "fixity", "run", "--all"]) == 0
    capsys.readouterr()
    catalogue = open_catalogue(config.catalogue_url)
    statuses = {r.status for a in (kept, second) for r in catalogue.replicas(a.aip_id)}
    assert statuses == {ReplicaStatus.INTACT, ReplicaStatus.REPAIRED}, statuses  # the last fixity run's
    assert {a.state for a in catalogue.aips(include_gone=True)} == {AipState.STORED, AipState.DESTROYED}
    assert len(catalogue.holds()) == 2 and len(catalogue.tombstones()) == 2 and catalogue.retention_rows()
    catalogue.close()
    before = tables(config)
    assert all(before[t] for t in ("aips", "aip_versions", "replicas", "files", "identifications", "events",
                                   "retention", "appraisal_history", "holds", "destruction_lists",
                                   "destruction_approvals", "destruction_journal", "tombstones"))

    code, _report = rebuild(config, capsys)
    assert code == 2  # the catalogue is there: never merged into
    config = lose_catalogue(config, request)
    code, report = rebuild(config, capsys)
    assert code == 0, report
    assert report["aips"] == [kept.aip_id, second.aip_id] and report["divergence"] == []
    assert sorted(report["destroyed"]) == sorted([due.aip_id, released.aip_id])
    assert tables(config) == before


    # A catalogue older than the journal: `edepot doctor` writes to it what the catalogue holds (in SQLite or in
    # PostgreSQL), so that a rebuild finds everything there too.
    for location in open_locations(config.storage_locations, config):
        shutil.rmtree(location.root / "journal")
    assert main(["--data-dir", str(config.data_dir), "--json", "doctor"]) in (0, 1)
    findings = json.loads(capsys.readouterr().out)["findings"]
    written = [f for f in findings if f["check"] == "event journal"]
    assert [f["status"] for f in written] == ["restored"] and " 4 AIP(s)" in written[0]["detail"], written
    assert [(f["status"], f["detail"].split("; ")[1]) for f in findings if f["check"] == "catalogue"] == [
        ("ok", "2 AIP(s)")], findings  # the two kept (the destroyed are gone)
    config = lose_catalogue(config, request)
    code, report = rebuild(config, capsys)
    assert code == 0 and sorted(report["destroyed"]) == sorted([due.aip_id, released.aip_id]), report
    assert tables(config) == before


def test_divergence_between_locations_is_reported(config: Config, tmp_path: Path, request: pytest.FixtureRequest,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    ingested, _token = ingest_record(config, tmp_path, refresh=False)
    first, second = open_locations(config.storage_locations, config)
    lost = next(second.segments())
    (second.root / "journal" / lost).unlink()
    config = lose_catalogue(config, request)
    code, report = rebuild(config, capsys)
    assert code == 1 and report["aips"] == [ingested.aip_id]
    assert report["divergence"] == [f"{second.id}: 1 journal segment(s) missing, e.g. {lost}"]
    assert {r.location for r in open_catalogue(config.catalogue_url).replicas(ingested.aip_id)} == {first.id, second.id}
