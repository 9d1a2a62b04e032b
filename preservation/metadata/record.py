"""The description of one record: the MDTO 1.0.1 informatieobject of a chat export, as plain data.

`describe_conversation` derives what the conversation itself tells and takes the rest from a
metadata mapping (a JSON or YAML file read by `load_metadata_file`) whose keys are MDTO's own
names. `preservation.metadata.mdto` turns the result into MDTO-XML.

Metadata keys and the defaults used when a key is absent:

| key                  | form                                                     | default when absent |
| -------------------- | -------------------------------------------------------- | ------------------- |
| `identificatie`      | `{kenmerk, bron}`                                        | kenmerk `WA-` + first 12 hex of the export's SHA-256 (prefix per format, `WA` for WhatsApp); bron = configured `identificatie_bron` |
| `naam`               | text                                                     | `WhatsApp-gesprek <title>`, else `WhatsApp-gesprek <participants>` |
| `archiefvormer`      | text, or `{naam, identificatie: {kenmerk, bron}}`        | configured `archiefvormer` (with `archiefvormer_id`, bron `TOOI`) |
| `waardering`         | `B`/`V`/`N` or `Blijvend te bewaren`/`Tijdelijk te bewaren`/`Nader te bepalen` | `N` "Nader te bepalen" (see below) |
| `bewaartermijn`      | `{looptijd, trigger, startdatum, einddatum}`; looptijd an ISO 8601 duration (`P10Y`), trigger text or `{label, code, begrippenlijst}`, dates `YYYY-MM-DD` | absent; einddatum is computed from startdatum + looptijd when not given |
| `omschrijving`       | text                                                     | "Export van een WhatsApp-gesprek met N berichten van M deelnemers." |
| `taal`               | language tag (`nl`)                                      | absent (the phone's locale is not the conversation's language) |
| `informatiecategorie`| `{label, code, begrippenlijst}`; label and begrippenlijst required | absent |
| `beperkingGebruik`   | `{type, nadereBeschrijving, documentatie, termijn}`; type a label of the MDTO BeperkingGebruikTypeLijst (or `{label, code, begrippenlijst}` from another list); documentatie the legal ground (text or list, e.g. "Woo art. 5.1 lid 2 sub e"); termijn `{einddatum}` or `{looptijd, startdatum, trigger}` | type "Nader te bepalen" |
| `classificatie`      | `{label, code, begrippenlijst}` or a list of them        | absent |
| `trefwoord`          | text or a list of texts (the subject, "onderwerp")       | absent |
| `dekkingInRuimte`    | place name, `{naam, identificatie}`, or a list (the place, "locatie/plaats") | absent |
| `zaak`               | `{identificatie: {kenmerk, bron}, naam, relatie}` or a list | absent; see "Zaak" below |
| `betrokkene`         | list of `{naam, rol, soort, identificatie}`; soort `persoon` or `organisatie` | each participant, rol "Deelnemer gesprek"; a listed betrokkene with a participant's naam replaces that entry |
| `aggregatieniveau`   | a label of the MDTO list Aggregatieniveaus (Archief, Serie, Dossier, Archiefstuk) | `Archiefstuk` |
| `custodian`          | a name, or `{naam, functie}`: whose phone or account the export came from (`sip create --custodian`) | absent |

`waardering` also takes the Selectielijst's words `vernietigen` (V) and `blijvend bewaren` (B).
`bewaartermijn` may be written as just the duration (`bewaartermijn: P10Y`).

With a Selectielijst (`describe_conversation(..., selectielijst=...)`, `edepot sip create --selectielijst FILE`),
an `informatiecategorie` given by `code` alone (e.g. `"11.1.2"`, the resultaat's number) is resolved: its label,
and, where the file does not say them, waardering and bewaartermijn (looptijd and the trigger the term counts
from). A code the list does not know is an error.

Zaak: MDTO 1.0.1 has no element for a zaak. A zaak is the zaakdossier in which the chat is filed, so by default
edepot writes it as `isOnderdeelVan` (MDTO: "de direct bovenliggende aggregatie"), a verwijzing with the zaak's
naam and identificatie. When the chat is not filed in the zaak but relates to it, give `relatie` a label of the
MDTO list "Relatietypen (informatieobject)" (e.g. "Refereert aan"): edepot then writes `gerelateerdInformatieobject`
with that typeRelatie. `heeftRepresentatie` is not used: in MDTO it points to the bestanden of the record.

`soort` of a betrokkene (persoon/organisatie) has no place in MDTO 1.0.1 (a betrokkeneActor is only a verwijzing);
it is checked and written to ToPX (context/actor/aggregatieniveau) only.

The custodian is written as a betrokkene with rol "Houder toestel of account" (edepot's list: MDTO's open list
Relatietypen (betrokkene) has no term for it) beside their "Deelnemer gesprek" entry, and the function in an
omschrijving ("Afkomstig van het toestel of account van J. de Vries (wethouder).").

Derived, never taken from metadata: `dekkingInTijd` (dates of the first and last message, each in the
message's own UTC offset), `betrokkene` (each participant, relation "Deelnemer gesprek"), the event
"Opname" dated the day of description (by the configured organisation).

Why waardering defaults to "Nader te bepalen" (N): MDTO requires a waardering, and only the
archiefvormer's selection decision can say B or V. "Tijdelijk te bewaren" as a default would let a
record be destroyed that was never appraised, which cannot be undone; "Blijvend te bewaren" would
claim a decision nobody took. N says truthfully that appraisal is pending and blocks destruction until
someone appraises. beperkingGebruik is required by MDTO 1.0.1 too; chats hold personal data, so the
default claims no "Geen beperking" but "Nader te bepalen" as well.
"""
from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Mapping

import yaml

from kernel.config import Organisation
from kernel.errors import MetadataError
from kernel.model import Conversation, Custodian
from preservation.metadata.selectielijst import TRIGGER_LIJST, Selectielijst

EDEPOT_BEGRIPPENLIJST = "Begrippenlijst edepot"
WAARDERINGEN_LIJST = "Begrippenlijst Waarderingen MDTO"
AGGREGATIENIVEAUS_LIJST = "Begrippenlijst Aggregatieniveaus MDTO"
BEPERKINGEN_LIJST = "Begrippenlijst Beperkingen MDTO"
EVENTTYPE_LIJST = "Begrippenlijst EventTypeLijst MDTO"
TERMIJNTRIGGERS_LIJST = "Begrippenlijst Termijntriggers edepot"
DEELNEMER_GESPREK = "Deelnemer gesprek"
HOUDER_TOESTEL = "Houder toestel of account"  # the custodian: whose phone or account the export came from
BETROKKENE_RELATIES_LIJST = "Begrippenlijst Relatietypen betrokkene MDTO"
BETROKKENE_RELATIES = ("Belanghebbende", "Indiener", "Rechthebbende")  # the MDTO list; other roles: edepot's list
DEFAULT_ARCHIEFVORMER_ID_BRON = "TOOI"

# The closed MDTO list "Waarderingen": code → label.
WAARDERINGEN = {"B": "Blijvend te bewaren", "V": "Tijdelijk te bewaren", "N": "Nader te bepalen"}
WAARDERING_WORDS = {"vernietigen": "V", "blijvend bewaren": "B", "blijvend_bewaren": "B"}
BEPERKING_GEBRUIK_TYPES = ("Geen beperking", "Nader te bepalen", "Overig")
AGGREGATIENIVEAUS = ("Archief", "Serie", "Dossier", "Archiefstuk")
RELATIETYPEN_LIJST = "Begrippenlijst Relatietypen informatieobject MDTO"
BETROKKENE_SOORTEN = ("persoon", "organisatie")

# How each export format is named for people, and the prefix of its derived kenmerk.
FORMAT_NAMES = {"whatsapp": "WhatsApp"}
KENMERK_PREFIXES = {"whatsapp": "WA"}

MAX_METADATA_BYTES = 1_000_000

_DURATION = re.compile(
    r"^-?P(?=\d|T\d)(?:(?P<y>\d+)Y)?(?:(?P<m>\d+)M)?(?:(?P<d>\d+)D)?"
    r"(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$"
)
_LANGUAGE = re.compile(r"^[a-zA-Z]{1,8}(?:-[a-zA-Z0-9]{1,8})*$")


@dataclass(frozen=True)
class Identificatie:
    """An MDTO identificatie: a kenmerk and the source (bron) that gave it."""

    kenmerk: str
    bron: str


@dataclass(frozen=True)
class Verwijzing:
    """An MDTO verwijzing: a reference to something by name, and by identificatie where known."""

    naam: str
    identificatie: Identificatie | None = None


@dataclass(frozen=True)
class Begrip:
    """An MDTO begrip: a term from a named list (begrippenlijst), with its code where the list has codes."""

    label: str
    code: str | None = None
    begrippenlijst: str = EDEPOT_BEGRIPPENLIJST


@dataclass(frozen=True)
class Bewaartermijn:
    """A term (MDTO termijn): an ISO 8601 duration from a trigger or start date, and where it ends.

    `looptijd` is "" for a term known only by its einddatum (a restriction on use until a date)."""

    looptijd: str
    trigger: Begrip | None = None
    startdatum: date | None = None
    einddatum: date | None = None


@dataclass(frozen=True)
class Betrokkene:
    """A person or organisation involved in the record, and how (`rol`); `soort` is persoon or organisatie."""

    naam: str
    rol: str = DEELNEMER_GESPREK
    soort: str | None = None
    identificatie: Identificatie | None = None


@dataclass(frozen=True)
class Zaak:
    """The zaak the record belongs to (`relatie` None: isOnderdeelVan) or relates to (a Relatietypen label)."""

    verwijzing: Verwijzing
    relatie: str | None = None


@dataclass(frozen=True)
class Event:
    """An MDTO event in the record's life (e.g. the selection that made it), with its result."""

    type: Begrip
    tijd: date
    actor: str
    resultaat: str | None = None


@dataclass(frozen=True)
class BeperkingGebruik:
    """A restriction on use (MDTO beperkingGebruik); `type` is from the BeperkingGebruikTypeLijst."""

    type: Begrip
    nadere_beschrijving: str | None = None
    documentatie: tuple[str, ...] = ()  # the legal ground, e.g. "Woo art. 5.1 lid 2 sub e"
    termijn: Bewaartermijn | None = None  # how long the restriction holds (its einddatum)


@dataclass(frozen=True)
class RecordDescription:
    """Everything edepot says about one record in MDTO terms (an informatieobject)."""

    identificatie: Identificatie
    naam: str
    archiefvormer: str
    archiefvormer_id: str | None
    waardering: Begrip
    bewaartermijn: Bewaartermijn | None
    dekking_begin: date | None
    dekking_eind: date | None
    betrokkenen: tuple[Betrokkene, ...]
    taal: str | None
    omschrijving: str | None
    informatiecategorie: Begrip | None
    beperking_gebruik: BeperkingGebruik
    opname_datum: date | None = None  # the day edepot described (ingested) the record: MDTO event "Opname"
    opname_door: str | None = None  # who keeps the e-Depot that took it in: the configured organisation
    archiefvormer_id_bron: str = DEFAULT_ARCHIEFVORMER_ID_BRON
    aggregatieniveau: str = "Archiefstuk"
    classificatie: tuple[Begrip, ...] = ()
    trefwoorden: tuple[str, ...] = ()
    dekking_in_ruimte: tuple[Verwijzing, ...] = ()
    zaken: tuple[Zaak, ...] = ()
    events: tuple[Event, ...] = ()  # events besides Opname, e.g. the selection that made this record
    toelichtingen: tuple[str, ...] = ()  # further omschrijvingen, e.g. the statement of a selection


class _Problem(Exception):
    """A metadata value that cannot be used, with the key path (e.g. "bewaartermijn.looptijd")."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


# ---------------------------------------------------------------------------------------------------
# Describing a conversation


def describe_conversation(
    conversation: Conversation,
    organisation: Organisation,
    metadata: Mapping[str, Any] | None,
    today: date,
    selectielijst: Selectielijst | None = None,
    derived_from: str | None = None,
) -> RecordDescription:
    """Describe a conversation as an MDTO informatieobject.

    Derives what the conversation tells (coverage in time, participants, default name and kenmerk),
    takes the rest from `metadata` (MDTO key names, see the module's table) and falls back on the
    documented defaults; an informatiecategorie code is resolved in `selectielijst` when given.
    `derived_from` (a sha256) replaces the export's digest in a derived kenmerk: a selection is a new
    record. Deterministic for equal inputs. MetadataError names the offending key.
    """
    try:
        fields = _checked_metadata(metadata or {})
        categorie, waardering, bewaartermijn = _appraisal(fields, selectielijst)
    except _Problem as problem:
        raise MetadataError(f"metadata key '{problem.key}': {problem.message}") from None
    archiefvormer, archiefvormer_id, archiefvormer_id_bron = _archiefvormer(fields, organisation)
    begin, eind = _coverage(conversation)
    return RecordDescription(
        identificatie=fields.get("identificatie") or _derived_identificatie(conversation, organisation, derived_from),
        naam=fields.get("naam") or _default_naam(conversation),
        archiefvormer=archiefvormer,
        archiefvormer_id=archiefvormer_id,
        archiefvormer_id_bron=archiefvormer_id_bron,
        waardering=waardering,
        bewaartermijn=bewaartermijn,
        dekking_begin=begin,
        dekking_eind=eind,
        betrokkenen=_betrokkenen(conversation, fields.get("betrokkene", ())) + _custodian_betrokkene(conversation),
        taal=fields.get("taal"),
        omschrijving=fields.get("omschrijving") or _default_omschrijving(conversation),
        informatiecategorie=categorie,
        beperking_gebruik=fields.get("beperkingGebruik")
        or BeperkingGebruik(Begrip("Nader te bepalen", begrippenlijst=BEPERKINGEN_LIJST)),
        opname_datum=today,
        opname_door=organisation.archiefvormer,
        aggregatieniveau=fields.get("aggregatieniveau") or "Archiefstuk",
        classificatie=fields.get("classificatie", ()),
        trefwoorden=fields.get("trefwoord", ()),
        dekking_in_ruimte=fields.get("dekkingInRuimte", ()),
        zaken=fields.get("zaak", ()),
        toelichtingen=(f"Afkomstig van het toestel of account van {conversation.custodian.label()}.",)
        if conversation.custodian else (),
    )


def metadata_custodian(metadata: Mapping[str, Any] | None) -> Custodian | None:
    """The custodian a metadata file names (key `custodian`), or None; MetadataError for a bad value."""
    if not metadata or "custodian" not in metadata:
        return None
    try:
        return _custodian("custodian", metadata["custodian"])
    except _Problem as problem:
        raise MetadataError(f"metadata key '{problem.key}': {problem.message}") from None


def _custodian_betrokkene(conversation: Conversation) -> tuple[Betrokkene, ...]:
    custodian = conversation.custodian
    return (Betrokkene(custodian.name, rol=HOUDER_TOESTEL, soort="persoon"),) if custodian else ()


def _appraisal(
    fields: Mapping[str, Any], selectielijst: Selectielijst | None
) -> tuple[Begrip | None, Begrip, Bewaartermijn | None]:
    """informatiecategorie, waardering and bewaartermijn, completed from the selectielijst where it knows them."""
    categorie: Begrip | None = fields.get("informatiecategorie")
    waardering: Begrip | None = fields.get("waardering")
    bewaartermijn: Bewaartermijn | None = fields.get("bewaartermijn")
    if categorie is not None and categorie.code and selectielijst is not None:
        lijst_given = categorie.begrippenlijst not in ("", selectielijst.naam)
        found = None if lijst_given else selectielijst.resultaat(categorie.code)
        if found is None and not lijst_given:
            raise _Problem("informatiecategorie.code", f"{categorie.code!r} is not a resultaat of {selectielijst.naam}")
        if found is not None:
            categorie = Begrip(categorie.label or found.label, found.code, selectielijst.naam)
            waardering = waardering or _waardering_begrip(found.waardering)
            if bewaartermijn is None and found.bewaartermijn:
                bewaartermijn = Bewaartermijn(found.bewaartermijn, Begrip(found.trigger, begrippenlijst=TRIGGER_LIJST))
    if categorie is not None and (not categorie.label or not categorie.begrippenlijst):
        missing = "label" if not categorie.label else "begrippenlijst"
        raise _Problem(f"informatiecategorie.{missing}", "missing (give it, or a selectielijst that knows the code)")
    return categorie, waardering or _waardering_begrip("N"), bewaartermijn


def _betrokkenen(conversation: Conversation, given: tuple[Betrokkene, ...]) -> tuple[Betrokkene, ...]:
    """Every participant (rol "Deelnemer gesprek"), a listed betrokkene replacing the participant it names."""
    by_name = {b.naam: b for b in given}
    derived = [by_name.pop(p.name, Betrokkene(p.name)) for p in conversation.participants]
    return tuple(derived + [b for b in given if b.naam in by_name])


def _format_name(conversation: Conversation) -> str:
    fmt = conversation.source.format
    return FORMAT_NAMES.get(fmt, fmt[:1].upper() + fmt[1:])


def _default_naam(conversation: Conversation) -> str:
    subject = conversation.title or _participant_list(conversation)
    base = f"{_format_name(conversation)}-gesprek"
    return f"{base} {subject}" if subject else base


def _participant_list(conversation: Conversation) -> str:
    names = [p.name for p in conversation.participants]
    if len(names) <= 3:
        return " - ".join(names)
    return f"{', '.join(names[:3])} en {len(names) - 3} anderen"


def _default_omschrijving(conversation: Conversation) -> str:
    berichten = len(conversation.messages)
    deelnemers = len(conversation.participants)
    return (
        f"Export van een {_format_name(conversation)}-gesprek met {berichten} "
        f"{'bericht' if berichten == 1 else 'berichten'} van {deelnemers} "
        f"{'deelnemer' if deelnemers == 1 else 'deelnemers'}."
    )


def _derived_identificatie(
    conversation: Conversation, organisation: Organisation, derived_from: str | None = None
) -> Identificatie:
    if not conversation.source.files and not derived_from:
        raise MetadataError(
            "metadata key 'identificatie': not given, and no source file to derive it from",
            hint="give identificatie: {kenmerk, bron} in the metadata file",
        )
    fmt = conversation.source.format
    prefix = KENMERK_PREFIXES.get(fmt, fmt.upper())
    digest = (derived_from or conversation.source.files[0].sha256).lower()
    return Identificatie(f"{prefix}-{digest[:12]}", organisation.identificatie_bron)


def _coverage(conversation: Conversation) -> tuple[date | None, date | None]:
    # min/max compare instants; .date() then reads each in its own offset, as the participant saw it.
    first, last = conversation.first_timestamp, conversation.last_timestamp
    return (first.date() if first else None, last.date() if last else None)


def _archiefvormer(fields: Mapping[str, Any], organisation: Organisation) -> tuple[str, str | None, str]:
    given: Verwijzing | None = fields.get("archiefvormer")
    if given is None:
        return organisation.archiefvormer, organisation.archiefvormer_id, DEFAULT_ARCHIEFVORMER_ID_BRON
    if given.identificatie is None:
        return given.naam, None, DEFAULT_ARCHIEFVORMER_ID_BRON
    return given.naam, given.identificatie.kenmerk, given.identificatie.bron


# ---------------------------------------------------------------------------------------------------
# Checking a metadata mapping


def _checked_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(metadata, Mapping):
        raise _Problem("(top level)", "expected a mapping of MDTO keys")
    fields: dict[str, Any] = {}
    for key, value in metadata.items():
        checker = _CHECKERS.get(key) if isinstance(key, str) else None
        if checker is None:
            raise _Problem(str(key), f"unknown key; known keys are {', '.join(sorted(_CHECKERS))}")
        fields[key] = checker(key, value)
    return fields


def _text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        # YAML 1.1 reads yes/no/on/off unquoted as booleans (taal: no is Norwegian, not False).
        raise _Problem(key, f"got the boolean {value}; write the text in quotes")
    if not isinstance(value, str) or not value.strip():
        raise _Problem(key, f"expected non-empty text, got {_describe(value)}")
    return value.strip()


def _mapping(key: str, value: Any, required: set[str], optional: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Problem(key, f"expected a mapping with keys {', '.join(sorted(required | optional))}")
    for sub in value:
        if sub not in required | optional:
            raise _Problem(f"{key}.{sub}", f"unknown key; known are {', '.join(sorted(required | optional))}")
    for sub in sorted(required):
        if sub not in value:
            raise _Problem(f"{key}.{sub}", "missing")
    return value


def _date(key: str, value: Any) -> date:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _Problem(key, f"expected a date YYYY-MM-DD, got {_describe(value)}")


def _identificatie(key: str, value: Any) -> Identificatie:
    fields = _mapping(key, value, {"kenmerk", "bron"}, set())
    return Identificatie(_text(f"{key}.kenmerk", fields["kenmerk"]), _text(f"{key}.bron", fields["bron"]))


def _archiefvormer_verwijzing(key: str, value: Any) -> Verwijzing:
    if isinstance(value, str):
        return Verwijzing(_text(key, value))
    fields = _mapping(key, value, {"naam"}, {"identificatie"})
    ident = fields.get("identificatie")
    return Verwijzing(
        _text(f"{key}.naam", fields["naam"]),
        _identificatie(f"{key}.identificatie", ident) if ident is not None else None,
    )


def _waardering(key: str, value: Any) -> Begrip:
    text = _text(key, value)
    if text.upper() in WAARDERINGEN:
        return _waardering_begrip(text.upper())
    if text.casefold() in WAARDERING_WORDS:
        return _waardering_begrip(WAARDERING_WORDS[text.casefold()])
    for code, label in WAARDERINGEN.items():
        if text.casefold() == label.casefold():
            return _waardering_begrip(code)
    allowed = ", ".join(f"{code} ({label})" for code, label in WAARDERINGEN.items())
    raise _Problem(key, f"{text!r} is not in the MDTO list Waarderingen: {allowed}")


def _waardering_begrip(code: str) -> Begrip:
    return Begrip(WAARDERINGEN[code], code, WAARDERINGEN_LIJST)


def _begrip(key: str, value: Any, default_lijst: str | None) -> Begrip:
    if isinstance(value, str) and default_lijst is not None:
        return Begrip(_text(key, value), begrippenlijst=default_lijst)
    required = {"label"} if default_lijst is not None else {"label", "begrippenlijst"}
    fields = _mapping(key, value, required, {"code", "begrippenlijst"})
    return Begrip(
        label=_text(f"{key}.label", fields["label"]),
        code=_code(f"{key}.code", fields["code"]) if fields.get("code") is not None else None,
        begrippenlijst=_text(f"{key}.begrippenlijst", fields["begrippenlijst"])
        if "begrippenlijst" in fields
        else str(default_lijst),
    )


def _code(key: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        # YAML reads 21.10 as the number 21.1: the code would silently change.
        raise _Problem(key, f"write the code as quoted text (e.g. '{value}'), so no digit is lost")
    return _text(key, value)


def _informatiecategorie(key: str, value: Any) -> Begrip:
    """A begrip; with a code, label and begrippenlijst may be left to the selectielijst (checked later)."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return Begrip("", _code(key, value), "")
    if isinstance(value, Mapping) and value.get("code") is not None and "label" not in value:
        fields = _mapping(key, value, {"code"}, {"begrippenlijst"})
        lijst = _text(f"{key}.begrippenlijst", fields["begrippenlijst"]) if "begrippenlijst" in fields else ""
        return Begrip("", _code(f"{key}.code", fields["code"]), lijst)
    return _begrip(key, value, default_lijst=None)


def _listed(key: str, value: Any, checker: Any) -> tuple[Any, ...]:
    """One value or a list of them, each checked; the key of an item is `key[i]`."""
    if isinstance(value, list):
        if not value:
            raise _Problem(key, "an empty list; leave the key out instead")
        return tuple(checker(f"{key}[{i}]", item) for i, item in enumerate(value))
    return (checker(key, value),)


def _classificatie(key: str, value: Any) -> tuple[Begrip, ...]:
    return _listed(key, value, lambda k, v: _begrip(k, v, default_lijst=None))


def _trefwoord(key: str, value: Any) -> tuple[str, ...]:
    return _listed(key, value, _text)


def _plaats(key: str, value: Any) -> Verwijzing:
    return _archiefvormer_verwijzing(key, value)


def _dekking_in_ruimte(key: str, value: Any) -> tuple[Verwijzing, ...]:
    return _listed(key, value, _plaats)


def _one_zaak(key: str, value: Any) -> Zaak:
    fields = _mapping(key, value, {"identificatie"}, {"naam", "relatie"})
    ident = _identificatie(f"{key}.identificatie", fields["identificatie"])
    naam = _text(f"{key}.naam", fields["naam"]) if "naam" in fields else f"Zaak {ident.kenmerk}"
    relatie = fields.get("relatie")
    if relatie is not None:
        relatie = _text(f"{key}.relatie", relatie)
        if relatie == "isOnderdeelVan":
            relatie = None
    return Zaak(Verwijzing(naam, ident), relatie)


def _zaak(key: str, value: Any) -> tuple[Zaak, ...]:
    return _listed(key, value, _one_zaak)


def _one_betrokkene(key: str, value: Any) -> Betrokkene:
    fields = _mapping(key, value, {"naam"}, {"rol", "soort", "identificatie"})
    soort = fields.get("soort")
    if soort is not None:
        soort = _text(f"{key}.soort", soort).casefold()
        if soort not in BETROKKENE_SOORTEN:
            raise _Problem(f"{key}.soort", f"{soort!r} is not one of {', '.join(BETROKKENE_SOORTEN)}")
    ident = fields.get("identificatie")
    return Betrokkene(
        naam=_text(f"{key}.naam", fields["naam"]),
        rol=_text(f"{key}.rol", fields["rol"]) if "rol" in fields else DEELNEMER_GESPREK,
        soort=soort,
        identificatie=_identificatie(f"{key}.identificatie", ident) if ident is not None else None,
    )


def _betrokkene(key: str, value: Any) -> tuple[Betrokkene, ...]:
    return _listed(key, value, _one_betrokkene)


def _custodian(key: str, value: Any) -> Custodian:
    if isinstance(value, str):
        return Custodian(_text(key, value))
    fields = _mapping(key, value, {"naam"}, {"functie"})
    functie = fields.get("functie")
    return Custodian(_text(f"{key}.naam", fields["naam"]),
                     _text(f"{key}.functie", functie) if functie is not None else None)


def _aggregatieniveau(key: str, value: Any) -> str:
    text = _text(key, value)
    for label in AGGREGATIENIVEAUS:
        if text.casefold() == label.casefold():
            return label
    raise _Problem(key, f"{text!r} is not in the MDTO list Aggregatieniveaus: {', '.join(AGGREGATIENIVEAUS)}")


def _duration(key: str, value: Any) -> str:
    text = _text(key, value)
    if not _DURATION.match(text) or text.startswith("-"):
        raise _Problem(key, f"{text!r} is not an ISO 8601 duration such as P10Y, P6M or P1Y6M")
    return text


def _bewaartermijn(key: str, value: Any) -> Bewaartermijn:
    if isinstance(value, str):
        return Bewaartermijn(_duration(key, value))
    return _termijn(key, value, looptijd_required=True)


def _termijn(key: str, value: Any, looptijd_required: bool) -> Bewaartermijn:
    required = {"looptijd"} if looptijd_required else set()
    fields = _mapping(key, value, required, {"looptijd", "trigger", "startdatum", "einddatum"} - required)
    if not fields:
        raise _Problem(key, "give einddatum, or looptijd with startdatum or trigger")
    looptijd = _duration(f"{key}.looptijd", fields["looptijd"]) if "looptijd" in fields else ""
    trigger = fields.get("trigger")
    start = _date(f"{key}.startdatum", fields["startdatum"]) if "startdatum" in fields else None
    eind = _date(f"{key}.einddatum", fields["einddatum"]) if "einddatum" in fields else None
    if eind is None and start is not None and looptijd:
        eind = end_of_term(start, looptijd)
    if start is not None and eind is not None and eind < start:
        raise _Problem(f"{key}.einddatum", f"{eind.isoformat()} lies before startdatum {start.isoformat()}")
    return Bewaartermijn(
        looptijd=looptijd,
        trigger=_begrip(f"{key}.trigger", trigger, TERMIJNTRIGGERS_LIJST) if trigger is not None else None,
        startdatum=start,
        einddatum=eind,
    )


def _taal(key: str, value: Any) -> str:
    text = _text(key, value)
    if not _LANGUAGE.match(text):
        raise _Problem(key, f"{text!r} is not a language tag such as nl or en-GB")
    return text


def _beperking_gebruik(key: str, value: Any) -> BeperkingGebruik:
    fields = _mapping(key, value, {"type"}, {"nadereBeschrijving", "documentatie", "termijn"})
    if isinstance(fields["type"], Mapping):
        type_ = _begrip(f"{key}.type", fields["type"], default_lijst=None)
    else:
        label = _text(f"{key}.type", fields["type"])
        if label not in BEPERKING_GEBRUIK_TYPES:
            raise _Problem(f"{key}.type", f"{label!r} is not one of {', '.join(BEPERKING_GEBRUIK_TYPES)} "
                           "(or give {label, code, begrippenlijst} of another list)")
        type_ = Begrip(label, begrippenlijst=BEPERKINGEN_LIJST)
    note = fields.get("nadereBeschrijving")
    documentatie = fields.get("documentatie")
    termijn = fields.get("termijn")
    return BeperkingGebruik(
        type_,
        _text(f"{key}.nadereBeschrijving", note) if note is not None else None,
        _listed(f"{key}.documentatie", documentatie, _text) if documentatie is not None else (),
        _termijn(f"{key}.termijn", termijn, looptijd_required=False) if termijn is not None else None,
    )


def check_beperking_gebruik(value: Mapping[str, Any]) -> BeperkingGebruik:
    """A beperkingGebruik given as the metadata file gives it (`{type, documentatie, termijn}`), checked as
    at ingest; MetadataError naming the key otherwise."""
    try:
        return _beperking_gebruik("beperkingGebruik", value)
    except _Problem as problem:
        raise MetadataError(f"metadata key '{problem.key}': {problem.message}") from None


_CHECKERS = {
    "naam": _text,
    "identificatie": _identificatie,
    "archiefvormer": _archiefvormer_verwijzing,
    "waardering": _waardering,
    "bewaartermijn": _bewaartermijn,
    "omschrijving": _text,
    "taal": _taal,
    "informatiecategorie": _informatiecategorie,
    "beperkingGebruik": _beperking_gebruik,
    "classificatie": _classificatie,
    "trefwoord": _trefwoord,
    "dekkingInRuimte": _dekking_in_ruimte,
    "zaak": _zaak,
    "betrokkene": _betrokkene,
    "aggregatieniveau": _aggregatieniveau,
    "custodian": _custodian,
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"{value!r}"
    return f"a {type(value).__name__} ({value!r})"[:80]


def end_of_term(start: date, looptijd: str) -> date | None:
    """The day a term of `looptijd` (years, months, days) ends when started on `start`.

    None when the duration has a time part. A 29 February start ends on 28 February in a non-leap year.
    """
    match = _DURATION.match(looptijd)
    if not match or "T" in looptijd or looptijd.startswith("-"):
        return None
    years, months, days = (int(match.group(g) or 0) for g in ("y", "m", "d"))
    month_index = start.month - 1 + months
    year = start.year + years + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) + timedelta(days=days)


# ---------------------------------------------------------------------------------------------------
# Reading a metadata file


def load_metadata_file(path: Path) -> dict[str, Any]:
    """Read a metadata file: JSON when it ends in .json, else YAML (safe loader).

    Returns the mapping as written, after checking it the way `describe_conversation` will, so that
    every problem is reported here as a MetadataError naming the file, the key and, for YAML, the line.
    """
    path = Path(path)
    text = _read_text(path)
    if path.suffix.lower() == ".json":
        data, lines = _parse_json(path, text), dict[str, int]()
    else:
        data, lines = _parse_yaml(path, text)
    if not isinstance(data, dict):
        raise MetadataError(f"{path}: expected a mapping of MDTO keys at the top level")
    try:
        _checked_metadata(data)
    except _Problem as problem:
        line = _line_of(problem.key, lines)
        where = f"{path}, line {line}" if line else str(path)
        raise MetadataError(f"{where}: metadata key '{problem.key}': {problem.message}") from None
    return data


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MetadataError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_METADATA_BYTES:
        raise MetadataError(f"{path}: larger than {MAX_METADATA_BYTES} bytes; not a metadata file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetadataError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _parse_json(path: Path, text: str) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise MetadataError(f"{path}: metadata key '{key}' appears twice")
            result[key] = value
        return result

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise MetadataError(f"{path}, line {exc.lineno}: not valid JSON: {exc.msg}") from None


def _parse_yaml(path: Path, text: str) -> tuple[Any, dict[str, int]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark is not None else str(path)
        raise MetadataError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    lines: dict[str, int] = {}
    if root is not None:
        _collect_key_lines(path, root, "", lines)
    return data, lines


def _collect_key_lines(path: Path, node: yaml.Node, prefix: str, lines: dict[str, int]) -> None:
    """Record the 1-based line of every mapping key and list item, by dotted path (`betrokkene[0].rol`);
    refuse duplicate keys."""
    if isinstance(node, yaml.SequenceNode):
        base = prefix[:-1]
        for i, item in enumerate(node.value):
            lines[f"{base}[{i}]"] = item.start_mark.line + 1
            _collect_key_lines(path, item, f"{base}[{i}].", lines)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    for key_node, value_node in node.value:
        key = f"{prefix}{key_node.value}" if isinstance(key_node, yaml.ScalarNode) else f"{prefix}?"
        if key in lines:
            line = key_node.start_mark.line + 1
            raise MetadataError(f"{path}, line {line}: metadata key '{key}' appears twice")
        lines[key] = key_node.start_mark.line + 1
        _collect_key_lines(path, value_node, f"{key}.", lines)


def _line_of(key: str, lines: Mapping[str, int]) -> int | None:
    # A missing key has no line of its own: report its parent's.
    while key:
        if key in lines:
            return lines[key]
        key = key[: key.rindex("[")] if key.endswith("]") else key.rpartition(".")[0]
    return None
