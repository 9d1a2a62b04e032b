"""What a record's MDTO says about who may see it, and what search filters on (MDTO 1.0.1 informatieobject).

Read from the AIP's MDTO informatieobject (`data/metadata/*.mdto.xml`, else the SIP's as received in
`data/metadata/sip/`) with the one MDTO reader (preservation/metadata/informatieobject.py):

- `beperkingGebruik` (one or more): `beperkingGebruikType/begripLabel`, `beperkingGebruikDocumentatie`
  (the legal ground), `beperkingGebruikNadereBeschrijving`, `beperkingGebruikTermijn/termijnEinddatum`;
- `isOnderdeelVan` and `gerelateerdInformatieobject` (the zaak: naam and kenmerk);
- `classificatie` (label and code); `identificatie` and `naam` of the record;
- each `betrokkene` with rol "Houder toestel of account": whose phone or account the chat came from.

How a restriction label is read (case and accents ignored; the most restrictive of several wins):

| label holds                                  | status        |
| -------------------------------------------- | ------------- |
| "niet openbaar"                              | closed        |
| "beperkt openbaar", or any label with a termijnEinddatum | restricted until that date (closed when no date) |
| "openbaar", "geen beperking"                 | open          |
| anything else ("Nader te bepalen", "Overig") | undetermined (not open until somebody decides) |

A record restricted until D is open from the day after D (the termijnEinddatum is the last day of the
term). The decision for one requester on one date is `access.rules`; this module only reads the facts.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
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
    grounds: tuple[str, ...] = ()  # legal grounds and descriptions as the metadata gives them
    restriction_label: str = ""
    zaken: tuple[Zaak, ...] = ()
    classificatie: tuple[str, ...] = field(default=())  # "code label" of each
    archiefvormer: str = ""
    custodians: tuple[str, ...] = ()  # whose phone or account the chat came from

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id, "title": self.title, "openness": self.openness.value,
            "until": self.until.isoformat() if self.until else None, "grounds": list(self.grounds),
            "restriction_label": self.restriction_label,
            "zaken": [{"naam": z.naam, "kenmerk": z.kenmerk} for z in self.zaken],
            "classificatie": list(self.classificatie), "archiefvormer": self.archiefvormer,
            "custodians": list(self.custodians),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RecordAccess":
        return cls(
            record_id=data["record_id"], title=data["title"], openness=Openness(data["openness"]),
            until=date.fromisoformat(data["until"]) if data.get("until") else None,
            grounds=tuple(data.get("grounds", ())), restriction_label=data.get("restriction_label", ""),
            zaken=tuple(Zaak(z["naam"], z.get("kenmerk")) for z in data.get("zaken", ())),
            classificatie=tuple(data.get("classificatie", ())), archiefvormer=data.get("archiefvormer", ""),
            custodians=tuple(data.get("custodians", ())),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)


def fold(text: str) -> str:
    """Lower case without diacritics ("Café" → "cafe"), as the search index folds words."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def classify_label(label: str, has_end_date: bool) -> Openness:
    """The openness a beperkingGebruikType label stands for (see the module's table)."""
    folded = " ".join(fold(label).replace("-", " ").split())
    if "niet openbaar" in folded:
        return Openness.CLOSED
    if "beperkt openbaar" in folded or has_end_date:
        return Openness.RESTRICTED
    if "openbaar" in folded or "geen beperking" in folded:
        return Openness.OPEN
    return Openness.UNDETERMINED


def record_access_from_mdto(document: bytes) -> RecordAccess:
    """The access facts of the informatieobject in an MDTO document; MetadataError when it holds none."""
    node = Informatieobject.parse(document)
    openness, until, grounds, labels = Openness.OPEN, None, [], []
    restrictions = node.all("beperkingGebruik")
    if not restrictions:
        openness = Openness.UNDETERMINED
    for restriction in restrictions:
        label = restriction.words("beperkingGebruikType/begripLabel")
        code = restriction.words("beperkingGebruikType/begripCode")
        end = restriction.words("beperkingGebruikTermijn/termijnEinddatum")
        end_date = _date(end) if end else None
        found = classify_label(f"{label} {code}", end_date is not None)
        if found is Openness.RESTRICTED and end_date is None:
            found = Openness.CLOSED  # restricted with no end: nothing says when it opens
        if _SEVERITY[found] > _SEVERITY[openness]:
            openness = found
        if found is Openness.RESTRICTED and end_date is not None:
            until = max(until, end_date) if until else end_date
        labels.append(label)
        for documentatie in restriction.all("beperkingGebruikDocumentatie"):
            grounds.append(documentatie.words("verwijzingNaam"))
        grounds.append(restriction.words("beperkingGebruikNadereBeschrijving"))
    zaken = [_zaak(v) for v in node.all("isOnderdeelVan")]
    zaken += [_zaak(v) for v in node.all("gerelateerdInformatieobject/gerelateerdInformatieobjectVerwijzing")]
    classificatie = [" ".join(filter(None, (c.words("begripCode"), c.words("begripLabel"))))
                     for c in node.all("classificatie")]
    return RecordAccess(
        record_id=node.words("identificatie/identificatieKenmerk"),
        title=node.words("naam"),
        openness=openness,
        until=until if openness is Openness.RESTRICTED else None,
        grounds=tuple(g for g in dict.fromkeys(grounds) if g),
        restriction_label="; ".join(label for label in labels if label),
        zaken=tuple(z for z in zaken if z.naam or z.kenmerk),
        classificatie=tuple(c for c in classificatie if c),
        archiefvormer=node.words("archiefvormer/verwijzingNaam"),
        custodians=tuple(b.words("betrokkeneActor/verwijzingNaam") for b in node.all("betrokkene")
                         if b.words("betrokkeneTypeRelatie/begripLabel") == HOUDER_TOESTEL),
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


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise MetadataError(f"termijnEinddatum {value!r} is not a date") from None
