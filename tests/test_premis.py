"""PREMIS 3.0: objects, events and agents validate against the official XSD; events append and read back."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from kernel.errors import MetadataError, UnsafeXml
from preservation.metadata.premis import (
    PREMIS_NS,
    PremisAgent,
    PremisEvent,
    PremisObject,
    append_events,
    parse_premis_events,
    premis_xml,
)
from preservation.xsd import SchemaName, validate_xml
from tests.conftest import shared_or_skip

GOLDEN = Path(__file__).resolve().parent / "golden"
CET = timezone(timedelta(hours=1))
SHA256 = "2f678a48779ce6de24fc40e4ed8b50dee23bbabf3e83915fa4ce9350348ee46b"
SHA512 = "ab" * 64

ORIGINAL = PremisObject("data/original/_chat.txt", 282, {"sha256": SHA256, "sha512": SHA512},
                        "x-fmt/111", "Plain Text File", None, "_chat.txt", "original")
PDF = PremisObject("data/preservation/WA-2024-000123.pdf", 40960, {"sha256": "cd" * 32},
                   "fmt/477", "Acrobat PDF/A - Portable Document Format", "2b", None, "preservation")
UNKNOWN = PremisObject("data/original/media/blob.bin", 3, {"sha256": "ef" * 32},
                       None, None, None, "blob.bin", "original")
EDEPOT = PremisAgent("sw-edepot", "edepot", "software", "0.1.0")
SIEGFRIED = PremisAgent("sw-siegfried", "siegfried", "software", "1.11.1")
ORG = PremisAgent("org-voorbeeldstad", "Gemeente Voorbeeldstad, e-Depot", "organization", None)


def event(n: int, type_: str, **changes) -> PremisEvent:
    fields = dict(
        identifier=f"5a0e4c1e-000{n}-4000-8000-00000000000{n}",
        type=type_,
        date_time=datetime(2024, 3, 15, 10, 5, n, tzinfo=CET),
        detail="",
        outcome="success",
        outcome_detail="",
        agents=("sw-edepot",),
        source_objects=(ORIGINAL.identifier,),
        outcome_objects=(),
    )
    fields.update(changes)
    return PremisEvent(**fields)


EVENTS = [
    event(1, "ingestion", detail="SIP (BagIt) opgenomen; bag valide volgens RFC 8493.", agents=("org-voorbeeldstad", "sw-edepot")),
    event(2, "format identification", outcome_detail="x-fmt/111", agents=("sw-siegfried",)),
    event(3, "normalization", outcome_objects=(PDF.identifier,)),
    event(4, "message digest calculation", source_objects=(ORIGINAL.identifier, PDF.identifier)),
]
FIXITY = event(5, "fixity check", date_time=datetime(2025, 3, 15, 2, 0, tzinfo=CET),
               outcome="failure", outcome_detail="SHA-256 wijkt af", agents=("sw-fixity",))
FIXITY_AGENT = PremisAgent("sw-fixity", "edepot fixity", "software", "0.1.0")


@pytest.fixture(scope="module")
def standards() -> Path:
    return shared_or_skip() / "standards"


def document() -> bytes:
    return premis_xml([ORIGINAL, PDF, UNKNOWN], EVENTS, [ORG, EDEPOT, SIEGFRIED])


def assert_golden(name: str, produced: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("EDEPOT_UPDATE_GOLDEN"):
        path.write_bytes(produced)
    assert path.is_file(), f"golden file missing: {path} (run once with EDEPOT_UPDATE_GOLDEN=1 and review it)"
    assert produced == path.read_bytes()


def test_document_is_valid_and_matches_golden(standards: Path) -> None:
    produced = document()
    assert validate_xml(produced, SchemaName.PREMIS, standards) == []
    assert_golden("aip.premis.xml", produced)
    assert produced == document()


def test_official_example_is_valid(standards: Path) -> None:
    assert validate_xml(standards / "examples/premis/WA-2024-000123.premis.xml", SchemaName.PREMIS, standards) == []


def test_events_read_back_as_written() -> None:
    assert parse_premis_events(document()) == EVENTS


def test_append_keeps_the_document_and_validates(standards: Path) -> None:
    before = document()
    after = append_events(before, [FIXITY], [FIXITY_AGENT, EDEPOT])
    assert validate_xml(after, SchemaName.PREMIS, standards) == []
    assert parse_premis_events(after) == EVENTS + [FIXITY]
    agents = etree.fromstring(after).findall(f"{{{PREMIS_NS}}}agent")
    assert len(agents) == 4  # EDEPOT was present already: not added twice
    # Everything up to the last original event is byte-identical; the rest is insertions only.
    last_event_end = before.rindex(b"</event>") + len(b"</event>")
    assert after.startswith(before[:last_event_end])
    assert_golden("aip-appended.premis.xml", after)


def test_appended_document_equals_one_written_whole() -> None:
    appended = append_events(document(), [FIXITY], [FIXITY_AGENT])
    whole = premis_xml([ORIGINAL, PDF, UNKNOWN], EVENTS + [FIXITY], [ORG, EDEPOT, SIEGFRIED, FIXITY_AGENT])
    assert appended == whole


def test_append_to_document_without_events(standards: Path) -> None:
    bare = premis_xml([ORIGINAL], [], [])
    after = append_events(bare, [FIXITY], [FIXITY_AGENT])
    assert validate_xml(after, SchemaName.PREMIS, standards) == []
    assert after == premis_xml([ORIGINAL], [FIXITY], [FIXITY_AGENT])


def test_append_refuses_duplicate_event_and_unknown_agent() -> None:
    with pytest.raises(ValueError, match="already"):
        append_events(document(), [EVENTS[0]], [])
    with pytest.raises(ValueError, match="sw-fixity"):
        append_events(document(), [FIXITY], [])


def test_writer_refuses_inconsistent_input() -> None:
    with pytest.raises(ValueError, match="at least one object"):
        premis_xml([], [], [])
    with pytest.raises(ValueError, match="sw-edepot"):
        premis_xml([ORIGINAL], EVENTS[:1], [ORG])
    with pytest.raises(ValueError, match="appears twice"):
        premis_xml([ORIGINAL, ORIGINAL], [], [])
    with pytest.raises(ValueError, match="role"):
        premis_xml([PremisObject("x", 1, {}, None, None, None, None, "copy")], [], [])
    with pytest.raises(ValueError, match="md5"):
        premis_xml([PremisObject("x", 1, {"md5": "00"}, None, None, None, None, "original")], [], [])
    with pytest.raises(ValueError, match="offset"):
        premis_xml([ORIGINAL], [event(1, "ingestion", date_time=datetime(2024, 1, 1))], [EDEPOT])


def test_reading_refuses_doctype_and_foreign_documents() -> None:
    with pytest.raises(UnsafeXml):
        parse_premis_events(b'<!DOCTYPE premis [<!ENTITY a "b">]><premis>&a;</premis>')
    with pytest.raises(MetadataError, match="not a PREMIS 3 document"):
        parse_premis_events(b"<premis/>")


def test_broken_document_fails_naming_the_element(standards: Path) -> None:
    tree = etree.fromstring(document())
    date_time = tree.find(f".//{{{PREMIS_NS}}}eventDateTime")
    date_time.getparent().remove(date_time)
    problems = validate_xml(etree.tostring(tree), SchemaName.PREMIS, standards)
    assert problems and "eventDateTime" in problems[0]


def test_reads_events_written_elsewhere(standards: Path) -> None:
    events = parse_premis_events((standards / "examples/premis/WA-2024-000123.premis.xml").read_bytes())
    assert [e.type for e in events][:3] == ["ingestion", "virus check", "format identification"]
    assert events[1].outcome_detail == "Geen malware gevonden." and events[1].source_objects == ("WA-2024-000123-F1",)
    assert events[4].outcome_objects == ("WA-2024-000123-F1-N1",)
