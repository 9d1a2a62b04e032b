"""What a record's MDTO says about who may see it, and what search filters on (MDTO 1.0.1 informatieobject).

Read from the AIP's MDTO informatieobject (`data/metadata/*.mdto.xml`, else the SIP's as received in
`data/metadata/sip/`) with the one MDTO reader (preservation/metadata/informatieobject.py):

- `beperkingGebruik` (one or more): `beperkingGebruikType/begripLabel`, `beperkingGebruikDocumentatie`
  (the legal ground), `beperkingGebruikNadereBeschrijving`, `beperkingGebruikTermijn/termijnEinddatum`;
- `isOnderdeelVan` and `gerelateerdInformatieobject` (the zaak: naam and kenmerk);
- `classificatie` (label and code); `identificatie` and `naam` of the record;
- each `betrokkene` with rol "Houder toestel of account": whose phone or account the chat came from.

How a restriction is read (labels of the MDTO BeperkingGebruikTypeLijst first; labels of another list by
their words; case and accents ignored; the most restrictive of several wins):

| type label                                   | with                                 | status        |
| -------------------------------------------- | ------------------------------------ | ------------- |
| "Geen beperking" (or a label "openbaar")     |                                      | open          |
| "Nader te bepalen"                           |                                      | undetermined  |
| "Overig"                                     | a ground (documentatie) and a termijnEinddatum | restricted until that date |
| "Overig"                                     | a ground, no termijnEinddatum        | closed        |
| "Overig"                                     | no ground and no termijnEinddatum    | undetermined (nobody named a ground) |
| a label "niet openbaar"                      |                                      | closed        |
| a label "beperkt openbaar", or any label with a termijnEinddatum | | restricted until that date (closed when no date) |
| anything else                                |                                      | undetermined (not open until somebody decides) |

A record restricted until D is open from the day after D (the termijnEinddatum is the last day of the
term). Only `beperkingGebruikDocumentatie` is a legal ground (`grounds`); the free-text
`beperkingGebruikNadereBeschrijving` may quote content and is kept apart (`notes`), never shown as a ground.
A restriction decided after ingest (`Restriction`, from `edepot access set`) replaces the MDTO's. The
decision for one requester on one date is `access.rules`; this module only reads the facts.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

from kernel.errors import MetadataError
from preservation.metadata.informatieobject import Informatieobject, informatieobject_files
from preservation.metadata.record import HOUDER_TOESTEL


class Openness(str, Enum):
    """What the metadata says about public access, least restrictive first."""

    OPEN = "openbaar"
    RESTRICTED = "beperkt openbaar"  # until `RecordAccess.until`
    UNDETERMINED = "nader te bepalen"
    CLOSED = "niet openbaar"


_SEVERITY = {Openness.OPEN: 0, Openness.RESTRICTED: 1, Openness.UNDETERMINED: 2, Openness.CLOSED: 3}


@dataclass(frozen=True)
class Zaak:
    naam: str
    kenmerk: str | None = None


@dataclass(frozen=True)
class RecordAccess:
    """The facts of one record that access and search use; no message content."""

    record_id: str
    title: str
    openness: Openness = Openness.UNDETERMINED
    until: date | None = None  # last day of a restriction
    grounds: tuple[str, ...] = ()  # legal grounds (beperkingGebruikDocumentatie) as the metadata gives them
    restriction_label: str = ""
    zaken: tuple[Zaak, ...] = ()
    classificatie: tuple[str, ...] = field(default=())  # "code label" of each
    archiefvormer: str = ""
    archiefvormer_id: str = ""  # the archiefvormer's identificatieKenmerk (e.g. a TOOI code)
    custodians: tuple[str, ...] = ()  # whose phone or account the chat came from
    notes: tuple[str, ...] = ()  # beperkingGebruikNadereBeschrijving: free text that may quote content
    period: tuple[date | None, date | None] = (None, None)  # dekkingInTijd begin and end

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id, "title": self.title, "openness": self.openness.value,
            "until": self.until.isoformat() if self.until else None, "grounds": list(self.grounds),
            "restriction_label": self.restriction_label,
            "zaken": [{"naam": z.naam, "kenmerk": z.kenmerk} for z in self.zaken],
            "classificatie": list(self.classificatie), "archiefvormer": self.archiefvormer,
            "archiefvormer_id": self.archiefvormer_id,
            "custodians": list(self.custodians),
            "notes": list(self.notes), "period": [d.isoformat() if d else None for d in self.period],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RecordAccess":
        begin, end = (data.get("period") or [None, None])[:2]
        return cls(
            record_id=data["record_id"], title=data["title"], openness=Openness(data["openness"]),
            until=date.fromisoformat(data["until"]) if data.get("until") else None,
            grounds=tuple(data.get("grounds", ())), restriction_label=data.get("restriction_label", ""),
            zaken=tuple(Zaak(z["naam"], z.get("kenmerk")) for z in data.get("zaken", ())),
            classificatie=tuple(data.get("classificatie", ())), archiefvormer=data.get("archiefvormer", ""),
            archiefvormer_id=data.get("archiefvormer_id", ""),
            custodians=tuple(data.get("custodians", ())),
            notes=tuple(data.get("notes", ())),
            period=(date.fromisoformat(begin) if begin else None, date.fromisoformat(end) if end else None),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)


def fold(text: str) -> str:
    """Lower case without diacritics ("Café" → "cafe"), as the search index folds words."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def classify_label(label: str, has_end_date: bool, has_ground: bool = False) -> Openness:
    """The openness a beperkingGebruikType label stands for (see the module's table)."""
    folded = " ".join(fold(label).replace("-", " ").split())
    if "niet openbaar" in folded:
        return Openness.CLOSED
    if "beperkt openbaar" in folded or has_end_date:
        return Openness.RESTRICTED
    if "openbaar" in folded or "geen beperking" in folded:
        return Openness.OPEN
    if folded.split()[:1] == ["overig"] and has_ground:
        return Openness.CLOSED  # MDTO: "Overig" is a restriction its documentatie describes
    return Openness.UNDETERMINED


@dataclass(frozen=True)
class Restriction:
    """One beperkingGebruik: its type label, legal grounds and last day, as read or as decided later."""

    label: str
    grounds: tuple[str, ...] = ()
    until: date | None = None
    code: str = ""

    @property
    def openness(self) -> Openness:
        found = classify_label(f"{self.label} {self.code}", self.until is not None, bool(self.grounds))
        if found is Openness.RESTRICTED and self.until is None:
            return Openness.CLOSED  # restricted with no end: nothing says when it opens
        return found


def combine(restrictions: list[Restriction]) -> tuple[Openness, date | None]:
    """The openness of several restrictions together (the most restrictive wins) and the last day."""
    openness, until = (Openness.OPEN, None) if restrictions else (Openness.UNDETERMINED, None)
    for restriction in restrictions:
        found = restriction.openness
        if _SEVERITY[found] > _SEVERITY[openness]:
            openness = found
        if found is Openness.RESTRICTED and restriction.until is not None:
            until = max(until, restriction.until) if until else restriction.until
    return openness, until if openness is Openness.RESTRICTED else None


def with_restriction(facts: RecordAccess, restriction: Restriction) -> RecordAccess:
    """The facts of a record whose restriction was decided after ingest: it replaces the MDTO's."""
    openness, until = combine([restriction])
    return replace(facts, openness=openness, until=until, grounds=restriction.grounds,
                   restriction_label=restriction.label, notes=())


def record_access_from_mdto(document: bytes) -> RecordAccess:
    """The access facts of the informatieobject in an MDTO document; MetadataError when it holds none."""
    node = Informatieobject.parse(document)
    read: list[Restriction] = []
    grounds: list[str] = []
    labels: list[str] = []
    notes: list[str] = []
    for restriction in node.all("beperkingGebruik"):
        label = restriction.words("beperkingGebruikType/begripLabel")
        end = restriction.words("beperkingGebruikTermijn/termijnEinddatum")
        own = tuple(g for g in (d.words("verwijzingNaam") for d in restriction.all("beperkingGebruikDocumentatie"))
                    if g)
        read.append(Restriction(label, own, _date(end) if end else None,
                                restriction.words("beperkingGebruikType/begripCode")))
        labels.append(label)
        grounds += own
        notes.append(restriction.words("beperkingGebruikNadereBeschrijving"))
    openness, until = combine(read)
    zaken = [_zaak(v) for v in node.all("isOnderdeelVan")]
    zaken += [_zaak(v) for v in node.all("gerelateerdInformatieobject/gerelateerdInformatieobjectVerwijzing")]
    classificatie = [" ".join(filter(None, (c.words("begripCode"), c.words("begripLabel"))))
                     for c in node.all("classificatie")]
    return RecordAccess(
        record_id=node.words("identificatie/identificatieKenmerk"),
        title=node.words("naam"),
        openness=openness,
        until=until,
        grounds=tuple(dict.fromkeys(grounds)),
        restriction_label="; ".join(label for label in labels if label),
        zaken=tuple(z for z in zaken if z.naam or z.kenmerk),
        classificatie=tuple(c for c in classificatie if c),
        archiefvormer=node.words("archiefvormer/verwijzingNaam"),
        archiefvormer_id=node.words("archiefvormer/verwijzingIdentificatie/identificatieKenmerk"),
        custodians=tuple(b.words("betrokkeneActor/verwijzingNaam") for b in node.all("betrokkene")
                         if b.words("betrokkeneTypeRelatie/begripLabel") == HOUDER_TOESTEL),
        notes=tuple(n for n in dict.fromkeys(notes) if n),
        period=(_optional_date(node.words("dekkingInTijd/dekkingInTijdBegindatum")),
                _optional_date(node.words("dekkingInTijd/dekkingInTijdEinddatum"))),
    )


def informatieobject_document(metadata_dir: Path) -> bytes:
    """The MDTO informatieobject document in an AIP's (or SIP's) metadata folder: the AIP's updated one
    (directly in the folder) before the SIP's as received (in `sip/`); bestand documents are passed over."""
    for folder in (metadata_dir, metadata_dir / "sip"):
        for candidate in informatieobject_files(folder):
            data = candidate.read_bytes()
            if b"informatieobject" in data:
                return data
    raise MetadataError(f"no MDTO informatieobject in {metadata_dir}")


def _zaak(verwijzing: Informatieobject) -> Zaak:
    return Zaak(verwijzing.words("verwijzingNaam"),
                verwijzing.words("verwijzingIdentificatie/identificatieKenmerk") or None)


def _optional_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise MetadataError(f"termijnEinddatum {value!r} is not a date") from None
