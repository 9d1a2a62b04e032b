"""The AIP's MDTO: the SIP's informatieobject as received, updated with what ingest did (MDTO-XML 1.0.1).

The as-received documents stay untouched in data/metadata/sip/. Beside them ingest writes
  data/metadata/<record>.mdto.xml            the informatieobject with an "Import" event (the ingest) and,
                                             when copies were derived, a "Conversie" event, and one
                                             heeftRepresentatie per preservation copy;
  data/metadata/bestanden/<n>.bestand.mdto.xml  one bestand per preservation copy (size, PRONOM, sha256).
Elements are inserted where MDTO-XML1.0.1.xsd's informatieobject sequence wants them (event after the last
event, before waardering; heeftRepresentatie after the last one, before archiefvormer), so the result
validates like the input did. EventTypeLijst labels: "Import", "Conversie".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lxml import etree

from preservation.metadata.mdto import FileDescription, bestand_xml
from preservation.metadata.record import EVENTTYPE_LIJST, Identificatie
from preservation.xsd import parse_xml_safely

MDTO = "{https://www.nationaalarchief.nl/mdto}"
_AFTER_EVENT = ("waardering", "bewaartermijn", "informatiecategorie", "isOnderdeelVan", "bevatOnderdeel",
                "heeftRepresentatie", "aanvullendeMetagegevens", "gerelateerdInformatieobject", "archiefvormer",
                "betrokkene", "activiteit", "beperkingGebruik")
_AFTER_REPRESENTATIE = _AFTER_EVENT[_AFTER_EVENT.index("heeftRepresentatie") + 1:]


@dataclass(frozen=True)
class DerivedCopy:
    """A preservation copy ingest made, described as an MDTO bestand."""

    path: str  # inside the AIP
    size: int
    sha256: str
    puid: str | None
    format_name: str | None
    mime_type: str | None


def updated_informatieobject(received: bytes, aip_id: str, when: datetime, actor: str,
                             copies: list[DerivedCopy], bron: str) -> bytes:
    """The informatieobject with the ingest's events and a heeftRepresentatie for each derived copy."""
    tree = parse_xml_safely(received)
    info = tree.getroot().find(f"{MDTO}informatieobject")
    if info is None:
        raise ValueError("the document holds no informatieobject")
    events = [_event("Import", when, actor, f"Opgenomen in het e-Depot als AIP {aip_id}")]
    if copies:
        events.append(_event("Conversie", when, actor, f"{len(copies)} bewaarkopie(ën) gemaakt volgens het "
                                                       "formatenbeleid; originelen ongewijzigd bewaard"))
    _insert(info, events, "event", _AFTER_EVENT)
    representations = [_representatie(copy, bron) for copy in copies]
    _insert(info, representations, "heeftRepresentatie", _AFTER_REPRESENTATIE)
    etree.indent(tree.getroot(), space="  ")
    body = etree.tostring(tree.getroot(), encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def copy_bestand(copy: DerivedCopy, record_id: Identificatie, record_name: str, when: datetime) -> bytes:
    """The MDTO bestand of one derived copy."""
    return bestand_xml(FileDescription(
        identificatie=Identificatie(copy.path, record_id.bron), naam=Path(copy.path).name, omvang=copy.size,
        sha256=copy.sha256, checksum_datum=when, puid=copy.puid, format_name=copy.format_name,
        mime_type=copy.mime_type, is_representatie_van=record_id, record_naam=record_name,
    ))


def bestand_name(path: str) -> str:
    """A file name for a copy's bestand document: its AIP path with separators and odd characters as "_"."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", path.removeprefix("data/")) + ".bestand.mdto.xml"


def record_identificatie(received: bytes) -> tuple[Identificatie, str]:
    """The informatieobject's first identificatie and its naam."""
    info = parse_xml_safely(received).getroot().find(f"{MDTO}informatieobject")
    if info is None:
        raise ValueError("the document holds no informatieobject")
    return (Identificatie(info.findtext(f"{MDTO}identificatie/{MDTO}identificatieKenmerk") or "",
                          info.findtext(f"{MDTO}identificatie/{MDTO}identificatieBron") or ""),
            info.findtext(f"{MDTO}naam") or "")


def _insert(parent: etree._Element, elements: list[etree._Element], name: str, before: tuple[str, ...]) -> None:
    existing = parent.findall(f"{MDTO}{name}")
    if existing:
        anchor = existing[-1]
        for element in elements:
            anchor.addnext(element)
            anchor = element
        return
    following = next((child for child in parent if isinstance(child.tag, str)
                      and child.tag.removeprefix(MDTO) in before), None)
    for element in elements:
        if following is None:
            parent.append(element)
        else:
            following.addprevious(element)


def _el(name: str, text: str | None = None) -> etree._Element:
    element = etree.Element(f"{MDTO}{name}")
    element.text = text
    return element


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{MDTO}{name}")
    element.text = text
    return element


def _event(label: str, when: datetime, actor: str, result: str) -> etree._Element:
    event = _el("event")
    event_type = _sub(event, "eventType")
    _sub(event_type, "begripLabel", label)
    _sub(_sub(event_type, "begripBegrippenlijst"), "verwijzingNaam", EVENTTYPE_LIJST)
    _sub(event, "eventTijd", when.isoformat(timespec="seconds"))
    _sub(_sub(event, "eventVerantwoordelijkeActor"), "verwijzingNaam", actor)
    _sub(event, "eventResultaat", result)
    return event


def _representatie(copy: DerivedCopy, bron: str) -> etree._Element:
    element = _el("heeftRepresentatie")
    _sub(element, "verwijzingNaam", Path(copy.path).name)
    identificatie = _sub(element, "verwijzingIdentificatie")
    _sub(identificatie, "identificatieKenmerk", copy.path)
    _sub(identificatie, "identificatieBron", bron)
    return element


# ---------------------------------------------------------------------------------------------------
# ToPX 2.3 (a SIP described in ToPX instead of MDTO)

TOPX = "{http://www.nationaalarchief.nl/ToPX/v2.3}"
_TOPX_AFTER_EVENT = ("eventPlan", "relatie", "context", "gebruiksrechten", "vertrouwelijkheid", "openbaarheid",
                     "vorm", "integriteit", "generiekeMetadata")


def topx_record(received: bytes) -> tuple[str, str, str]:
    """The ToPX aggregatie's identificatiekenmerk, naam, and the name of its archiving organisation."""
    aggregatie = parse_xml_safely(received).getroot().find(f"{TOPX}aggregatie")
    if aggregatie is None:
        raise ValueError("the document holds no ToPX aggregatie")
    organisation = ""
    for actor in aggregatie.iterfind(f"{TOPX}context/{TOPX}actor"):
        if actor.findtext(f"{TOPX}aggregatieniveau") == "Organisatie":
            organisation = actor.findtext(f"{TOPX}geautoriseerdeNaam") or ""
            break
    return (aggregatie.findtext(f"{TOPX}identificatiekenmerk") or "", aggregatie.findtext(f"{TOPX}naam") or "",
            organisation)


def updated_topx(received: bytes, aip_id: str, when: datetime, actor: str, copies: list[DerivedCopy]) -> bytes:
    """The ToPX aggregatie with eventGeschiedenis entries for the ingest and, when copies were made, the
    conversion (naming each preservation copy), placed where ToPX 2.3's sequence wants them."""
    tree = parse_xml_safely(received)
    aggregatie = tree.getroot().find(f"{TOPX}aggregatie")
    if aggregatie is None:
        raise ValueError("the document holds no ToPX aggregatie")
    events = [_topx_event(when, "Opname in e-Depot", f"Opgenomen in het e-Depot als AIP {aip_id}", actor)]
    if copies:
        events.append(_topx_event(when, "Conversie", "Bewaarkopieën volgens het formatenbeleid: "
                                  + ", ".join(c.path for c in copies), actor))
    existing = aggregatie.findall(f"{TOPX}eventGeschiedenis")
    if existing:
        anchor = existing[-1]
        for event in events:
            anchor.addnext(event)
            anchor = event
    else:
        following = next((child for child in aggregatie if isinstance(child.tag, str)
                          and child.tag.removeprefix(TOPX) in _TOPX_AFTER_EVENT), None)
        for event in events:
            if following is None:
                aggregatie.append(event)
            else:
                following.addprevious(event)
    etree.indent(tree.getroot(), space="  ")
    body = etree.tostring(tree.getroot(), encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def _topx_event(when: datetime, kind: str, description: str, actor: str) -> etree._Element:
    event = etree.Element(f"{TOPX}eventGeschiedenis")
    period = etree.SubElement(event, f"{TOPX}datumOfPeriode")
    etree.SubElement(period, f"{TOPX}datum").text = when.date().isoformat()
    etree.SubElement(event, f"{TOPX}type").text = kind
    etree.SubElement(event, f"{TOPX}beschrijving").text = description
    etree.SubElement(event, f"{TOPX}verantwoordelijkeFunctionaris").text = actor
    return event
