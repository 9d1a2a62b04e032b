"""People, organisations and roles, tried through the command line as its users would: a regional e-Depot serving
two municipalities, each person acting in their own organisation with their own token; the audit log of it all."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingest.sip import create_sip
from kernel.config import load_config
from tests.cli_runner import Depot

CHAT_EEN = "14-03-2024 10:15 - Petra de Vries: De vergunning voor het marktplein in Een is verleend.\n"
CHAT_GESLOTEN = "14-03-2024 11:00 - Gerrit Geheim: De vergunning voor operatie ijsvogel blijft geheim.\n"
CHAT_TWEE = "15-03-2024 09:00 - Jan Jansen: De vergunning voor de haven in Twee is verleend.\n"
OPEN = {"type": "Geen beperking"}
CLOSED = {"type": {"label": "Niet openbaar", "begrippenlijst": "Openbaarheid"},
          "documentatie": "Woo art. 5.1 lid 2 sub i"}
PEOPLE = {  # name → roles
    "R. Een": ["records-manager@gm0001"],
    "A. Een": ["archivist@gm0001"],
    "V. Een": ["reviewer@gm0001"],
    "R. Twee": ["records-manager@gm0002"],
    "B. Twee": ["archivist@gm0002"],
    "V. Twee": ["reviewer@gm0002"],
    "O. Zoeker": ["researcher"],
    "P. Vergund": ["researcher"],
}


def _sip(root: Path, name: str, chat: str, organisation: tuple[str, str], restriction: dict) -> Path:
    export = root / f"{name}.txt"
    export.write_text(chat, encoding="utf-8")
    meta = root / f"{name}.yaml"
    meta.write_text(yaml.safe_dump({
        "naam": f"Gesprek {name}", "beperkingGebruik": restriction, "waardering": "V", "bewaartermijn": "P1Y",
        "archiefvormer": {"naam": organisation[1], "identificatie": {"kenmerk": organisation[0], "bron": "TOOI"}},
    }, allow_unicode=True), encoding="utf-8")
    config = load_config(root / "sip-config")
    return create_sip([export], root / f"sip-{name}", config, metadata_file=meta).path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def depot(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Depot:
    """A regional e-Depot with two organisations and their people, its catalogue on SQLite and on PostgreSQL."""
    root = tmp_path_factory.mktemp("regional")
    depot = Depot(root / "data")
    if request.param == "postgresql":
        depot.catalogue_url = request.getfixturevalue("postgres").database()
        depot.data.mkdir()
        (depot.data / "edepot.toml").write_text(f'[catalogue]\nurl = "{depot.catalogue_url}"\n', encoding="utf-8")
    depot.ok("A. Beheer", "organisation", "add", "gm0001", "--name", "Gemeente Een")
    depot.ok("A. Beheer", "organisation", "add", "gm0002", "--name", "Gemeente Twee")
    depot.tokens["A. Beheer"] = depot.ok("A. Beheer", "user", "add", "A. Beheer", "--role", "administrator")["token"]
    for name, roles in PEOPLE.items():
        added = depot.ok("A. Beheer", "user", "add", name, *[a for r in roles for a in ("--role", r)])
        depot.tokens[name] = added["token"]
    for name, chat, organisation, restriction, by in (
            ("een", CHAT_EEN, ("gm0001", "Gemeente Een"), OPEN, "R. Een"),
            ("gesloten", CHAT_GESLOTEN, ("gm0001", "Gemeente Een"), CLOSED, "R. Een"),
            ("twee", CHAT_TWEE, ("gm0002", "Gemeente Twee"), OPEN, "R. Twee")):
        ingested = depot.ok(by, "ingest", str(_sip(root, name, chat, organisation, restriction)))
        depot.aips[name] = ingested["aip_id"]
        depot.records[name] = depot.ok(by, "aip", "show", ingested["aip_id"])["record_id"]
    return depot


def test_the_first_person_is_an_administrator_and_then_only_registered_people_act(tmp_path: Path) -> None:
    fresh = Depot(tmp_path / "data")
    code, _, err = fresh.run("Iemand", "user", "add", "Iemand", "--role", "archivist")
    assert code == 2 and "E100" in err and "administrator" in err
    token = fresh.ok("Iemand", "user", "add", "Iemand", "--role", "administrator")["token"]
    fresh.tokens["Iemand"] = token
    code, _, err = fresh.run("Onbekend", "aip", "list")
    assert code == 2 and "E113" in err
    code, _, err = fresh.run("Iemand", "user", "add", "Tweede", "--role", "archivist", token="")
    assert code == 2 and "E115" in err  # registering people needs the administrator's own token
    fresh.ok("Iemand", "user", "add", "Tweede", "--role", "archivist")
    fresh.ok("Iemand", "user", "disable", "Tweede")
    code, _, err = fresh.run("Tweede", "aip", "list")
    assert code == 2 and "E113" in err  # disabled


def test_a_records_manager_ingests_only_their_own_organisations_records(depot: Depot, tmp_path: Path) -> None:
    sip = _sip(tmp_path, "vreemd", CHAT_EEN.replace("Een", "Elders"), ("gm0001", "Gemeente Een"), OPEN)
    code, _, err = depot.run("R. Twee", "ingest", str(sip))
    assert code == 2 and "E114" in err
    unknown = _sip(tmp_path, "onbekend", CHAT_TWEE.replace("Twee", "Drie"), ("gm0003", "Gemeente Drie"), OPEN)
    code, _, err = depot.run("R. Twee", "ingest", str(unknown))
    assert code == 2 and "not an organisation this e-Depot serves" in err
    assert depot.ok("R. Een", "aip", "show", depot.aips["een"])["organisation"] == "gm0001"


def test_a_person_of_one_organisation_reaches_nothing_of_another(depot: Depot, tmp_path: Path) -> None:
    een, record = depot.aips["een"], depot.records["een"]
    dip = depot.ok("A. Een", "dip", "create", "--aip", een, "--out", str(tmp_path / "dip-een"))
    drawn = depot.ok("R. Een", "retention", "due")
    assert drawn["list_id"] and {i["record_id"] for i in drawn["items"]} <= {depot.records["een"],
                                                                             depot.records["gesloten"]}
    attempts = [
        ("aip", "show", een),
        ("fixity", "run", "--aip", een),
        ("dip", "create", "--aip", een, "--out", str(tmp_path / "dip-twee")),
        ("access", "set", "--record", record, "--type", "Geen beperking", "--reason", "toets"),
        ("access", "permit", "--record", record, "--to", "X", "--until", "2099-01-01", "--reason", "toets"),
        ("hold", "add", "--record", record, "--reason", "toets"),
        ("retention", "show", "--record", record),
        ("retention", "reappraise", "--record", record, "--waardering", "B", "--reason", "toets"),
        ("retention", "set-start", "--record", record, "--date", "2024-01-01", "--reason", "toets"),
        ("retention", "approve", drawn["list_id"], "--role", "archivaris"),
        ("retention", "destroy", drawn["list_id"]),
        ("hold", "lift", "--record", record, "--reason", "toets"),
        ("aip", "restore", een, "--from", str(tmp_path)),
        ("aip", "declare-loss", een, "--file", "data/x", "--reason", "toets"),
        ("dip", "create", "--query", "vergunning", "--aip", record, "--out", str(tmp_path / "dip-query")),
    ]
    for args in attempts:
        code, out, err = depot.run("B. Twee", *args)
        assert code == 2 and "E105" in err and "Gesprek een" not in out + err, (args, err)
    assert een not in {a["aip_id"] for a in depot.ok("B. Twee", "aip", "list")["aips"]}
    assert depot.aips["twee"] in {a["aip_id"] for a in depot.ok("B. Twee", "aip", "list")["aips"]}
    found = depot.ok("B. Twee", "search", "vergunning", "--as", "archivist")
    assert {h["aip_id"] for h in found["hits"]} == {depot.aips["twee"]}
    assert dip["dip_id"] not in {d["dip_id"] for d in depot.ok("B. Twee", "dip", "list")["dips"]}
    assert depot.ok("B. Twee", "retention", "lists")["lists"] == []
    assert all(e["dip_id"] != dip["dip_id"] for e in depot.ok("B. Twee", "access", "log")["entries"])
    assert depot.ok("B. Twee", "hold", "list")["holds"] == [] or all(
        h["record_id"] != record for h in depot.ok("B. Twee", "hold", "list")["holds"])
    permit = depot.ok("A. Een", "access", "permit", "--record", depot.records["gesloten"], "--to", "p.  vergund",
                      "--until", "2099-01-01", "--reason", "onderzoek")
    assert permit["grantee"] == "P. Vergund"  # a registered person, by their registered name
    assert depot.ok("B. Twee", "access", "permits")["permits"] == []
    code, _, err = depot.run("A. Een", "access", "permit", "--record", depot.records["gesloten"], "--to", "Onbekend",
                             "--until", "2099-01-01", "--reason", "onderzoek")
    assert code == 2 and "registered person" in err
    # The records manager of Een sees Een's, never Twee's.
    assert depot.aips["twee"] not in {a["aip_id"] for a in depot.ok("R. Een", "aip", "list")["aips"]}


def test_a_researcher_finds_open_content_of_every_organisation_and_nothing_closed(depot: Depot) -> None:
    found = depot.ok("O. Zoeker", "search", "vergunning")
    assert {h["aip_id"] for h in found["hits"]} == {depot.aips["een"], depot.aips["twee"]}
    assert "ijsvogel" not in json.dumps(found)
    permitted = depot.ok("P. Vergund", "search", "vergunning")  # a permit opens the closed record to its holder
    assert depot.aips["gesloten"] in {h["aip_id"] for h in permitted["hits"]}
    code, _, err = depot.run("O. Zoeker", "aip", "show", depot.aips["een"])
    assert code == 2 and "E114" in err  # a researcher does not browse AIPs


def test_four_eyes_are_registered_people_with_their_own_tokens_and_roles(depot: Depot) -> None:
    drawn = depot.ok("R. Twee", "retention", "due")
    list_id = drawn["list_id"]
    code, _, err = depot.run("V. Twee", "retention", "approve", list_id, "--role", "beoordelaar", token="")
    assert code == 2 and "E115" in err
    code, _, err = depot.run("V. Twee", "retention", "approve", list_id, "--role", "beoordelaar",
                             token=depot.tokens["B. Twee"])
    assert code == 2 and "E115" in err  # another person's token proves nothing
    code, _, err = depot.run("V. Twee", "retention", "approve", list_id, "--role", "archivaris")
    assert code == 2 and "E114" in err  # a role the reviewer does not hold
    code, _, err = depot.run("R. Twee", "retention", "approve", list_id, "--role", "recordmanager")
    assert code == 2 and "drew the list up" in err  # the drafter never approves
    depot.ok("V. Twee", "retention", "approve", list_id, "--role", "beoordelaar")
    code, _, err = depot.run("V. Twee", "retention", "approve", list_id, "--role", "beoordelaar")
    assert code == 2 and "already approved" in err  # once
    code, _, err = depot.run("V. Een", "retention", "approve", list_id, "--role", "beoordelaar")
    assert code == 2 and "E105" in err  # Een's reviewer does not see Twee's list
    depot.ok("B. Twee", "retention", "approve", list_id, "--role", "archivaris")
    code, _, err = depot.run("B. Twee", "retention", "destroy", list_id, token="")
    assert code == 2 and "E115" in err
    destroyed = depot.ok("B. Twee", "retention", "destroy", list_id)
    assert destroyed["destroyed"] == [depot.records["twee"]]
    assert depot.ok("B. Twee", "retention", "show", "--record", depot.records["twee"])["tombstone"]
    code, _, err = depot.run("A. Een", "retention", "show", "--record", depot.records["twee"])
    assert code == 2 and "E105" in err  # a destroyed record stays its organisation's


def test_the_audit_log_holds_every_action_and_stays_append_only(depot: Depot) -> None:
    code, _, err = depot.run("B. Twee", "aip", "show", depot.aips["een"])
    before = depot.actions
    entries = depot.ok("A. Beheer", "audit")["entries"]
    assert len(entries) == before  # one entry for every command of these tests, done or refused
    assert {"organisation add", "user add", "ingest", "aip show", "dip create", "retention due",
            "search"} <= {e["action"] for e in entries}
    refused = [e for e in entries if e["person"] == "B. Twee" and e["action"] == "aip show"]
    assert refused[-1]["outcome"] == "refused" and refused[-1]["detail"].startswith("E105")
    assert all(e["address"] and e["address"].startswith("command line on ") for e in entries)
    own = depot.ok("B. Twee", "audit")["entries"]  # an archivist of Twee reads Twee's entries and their own
    assert own and all(e["organisation"] == "gm0002" or e["person"] == "B. Twee" for e in own)
    if depot.catalogue_url:  # with the database's own client, as someone bypassing edepot would
        import psycopg

        db: Any = psycopg.connect(depot.catalogue_url, autocommit=True)
        refused: Any = psycopg.errors.RestrictViolation
    else:
        db, refused = sqlite3.connect(depot.data / "catalogue.sqlite"), sqlite3.DatabaseError
    with pytest.raises(refused, match="append only"):
        db.execute("UPDATE audit_log SET person = 'iemand anders'")
    with pytest.raises(refused, match="append only"):
        db.execute("DELETE FROM audit_log")
    db.execute("UPDATE audit_log SET address = NULL WHERE entry_id = 1")  # dropping an address is allowed
    db.commit()
    db.close()


def test_where_an_action_came_from_is_forgotten_after_the_keeping_period(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from edepot.service import Depot as Service
    from edepot.service.person import Person

    fresh = Depot(tmp_path / "data")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "edepot.toml").write_text("[audit]\nkeep_addresses_days = 30\n", encoding="utf-8")
    fresh.ok("Iemand", "organisation", "add", "gm0001", "--name", "Gemeente Een")
    later = replace(load_config(tmp_path / "data"), clock=lambda: datetime.now(timezone.utc) + timedelta(days=31))
    with Service(later, person=Person("Iemand"), address="werkplek 7") as service:
        service.organisations()
    entries = fresh.ok("Iemand", "audit")["entries"]
    assert [e["action"] for e in entries] == ["organisation add", "organisation list"]
    assert entries[0]["address"] is None and entries[1]["address"] == "werkplek 7"  # the entry itself stays


def test_records_ingested_before_organisations_were_registered_are_assigned_by_their_archiefvormer(
        tmp_path: Path) -> None:
    fresh = Depot(tmp_path / "data")
    before = fresh.ok("R. Open", "ingest", str(_sip(tmp_path, "oud", CHAT_EEN, ("gm0001", "Gemeente Een"), OPEN)))
    stranger = fresh.ok("R. Open", "ingest", str(_sip(tmp_path, "vreemd", CHAT_TWEE, ("gm0999", "Elders"), OPEN)))
    fresh.ok("A. Beheer", "organisation", "add", "gm0001", "--name", "Gemeente Een")
    fresh.tokens["A. Beheer"] = fresh.ok("A. Beheer", "user", "add", "A. Beheer", "--role", "administrator")["token"]
    fresh.tokens["A. Een"] = fresh.ok("A. Beheer", "user", "add", "A. Een", "--role", "archivist@gm0001")["token"]
    assert fresh.ok("A. Een", "aip", "list")["aips"] == []  # nobody's yet: out of every organisation's sight
    code, _, err = fresh.run("A. Een", "organisation", "assign")
    assert code == 2 and "E114" in err
    planned = fresh.ok("A. Beheer", "organisation", "assign", "--dry-run")["assignments"]
    assert {a["aip_id"]: a["organisation"] for a in planned} == {before["aip_id"]: "gm0001", stranger["aip_id"]: ""}
    assert fresh.ok("A. Een", "aip", "list")["aips"] == []
    fresh.ok("A. Beheer", "organisation", "assign")
    assert [a["aip_id"] for a in fresh.ok("A. Een", "aip", "list")["aips"]] == [before["aip_id"]]
    assert fresh.ok("A. Beheer", "organisation", "assign")["assignments"] == [
        {"aip_id": stranger["aip_id"], "record_id": stranger["record_id"], "archiefvormer": "Elders",
         "organisation": ""}]


def test_people_are_listed_for_administrators_and_organisations_for_whom_they_serve(depot: Depot) -> None:
    assert [o["organisation_id"] for o in depot.ok("R. Een", "organisation", "list")["organisations"]] == ["gm0001"]
    assert len(depot.ok("O. Zoeker", "organisation", "list")["organisations"]) == 2  # a role for every organisation
    code, _, err = depot.run("R. Een", "user", "list")
    assert code == 2 and "E114" in err and "needs the role administrator" in err
    assert {"R. Een", "R. Twee"} <= {p["name"] for p in depot.ok("A. Beheer", "user", "list")["people"]}
