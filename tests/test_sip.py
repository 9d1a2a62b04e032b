"""SIP creation and validation: a valid bag with MDTO that validates, and every kind of damage reported."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import bagit
import pytest

from ingest.sip import create_sip
from ingest.sip_validate import validate_sip
from kernel.config import Config
from kernel.errors import InputError
from preservation.xsd import SchemaName, validate_xml
from tests.conftest import REPO

IOS_SAMPLE = next((REPO / "samples" / "whatsapp-ios-nl").glob("*.zip"))
ANDROID_SAMPLE = next((REPO / "samples" / "whatsapp-android-nl").glob("*.txt"))


@pytest.fixture
def sip(config: Config, tmp_path: Path) -> Path:
    return create_sip([IOS_SAMPLE], tmp_path / "sip", config).path


def test_sip_is_a_bag_with_both_manifests_and_the_required_bag_info(sip: Path) -> None:
    bag = bagit.Bag(str(sip))
    bag.validate()
    assert set(bag.algorithms) == {"sha256", "sha512"}
    for key in ("Source-Organization", "External-Identifier", "Bagging-Date", "Payload-Oxum"):
        assert bag.info.get(key), key
    assert (sip / "data" / "original" / IOS_SAMPLE.name).read_bytes() == IOS_SAMPLE.read_bytes()


def test_every_mdto_document_validates_against_the_official_xsd(sip: Path, shared: Path) -> None:
    documents = sorted((sip / "data" / "metadata").rglob("*.mdto.xml"))
    assert len(documents) == 3  # the record, the original export, the canonical JSON
    for document in documents:
        assert validate_xml(document, SchemaName.MDTO, shared / "standards") == [], document


def test_mdto_describes_the_conversation(sip: Path) -> None:
    record = next(p for p in (sip / "data" / "metadata").glob("*.mdto.xml"))
    text = record.read_text(encoding="utf-8")
    conversation = json.loads((sip / "data" / "derived" / "conversation.json").read_text(encoding="utf-8"))
    first = conversation["messages"][0]["timestamp"][:10]
    last = conversation["messages"][-1]["timestamp"][:10]
    assert f"<dekkingInTijdBegindatum>{first}</dekkingInTijdBegindatum>" in text
    assert f"<dekkingInTijdEinddatum>{last}</dekkingInTijdEinddatum>" in text
    for participant in conversation["participants"]:
        assert participant["name"] in text
    bestand = (sip / "data/metadata/original" / f"{IOS_SAMPLE.name}.bestand.mdto.xml").read_text(encoding="utf-8")
    assert "<begripCode>x-fmt/263</begripCode>" in bestand  # ZIP, identified by FIDO
    assert f"<omvang>{IOS_SAMPLE.stat().st_size}</omvang>" in bestand


def test_metadata_file_values_reach_the_mdto(config: Config, tmp_path: Path) -> None:
    metadata = tmp_path / "meta.yaml"
    metadata.write_text(
        "naam: Overleg wethouder over de Marktplein\n"
        "identificatie: {kenmerk: ZK-2024-17, bron: Gemeente Voorbeeldstad}\n"
        "waardering: V\n"
        "bewaartermijn: {looptijd: P10Y}\n",
        encoding="utf-8",
    )
    made = create_sip([ANDROID_SAMPLE], tmp_path / "sip", config, metadata)
    assert made.record_id == "ZK-2024-17"
    record = (made.path / "data/metadata/ZK-2024-17.mdto.xml").read_text(encoding="utf-8")
    assert "Overleg wethouder over de Marktplein" in record and "<termijnLooptijd>P10Y</termijnLooptijd>" in record
    assert validate_sip(made.path, config).valid


def test_a_changed_payload_byte_makes_the_sip_invalid(sip: Path, config: Config) -> None:
    target = sip / "data" / "derived" / "conversation.json"
    data = bytearray(target.read_bytes())
    data[10] ^= 1
    target.write_bytes(bytes(data))
    report = validate_sip(sip, config)
    assert not report.valid
    assert any("conversation.json" in p for p in report.problems)


def test_a_missing_file_and_a_stray_file_are_both_reported(sip: Path, config: Config) -> None:
    (sip / "data" / "original" / IOS_SAMPLE.name).unlink()
    (sip / "data" / "stray.txt").write_text("stray")
    problems = " ".join(validate_sip(sip, config).problems)
    assert IOS_SAMPLE.name in problems and "stray.txt" in problems


def test_mdto_with_an_entity_is_refused_not_expanded(sip: Path, config: Config) -> None:
    record = next(p for p in (sip / "data" / "metadata").glob("*.mdto.xml"))
    text = record.read_text(encoding="utf-8")
    text = text.replace("?>", '?>\n<!DOCTYPE MDTO [<!ENTITY x SYSTEM "file:///etc/passwd">]>', 1)
    record.write_text(text.replace("<naam>", "<naam>&x;", 1), encoding="utf-8")
    report = validate_sip(sip, config)
    assert not report.valid
    assert "root:" not in " ".join(report.problems)


def test_sip_validate_exits_1_for_an_invalid_sip(sip: Path, tmp_path: Path) -> None:
    (sip / "bag-info.txt").write_text("Bagging-Date: 2026-11-23\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "edepot.cli", "--json", "sip", "validate", str(sip)],
                            capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert any(not c["ok"] for c in report["checks"])


def test_out_that_exists_is_refused(config: Config, tmp_path: Path) -> None:
    (tmp_path / "sip").mkdir()
    (tmp_path / "sip" / "keep.txt").write_text("mine")
    with pytest.raises(InputError):
        create_sip([IOS_SAMPLE], tmp_path / "sip", config)
    assert (tmp_path / "sip" / "keep.txt").read_text() == "mine"


def test_sip_create_and_review_take_the_archivists_date_order(tmp_path: Path) -> None:
    """Dates that fit both orders are read as the archivist says, and the override is recorded."""
    export = tmp_path / "WhatsApp-chat met Jan.txt"
    export.write_text("03-04-2024 10:15 - Jan: eerste\n05-04-2024 10:16 - Piet: tweede\n", encoding="utf-8")
    for order, month in (("DMY", "04"), ("MDY", "03")):
        out = tmp_path / f"sip-{order}"
        result = subprocess.run([sys.executable, "-m", "edepot.cli", "--data-dir", str(tmp_path / "d"), "sip",
                                 "create", str(export), "--out", str(out), "--date-order", order],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        conversation = json.loads((out / "data/derived/conversation.json").read_text(encoding="utf-8"))
        assert conversation["messages"][0]["timestamp"][5:7] == month
        sheet = subprocess.run([sys.executable, "-m", "edepot.cli", "sip", "review", str(export), "--out",
                                str(tmp_path / f"sheet-{order}"), "--date-order", order], capture_output=True, text=True)
        assert sheet.returncode == 0, sheet.stderr
