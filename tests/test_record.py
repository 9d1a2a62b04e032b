"""RecordDescription from a conversation: derived fields, metadata files (JSON, YAML), defaults, errors."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from kernel.config import Organisation
from kernel.errors import MetadataError
from kernel.model import Conversation, Message, MessageKind, Source, SourceFile, participants_of
from preservation.metadata.record import (
    Begrip,
    BeperkingGebruik,
    Betrokkene,
    Bewaartermijn,
    Identificatie,
    Verwijzing,
    Zaak,
    describe_conversation,
    end_of_term,
    load_metadata_file,
)
from preservation.metadata.selectielijst import SELECTIELIJST_2020, load_selectielijst
from tests.conftest import shared_or_skip
from tests.metadata_examples import EVERY_KEY_YAML

TODAY = date(2024, 3, 15)
SHA = "2f678a48779ce6de24fc40e4ed8b50dee23bbabf3e83915fa4ce9350348ee46b"
ORG = Organisation("Gemeente Voorbeeldstad", "gm9999", "e-Depot Gemeente Voorbeeldstad")
CET = timezone(timedelta(hours=1))


def conversation(title: str | None = None, files: bool = True) -> Conversation:
    messages = (
        Message(1, datetime(2024, 3, 13, 23, 50, tzinfo=CET), "J. Jansen", MessageKind.TEXT, "Marktplein?"),
        Message(2, datetime(2024, 3, 14, 0, 10, tzinfo=CET), "P. de Vries", MessageKind.TEXT, "Morgen."),
        Message(3, datetime(2024, 3, 14, 9, 0, tzinfo=CET), "J. Jansen", MessageKind.TEXT, "Prima"),
    )
    source_files = (SourceFile("WhatsApp Chat met P. de Vries.zip", 282, SHA),) if files else ()
    source = Source("whatsapp", "ios", "nl", "Europe/Amsterdam", source_files)
    return Conversation(source, participants_of(messages), messages, title)


FULL_METADATA = {
    "naam": "WhatsApp-gesprek over herinrichting Marktplein",
    "identificatie": {"kenmerk": "WA-2024-000123", "bron": "Zaaksysteem"},
    "archiefvormer": {"naam": "Gemeente Elders", "identificatie": {"kenmerk": "gm0001", "bron": "TOOI"}},
    "waardering": "Tijdelijk te bewaren",
    "bewaartermijn": {"looptijd": "P5Y", "trigger": "Afsluiting zaak", "startdatum": "2024-03-14"},
    "omschrijving": "Zakelijk chatgesprek.",
    "taal": "nl",
    "informatiecategorie": {"label": "Adviseren - Verstrekt", "code": "21.1", "begrippenlijst": "Selectielijst 2020"},
    "beperkingGebruik": {"type": "Overig", "nadereBeschrijving": "Bevat persoonsgegevens."},
}

YAML_METADATA = """\
# metadata for one chat export
naam: WhatsApp-gesprek over herinrichting Marktplein
identificatie:
  kenmerk: WA-2024-000123
  bron: Zaaksysteem
archiefvormer:
  naam: Gemeente Elders
  identificatie: {kenmerk: gm0001, bron: TOOI}
waardering: Tijdelijk te bewaren
bewaartermijn:
  looptijd: P5Y
  trigger: Afsluiting zaak
  startdatum: 2024-03-14
omschrijving: Zakelijk chatgesprek.
taal: nl
informatiecategorie:
  label: Adviseren - Verstrekt
  code: "21.1"
  begrippenlijst: Selectielijst 2020
beperkingGebruik:
  type: Overig
  nadereBeschrijving: Bevat persoonsgegevens.
"""


def test_defaults_without_metadata() -> None:
    record = describe_conversation(conversation(), ORG, None, TODAY)
    assert record.identificatie == Identificatie("WA-2f678a48779c", "e-Depot Gemeente Voorbeeldstad")
    assert record.naam == "WhatsApp-gesprek J. Jansen - P. de Vries"
    assert (record.archiefvormer, record.archiefvormer_id, record.archiefvormer_id_bron) == (
        "Gemeente Voorbeeldstad", "gm9999", "TOOI",
    )
    assert record.waardering == Begrip("Nader te bepalen", "N", "Begrippenlijst Waarderingen MDTO")
    assert record.bewaartermijn is None
    assert record.taal is None and record.informatiecategorie is None
    assert record.beperking_gebruik.type.label == "Nader te bepalen"
    assert record.betrokkenen == (Betrokkene("J. Jansen"), Betrokkene("P. de Vries"))
    assert record.omschrijving == "Export van een WhatsApp-gesprek met 3 berichten van 2 deelnemers."
    assert record.opname_datum == TODAY and record.aggregatieniveau == "Archiefstuk"


def test_coverage_uses_each_message_own_offset() -> None:
    # 23:50 +01:00 on the 13th is 22:50 UTC: the date a participant saw is the 13th.
    record = describe_conversation(conversation(), ORG, None, TODAY)
    assert (record.dekking_begin, record.dekking_eind) == (date(2024, 3, 13), date(2024, 3, 14))


def test_title_names_the_record_and_kenmerk_is_deterministic() -> None:
    a = describe_conversation(conversation(title="Marktplein"), ORG, None, TODAY)
    b = describe_conversation(conversation(title="Marktplein"), ORG, None, TODAY)
    assert a == b and a.naam == "WhatsApp-gesprek Marktplein"


def test_many_participants_are_summarised_in_the_name() -> None:
    messages = tuple(
        Message(i, datetime(2024, 1, 1, 12, i, tzinfo=CET), f"P{i}", MessageKind.TEXT, "x") for i in range(1, 6)
    )
    conv = Conversation(Source("whatsapp", "android", None, "UTC", (SourceFile("c.txt", 1, SHA),)),
                        participants_of(messages), messages)
    assert describe_conversation(conv, ORG, None, TODAY).naam == "WhatsApp-gesprek P1, P2, P3 en 2 anderen"


def test_full_metadata_mapping() -> None:
    record = describe_conversation(conversation(), ORG, FULL_METADATA, TODAY)
    assert record.identificatie == Identificatie("WA-2024-000123", "Zaaksysteem")
    assert record.naam == FULL_METADATA["naam"]
    assert (record.archiefvormer, record.archiefvormer_id, record.archiefvormer_id_bron) == (
        "Gemeente Elders", "gm0001", "TOOI",
    )
    assert record.waardering == Begrip("Tijdelijk te bewaren", "V", "Begrippenlijst Waarderingen MDTO")
    assert record.bewaartermijn == Bewaartermijn(
        "P5Y", Begrip("Afsluiting zaak", None, "Begrippenlijst Termijntriggers edepot"),
        date(2024, 3, 14), date(2029, 3, 14),
    )
    assert record.informatiecategorie == Begrip("Adviseren - Verstrekt", "21.1", "Selectielijst 2020")
    assert record.beperking_gebruik.nadere_beschrijving == "Bevat persoonsgegevens."


@pytest.mark.parametrize("given,code", [("B", "B"), ("v", "V"), ("blijvend te bewaren", "B"), ("N", "N")])
def test_waardering_by_code_or_label(given: str, code: str) -> None:
    assert describe_conversation(conversation(), ORG, {"waardering": given}, TODAY).waardering.code == code


def test_json_and_yaml_files_give_the_same_record(tmp_path: Path) -> None:
    json_file = tmp_path / "metadata.json"
    json_file.write_text(json.dumps(FULL_METADATA), encoding="utf-8")
    yaml_file = tmp_path / "metadata.yaml"
    yaml_file.write_text(YAML_METADATA, encoding="utf-8")
    from_json = describe_conversation(conversation(), ORG, load_metadata_file(json_file), TODAY)
    from_yaml = describe_conversation(conversation(), ORG, load_metadata_file(yaml_file), TODAY)
    assert from_json == from_yaml == describe_conversation(conversation(), ORG, FULL_METADATA, TODAY)


@pytest.mark.parametrize(
    "metadata,key",
    [
        ({"titel": "x"}, "titel"),
        ({"naam": 3}, "naam"),
        ({"naam": "  "}, "naam"),
        ({"waardering": "Bewaren"}, "waardering"),
        ({"bewaartermijn": {"looptijd": "10 jaar"}}, "bewaartermijn.looptijd"),
        ({"bewaartermijn": {"looptijd": "P"}}, "bewaartermijn.looptijd"),
        ({"bewaartermijn": {"trigger": "x"}}, "bewaartermijn.looptijd"),
        ({"bewaartermijn": {"looptijd": "P1Y", "startdatum": "14-03-2024"}}, "bewaartermijn.startdatum"),
        ({"bewaartermijn": {"looptijd": "P1Y", "startdatum": "2024-03-14", "einddatum": "2020-01-01"}},
         "bewaartermijn.einddatum"),
        ({"bewaartermijn": {"looptijd": "P1Y", "duur": 1}}, "bewaartermijn.duur"),
        ({"identificatie": "WA-1"}, "identificatie"),
        ({"identificatie": {"kenmerk": "WA-1"}}, "identificatie.bron"),
        ({"taal": "Nederlands!"}, "taal"),
        ({"informatiecategorie": {"label": "Adviseren"}}, "informatiecategorie.begrippenlijst"),
        ({"informatiecategorie": {"label": "A", "code": 21.10, "begrippenlijst": "S"}}, "informatiecategorie.code"),
        ({"beperkingGebruik": {"type": "Geheim"}}, "beperkingGebruik.type"),
    ],
)
def test_bad_metadata_names_the_key(metadata: dict, key: str) -> None:
    with pytest.raises(MetadataError) as caught:
        describe_conversation(conversation(), ORG, metadata, TODAY)
    assert f"'{key}'" in caught.value.message


def test_yaml_error_names_key_and_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_text("naam: Gesprek\nbewaartermijn:\n  looptijd: tien jaar\n", encoding="utf-8")
    with pytest.raises(MetadataError) as caught:
        load_metadata_file(path)
    assert "line 3" in caught.value.message and "'bewaartermijn.looptijd'" in caught.value.message


def test_yaml_duplicate_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("naam: A\nnaam: B\n", encoding="utf-8")
    with pytest.raises(MetadataError, match="line 2.*'naam' appears twice"):
        load_metadata_file(path)


def test_json_duplicate_key_and_syntax_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"naam": "A", "naam": "B"}', encoding="utf-8")
    with pytest.raises(MetadataError, match="'naam' appears twice"):
        load_metadata_file(path)
    path.write_text('{"naam": }', encoding="utf-8")
    with pytest.raises(MetadataError, match="line 1: not valid JSON"):
        load_metadata_file(path)


def test_metadata_file_must_hold_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("- naam\n", encoding="utf-8")
    with pytest.raises(MetadataError, match="mapping"):
        load_metadata_file(path)


def test_missing_metadata_file_is_a_metadata_error(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="cannot read"):
        load_metadata_file(tmp_path / "absent.yaml")


def test_no_source_file_and_no_identificatie_is_refused() -> None:
    with pytest.raises(MetadataError, match="'identificatie'"):
        describe_conversation(conversation(files=False), ORG, None, TODAY)
    given = {"identificatie": {"kenmerk": "X-1", "bron": "B"}}
    assert describe_conversation(conversation(files=False), ORG, given, TODAY).identificatie.kenmerk == "X-1"


@pytest.mark.parametrize(
    "start,looptijd,end",
    [
        (date(2024, 3, 14), "P5Y", date(2029, 3, 14)),
        (date(2024, 2, 29), "P1Y", date(2025, 2, 28)),
        (date(2024, 11, 30), "P3M", date(2025, 2, 28)),
        (date(2024, 1, 1), "P1Y6M10D", date(2025, 7, 11)),
        (date(2024, 1, 1), "PT12H", None),
    ],
)
def test_end_of_term(start: date, looptijd: str, end: date | None) -> None:
    assert end_of_term(start, looptijd) == end


def test_yaml_boolean_where_text_is_expected(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("naam: Gesprek\ntaal: no\n", encoding="utf-8")
    with pytest.raises(MetadataError, match="line 2.*'taal'.*quotes"):
        load_metadata_file(path)


# ---------------------------------------------------------------------------------------------------
# Every key of a metadata file, the Selectielijst, errors in lists


@pytest.fixture
def every_key(tmp_path: Path) -> dict:
    path = tmp_path / "zaak.yaml"
    path.write_text(EVERY_KEY_YAML, encoding="utf-8")
    return load_metadata_file(path)


def participants_conversation() -> Conversation:
    messages = (
        Message(1, datetime(2024, 3, 14, 10, 0, tzinfo=CET), "Wethouder Jansen", MessageKind.TEXT, "Marktplein?"),
        Message(2, datetime(2024, 3, 14, 10, 5, tzinfo=CET), "Petra de Vries", MessageKind.TEXT, "Ja."),
    )
    source = Source("whatsapp", "ios", "nl", "Europe/Amsterdam", (SourceFile("chat.zip", 282, SHA),))
    return Conversation(source, participants_of(messages), messages)


def test_every_key_reaches_the_record(every_key: dict) -> None:
    record = describe_conversation(participants_conversation(), ORG, every_key, TODAY)
    assert record.naam.startswith("WhatsApp-gesprek wethouder Jansen")
    assert record.identificatie == Identificatie("WA-2024-000123", "Zaaksysteem Gemeente Voorbeeldstad")
    assert (record.archiefvormer, record.archiefvormer_id) == ("Gemeente Voorbeeldstad", "gm9999")
    assert record.aggregatieniveau == "Archiefstuk"
    assert record.classificatie == (Begrip("Ruimtelijke ordening", "RO-03", "Zaaktypecatalogus Voorbeeldstad"),)
    assert record.informatiecategorie == Begrip("Adviseren - Verstrekt", "21.1", SELECTIELIJST_2020)
    assert record.trefwoorden == ("Marktplein", "herinrichting")
    assert record.omschrijving.startswith("Zakelijk chatgesprek")
    assert record.dekking_in_ruimte == (
        Verwijzing("Voorbeeldstad"), Verwijzing("Marktplein", Identificatie("0999300000000001", "BAG")))
    assert record.taal == "nl"
    assert record.zaken == (
        Zaak(Verwijzing("Herinrichting Marktplein", Identificatie("ZAAK-2024-0017", "Zaaksysteem Gemeente Voorbeeldstad"))),
        Zaak(Verwijzing("Marktverordening", Identificatie("ZAAK-2023-0412", "Zaaksysteem Gemeente Voorbeeldstad")),
             "Refereert aan"),
    )
    # a listed betrokkene replaces the participant it names; the other participant stays; a new one is added
    assert record.betrokkenen == (
        Betrokkene("Wethouder Jansen", "Belanghebbende", "persoon"),
        Betrokkene("Petra de Vries"),
        Betrokkene("Marktvereniging Voorbeeldstad", "Indiener", "organisatie", Identificatie("40123456", "KvK")),
    )
    assert record.waardering.code == "V"
    assert record.bewaartermijn is not None and record.bewaartermijn.einddatum == date(2029, 3, 14)
    assert record.beperking_gebruik == BeperkingGebruik(
        Begrip("Overig", None, "Begrippenlijst Beperkingen MDTO"), "Bevat persoonsgegevens van marktkooplieden.",
        ("Woo art. 5.1 lid 2 sub e",), Bewaartermijn("", None, None, date(2034, 3, 14)))
    assert record.dekking_begin == date(2024, 3, 14)  # derived, never from the file


def test_selectielijst_resolves_a_code_to_label_waardering_and_term() -> None:
    lijst = load_selectielijst(shared_or_skip() / "standards/selectielijst/selectielijst_2020.json")
    record = describe_conversation(conversation(), ORG, {"informatiecategorie": "11.1"}, TODAY, lijst)
    assert record.informatiecategorie == Begrip("Toestemming verlenen - Verleend", "11.1", SELECTIELIJST_2020)
    assert record.waardering.code == "V"
    assert record.bewaartermijn is not None and record.bewaartermijn.looptijd == "P1Y"
    assert record.bewaartermijn.trigger is not None and "procesobject" in record.bewaartermijn.trigger.label
    permanent = describe_conversation(conversation(), ORG, {"informatiecategorie": {"code": "1.1.2"}}, TODAY, lijst)
    assert permanent.waardering.code == "B" and permanent.bewaartermijn is None
    given = {"informatiecategorie": "21.1", "waardering": "N", "bewaartermijn": "P7Y"}
    kept = describe_conversation(conversation(), ORG, given, TODAY, lijst)
    assert (kept.waardering.code, kept.bewaartermijn.looptijd if kept.bewaartermijn else None) == ("N", "P7Y")
    with pytest.raises(MetadataError, match="'informatiecategorie.code'.*99.9"):
        describe_conversation(conversation(), ORG, {"informatiecategorie": "99.9"}, TODAY, lijst)
    with pytest.raises(MetadataError, match="'informatiecategorie.label'"):
        describe_conversation(conversation(), ORG, {"informatiecategorie": "21.1"}, TODAY)


def test_a_broken_selectielijst_file_is_a_metadata_error(tmp_path: Path) -> None:
    path = tmp_path / "lijst.json"
    path.write_text('[{"model": "iets"}]', encoding="utf-8")
    with pytest.raises(MetadataError, match="not a VNG selectielijst"):
        load_selectielijst(path)


@pytest.mark.parametrize(
    "metadata,key",
    [
        ({"classificatie": [{"label": "x"}]}, "classificatie[0].begrippenlijst"),
        ({"trefwoord": []}, "trefwoord"),
        ({"trefwoord": ["ok", 3]}, "trefwoord[1]"),
        ({"dekkingInRuimte": {"plaats": "x"}}, "dekkingInRuimte.plaats"),
        ({"zaak": {"naam": "x"}}, "zaak.identificatie"),
        ({"zaak": [{"identificatie": {"kenmerk": "Z"}}]}, "zaak[0].identificatie.bron"),
        ({"betrokkene": [{"naam": "A", "soort": "robot"}]}, "betrokkene[0].soort"),
        ({"betrokkene": [{"rol": "x"}]}, "betrokkene[0].naam"),
        ({"aggregatieniveau": "Map"}, "aggregatieniveau"),
        ({"waardering": "weggooien"}, "waardering"),
        ({"bewaartermijn": "tien jaar"}, "bewaartermijn"),
        ({"beperkingGebruik": {"type": "Overig", "termijn": {}}}, "beperkingGebruik.termijn"),
        ({"beperkingGebruik": {"type": "Overig", "termijn": {"einddatum": "morgen"}}}, "beperkingGebruik.termijn.einddatum"),
        ({"beperkingGebruik": {"type": {"label": "Woo 5.1"}}}, "beperkingGebruik.type.begrippenlijst"),
    ],
)
def test_bad_values_of_the_new_keys_name_the_key(metadata: dict, key: str) -> None:
    with pytest.raises(MetadataError) as caught:
        describe_conversation(conversation(), ORG, metadata, TODAY)
    assert f"'{key}'" in caught.value.message


def test_an_error_inside_a_list_names_item_and_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(EVERY_KEY_YAML.replace("soort: organisatie", "soort: stichting"), encoding="utf-8")
    line = EVERY_KEY_YAML.splitlines().index("    soort: organisatie") + 1
    with pytest.raises(MetadataError) as caught:
        load_metadata_file(path)
    assert f"line {line}" in caught.value.message and "'betrokkene[1].soort'" in caught.value.message


def test_a_selection_digest_makes_a_new_derived_kenmerk() -> None:
    whole = describe_conversation(conversation(), ORG, None, TODAY)
    part = describe_conversation(conversation(), ORG, None, TODAY, derived_from="ab" * 32)
    assert whole.identificatie.kenmerk == "WA-2f678a48779c" and part.identificatie.kenmerk == "WA-abababababab"
