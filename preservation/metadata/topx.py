"""ToPX 2.3 (Nationaal Archief, TMLO toepassingsprofiel in XML, schema ToPX-2.3_2.xsd): the same record as MDTO.

Two documents per record, as in MDTO: an `aggregatie` for the record and a `bestand` for each file. The
element order is the sequence of ToPX-2.3_2.xsd (aggregatieType: identificatiekenmerk, aggregatieniveau,
then basisEigenschappenGroup: naam, classificatie, omschrijving, plaats, dekking, externIdentificatiekenmerk,
taal, eventGeschiedenis, eventPlan, relatie, context, gebruiksrechten, vertrouwelijkheid, openbaarheid).

How the MDTO description maps (where ToPX has no place, said so):
- aggregatieniveau: Archiefstuk → Record; Dossier, Serie, Archief as they are.
- informatiecategorie and each classificatie → classificatie (code, omschrijving = label, bron = begrippenlijst);
  ToPX requires a code, so a begrip without one is written with its label as the code.
- omschrijving → omschrijving; trefwoorden (ToPX has no field for them) → an omschrijving "Trefwoorden: …".
- dekkingInTijd → dekking/inTijd; dekkingInRuimte → dekking/geografischGebied.
- taal (BCP 47, `nl`) → ISO 639-2/B (`dut`), the list the ToPX schema allows; a tag without a mapping is left out.
- events (Opname, Selectie) → eventGeschiedenis; waardering V with a known einddatum → eventPlan "Vernietigen"
  dated that day (aanleiding: informatiecategorie and term); B → eventPlan "Overbrengen" only with a known date.
- zaak → relatie (relatieID = the zaak's kenmerk; typeRelatie "Hiërarchisch" for isOnderdeelVan, else the label).
- archiefvormer and betrokkenen → context/actor (betrokkene soort persoon/organisatie → actor aggregatieniveau; the
  betrokkene's rol has no place in a ToPX actor and stays in MDTO only).
- beperkingGebruik → openbaarheid (omschrijvingBeperkingen: type, nadere beschrijving, documentatie; datumOfPeriode:
  from the day of description to the termijn's einddatum when known).
"""
from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath

from lxml import etree

from preservation.metadata.mdto import FileDescription
from preservation.metadata.record import Begrip, RecordDescription
from preservation.metadata.xml_text import xml_text

TOPX_NS = "http://www.nationaalarchief.nl/ToPX/v2.3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
AGGREGATIENIVEAUS = {"Archiefstuk": "Record", "Dossier": "Dossier", "Serie": "Serie", "Archief": "Archief"}
HIERARCHISCH = "Hiërarchisch"
# BCP 47 primary language → ISO 639-2/B (the bibliographic codes ToPX enumerates)
ISO_639_2B = {
    "nl": "dut", "en": "eng", "de": "ger", "fr": "fre", "fy": "fry", "es": "spa", "it": "ita", "pt": "por",
    "tr": "tur", "ar": "ara", "pl": "pol", "ro": "rum", "bg": "bul", "uk": "ukr", "ru": "rus", "zh": "chi",
    "pap": "pap", "li": "lim", "ber": "ber", "so": "som", "ti": "tir", "fa": "per", "el": "gre",
}


def topx_aggregatie_xml(record: RecordDescription) -> bytes:
    """The ToPX document of one record (aggregatie). Valid against ToPX-2.3_2.xsd for any described record."""
    root, obj = _document("aggregatie")
    _text(obj, "identificatiekenmerk", record.identificatie.kenmerk)
    _text(obj, "aggregatieniveau", AGGREGATIENIVEAUS.get(record.aggregatieniveau, "Record"))
    _text(obj, "naam", record.naam)
    categories = ([record.informatiecategorie] if record.informatiecategorie else []) + list(record.classificatie)
    for begrip in categories:
        _classificatie(obj, begrip)
    for omschrijving in (record.omschrijving, *record.toelichtingen):
        if omschrijving:
            _text(obj, "omschrijving", omschrijving)
    if record.trefwoorden:
        _text(obj, "omschrijving", "Trefwoorden: " + "; ".join(record.trefwoorden))
    if record.dekking_begin is not None or record.dekking_in_ruimte:
        dekking = _sub(obj, "dekking")
        if record.dekking_begin is not None:
            in_tijd = _sub(dekking, "inTijd")
            _text(_sub(in_tijd, "begin"), "datum", record.dekking_begin.isoformat())
            if record.dekking_eind is not None:
                _text(_sub(in_tijd, "eind"), "datum", record.dekking_eind.isoformat())
        for plaats in record.dekking_in_ruimte:
            _text(dekking, "geografischGebied", plaats.naam)
    language = _iso_639_2b(record.taal)
    if language:
        _text(obj, "taal", language)
    events: list[tuple[str, date, str, str | None]] = []
    if record.opname_datum is not None:
        events.append(("Opname", record.opname_datum, record.opname_door or record.archiefvormer, None))
    events += [(e.type.label, e.tijd, e.actor, e.resultaat) for e in record.events]
    for type_, when, actor, result in events:
        event = _sub(obj, "eventGeschiedenis")
        _text(_sub(event, "datumOfPeriode"), "datum", when.isoformat())
        _text(event, "type", type_)
        if result:
            _text(event, "beschrijving", result)
        _text(event, "verantwoordelijkeFunctionaris", actor)
    _event_plan(obj, record)
    for zaak in record.zaken:
        relatie = _sub(obj, "relatie")
        ident = zaak.verwijzing.identificatie
        _text(relatie, "relatieID", ident.kenmerk if ident else zaak.verwijzing.naam)
        _text(relatie, "typeRelatie", zaak.relatie or HIERARCHISCH)
    _context(obj, record)
    _openbaarheid(obj, record)
    return _serialise(root)


def topx_bestand_xml(file: FileDescription, genre: str = "Chatbericht") -> bytes:
    """The ToPX document of one file (bestand): name, size, PRONOM format, SHA-256, its record as relatie."""
    root, obj = _document("bestand")
    _text(obj, "identificatiekenmerk", file.identificatie.kenmerk)
    _text(obj, "aggregatieniveau", "Bestand")
    _text(obj, "naam", file.naam)
    relatie = _sub(obj, "relatie")
    _text(relatie, "relatieID", file.is_representatie_van.kenmerk)
    _text(relatie, "typeRelatie", HIERARCHISCH)
    _text(_sub(obj, "vorm"), "redactieGenre", genre)
    formaat = _sub(obj, "formaat")
    _text(formaat, "identificatiekenmerk", file.identificatie.kenmerk)
    name = PurePosixPath(file.naam)
    bestandsnaam = _sub(formaat, "bestandsnaam")
    _text(bestandsnaam, "naam", name.stem or file.naam)
    if name.suffix:
        _text(bestandsnaam, "extensie", name.suffix[1:])
    if file.mime_type:
        _text(formaat, "type", file.mime_type)
    _text(formaat, "omvang", str(file.omvang))
    if file.puid:
        _text(formaat, "bestandsformaat", file.puid)
    integriteit = _sub(formaat, "fysiekeIntegriteit")
    _text(integriteit, "algoritme", "SHA-256")
    _text(integriteit, "waarde", file.sha256.lower())
    moment = file.checksum_datum
    _text(integriteit, "datumEnTijd", moment.isoformat(timespec="seconds" if moment.microsecond == 0 else "microseconds"))
    return _serialise(root)


def _classificatie(parent: etree._Element, begrip: Begrip) -> None:
    element = _sub(parent, "classificatie")
    _text(element, "code", begrip.code or begrip.label)
    _text(element, "omschrijving", begrip.label)
    _text(element, "bron", begrip.begrippenlijst)


def _event_plan(parent: etree._Element, record: RecordDescription) -> None:
    termijn = record.bewaartermijn
    if termijn is None or termijn.einddatum is None or record.waardering.code not in ("V", "B"):
        return
    plan = _sub(parent, "eventPlan")
    _text(_sub(plan, "datumOfPeriode"), "datum", termijn.einddatum.isoformat())
    _text(plan, "type", "Vernietigen" if record.waardering.code == "V" else "Overbrengen")
    reason = [record.waardering.label, f"termijn {termijn.looptijd}" if termijn.looptijd else ""]
    if record.informatiecategorie is not None:
        category = record.informatiecategorie
        reason.insert(0, f"{category.begrippenlijst}, {category.code or category.label}")
    _text(plan, "aanleiding", ", ".join(r for r in reason if r))


def _context(parent: etree._Element, record: RecordDescription) -> None:
    context = _sub(parent, "context")
    actor = _sub(context, "actor")
    _text(actor, "identificatiekenmerk", record.archiefvormer_id or record.archiefvormer)
    _text(actor, "aggregatieniveau", "Organisatie")
    _text(actor, "geautoriseerdeNaam", record.archiefvormer)
    for betrokkene in record.betrokkenen:
        actor = _sub(context, "actor")
        _text(actor, "identificatiekenmerk",
              betrokkene.identificatie.kenmerk if betrokkene.identificatie else betrokkene.naam)
        if betrokkene.soort:
            _text(actor, "aggregatieniveau", betrokkene.soort.capitalize())
        _text(actor, "geautoriseerdeNaam", betrokkene.naam)


def _openbaarheid(parent: etree._Element, record: RecordDescription) -> None:
    restriction = record.beperking_gebruik
    element = _sub(parent, "openbaarheid")
    text = restriction.type.label
    if restriction.nadere_beschrijving:
        text += f": {restriction.nadere_beschrijving}"
    _text(element, "omschrijvingBeperkingen", text)
    for documentatie in restriction.documentatie:
        _text(element, "omschrijvingBeperkingen", f"Grondslag: {documentatie}")
    start = record.opname_datum or record.dekking_eind
    end = restriction.termijn.einddatum if restriction.termijn is not None else None
    when = _sub(element, "datumOfPeriode")
    if end is None and start is not None:
        _text(when, "datum", start.isoformat())
    else:  # a period: from the day of description (when known) to the end of the restriction
        periode = _sub(when, "periode")
        if start is not None:
            _text(_sub(periode, "begin"), "datum", start.isoformat())
        if end is not None:
            _text(_sub(periode, "eind"), "datum", end.isoformat())


def _iso_639_2b(tag: str | None) -> str | None:
    if not tag:
        return None
    primary = tag.split("-")[0].lower()
    return ISO_639_2B.get(primary)


def _document(kind: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(f"{{{TOPX_NS}}}ToPX", nsmap={None: TOPX_NS, "xsi": XSI_NS})
    return root, _sub(root, kind)


def _sub(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{TOPX_NS}}}{name}")


def _text(parent: etree._Element, name: str, value: str) -> etree._Element:
    element = _sub(parent, name)
    element.text = xml_text(value)
    return element


def _serialise(root: etree._Element) -> bytes:
    etree.indent(root, space="  ")
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"
