"""MDTO-XML 1.0.1: informatieobject and bestand documents, checked against the official XSD and golden files."""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from kernel.config import Organisation
from kernel.errors import InputError, ToolMissing, UnsafeXml
from kernel.model import Conversation, Message, MessageKind, Source, SourceFile, participants_of
from preservation.metadata.mdto import MDTO_NS, FileDescription, bestand_xml, informatieobject_xml
from preservation.metadata.record import Identificatie, RecordDescription, Verwijzing, describe_conversation
from preservation.xsd import SchemaName, parse_xml_safely, validate_xml
from tests.conftest import shared_or_skip

GOLDEN = Path(__file__).resolve().parent / "golden"
TODAY = date(2024, 3, 15)
CHECKED_AT = datetime(2024, 3, 15, 10, 5, tzinfo=timezone(timedelta(hours=1)))
SHA = "2f678a48779ce6de24fc40e4ed8b50dee23bbabf3e83915fa4ce9350348ee46b"
ORG = Organisation("Gemeente Voorbeeldstad", "gm9999", "e-Depot Gemeente Voorbeeldstad")
METADATA = {
    "identificatie": {"kenmerk": "WA-2024-000123", "bron": "e-Depot Gemeente Voorbeeldstad"},
    "naam": "WhatsApp-gesprek wethouder Jansen - beleidsmedewerker De Vries over herinrichting Marktplein",
    "waardering": "V",
    "bewaartermijn": {"looptijd": "P5Y", "trigger": "Afsluiting zaak", "startdatum": "2024-03-14"},
    "taal": "nl",
    "omschrijving": "Export (WhatsApp \"Chat exporteren\", zonder media) van een zakelijk chatgesprek.",
    "informatiecategorie": {"label": "Adviseren - Verstrekt", "code": "21.1",
                            "begrippenlijst": "Selectielijst gemeenten en intergemeentelijke organen 2020"},
    "beperkingGebruik": {"type": "Overig", "nadereBeschrijving": "Bevat persoonsgegevens; toets aan Woo art. 5.1."},
}


@pytest.fixture(scope="module")
def standards() -> Path:
    return shared_or_skip() / "standards"


def conversation() -> Conversation:
    cet = timezone(timedelta(hours=1))
    messages = (
        Message(1, datetime(2024, 3, 14, 9, 12, tzinfo=cet), "J. Jansen (wethouder)", MessageKind.TEXT, "Marktplein?"),
        Message(2, datetime(2024, 3, 14, 9, 15, tzinfo=cet), "P. de Vries (beleidsmedewerker)", MessageKind.TEXT, "Ja."),
    )
    source = Source("whatsapp", "ios", "nl", "Europe/Amsterdam", (SourceFile("_chat.txt", 282, SHA),))
    return Conversation(source, participants_of(messages), messages)


def record(metadata: dict | None = None) -> RecordDescription:
    return describe_conversation(conversation(), ORG, metadata, TODAY)


def representation(rec: RecordDescription) -> Verwijzing:
    return Verwijzing("_chat.txt", Identificatie(f"{rec.identificatie.kenmerk}-F1", rec.identificatie.bron))


def file_description(rec: RecordDescription, puid: str | None = "x-fmt/111") -> FileDescription:
    return FileDescription(
        identificatie=representation(rec).identificatie,
        naam="_chat.txt",
        omvang=282,
        sha256=SHA,
        checksum_datum=CHECKED_AT,
        puid=puid,
        format_name="Plain Text File" if puid else None,
        mime_type="text/plain",
        is_representatie_van=rec.identificatie,
        record_naam=rec.naam,
    )


def assert_golden(name: str, produced: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("EDEPOT_UPDATE_GOLDEN"):
        path.write_bytes(produced)
    assert path.is_file(), f"golden file missing: {path} (run once with EDEPOT_UPDATE_GOLDEN=1 and review it)"
    assert produced == path.read_bytes()


CASES = {
    "informatieobject-defaults.mdto.xml": lambda: informatieobject_xml(record(), [representation(record())]),
    "informatieobject-metadata.mdto.xml": lambda: informatieobject_xml(record(METADATA), [representation(record(METADATA))]),
    "bestand.mdto.xml": lambda: bestand_xml(file_description(record(METADATA))),
    "bestand-unidentified.mdto.xml": lambda: bestand_xml(file_description(record(), puid=None)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_document_is_valid_and_matches_golden(name: str, standards: Path) -> None:
    produced = CASES[name]()
    assert validate_xml(produced, SchemaName.MDTO, standards) == []
    assert_golden(name, produced)


def test_output_is_deterministic_utf8_with_declaration() -> None:
    first = informatieobject_xml(record(METADATA), [representation(record(METADATA))])
    assert first == informatieobject_xml(record(METADATA), [representation(record(METADATA))])
    assert first.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<MDTO xmlns="https://www.nationaalarchief.nl/mdto"')


def test_record_without_messages_or_representations_is_valid(standards: Path) -> None:
    empty = Conversation(Source("whatsapp", "ios", None, "UTC", (SourceFile("x.txt", 0, SHA),)), (), ())
    produced = informatieobject_xml(describe_conversation(empty, ORG, None, TODAY), [])
    assert validate_xml(produced, SchemaName.MDTO, standards) == []


def test_element_order_matches_the_worked_example(standards: Path) -> None:
    """Our children of informatieobject appear in the same relative order as in the validated example."""
    example = etree.parse(str(standards / "examples/mdto/WA-2024-000123/WA-2024-000123.mdto.xml"))
    ours = etree.fromstring(informatieobject_xml(record(METADATA), [representation(record(METADATA))]))
    order = list(dict.fromkeys(etree.QName(e).localname for e in example.getroot()[0]))
    produced = [etree.QName(e).localname for e in ours[0]]
    assert set(produced) <= set(order)
    positions = [order.index(name) for name in produced]
    assert positions == sorted(positions)


def test_official_examples_are_valid(standards: Path) -> None:
    for path in sorted((standards / "examples/mdto").rglob("*.xml")):
        assert validate_xml(path, SchemaName.MDTO, standards) == [], path


def test_document_without_naam_fails_naming_the_element(standards: Path) -> None:
    tree = etree.fromstring(informatieobject_xml(record(), [representation(record())]))
    naam = tree.find(f"{{{MDTO_NS}}}informatieobject/{{{MDTO_NS}}}naam")
    naam.getparent().remove(naam)
    problems = validate_xml(etree.tostring(tree), SchemaName.MDTO, standards)
    assert problems and problems[0].startswith("line ") and "naam" in problems[0]


def test_missing_beperking_gebruik_fails(standards: Path) -> None:
    tree = etree.fromstring(informatieobject_xml(record(), []))
    element = tree.find(f".//{{{MDTO_NS}}}beperkingGebruik")
    element.getparent().remove(element)
    problems = validate_xml(etree.tostring(tree), SchemaName.MDTO, standards)
    assert any("beperkingGebruik" in p for p in problems)


def test_not_well_formed_is_a_problem_with_a_line(standards: Path) -> None:
    problems = validate_xml(b"<MDTO>\n<open></MDTO>", SchemaName.MDTO, standards)
    assert len(problems) == 1 and problems[0].startswith("line 2")


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?>\n<!DOCTYPE MDTO [<!ENTITY x "boom">]>\n<MDTO>&x;</MDTO>',
        b'<!DOCTYPE MDTO SYSTEM "http://example.org/mdto.dtd"><MDTO/>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>'.encode("utf-16"),
    ],
)
def test_doctype_or_entity_is_refused(document: bytes, standards: Path) -> None:
    with pytest.raises(UnsafeXml):
        validate_xml(document, SchemaName.MDTO, standards)
    with pytest.raises(UnsafeXml):
        parse_xml_safely(document)


def test_parse_xml_safely_reports_malformed_input() -> None:
    with pytest.raises(InputError, match="line 1"):
        parse_xml_safely(b"<a><b></a>")


def test_missing_schema_folder_raises_tool_missing(tmp_path: Path) -> None:
    with pytest.raises(ToolMissing) as caught:
        validate_xml(b"<a/>", SchemaName.MDTO, None)
    assert "EDEPOT_SCHEMA_DIR" in caught.value.hint
    with pytest.raises(ToolMissing):
        validate_xml(b"<a/>", SchemaName.PREMIS, tmp_path)


def test_unreadable_document_path_is_an_input_error(tmp_path: Path, standards: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        validate_xml(tmp_path / "absent.xml", SchemaName.MDTO, standards)


def test_topx_schema_compiles_and_validates(standards: Path) -> None:
    for path in sorted((standards / "examples/topx").glob("*.metadata")):
        assert validate_xml(path, SchemaName.TOPX, standards) == [], path
