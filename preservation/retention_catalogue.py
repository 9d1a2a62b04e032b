"""The catalogue's retention tables: schedules, appraisal history, holds, destruction lists, approvals,
the destruction journal and tombstones (OAIS Data Management for Archiefwet 1995 art. 3/5 appraisal and
destruction, and the Woo/litigation hold that suspends it).

The rows only: the tables are in `preservation.catalogue_db` (models) and `retention_store` (queries).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RetentionRow:
    """A record's retention entry: the appraisal read from its MDTO and the changes made since."""

    record_id: str
    aip_id: str  # the newest AIP of the record, whose MDTO was read
    title: str
    mdto: dict[str, Any]
    override: dict[str, Any]
    updated: datetime


@dataclass(frozen=True)
class Hold:
    """A hold on destruction (Woo request, litigation); active while `lifted_at` is None."""

    hold_id: str
    record_id: str
    reason: str
    placed_by: str
    placed_at: datetime
    lifted_by: str | None = None
    lifted_at: datetime | None = None
    lift_reason: str | None = None


@dataclass(frozen=True)
class Approval:
    """Who approved which destruction list (by its content digest), in what role, when."""

    list_id: str
    digest: str
    by: str
    role: str
    at: datetime


@dataclass(frozen=True)
class StoredList:
    """A destruction list as drawn up: its content (JSON) and the digest that approval binds to."""

    list_id: str
    created: datetime
    digest: str
    content: dict[str, Any]


@dataclass(frozen=True)
class Rejection:
    """Who rejected which destruction list (by its content digest), in what role, when (`approval`), and why: the
    list goes back to its drafter, who may draw up a new one."""

    approval: Approval
    reason: str


@dataclass(frozen=True)
class DueGroup:
    """How many records of one organisation and selectielijst category (its code, else its label) are due."""

    category: str
    label: str
    organisation: str
    count: int
