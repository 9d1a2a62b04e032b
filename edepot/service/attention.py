"""The Depot's rules for what needs a person's attention now (the web's dashboard, `/api/v1/dashboard/`).

Each part is shown only to people whose roles act on it, and holds only what the organisations of those roles
hold (every organisation's, records of none too, for a role held for every organisation):

    failed and erred jobs   their own, and their organisations' for archivists and administrators
    fixity damage           replicas damaged or missing, files declared lost: archivists (who restore them)
    lists to approve        destruction lists not drawn up by them, not approved by them, still short of the
                            approvals they need: reviewers, archivists and records managers
    records due             due for destruction (not held) or for transfer: records managers and archivists
    active holds            archivists, records managers and Woo officers (who place and lift them)

Every part is a count and the first few rows, asked of the catalogue in bounded queries. Reading the dashboard
is not written to the audit log: it is read again every half minute while it is open, and shows no content.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from edepot.service.authority import role_key
from edepot.service.base import DepotBase
from kernel.errors import NotPermitted
from preservation.attention import Bounded, Damage, HeldRecord, OpenList
from preservation.directory import Organisation, person_key
from preservation.job_register import ERROR, FAILED, JobRecord

FIRST = 5  # rows shown of each part


@dataclass(frozen=True)
class DueRecord:
    """A kept record whose destruction or transfer date has passed."""

    record_id: str
    aip_id: str
    title: str
    organisation: str
    due: str  # "destruction" or "transfer"
    date: date


@dataclass(frozen=True)
class Attention:
    """The parts of the dashboard; None for a part the person's roles do not act on."""

    jobs: Bounded[JobRecord] | None
    damage: Bounded[Damage] | None
    approvals: Bounded[OpenList] | None
    due: Bounded[DueRecord] | None
    holds: Bounded[HeldRecord] | None

    def to_dict(self) -> dict[str, Any]:
        def part(bounded: Bounded[Any] | None, row: Any) -> dict[str, Any] | None:
            return None if bounded is None else {"count": bounded.count, "first": [row(r) for r in bounded.first]}

        return {
            "jobs": part(self.jobs, lambda j: {"job_id": j.job_id, "kind": j.kind, "state": j.state,
                                               "organisation": j.organisation, "enqueued_by": j.enqueued_by,
                                               "created": j.created.isoformat(), "error": j.error}),
            "damage": part(self.damage, lambda d: {"aip_id": d.aip_id, "record_id": d.record_id,
                                                   "organisation": d.organisation, "what": d.what, "where": d.where,
                                                   "since": d.since.isoformat() if d.since else None}),
            "approvals": part(self.approvals, lambda a: {"list_id": a.list_id, "created": a.created.isoformat(),
                                                         "organisation": a.organisation,
                                                         "drawn_up_by": a.drawn_up_by,
                                                         "approved_by": list(a.approved_by)}),
            "due": part(self.due, lambda r: {"record_id": r.record_id, "aip_id": r.aip_id, "title": r.title,
                                             "organisation": r.organisation, "due": r.due,
                                             "date": r.date.isoformat()}),
            "holds": part(self.holds, lambda h: {"record_id": h.hold.record_id, "organisation": h.organisation,
                                                 "reason": h.hold.reason, "placed_by": h.hold.placed_by,
                                                 "placed_at": h.hold.placed_at.isoformat()}),
        }


class AttentionService(DepotBase):
    """What needs the acting person's attention now."""

    def attention(self, *, organisation: str | None = None) -> Attention:
        """The dashboard's parts for the acting person's roles and organisations (with `organisation`, only
        that organisation's), each a count and the first few rows."""
        me = self.identified("showing what needs attention").name
        queries = self.store.attention

        def part(action: str, ask: Callable[[frozenset[str] | None], Bounded[Any]], *,
                 own_work: bool = False) -> Bounded[Any] | None:
            try:
                reach = self._scope(action, own_work=own_work)
            except NotPermitted:
                return None
            if organisation is not None:
                reach = frozenset({organisation}) if reach is None or organisation in reach else frozenset()
            return ask(reach)

        return Attention(
            jobs=part("follow jobs", lambda reach: queries.jobs(
                (FAILED, ERROR), organisations=reach, queued_by=me, limit=FIRST), own_work=True),
            damage=part("restore files", lambda reach: queries.damage(organisations=reach, limit=FIRST)),
            approvals=part("approve a destruction list", lambda reach: self._awaiting_approval(reach, me)),
            due=part("draw up a destruction list", self._due),
            holds=part("hold records", lambda reach: queries.active_holds(organisations=reach, limit=FIRST)),
        )

    def _scope(self, action: str, *, own_work: bool = False) -> frozenset[str] | None:
        """The organisations whose rows a part holds for the acting person (None: all); NotPermitted when their
        roles do not act on it. The part of `own_work` (their jobs) is also everybody's who may queue work."""
        try:
            return self.reach(action)
        except NotPermitted:
            if own_work and self._queues_work():
                return frozenset()
            raise

    def _queues_work(self) -> bool:
        from edepot.service.job_kinds import KINDS

        return any(self.may(kind.action) for kind in KINDS.values())

    def served_organisations(self) -> list[Organisation]:
        """The organisations the acting person's roles are held for (every one, for a role of every
        organisation): what their dashboard can be narrowed to."""
        person = self.identified("listing the organisations served")
        organisations = self.store.directory.organisations()
        if person.roles is None or any(g.organisation is None for g in person.roles):
            return organisations
        held = {g.organisation for g in person.roles}
        return [o for o in organisations if o.organisation_id in held]

    def _awaiting_approval(self, organisations: frozenset[str] | None, name: str) -> Bounded[OpenList]:
        """Open lists the person `name` may approve, did not draw up or approve, and that still need approval."""
        from preservation.retention import load_retention_settings

        me = person_key(name)
        required = {role_key(r) for r in load_retention_settings(self.config).required_roles}
        waiting = [
            found for found in self.store.attention.open_destruction_lists(organisations=organisations)
            if person_key(found.drawn_up_by) != me and me not in {person_key(by) for by in found.approved_by}
            and (not found.approved_by or not required <= {role_key(r) for r in found.approval_roles})
        ]
        return Bounded(len(waiting), waiting[:FIRST])

    def _due(self, organisations: frozenset[str] | None) -> Bounded[DueRecord]:
        """Kept records due for destruction (not held) or for transfer, longest overdue first: counted and cut
        in the catalogue by the dates it keeps with each record's appraisal."""
        from preservation.retention import compute_schedule, due_cutoff, latest_transfer_start, load_retention_settings

        settings = load_retention_settings(self.config)
        before = due_cutoff(self.now(), settings)
        latest = latest_transfer_start(before, settings)
        catalogue = self.catalogue
        due = []
        for row, organisation in catalogue.due_records(before, organisations=organisations, limit=FIRST,
                                                       oldest_first=True):
            schedule = compute_schedule(row, settings)
            due.append(DueRecord(row.record_id, row.aip_id, row.title, organisation, "destruction",
                                 schedule.destruction_date or before))
        for row, organisation in catalogue.transfer_records(latest, organisations=organisations, limit=FIRST):
            schedule = compute_schedule(row, settings)
            due.append(DueRecord(row.record_id, row.aip_id, row.title, organisation, "transfer",
                                 schedule.transfer_date or before))
        due.sort(key=lambda r: (r.date, r.record_id))
        return Bounded(sum(catalogue.count_due(before, latest, organisations=organisations)), due[:FIRST])
