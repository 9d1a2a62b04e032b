"""ToPX 2.3: the record (aggregatie) and its files (bestand), checked against the official ToPX-2.3_2.xsd and golden
files, and every metadata key mapped where ToPX has a place for it; MDTO of the same record beside it."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from lxml import etree

from kernel.config import Organisation
from kernel.model import Conversation, Message, MessageKind, Source, SourceFile, participants_of
from preservation.metadata.mdto import MDTO_NS, FileDescription, informatieobject_xml
from preservation.metadata.record import Identificatie, RecordDescription, describe_conversation
from preservation.metadata.topx import TOPX_NS, topx_aggregatie_xml, topx_bestand_xml
from preservation.xsd import SchemaName, validate_xml
from tests.conftest import shared_or_skip
from tests.metadata_examples import EVERY_KEY_YAML
from tests.test_mdto import assert_golden

TODAY = date(2024, 3, 15)
CET = timezone(timedelta(hours=1))
SHA = "2f678a48779ce6de24fc40e4ed8b50dee23bbabf3e83915fa4ce9350348ee46b"
ORG = Organisation("Gemeente Voorbeeldstad", "gm9999", "e-Depot Gemeente Voorbeeldstad")
T = f"{{{TOPX_NS}}}"
M = f"{{{MDTO_NS}}}"


@pytest.fixture(scope="module")
def standards() -> Path:
    return shared_or_skip() / "standards"


def conversation() -> Conversation:
    messages = (
        Message(1, datetime(2024, 3, 14, 10, 0, tzinfo=CET), "Wethouder Jansen", MessageKind.TEXT, "Marktplein?"),
        Message(2, datetime(2024, 3, 14, 10, 5, tzinfo=CET), "Petra de Vries", MessageKind.TEXT, "Ja."),
    )
    source = Source("whatsapp", "ios", "nl", "Europe/Amsterdam", (SourceFile("_chat.txt", 282, SHA),))
    return Conversation(source, participants_of(messages), messages)


def every_key_record() -> RecordDescription:
    return describe_conversation(conversation(), ORG, yaml.safe_load(EVERY_KEY_YAML), TODAY)


def defaults_record() -> RecordDescription:
    return describe_conversation(conversation(), ORG, None, TODAY)


def bestand(record: RecordDescription, puid: str | None = "x-fmt/111") -> FileDescription:
    return FileDescription(Identificatie(f"{record.identificatie.kenmerk}-F1", record.identificatie.bron), "_chat.txt",
                           282, SHA, datetime(2024, 3, 15, 10, 5, tzinfo=CET), puid,
                           "Plain Text File" if puid else None, "text/plain", record.identificatie, record.naam)


CASES = {
    "aggregatie-every-key.topx.xml": lambda: topx_aggregatie_xml(every_key_record()),
    "aggregatie-defaults.topx.xml": lambda: topx_aggregatie_xml(defaults_record()),
    "bestand.topx.xml": lambda: topx_bestand_xml(bestand(every_key_record())),
    "bestand-unidentified.topx.xml": lambda: topx_bestand_xml(bestand(defaults_record(), None), "Bijlage"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_topx_is_valid_and_matches_golden(name: str, standards: Path) -> None:
    produced = CASES[name]()
    assert validate_xml(produced, SchemaName.TOPX, standards) == []
    assert_golden(name, produced)


def test_mdto_with_every_key_is_valid_and_matches_golden(standards: Path) -> None:
    produced = informatieobject_xml(every_key_record(), [])
    assert validate_xml(produced, SchemaName.MDTO, standards) == []
    assert_golden("informatieobject-every-key.mdto.xml", produced)


def test_every_key_lands_in_its_mdto_element() -> None:
    obj = etree.fromstring(informatieobject_xml(every_key_record(), []))[0]

    def texts(path: str) -> list[str]:
        return [e.text or "" for e in obj.iterfind("/".join(f"{M}{p}" for p in path.split("/")))]

    assert texts("classificatie/begripCode") == ["RO-03"]
    assert texts("trefwoord") == ["Marktplein", "herinrichting"]
    assert texts("dekkingInRuimte/verwijzingNaam") == ["Voorbeeldstad", "Marktplein"]
    assert texts("isOnderdeelVan/verwijzingIdentificatie/identificatieKenmerk") == ["ZAAK-2024-0017"]
    assert texts("gerelateerdInformatieobject/gerelateerdInformatieobjectTypeRelatie/begripLabel") == ["Refereert aan"]
    assert texts("betrokkene/betrokkeneTypeRelatie/begripLabel") == ["Belanghebbende", "Deelnemer gesprek", "Indiener"]
    assert texts("betrokkene/betrokkeneActor/verwijzingIdentificatie/identificatieKenmerk") == ["40123456"]
    assert texts("waardering/begripCode") == ["V"]
    assert texts("bewaartermijn/termijnEinddatum") == ["2029-03-14"]
    assert texts("bewaartermijn/termijnTriggerStartLooptijd/begripLabel") == ["Afsluiting zaak"]
    assert texts("informatiecategorie/begripCode") == ["21.1"]
    assert texts("beperkingGebruik/beperkingGebruikDocumentatie/verwijzingNaam") == ["Woo art. 5.1 lid 2 sub e"]
    assert texts("beperkingGebruik/beperkingGebruikTermijn/termijnEinddatum") == ["2034-03-14"]
    assert texts("aggregatieniveau/begripLabel") == ["Archiefstuk"]
    assert texts("taal") == ["nl"]


def test_every_key_lands_in_its_topx_element() -> None:
    obj = etree.fromstring(topx_aggregatie_xml(every_key_record()))[0]

    def texts(path: str) -> list[str]:
        return [e.text or "" for e in obj.iterfind("/".join(f"{T}{p}" for p in path.split("/")))]

    assert texts("aggregatieniveau") == ["Record"]
    assert texts("classificatie/code") == ["21.1", "RO-03"]
    assert texts("taal") == ["dut"]
    assert texts("dekking/inTijd/begin/datum") == ["2024-03-14"]
    assert texts("dekking/geografischGebied") == ["Voorbeeldstad", "Marktplein"]
    assert any("Marktplein; herinrichting" in t for t in texts("omschrijving"))
    assert texts("eventPlan/type") == ["Vernietigen"] and texts("eventPlan/datumOfPeriode/datum") == ["2029-03-14"]
    assert texts("relatie/relatieID") == ["ZAAK-2024-0017", "ZAAK-2023-0412"]
    assert texts("relatie/typeRelatie") == ["Hiërarchisch", "Refereert aan"]
    assert texts("context/actor/geautoriseerdeNaam")[0] == "Gemeente Voorbeeldstad"
    assert "Organisatie" in texts("context/actor/aggregatieniveau") and "Persoon" in texts("context/actor/aggregatieniveau")
    assert texts("openbaarheid/datumOfPeriode/periode/eind/datum") == ["2034-03-14"]
    assert any("Woo art. 5.1" in t for t in texts("openbaarheid/omschrijvingBeperkingen"))


def test_topx_element_order_follows_the_worked_example(standards: Path) -> None:
    example = etree.parse(str(standards / "examples/topx/WA-2024-000123.metadata")).getroot()[0]
    order = list(dict.fromkeys(etree.QName(e).localname for e in example))
    ours = [etree.QName(e).localname for e in etree.fromstring(topx_aggregatie_xml(every_key_record()))[0]]
    shared = [name for name in ours if name in order]
    assert [order.index(n) for n in shared] == sorted(order.index(n) for n in shared)
    assert set(order) <= set(ours)


def test_blijvend_bewaren_without_an_end_date_plans_nothing(standards: Path) -> None:
    record = describe_conversation(conversation(), ORG, {"waardering": "B", "taal": "x-klingon"}, TODAY)
    produced = topx_aggregatie_xml(record)
    assert validate_xml(produced, SchemaName.TOPX, standards) == []
    assert b"eventPlan" not in produced and b"<taal>" not in produced
