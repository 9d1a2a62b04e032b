"""Access: deciding a record's openness after ingest (`edepot access set`), with who and why.

A record's MDTO beperkingGebruik is kept as received (AIPs are not rewritten). A decision taken later (the
record was "Nader te bepalen", or a term turned out to be longer) is a RestrictionDecision in the catalogue,
appended, never updated: the newest one of a record replaces what its MDTO says
(`preservation.record_access.with_restriction`), and each leaves a PREMIS event ("metadata modification") on
the record's newest AIP naming the person, the reason and what it was before.

The type is one of the MDTO BeperkingGebruikTypeLijst labels the metadata check accepts
(`preservation.metadata.record.BEPERKING_GEBRUIK_TYPES`): "Geen beperking" (open), "Nader te bepalen"
(undecided), "Overig" with the legal ground (beperkingGebruikDocumentatie) and, for a restriction with a
term, its last day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Sequence

from kernel.errors import InputError, NotFound
from preservation.catalogue import GONE_STATES
from preservation.metadata.record import BEPERKING_GEBRUIK_TYPES, check_beperking_gebruik
from preservation.record_access import Restriction
from preservation.retention import premis_event
from preservation.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class RestrictionChange:
    """One decision: the record, its new restriction, who took it, when and why."""

    record_id: str
    restriction: Restriction
    by: str
    reason: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        r = self.restriction
        return {"record_id": self.record_id, "type": r.label, "grounds": list(r.grounds),
                "until": r.until.isoformat() if r.until else None, "openness": r.openness.value,
                "by": self.by, "reason": self.reason, "at": self.at.isoformat()}


def restriction_of(label: str, grounds: Sequence[str], until: date | None) -> Restriction:
    """A restriction checked as the metadata check checks a SIP's beperkingGebruik, and complete enough to
    decide something: "Overig" needs a ground; a term only goes with "Overig"."""
    label = label.strip()
    mapping: dict[str, Any] = {"type": label}
    if grounds:
        mapping["documentatie"] = list(grounds)
    if until:
        mapping["termijn"] = {"einddatum": until.isoformat()}
    checked = check_beperking_gebruik(mapping)
    if label == "Overig" and not checked.documentatie:
        raise InputError("type Overig needs its legal ground",
                         hint='name the legal ground, e.g. "Woo art. 5.1 lid 2 sub e"')
    if label != "Overig" and (grounds or until):
        raise InputError(f"type {label!r} takes no ground or end date",
                         hint=f"a restriction is type Overig; the types are {', '.join(BEPERKING_GEBRUIK_TYPES)}")
    return Restriction(label, checked.documentatie, until)


def set_restriction(store: UnitOfWork, record: str, restriction: Restriction, *, by: str, reason: str,
                    at: datetime) -> RestrictionChange:
    """Record a decided restriction for a record (given by kenmerk or AIP id) with who and why, and its PREMIS
    event on the record's newest AIP naming `by`, both in one transaction. NotFound for an unknown or destroyed
    record."""
    catalogue = store.catalogue
    found = [a for a in catalogue.aips() if record in (a.aip_id, a.record_id)]
    if not found:
        raise NotFound(f"no record or AIP {record!r} in the catalogue",
                       hint="list the AIPs and records the catalogue holds").with_facts(unknown_aip=record)
    record_id = found[0].record_id
    kept = [a for a, state in catalogue.aips_of_record(record_id) if state not in GONE_STATES]
    if not kept:
        raise NotFound(f"record {record_id!r} was destroyed")
    change = RestrictionChange(record_id, restriction, by.strip(), reason.strip(), at)
    with store.atomic():
        before = store.register.decided_restrictions().get(record_id)
        was = (f"{before.label} {'; '.join(before.grounds)}".strip() if before else "as its MDTO beperkingGebruik")
        event = premis_event("metadata modification", at, f"access restriction set by {change.by}: {change.reason}",
                             f"beperkingGebruik now {restriction.label}"
                             + (f", ground {'; '.join(restriction.grounds)}" if restriction.grounds else "")
                             + (f", until {restriction.until.isoformat()}" if restriction.until else "")
                             + f" ({restriction.openness.value}); before: {was}", (f"person:{change.by}",))
        store.register.record_restriction(record_id, restriction, by=change.by, reason=change.reason, at=at)
        catalogue.add_events(kept[-1], [event])
    return change
