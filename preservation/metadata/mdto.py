"""MDTO-XML 1.0.1 (Nationaal Archief, Metagegevens Duurzaam Toegankelijke Overheidsinformatie).

Two documents per record: the `informatieobject` describing the record, and one `bestand` per file
that represents it. Elements follow the order of the sequences in MDTO-XML1.0.1.xsd exactly
(objectType: identificatie, naam; then the informatieobject or bestand extension). Output is pretty
printed UTF-8 with an XML declaration and depends only on its input.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Sequence

from lxml import etree

from preservation.metadata.record import (
    AGGREGATIENIVEAUS_LIJST,
    BETROKKENE_RELATIES,
    BETROKKENE_RELATIES_LIJST,
    EDEPOT_BEGRIPPENLIJST,
    EVENTTYPE_LIJST,
    RELATIETYPEN_LIJST,
    Begrip,
    Bewaartermijn,
    Event,
    Identificatie,
    RecordDescription,
    Verwijzing,
)
from preservation.metadata.xml_text import xml_text

MDTO_NS = "https://www.nationaalarchief.nl/mdto"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
MDTO_SCHEMA_LOCATION = f"{MDTO_NS} https://www.nationaalarchief.nl/mdto/MDTO-XML1.0.1.xsd"
PRONOM_REGISTER = "PRONOM-register"
CHECKSUM_LIJST = "Begrippenlijst ChecksumAlgoritme MDTO"
DEKKING_IN_TIJD_TYPE = Begrip("Looptijd gesprek", begrippenlijst=EDEPOT_BEGRIPPENLIJST)
UNKNOWN_FORMAT = "Onbekend"


@dataclass(frozen=True)
class FileDescription:
    """One file that represents a record (an MDTO bestand), with its fixity and identified format."""

    identificatie: Identificatie
    naam: str
    omvang: int
    sha256: str
    checksum_datum: datetime
    puid: str | None
    format_name: str | None
    mime_type: str | None
    is_representatie_van: Identificatie
    record_naam: str


def informatieobject_xml(record: RecordDescription, representations: Sequence[Verwijzing]) -> bytes:
    """The MDTO document of one informatieobject, referring to the files that represent it.

    Valid against MDTO-XML1.0.1.xsd for any RecordDescription built by `describe_conversation`.
    """
    root, obj = _document("informatieobject")
    _identificatie(obj, "identificatie", record.identificatie)
    _text(obj, "naam", record.naam)
    _begrip(obj, "aggregatieniveau", Begrip(record.aggregatieniveau, begrippenlijst=AGGREGATIENIVEAUS_LIJST))
    for classificatie in record.classificatie:
        _begrip(obj, "classificatie", classificatie)
    for trefwoord in record.trefwoorden:
        _text(obj, "trefwoord", trefwoord)
    for omschrijving in (record.omschrijving, *record.toelichtingen):
        if omschrijving:
            _text(obj, "omschrijving", omschrijving)
    if record.dekking_begin is not None:
        _dekking_in_tijd(obj, record.dekking_begin, record.dekking_eind)
    for plaats in record.dekking_in_ruimte:
        _verwijzing(obj, "dekkingInRuimte", plaats)
    if record.taal:
        _text(obj, "taal", record.taal)
    if record.opname_datum is not None:
        opname = Begrip("Opname", begrippenlijst=EVENTTYPE_LIJST)
        _event(obj, Event(opname, record.opname_datum, record.opname_door or record.archiefvormer))
    for event in record.events:
        _event(obj, event)
    _begrip(obj, "waardering", record.waardering)
    if record.bewaartermijn is not None:
        _termijn(obj, "bewaartermijn", record.bewaartermijn)
    if record.informatiecategorie is not None:
        _begrip(obj, "informatiecategorie", record.informatiecategorie)
    for zaak in record.zaken:
        if zaak.relatie is None:
            _verwijzing(obj, "isOnderdeelVan", zaak.verwijzing)
    for representation in representations:
        _verwijzing(obj, "heeftRepresentatie", representation)
    for zaak in record.zaken:
        if zaak.relatie is not None:
            related = _sub(obj, "gerelateerdInformatieobject")
            _verwijzing(related, "gerelateerdInformatieobjectVerwijzing", zaak.verwijzing)
            _begrip(related, "gerelateerdInformatieobjectTypeRelatie",
                    Begrip(zaak.relatie, begrippenlijst=RELATIETYPEN_LIJST))
    archiefvormer_id = None
    if record.archiefvormer_id:
        archiefvormer_id = Identificatie(record.archiefvormer_id, record.archiefvormer_id_bron)
    _verwijzing(obj, "archiefvormer", Verwijzing(record.archiefvormer, archiefvormer_id))
    for betrokkene in record.betrokkenen:
        element = _sub(obj, "betrokkene")
        lijst = BETROKKENE_RELATIES_LIJST if betrokkene.rol in BETROKKENE_RELATIES else EDEPOT_BEGRIPPENLIJST
        _begrip(element, "betrokkeneTypeRelatie", Begrip(betrokkene.rol, begrippenlijst=lijst))
        _verwijzing(element, "betrokkeneActor", Verwijzing(betrokkene.naam, betrokkene.identificatie))
    restriction = record.beperking_gebruik
    beperking = _sub(obj, "beperkingGebruik")
    _begrip(beperking, "beperkingGebruikType", restriction.type)
    if restriction.nadere_beschrijving:
        _text(beperking, "beperkingGebruikNadereBeschrijving", restriction.nadere_beschrijving)
    for documentatie in restriction.documentatie:
        _verwijzing(beperking, "beperkingGebruikDocumentatie", Verwijzing(documentatie))
    if restriction.termijn is not None:
        _termijn(beperking, "beperkingGebruikTermijn", restriction.termijn)
    return _serialise(root)


def bestand_xml(file: FileDescription) -> bytes:
    """The MDTO document of one bestand: size, PRONOM format, SHA-256 checksum, the record it represents.

    Valid against MDTO-XML1.0.1.xsd. An unidentified format is written as label "Onbekend" without code.
    """
    root, obj = _document("bestand")
    _identificatie(obj, "identificatie", file.identificatie)
    _text(obj, "naam", file.naam)
    _text(obj, "omvang", str(file.omvang))
    _begrip(obj, "bestandsformaat", Begrip(file.format_name or UNKNOWN_FORMAT, file.puid, PRONOM_REGISTER))
    checksum = _sub(obj, "checksum")
    _begrip(checksum, "checksumAlgoritme", Begrip("SHA-256", begrippenlijst=CHECKSUM_LIJST))
    _text(checksum, "checksumWaarde", file.sha256.lower())
    _text(checksum, "checksumDatum", _datetime(file.checksum_datum))
    _verwijzing(obj, "isRepresentatieVan", Verwijzing(file.record_naam, file.is_representatie_van))
    return _serialise(root)


def _document(kind: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(f"{{{MDTO_NS}}}MDTO", nsmap={None: MDTO_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", MDTO_SCHEMA_LOCATION)
    return root, _sub(root, kind)


def _sub(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{MDTO_NS}}}{name}")


def _text(parent: etree._Element, name: str, value: str) -> etree._Element:
    element = _sub(parent, name)
    element.text = xml_text(value)
    return element


def _identificatie(parent: etree._Element, name: str, identificatie: Identificatie) -> None:
    element = _sub(parent, name)
    _text(element, "identificatieKenmerk", identificatie.kenmerk)
    _text(element, "identificatieBron", identificatie.bron)


def _verwijzing(parent: etree._Element, name: str, verwijzing: Verwijzing) -> None:
    element = _sub(parent, name)
    _text(element, "verwijzingNaam", verwijzing.naam)
    if verwijzing.identificatie is not None:
        _identificatie(element, "verwijzingIdentificatie", verwijzing.identificatie)


def _begrip(parent: etree._Element, name: str, begrip: Begrip) -> None:
    element = _sub(parent, name)
    _text(element, "begripLabel", begrip.label)
    if begrip.code:
        _text(element, "begripCode", begrip.code)
    _verwijzing(element, "begripBegrippenlijst", Verwijzing(begrip.begrippenlijst))


def _dekking_in_tijd(parent: etree._Element, begin: date, eind: date | None) -> None:
    element = _sub(parent, "dekkingInTijd")
    _begrip(element, "dekkingInTijdType", DEKKING_IN_TIJD_TYPE)
    _text(element, "dekkingInTijdBegindatum", begin.isoformat())
    if eind is not None:
        _text(element, "dekkingInTijdEinddatum", eind.isoformat())


def _event(parent: etree._Element, event: Event) -> None:
    element = _sub(parent, "event")
    _begrip(element, "eventType", event.type)
    _text(element, "eventTijd", event.tijd.isoformat())
    _verwijzing(element, "eventVerantwoordelijkeActor", Verwijzing(event.actor))
    if event.resultaat:
        _text(element, "eventResultaat", event.resultaat)


def _termijn(parent: etree._Element, name: str, termijn: Bewaartermijn) -> None:
    element = _sub(parent, name)
    if termijn.trigger is not None:
        _begrip(element, "termijnTriggerStartLooptijd", termijn.trigger)
    if termijn.startdatum is not None:
        _text(element, "termijnStartdatumLooptijd", termijn.startdatum.isoformat())
    if termijn.looptijd:
        _text(element, "termijnLooptijd", termijn.looptijd)
    if termijn.einddatum is not None:
        _text(element, "termijnEinddatum", termijn.einddatum.isoformat())


def _datetime(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds" if moment.microsecond == 0 else "microseconds")


def _serialise(root: etree._Element) -> bytes:
    etree.indent(root, space="  ")
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"
