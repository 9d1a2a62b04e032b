"""The rules of ingest, preservation and SIP making live in the Depot service: called without the command line,
it refuses what breaks a rule with a typed error that names no flag, refuses to act for nobody (E112), and every
PREMIS event it causes names the acting person beside edepot."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from edepot.cli import main
from edepot.service import Depot, Person
from edepot.service.demo import DEMO_PERSON, demo_person
from edepot.service.submission import SipRequest
from ingest.sip import SipResult, create_sip
from kernel.config import Config, load_config
from kernel.errors import InputError, NoActingPerson
from preservation.aip import PREMIS as PREMIS_PATH
from preservation.catalogue import open_catalogue
from tests.access_factory import SAMPLE, make_config

ARCHIVIST = "A. Archivaris"
NIGHT = "N. Nachtdienst"
PREMIS = "{http://www.loc.gov/premis/v3}"


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The bundled sample ingested once by the archivist through the Depot: (data dir, SIP, AIP id)."""
    root = tmp_path_factory.mktemp("service")
    config = make_config(root)
    sip = create_sip([SAMPLE], root / "sip", config).path
    with Depot(config, person=Person(ARCHIVIST)) as depot:
        aip_id = depot.ingest(sip).aip_id
    return config.data_dir, sip, aip_id


@pytest.fixture
def archive(ingested: tuple[Path, Path, str], tmp_path: Path) -> tuple[Config, Path, str]:
    """A copy of the ingested data directory for one test."""
    data = tmp_path / "data"
    shutil.copytree(ingested[0], data)
    return load_config(data), ingested[1], ingested[2]


def catalogue_events(config: Config, aip_id: str) -> list:
    catalogue = open_catalogue(config.catalogue_url)
    try:
        return catalogue.events(aip_id)
    finally:
        catalogue.close()


def test_every_ingest_event_names_the_person_in_premis_and_catalogue(archive: tuple[Config, Path, str]) -> None:
    config, _sip, aip_id = archive
    for location in config.storage_locations:
        premis = etree.parse(str(location / aip_id[:2] / aip_id / PREMIS_PATH)).getroot()
        agents = {a.findtext(f"{PREMIS}agentIdentifier/{PREMIS}agentIdentifierValue"):
                  (a.findtext(f"{PREMIS}agentName"), a.findtext(f"{PREMIS}agentType")) for a in premis.iter(f"{PREMIS}agent")}
        assert agents[f"person:{ARCHIVIST}"] == (ARCHIVIST, "person")
        events = list(premis.iter(f"{PREMIS}event"))
        assert events and all(f"person:{ARCHIVIST}" in [v.text for v in e.iter(f"{PREMIS}linkingAgentIdentifierValue")]
                              for e in events)
    recorded = catalogue_events(config, aip_id)
    assert recorded and all(f"person:{ARCHIVIST}" in e.agents and e.agents[0].startswith("edepot-") for e in recorded)
    [report] = (config.data_dir / "reports").glob("*.json")
    assert json.loads(report.read_text(encoding="utf-8"))["person"] == ARCHIVIST


def test_fixity_and_repair_events_name_the_person(archive: tuple[Config, Path, str]) -> None:
    config, _sip, aip_id = archive
    damaged = config.storage_locations[0] / aip_id[:2] / aip_id / PREMIS_PATH
    damaged.write_bytes(b"bit rot")
    with Depot(config, person=Person(NIGHT)) as depot:
        run = depot.run_fixity()
    assert run.report.intact and [f.path for f in run.report.findings] == [PREMIS_PATH] and run.json_report.is_file()
    checked = [e for e in catalogue_events(config, aip_id) if e.type in ("fixity check", "repair")]
    assert {e.type for e in checked} == {"fixity check", "repair"}
    assert all(e.agents == ("edepot fixity", f"person:{NIGHT}") for e in checked)


def test_nothing_is_done_for_nobody(archive: tuple[Config, Path, str], monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    config, sip, aip_id = archive
    with Depot(config, person=None) as nobody:
        for act in (lambda: nobody.ingest(sip, new_version=True), nobody.run_fixity,
                    lambda: nobody.declare_loss(aip_id, paths=[PREMIS_PATH], reason="weg")):
            with pytest.raises(NoActingPerson) as refused:
                act()
            assert refused.value.ref == "E112" and "--" not in refused.value.hint
    assert [e.type for e in catalogue_events(config, aip_id)].count("ingestion") == 1
    monkeypatch.delenv("EDEPOT_USER")
    code = main(["--data-dir", str(config.data_dir), "ingest", str(sip), "--new-version"])
    assert code == 2 and "E112" in capsys.readouterr().err


def test_the_rules_of_a_sip_request_are_the_services(config: Config, tmp_path: Path) -> None:
    out = tmp_path / "sip"
    requests = {
        "say where the SIP goes": SipRequest((SAMPLE,)),
        "several conversations make several SIPs": SipRequest((SAMPLE,), out=out, conversations=("1", "2")),
        "function was given without the custodian": SipRequest((SAMPLE,), out=out, custodian_function="wethouder"),
        "declared damaged needs a reason": SipRequest((SAMPLE,), out=out, damaged_export="  "),
    }
    with Depot(config, person=None) as depot:  # making a SIP needs no acting person
        for words, request in requests.items():
            with pytest.raises(InputError, match=words) as refused:
                depot.create_sips(request)
            assert "--" not in refused.value.message + refused.value.hint
        made = depot.create_sips(SipRequest((SAMPLE,), out=out, custodian="J. Jansen", custodian_function="wethouder"))
    assert isinstance(made, SipResult) and made.path == out.resolve() and made.message_count == 25


def test_a_manifest_row_is_held_to_the_same_rules(config: Config, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"export,out,custodian_function\n{SAMPLE},sip,wethouder\n", encoding="utf-8")
    with Depot(config, person=None) as depot:
        [row] = depot.sip_batch(manifest).rows
    assert not row.ok and "E100" in str(row.error) and "without the custodian" in str(row.error)
    assert not (tmp_path / "sip").exists()


def test_a_declared_loss_needs_a_reason_and_a_scheduled_run_the_operator(config: Config) -> None:
    with Depot(config, person=Person(ARCHIVIST)) as depot:
        with pytest.raises(InputError, match="needs a reason"):
            depot.declare_loss("no-such-aip", paths=["data/x"], reason=" ")
        with pytest.raises(NoActingPerson, match="operator") as refused:
            depot.scheduled_operator()  # the archivist setting it up is not who runs at night
    assert refused.value.remedy == "configure-operator"
    configured = dataclasses.replace(config, operator=f" {NIGHT} ")
    with Depot(configured, person=Person(ARCHIVIST)) as depot:
        assert depot.scheduled_operator() == Person(NIGHT)


def test_the_demo_has_its_own_person_when_nobody_is_named(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    assert demo_person(config) == Person("T. Beheerder")  # $EDEPOT_USER, as for any command
    assert demo_person(config, "B. Bezoeker") == Person("B. Bezoeker")
    monkeypatch.delenv("EDEPOT_USER")
    assert demo_person(config) == Person(DEMO_PERSON)


def test_the_command_line_adds_its_flags_to_the_services_words(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--data-dir", str(tmp_path / "data"), "sip", "create", str(SAMPLE), "--out", str(tmp_path / "a"),
                 "--conversation", "1", "--conversation", "2"])
    err = capsys.readouterr().err
    assert code == 2 and "several conversations make several SIPs" in err and "--split OUTDIR" in err
