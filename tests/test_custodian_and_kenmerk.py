"""Whose phone a chat came from (the custodian), and kenmerken that stay unique: the custodian named at `sip
create` replaces the export's "Ik" in the canonical JSON and is a betrokkene in MDTO that search reads; two
records made from one export with one metadata file never share a kenmerk; a Telegram chat keeps its title."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from edepot.cli import main
from ingest.batch import run_batch
from ingest.sip import SipOptions, create_sip
from ingest.sources import parse_export
from kernel.config import Config
from kernel.model import Custodian
from preservation.metadata.record import HOUDER_TOESTEL
from preservation.metadata.selectielijst import load_selectielijst
from preservation.record_access import informatieobject_document, record_access_from_mdto

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((REPO / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))
HEAD = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"


def sms(address: str, date: str, kind: int, body: str, name: str) -> str:
    return (f'  <sms protocol="0" address="{address}" date="{date}" type="{kind}" subject="null" body="{body}" '
            f'toa="null" sc_toa="null" service_center="null" read="1" status="-1" locked="0" date_sent="0" '
            f'sub_id="-1" readable_date="x" contact_name="{name}" />\n')


@pytest.fixture
def backup(tmp_path: Path) -> Path:
    """An SMS backup of the burgemeester's phone: two threads, sent messages are "Ik"."""
    body = (sms("+31612345678", "1710407700000", 1, "Is het marktplein rond?", "Wethouder Bakker")
            + sms("+31612345678", "1710407760000", 2, "Ja, morgen in het college.", "Wethouder Bakker")
            + sms("+31687654321", "1710407820000", 1, "Stukken voor de raad?", "Griffier de Wit")
            + sms("+31687654321", "1710407880000", 2, "Volgen vanmiddag.", "Griffier de Wit"))
    path = tmp_path / "sms-20240314.xml"
    path.write_text(HEAD + f'<smses count="4">\n{body}</smses>\n', encoding="utf-8")
    return path


@pytest.fixture
def metadata(tmp_path: Path) -> Path:
    path = tmp_path / "meta.yaml"
    path.write_text("naam: Sms'jes burgemeester\nidentificatie: {kenmerk: GM-2024-0042, bron: Zaaksysteem}\n"
                    "custodian: {naam: A. de Burgemeester, functie: burgemeester}\n", encoding="utf-8")
    return path


def test_the_custodian_names_the_exports_ik_in_json_and_mdto(backup: Path, metadata: Path, tmp_path: Path,
                                                              config: Config) -> None:
    made = create_sip([backup], tmp_path / "sip", config, metadata, options=SipOptions(conversation="1"))
    document = json.loads((made.path / "data" / "derived" / "conversation.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, SCHEMA)
    assert document["custodian"] == {"name": "A. de Burgemeester", "function": "burgemeester", "export_name": "Ik"}
    assert [m["sender"] for m in document["messages"]] == ["Wethouder Bakker", "A. de Burgemeester"]
    mdto = informatieobject_document(made.path / "data" / "metadata")  # checked against the XSD when it was made
    assert f"<begripLabel>{HOUDER_TOESTEL}</begripLabel>".encode() in mdto
    assert "Afkomstig van het toestel of account van A. de Burgemeester (burgemeester).".encode() in mdto
    assert record_access_from_mdto(mdto).custodians == ("A. de Burgemeester",)  # what search filters on


def test_the_command_line_asks_for_the_custodian(backup: Path, tmp_path: Path, config: Config,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    made = main(["sip", "create", str(backup), "--conversation", "2", "--out", str(tmp_path / "sip"),
                 "--data-dir", str(config.data_dir), "--custodian", "A. de Burgemeester",
                 "--custodian-function", "burgemeester"])
    assert made == 0, capsys.readouterr().err
    document = json.loads((tmp_path / "sip" / "data" / "derived" / "conversation.json").read_text(encoding="utf-8"))
    assert document["custodian"]["name"] == "A. de Burgemeester"
    assert "Ik" not in {p["name"] for p in document["participants"]}
    capsys.readouterr()
    lone = main(["sip", "create", str(backup), "--out", str(tmp_path / "other"), "--custodian-function", "x"])
    error = capsys.readouterr().err
    assert lone == 2 and "--custodian" in error and "Traceback" not in error


def test_records_of_one_export_made_with_one_metadata_file_never_share_a_kenmerk(
        backup: Path, metadata: Path, tmp_path: Path, config: Config) -> None:
    one = create_sip([backup], tmp_path / "one", config, metadata, options=SipOptions(conversation="1"))
    two = create_sip([backup], tmp_path / "two", config, metadata,
                     options=SipOptions(conversation="2", custodian=Custodian("B. Vervanger")))
    assert (one.record_id, two.record_id) == ("GM-2024-0042-001", "GM-2024-0042-002")
    manifest = tmp_path / "batch" / "manifest.csv"
    manifest.parent.mkdir()
    manifest.write_text("export,out,conversation,metadata,custodian,custodian_function\n"
                        f"{backup},a,1,{metadata},A. de Burgemeester,burgemeester\n"
                        f"{backup},b,2,{metadata},,\n", encoding="utf-8")
    result = run_batch(manifest, config)
    assert [r.record_id for r in result.rows] == ["GM-2024-0042-001", "GM-2024-0042-002"], result.to_dict()
    assert (manifest.parent / "a" / "bagit.txt").is_file()  # out is relative to the manifest


@pytest.mark.parametrize("name_first", [True, False])
def test_a_telegram_chat_keeps_its_title_whatever_the_order_of_its_keys(tmp_path: Path, name_first: bool) -> None:
    messages = [{"id": 1, "type": "message", "date": "2024-03-14T09:00:00", "date_unixtime": "1710403200",
                 "from": "Wethouder Bakker", "text": "Goedemorgen"},
                {"id": 2, "type": "service", "date": "2024-03-14T09:01:00", "date_unixtime": "1710403260",
                 "actor": "Wethouder Bakker", "action": "create_group", "title": "College",
                 "members": ["Griffier de Wit"], "text": ""}]
    chat = {"name": "College", "type": "private_group", "id": 4242}
    document = {**chat, "messages": messages} if name_first else {"messages": messages, **chat}
    (tmp_path / "result.json").write_text(json.dumps(document), encoding="utf-8")
    conversation = parse_export([tmp_path / "result.json"])
    assert conversation.title == "College"
    assert conversation.messages[1].text == "Wethouder Bakker heeft de groep „College” aangemaakt met Griffier de Wit"


def test_the_readmes_selectielijst_example_is_a_selectielijst(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = readme.split("**Selectielijst file**", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    (tmp_path / "lijst.json").write_text(example, encoding="utf-8")
    found = load_selectielijst(tmp_path / "lijst.json").resultaat("11.1")
    assert found is not None and (found.label, found.waardering, found.bewaartermijn, found.trigger) == (
        "Verlenen vergunning - Verleend", "V", "P10Y", "Afsluiting zaak")
