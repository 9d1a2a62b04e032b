"""The Woo register port: Woo requests (Woo-verzoeken), the documents in their scope, and the decision per
document, as the Depot service reads and writes them. The rules (deadlines, who may decide, what blocks a
besluit) are the service's and `access.woo`'s; this port only keeps the facts. The implementation on Django is
`preservation.catalogue_db.woo_store`.

A document is one message of a record (`seq`), or a whole chat where the officer decides so (`seq` None).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, Sequence

RECEIVED = "ontvangen"
IN_PROGRESS = "in behandeling"
DECIDED = "besluit"
DELIVERED = "verstrekt"
SUSPENDED = "opgeschort"
CLOSED = "gesloten"
STATES = (RECEIVED, IN_PROGRESS, DECIDED, DELIVERED, SUSPENDED, CLOSED)


@dataclass(frozen=True)
class WooRequest:
    """One Woo request: who asked what of which organisation, when it came in and by when it must be decided.
    `suspended_since`: the day the term was suspended (opgeschort), while it is; `besluit_on`: the day the
    besluit was made; `closed_on`: the day the request was closed (its holds lifted)."""

    request_id: str
    organisation: str
    requester: str
    subject: str
    received: date
    deadline: date
    extended: bool
    state: str
    opened_by: str
    opened: datetime
    suspended_since: date | None = None
    besluit_on: date | None = None
    closed_on: date | None = None
    besluit_path: str | None = None


@dataclass(frozen=True)
class ScopeEntry:
    """A message (or whole chat, `seq` None) in a request's scope: a document, or context shown around a hit
    (`context` True) that becomes a document only when it is decided. `origin` says how it came in (the search,
    or a pick)."""

    request_id: str
    record_id: str
    seq: int | None
    context: bool
    origin: str
    added_by: str
    added: datetime


@dataclass(frozen=True)
class Redaction:
    """A span of a message's text blacked out by a decision, on its ground; or, with `name`, a person's name
    blacked out wherever it occurs in the besluit (5.1 lid 2 sub e)."""

    start: int
    end: int
    ground: str
    name: str = ""


@dataclass(frozen=True)
class WooDecision:
    """The decision on one document: beoordeling, grounds (short codes such as "5.1.2e"), toelichting,
    opgeschort, the public link of a document already public, and its redactions; by whom and when."""

    request_id: str
    record_id: str
    seq: int | None
    beoordeling: str
    grounds: tuple[str, ...]
    toelichting: str
    opgeschort: bool
    link: str
    redactions: tuple[Redaction, ...]
    decided_by: str
    decided: datetime


class WooRegister(Protocol):
    """Woo requests, their scope and their decisions; each method one transaction, or part of the caller's."""

    def save_request(self, request: WooRequest) -> None:
        """Insert the request, or replace what is kept of it."""
    def request(self, request_id: str) -> WooRequest | None:
        """The request, or None."""
    def requests(self) -> list[WooRequest]:
        """Every request, oldest received first."""
    def add_to_scope(self, entries: Sequence[ScopeEntry]) -> int:
        """Add entries; one already there stays, except that context becomes a document when added as one.
        Returns how many documents the scope gained."""
    def remove_from_scope(self, request_id: str, record_id: str, seqs: Sequence[int] | None) -> int:
        """Remove the record's entries (only `seqs` when given) and their decisions; how many were removed."""
    def scope(self, request_id: str) -> list[ScopeEntry]:
        """The scope in record and message order."""
    def decide(self, decisions: Sequence[WooDecision]) -> None:
        """Keep each decision, replacing an earlier one on the same document."""
    def decisions(self, request_id: str) -> list[WooDecision]:
        """Every decision of the request, in record and message order."""
