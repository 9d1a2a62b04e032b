"""Access: who may see what of which record on which day (Archiefwet 1995 art. 15-17; Woo art. 5.1-5.2).

The one place where access is decided; DIPs, search and the Woo delivery ask here. The facts come from the
record's MDTO beperkingGebruik (`preservation.record_access`), replaced by a restriction decided later
(`access.restrictions`, `edepot access set`).

Two levels of visibility:

- a record's **description** (kenmerk, title, period, archiefvormer, that it is restricted and until when,
  the legal ground) is public;
- its **content** (messages, full-text hits, inventory rows per message, counts of hits, and free text such
  as beperkingGebruikNadereBeschrijving that may quote content) is visible to a `Viewer` only when the
  record is open on the request date (openbaar, or beperkt openbaar with a term that ended before that
  date) or a permit runs for that person by name on that date.

The archive itself (its own use, an archivist's own search) sees everything; it is never an outside
requester. A record whose openness was never decided ("Nader te bepalen") is not open, and it blocks a Woo
delivery (`needs_decision`): the Woo knows no ground "not decided yet".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Iterable, Mapping

from access.redaction import woo_ground
from kernel.errors import InputError
from preservation.access_register import AccessRegister
from preservation.record_access import Openness, RecordAccess, Restriction, with_restriction


class Role(str, Enum):
    """Whose view a search takes: an outside researcher's, or the archive's own (an archivist's)."""

    RESEARCHER = "researcher"
    ARCHIVIST = "archivist"


def role_of(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InputError(f"unknown role {value!r}", hint="use researcher or archivist") from None


@dataclass(frozen=True)
class Viewer:
    """Who content is shown to: a person by name (or anybody), on a request date, with the records their
    permits cover on that date; or the archive itself (`archive`), which sees everything."""

    on: date
    name: str | None = None
    permitted: frozenset[str] = frozenset()
    archive: bool = False

    @property
    def redacted(self) -> bool:
        """Whether what automatic redaction hides is hidden from this viewer too (in text and in queries)."""
        return not self.archive


def viewer_for(register: AccessRegister, on: date, name: str | None = None, *, archive: bool = False) -> Viewer:
    """The viewer for a person (their permits running on `on` read from the register), or the archive."""
    if archive:
        return Viewer(on, name, archive=True)
    permitted = frozenset(register.permitted_records(name, on)) if name else frozenset()
    return Viewer(on, name, permitted)


@dataclass(frozen=True)
class AccessDecision:
    """Whether a record's content may be shown, and why, in words anybody may read (description only)."""

    allowed: bool
    reason: str
    grounds: tuple[str, ...] = ()  # legal grounds from the metadata (beperkingGebruikDocumentatie), never free text
    opens_on: date | None = None  # for a restriction with a term: the first day it is open
    undecided: bool = False  # nobody decided the record's openness yet


def current_facts(records: Iterable[RecordAccess], register: AccessRegister) -> dict[str, RecordAccess]:
    """Record kenmerk → its facts with a restriction decided after ingest applied (see `effective`)."""
    decided = register.decided_restrictions()
    return {r.record_id: effective(r, decided) for r in records}


def effective(record: RecordAccess, decided: Mapping[str, Restriction]) -> RecordAccess:
    """The record's facts with the restriction decided last after ingest in place of its MDTO's."""
    restriction = decided.get(record.record_id)
    return with_restriction(record, restriction) if restriction is not None else record


_ARCHIVE_USE = AccessDecision(True, "eigen gebruik archief")
_OPEN = AccessDecision(True, "openbaar")  # (decisions are immutable: a search decides thousands of records)


def decide(record: RecordAccess, who: Viewer) -> AccessDecision:
    """May `who` see the content of `record` (facts already `effective`)?"""
    if who.archive:
        return _ARCHIVE_USE
    if record.openness is Openness.OPEN:
        return _OPEN
    if record.record_id in who.permitted:
        return AccessDecision(True, "toestemming van de archivaris (vergunning)", record.grounds)
    if record.openness is Openness.RESTRICTED and record.until is not None:
        opens = record.until + timedelta(days=1)
        if who.on >= opens:
            return AccessDecision(True, f"openbaar sinds {opens.isoformat()} (beperking verlopen)")
        return AccessDecision(False, f"beperkt openbaar tot en met {record.until.isoformat()}", record.grounds, opens)
    if record.openness is Openness.CLOSED:
        return AccessDecision(False, "niet openbaar", record.grounds)
    return AccessDecision(False, "niet openbaar: openbaarheid niet vastgesteld", (), undecided=True)


def needs_decision(record: RecordAccess, decision: AccessDecision) -> str | None:
    """Why a record keeps a Woo delivery waiting, or None: its openness was never decided, or it is withheld
    without a legal ground in its metadata (a Woo inventory must give the ground)."""
    if decision.allowed:
        return None
    if decision.undecided:
        return f"openness not decided ({record.restriction_label or 'no beperkingGebruik'})"
    if not decision.grounds:
        return "withheld without a legal ground (beperkingGebruikDocumentatie)"
    return None


def withheld_ground(decision: AccessDecision) -> str:
    """The grounds column of a withheld record in a Woo inventory: the legal grounds from the metadata, and
    until when for a restriction with a term. Never free text. A Woo ground is written as redactions cite
    theirs ("5.1 lid 2 sub h", however the metadata wrote it), so one inventory uses one notation."""
    grounds = "; ".join(_as_cited(g) for g in decision.grounds)
    if decision.opens_on is not None:
        grounds += f" (tot en met {(decision.opens_on - timedelta(days=1)).isoformat()})"
    return grounds


def _as_cited(ground: str) -> str:
    """A Woo ground in its canonical notation ("Woo art. 5.1 lid 2 sub h" → "5.1 lid 2 sub h"); any other
    legal ground (Archiefwet, AVG) as the metadata gives it."""
    try:
        return woo_ground(ground)
    except InputError:
        return ground
