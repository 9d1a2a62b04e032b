"""A Selectielijst read from a file: a resultaat's number resolved to its label, waardering and bewaartermijn.

Reads the VNG "Selectielijst gemeenten en intergemeentelijke organen 2020" as published by VNG/Open Zaak
(a Django fixture: `selectielijst.procestype` and `selectielijst.resultaat` objects). A resultaat's number is
`<procestype>.<resultaat>` for a generic resultaat and `<procestype>.<generiek>.<resultaat>` for a specific
one (e.g. 11.1 and 11.1.2), as the list prints them. The file is not shipped with edepot: a user points at it.

The list's own words map onto MDTO as follows: waardering `blijvend_bewaren` → B, `vernietigen` → V, none → N;
the bewaartermijn is its ISO 8601 duration; the event the term counts from (the `brondatum`) follows from
`procestermijn` (`nihil`: the zaak is closed; `bestaansduur_procesobject`: the end of the process object's
existence; and so on, see TRIGGERS).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernel.errors import MetadataError

SELECTIELIJST_2020 = "Selectielijst gemeenten en intergemeentelijke organen 2020"
TRIGGER_LIJST = "Selectielijst gemeenten 2020 afleidingswijze brondatum"
MAX_SELECTIELIJST_BYTES = 20_000_000

WAARDERING_CODES = {"blijvend_bewaren": "B", "vernietigen": "V", "": "N"}
TRIGGERS = {
    "nihil": "Afsluiting zaak",
    "bestaansduur_procesobject": "Einde bestaansduur procesobject",
    "ingeschatte_bestaansduur_procesobject": "Einde ingeschatte bestaansduur procesobject",
    "vast_te_leggen_datum": "Vast te leggen datum",
    "samengevoegd_met_bewaartermijn": "Afsluiting zaak (procestermijn in bewaartermijn)",
    "": "Afsluiting zaak",
}


@dataclass(frozen=True)
class Resultaat:
    """One resultaat of the list: its number, label, MDTO waardering code, bewaartermijn and trigger."""

    code: str
    label: str
    waardering: str
    bewaartermijn: str | None
    trigger: str


@dataclass(frozen=True)
class Selectielijst:
    """A selectielijst by name, its resultaten by number."""

    naam: str
    resultaten: dict[str, Resultaat]

    def resultaat(self, code: str) -> Resultaat | None:
        """The resultaat numbered `code` (e.g. "11.1.2"), or None when the list has no such number."""
        return self.resultaten.get(code.strip())


def load_selectielijst(path: Path, naam: str = SELECTIELIJST_2020) -> Selectielijst:
    """Read a VNG selectielijst fixture; MetadataError naming the file when it cannot be used."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MetadataError(f"{path}: cannot read the selectielijst: {exc.strerror}") from None
    if len(raw) > MAX_SELECTIELIJST_BYTES:
        raise MetadataError(f"{path}: larger than {MAX_SELECTIELIJST_BYTES} bytes; not a selectielijst")
    try:
        objects = json.loads(raw.decode("utf-8-sig"))
        return Selectielijst(naam, _resultaten(objects))
    except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise MetadataError(f"{path}: not a VNG selectielijst (procestype/resultaat objects): {exc}") from None


def _resultaten(objects: list[dict[str, Any]]) -> dict[str, Resultaat]:
    processes = {o["pk"]: o["fields"] for o in objects if o["model"] == "selectielijst.procestype"}
    rows = {o["pk"]: o["fields"] for o in objects if o["model"] == "selectielijst.resultaat"}
    if not processes or not rows:
        raise ValueError("no procestype or resultaat objects")
    found: dict[str, Resultaat] = {}
    for fields in rows.values():
        process = processes[fields["proces_type"]]
        generic = fields.get("generiek_resultaat")
        number = (f"{process['nummer']}.{fields['nummer']}" if generic is None
                  else f"{process['nummer']}.{rows[generic]['nummer']}.{fields['nummer']}")
        found[number] = Resultaat(
            code=number,
            label=f"{process['naam']} - {fields['naam']}",
            waardering=WAARDERING_CODES.get(fields.get("waardering") or "", "N"),
            bewaartermijn=fields.get("bewaartermijn") or None,
            trigger=TRIGGERS.get(fields.get("procestermijn") or "", "Afsluiting zaak"),
        )
    return found
