"""The attention port: what needs someone's attention now, asked of the catalogue in bounded queries (a count and
the first few rows), so asking stays cheap on a big archive. Each question is asked for some organisations
(None: every organisation, records of none too). The implementation on Django is
`preservation.catalogue_db.attention_store`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Collection, Generic, Protocol, Sequence, TypeVar

from preservation.job_register import JobRecord
from preservation.retention_catalogue import Hold

Row = TypeVar("Row")


@dataclass(frozen=True)
class Bounded(Generic[Row]):
    """How many rows there are, and the first few of them."""

    count: int
    first: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class Damage:
    """A replica of an AIP that fixity found damaged or missing, or a file of an AIP declared lost."""

    aip_id: str
    record_id: str
    organisation: str
    what: str  # "damaged" or "missing" (a replica), "lost" (a file declared lost)
    where: str  # the replica's location, or the lost file's path
    since: datetime | None  # when the replica was last verified, or the loss declared


@dataclass(frozen=True)
class OpenList:
    """A destruction list not executed yet, with the names of whoever approved its content as drawn up."""

    list_id: str
    created: datetime
    organisation: str
    drawn_up_by: str
    approved_by: tuple[str, ...]
    approval_roles: tuple[str, ...]


@dataclass(frozen=True)
class HeldRecord:
    """An active hold, with the organisation of its record."""

    hold: Hold
    organisation: str


class AttentionQueries(Protocol):
    """Bounded questions about what needs attention, each for `organisations` (None: all)."""

    def jobs(self, states: Sequence[str], *, organisations: Collection[str] | None, queued_by: str | None,
             limit: int) -> Bounded[JobRecord]:
        """Jobs in `states` of those organisations, and those `queued_by` that person; newest first."""
    def damage(self, *, organisations: Collection[str] | None, limit: int) -> Bounded[Damage]:
        """Replicas damaged or missing, and files declared lost, of AIPs still kept; most recent first."""
    def open_destruction_lists(self, *, organisations: Collection[str] | None) -> list[OpenList]:
        """Destruction lists of which no record was destroyed yet, oldest first."""
    def active_holds(self, *, organisations: Collection[str] | None, limit: int) -> Bounded[HeldRecord]:
        """Holds not lifted, on records of those organisations; newest first."""
