"""Access: who may see which record on which day (Archiefwet 1995 art. 15-17; Woo art. 5.1-5.2).

The facts come from the record's MDTO beperkingGebruik (`preservation.record_access`); this module only
decides. A researcher (anybody from outside) gets a record when it is open on the request date: marked
openbaar, or beperkt openbaar with a term that ended before that date, or covered by a permit the
archivist granted to that requester by name that runs on that date. An archivist sees every record.
"Nader te bepalen" counts as not open: nobody has decided yet.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Collection

from kernel.errors import InputError
from preservation.record_access import Openness, RecordAccess


class Role(str, Enum):
    RESEARCHER = "researcher"
    ARCHIVIST = "archivist"


def role_of(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InputError(f"unknown role {value!r}", hint="use researcher or archivist") from None


@dataclass(frozen=True)
class AccessDecision:
    """Whether a record may be delivered, and why, in words a requester may read (no content)."""

    allowed: bool
    reason: str
    grounds: tuple[str, ...] = ()
    opens_on: date | None = None  # for a restriction with a term: the first day it is open


def decide(record: RecordAccess, role: Role, on: date, permitted: Collection[str] = ()) -> AccessDecision:
    """The decision for one record, for a requester of `role` on date `on`, holding permits for the
    record kenmerken in `permitted` (those running on `on`)."""
    if role is Role.ARCHIVIST:
        return AccessDecision(True, "archivaris: inzage in alle archiefstukken")
    if record.openness is Openness.OPEN:
        return AccessDecision(True, "openbaar")
    if record.record_id in permitted:
        return AccessDecision(True, "toestemming van de archivaris (vergunning)", record.grounds)
    if record.openness is Openness.RESTRICTED and record.until is not None:
        opens = date.fromordinal(record.until.toordinal() + 1)
        if on >= opens:
            return AccessDecision(True, f"openbaar sinds {opens.isoformat()} (beperking verlopen)")
        return AccessDecision(False, f"beperkt openbaar tot en met {record.until.isoformat()}", record.grounds, opens)
    if record.openness is Openness.CLOSED:
        return AccessDecision(False, "niet openbaar", record.grounds)
    return AccessDecision(False, "openbaarheid nog niet bepaald", record.grounds)
