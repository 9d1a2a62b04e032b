"""The Dutch words of edepot's reports and PDFs: one term for each thing, wherever it is shown.

Reports for people (the ingest report, the fixity report, PDFs) are in Dutch; the JSON beside them keeps the
codes scripts read (`"outcome": "success"`). `dutch(kind, code)` gives the word shown for a code, or the code
itself when no word is known (a new code is never hidden).
"""
from __future__ import annotations

from typing import Mapping

WORDS: Mapping[str, Mapping[str, str]] = {
    # PREMIS event types (preservation/metadata/premis.py, ingest/stages.py, fixity, retention, access)
    "event": {
        "ingestion": "opname", "unpacking": "uitpakken", "validation": "validatie", "virus check": "viruscontrole",
        "format identification": "formaatidentificatie", "message digest calculation": "berekening controlegetal",
        "migration": "migratie", "normalization": "normalisatie", "replication": "replicatie",
        "metadata modification": "wijziging metagegevens", "fixity check": "integriteitscontrole",
        "repair": "herstel", "dissemination": "verstrekking", "appraisal": "waardering",
        "policy assignment": "toekenning bewaarbeleid", "hold": "opschorting", "hold release": "einde opschorting",
        "deaccession": "afstoting", "deletion": "vernietiging", "recovery": "terugzetten uit kopie",
        "loss declaration": "verklaring van verlies",
    },
    # outcomes of events, checks and actions
    "outcome": {
        "success": "geslaagd", "failure": "mislukt", "warning": "waarschuwing", "skipped": "overgeslagen",
        "valid": "geldig", "invalid": "ongeldig", "derived": "afgeleide kopie gemaakt", "kept": "behouden",
        "failed": "mislukt",
    },
    # what a fixity check found (preservation/fixity.py DamageKind)
    "damage": {
        "modified": "gewijzigd", "truncated": "ingekort", "missing": "ontbreekt", "renamed": "hernoemd",
        "extra": "onbekend bestand", "unreadable": "onleesbaar", "replica missing": "replica ontbreekt",
        "unknown bag": "onbekende bag", "location not configured": "opslaglocatie niet meer geconfigureerd",
    },
    # states of an AIP and of its replicas (preservation/catalogue.py)
    "state": {
        "stored": "opgeslagen", "damaged": "beschadigd", "incomplete": "onvolledig (verlies verklaard)", "destroying": "wordt vernietigd", "destroyed": "vernietigd",
        "intact": "intact", "repaired": "hersteld", "missing": "ontbreekt",
    },
    # the role of a file in an AIP (preservation/aip.py)
    "role": {"original": "origineel", "preservation": "preserveringskopie", "metadata": "metagegevens",
             "tag": "BagIt-tagbestand"},
    # the stages of ingest (ingest/stages.py)
    "stage": {
        "receive": "ontvangen", "virus scan": "viruscontrole", "validate SIP": "SIP controleren",
        "keep originals": "originelen bewaren", "unpack export": "export uitpakken",
        "identify formats": "formaten identificeren", "validate formats": "formaten valideren",
        "normalise by policy": "normaliseren volgens beleid", "render PDF/A": "PDF/A maken",
        "update MDTO": "MDTO bijwerken", "seal AIP": "AIP verzegelen en opslaan",
        "record in catalogue": "vastleggen in de catalogus", "index and schedule": "zoekindex en bewaarschema",
    },
    # the checks of a SIP (ingest/sip_validate.py)
    "check": {
        "BagIt structure, completeness and checksums": "BagIt: structuur, volledigheid en controlegetallen",
        "bag-info and manifests": "bag-info en manifesten", "edepot SIP layout": "indeling edepot-SIP",
        "canonical conversation JSON": "gesprek als JSON (canoniek)",
        "bestand checksums match the payload": "controlegetallen van de bestanden",
    },
}


def dutch(kind: str, code: str | None) -> str:
    """The Dutch word for a code of `kind` (see WORDS), else the code as it is; "onbekend" for no code."""
    if code is None or code == "":
        return "onbekend"
    if kind == "stage" and code.startswith("store in ") and code.endswith(" locations"):
        return f"opslaan in {code.removeprefix('store in ').removesuffix(' locations')} locaties"
    return WORDS.get(kind, {}).get(code, code)
