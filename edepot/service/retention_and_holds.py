"""The Depot's rules for retention: holds on destruction, appraisal, and destruction lists under four eyes.

Every rule of this area is here. The engine below does the work as it is told: preservation/retention.py
computes schedules and records changes and holds, preservation/destruction.py draws lists up, records
approvals and executes lists; this service is the only caller of the engine's functions that record an
approval or destroy. A refusal is a typed error (kernel/errors.py) whose message names no command-line flag.

Who and why
- Every change is made by the acting person (NoActingPerson, E112, when nobody is named), who is named in
  its PREMIS event and in the catalogue's history: a hold placed or lifted, a re-appraisal, a start date
  set, a schedule computed, a destruction list drawn up, approved or executed.
- Placing or lifting a hold, re-appraising and setting a start date each need a reason; a re-appraisal
  changes the waardering, the bewaartermijn or both.
- A listing (records due for transfer, records to appraise) writes only when a record still lacks its
  schedule; only then does it need a person.

Four eyes on destruction (Archiefbesluit 1995 art. 6-8)
- An approval names the role in which it is given.
- The person who drew a list up never approves it.
- One person approves a list once, in one role; with `[retention] required_roles` each of those roles must
  have approved, each by another person. Names are compared with case and spacing ignored.
- Approvals are bound to the digest of the list as drawn up: a list whose JSON file or catalogue row no
  longer has that digest is neither approved nor executed, and an approval of another digest does not count.
- A list is executed only when its approvals, judged again then (they may have been recorded another way),
  suffice; a list whose every record was destroyed is not approved again.
- Approvals follow the order of `required_roles`: an approval in one of those roles is refused until every role
  listed before it has approved. With `required_roles = ["beoordelaar", "archivaris"]` this is the flow of Open
  Archiefbeheer: a reviewer reviews, then an archivist approves. Role names are compared by the role they name
  (archivaris = archivist), else with case and spacing ignored.
- Someone who may approve a list, other than its drafter, may reject it instead, with a reason: a rejected list
  is neither approved further nor executed; its drafter draws up a new one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from edepot.service.authority import role_key, role_named
from edepot.service.base import DepotBase, audited
from edepot.service.person import Person
from kernel.errors import InputError, NotFound, NotPermitted
from preservation.attention import Bounded, HeldRecord
from preservation.directory import Organisation
from preservation.retention_catalogue import Approval, DueGroup, Hold, Rejection, StoredList

if TYPE_CHECKING:
    from preservation.destruction import DestructionResult, DrawnUpList
    from preservation.retention import RetentionSettings, Schedule


@dataclass(frozen=True)
class Refreshed:
    """What recomputing every schedule gave: the schedules, and the records that could not be scheduled."""

    schedules: list[Schedule]
    not_scheduled: list[str]


DRAWN_UP, REVIEWED, APPROVED, REJECTED, DESTROYED = "drawn-up", "reviewed", "approved", "rejected", "destroyed"


@dataclass(frozen=True)
class ListState:
    """A destruction list as it stands: the approvals that count, the records it destroyed, its certificate, its
    rejections, and where it is in its flow (`state`: drawn-up, reviewed (approved in part), approved, rejected,
    destroyed)."""

    stored: StoredList
    approvals: list[Approval]
    destroyed: list[str]
    certificate: list[str]
    rejections: list[Rejection] = field(default_factory=list)
    state: str = DRAWN_UP

    def to_dict(self) -> dict[str, Any]:
        return {"list_id": self.stored.list_id, "created": self.stored.created.isoformat(),
                "digest": self.stored.digest, "records": len(self.stored.content["items"]),
                "destroyed": len(self.destroyed), "state": self.state,
                "approvals": [{"by": a.by, "role": a.role, "at": a.at.isoformat()} for a in self.approvals],
                "rejections": [{"by": r.approval.by, "role": r.approval.role, "at": r.approval.at.isoformat(),
                                "reason": r.reason} for r in self.rejections],
                "certificate": self.certificate}


class RetentionService(DepotBase):
    """Holds, appraisal and destruction, each done by the acting person."""

    @property
    def retention_settings(self) -> RetentionSettings:
        """The `[retention]` settings of the data directory's edepot.toml, read at each use."""
        from preservation.retention import load_retention_settings

        return load_retention_settings(self.config)

    def due_before(self, before: date | None = None) -> date:
        """The day before which a date counts as reached: `before`, else tomorrow on the calendar of the
        configured time zone (so "due" means due today or earlier)."""
        from preservation.retention import due_cutoff

        return before or due_cutoff(self.now(), self.retention_settings)

    # -------------------------------------------------------------------------------------------------
    # Holds

    @audited("hold place")
    def place_hold(self, record_id: str, *, reason: str) -> Hold:
        """Put a record on hold: it is not destroyed until every hold on it is lifted. Needs a reason."""
        from preservation.retention import add_hold

        person = self.authorise_record("hold records", record_id)
        _require(reason, "the reason for the hold")
        return add_hold(self.catalogue, record_id, reason, person.name, self.now())

    @audited("hold lift")
    def lift_holds(self, record_id: str, *, reason: str) -> int:
        """Lift every active hold on a record; returns how many were lifted. Needs a reason."""
        from preservation.retention import lift_hold

        person = self.authorise_record("hold records", record_id)
        _require(reason, "the reason for lifting the hold")
        return lift_hold(self.catalogue, record_id, reason, person.name, self.now())

    @audited("hold list")
    def holds(self, *, include_lifted: bool = False) -> list[Hold]:
        """The holds (the active ones, or all) on records of the organisations the acting person serves."""
        return self.own_records(self.catalogue.holds(active_only=not include_lifted), "view retention")

    @audited("hold list")
    def active_holds(self, *, limit: int = 200) -> Bounded[HeldRecord]:
        """How many holds are active on records of the organisations the acting person serves, and the newest
        `limit` of them, each with its record's organisation (counted and cut in the catalogue)."""
        return self.store.attention.active_holds(organisations=self.reach("view retention"), limit=limit)

    # -------------------------------------------------------------------------------------------------
    # Schedules and appraisal

    @audited("retention refresh")
    def refresh_schedules(self) -> Refreshed:
        """Compute every kept record's schedule again from its stored MDTO, as the acting person."""
        from preservation.retention import compute_schedule, refresh_schedules

        person = self.authorise("compute schedules", everywhere=True)
        problems: list[str] = []
        rows = refresh_schedules(self.config, self.catalogue, stores=self.store.storage, person=person.name,
                                 problems=problems)
        settings = self.retention_settings
        return Refreshed([compute_schedule(r, settings) for r in rows], problems)

    @audited("retention transfer")
    def due_for_transfer(self, before: date, *, limit: int | None = None,
                         schedule_missing: bool = True) -> list[Schedule]:
        """Permanent (B) records, of the organisations the acting person serves, whose transfer date lies before
        `before`, oldest first, at most `limit`. With `schedule_missing`, records still without a schedule get
        one first (a screen leaves that to the command line: it reads every AIP)."""
        from preservation.retention import due_for_transfer

        if schedule_missing:
            self._schedule_missing()
        return due_for_transfer(self.catalogue, self.retention_settings, before, limit=limit,
                                organisations=self.reach("view retention"))

    @audited("retention due groups")
    def due_groups(self, *, organisation: str | None = None, before: date | None = None) -> list[DueGroup]:
        """How many records are due for destruction (not held) per selectielijst category and organisation, of
        the organisations the acting person serves (of one of them, when named), counted in the catalogue."""
        return self.catalogue.due_groups(self.due_before(before), organisations=self._within(organisation))

    @audited("retention due records")
    def due_records(self, *, category: str | None = None, organisation: str | None = None, after: str = "",
                    limit: int = 50, before: date | None = None) -> list[tuple[Schedule, str]]:
        """The records due for destruction (not held) of the organisations the acting person serves (of one
        organisation and one category, when named), each with its organisation, by identifier after `after`,
        at most `limit`."""
        from preservation.retention import compute_schedule

        rows = self.catalogue.due_records(self.due_before(before), organisations=self._within(organisation),
                                          categories=None if category is None else [category], after=after,
                                          limit=limit)
        settings = self.retention_settings
        return [(compute_schedule(row, settings), owner) for row, owner in rows]

    def _within(self, organisation: str | None) -> frozenset[str] | None:
        """The organisations a listing covers: those the acting person may view retention of, narrowed to
        `organisation` when named (none, when they do not serve it)."""
        reach = self.reach("view retention")
        if organisation is None:
            return reach
        return frozenset({organisation}) if reach is None or organisation in reach else frozenset()

    @audited("retention appraise")
    def to_appraise(self) -> list[Schedule]:
        """Records nobody can act on until someone appraises them or sets the start of their term."""
        from preservation.retention import to_appraise

        self._schedule_missing()
        return self.own_records(to_appraise(self.catalogue, self.retention_settings), "view retention")

    @audited("retention show")
    def retention_of(self, record_id: str) -> dict[str, Any]:
        """One record's retention as a document: `schedule` (None once destroyed), appraisal `history`,
        `holds` and `tombstone` (None while it is kept). NotFound when the record has neither."""
        from preservation.retention import compute_schedule

        self.may_read_record("view retention", record_id)
        tombstone = self.catalogue.tombstone(record_id)
        row = self.catalogue.retention_row(record_id)
        if tombstone is None and row is None:
            raise NotFound(f"no retention schedule for record {record_id!r}",
                           hint="check the record's identifier, or compute the retention schedules first")
        return {
            "record_id": record_id,
            "schedule": compute_schedule(row, self.retention_settings).to_dict() if row and not tombstone else None,
            "history": self.catalogue.appraisal_history(record_id),
            "holds": [{"reason": h.reason, "placed_by": h.placed_by, "placed_at": h.placed_at.isoformat(),
                       "lifted_by": h.lifted_by, "lifted_at": h.lifted_at.isoformat() if h.lifted_at else None,
                       "lift_reason": h.lift_reason} for h in self.catalogue.holds(record_id)],
            "tombstone": tombstone,
        }

    @audited("retention reappraise")
    def reappraise(self, record_id: str, *, reason: str, waardering: str | None = None,
                   bewaartermijn: str | None = None) -> Schedule:
        """Change a record's waardering (B, V or N) and/or bewaartermijn (a duration such as P10Y); needs a
        reason and at least one of the two."""
        from preservation.retention import reappraise

        person = self.authorise_record("change an appraisal", record_id)
        _require(reason, "the reason for the re-appraisal")
        if waardering is None and bewaartermijn is None:
            raise InputError("a re-appraisal changes something: give the waardering, the bewaartermijn or both")
        return reappraise(self.catalogue, record_id, person=person.name, reason=reason.strip(), now=self.now(),
                          waardering=waardering, bewaartermijn=bewaartermijn)

    @audited("retention start")
    def set_retention_start(self, record_id: str, *, day: date, reason: str) -> Schedule:
        """Set the day a record's term counts from (e.g. the day its zaak was closed); needs a reason."""
        from preservation.retention import set_start

        person = self.authorise_record("change an appraisal", record_id)
        _require(reason, "the reason for the start date")
        return set_start(self.catalogue, record_id, day=day, person=person.name, reason=reason.strip(),
                         now=self.now())

    def _schedule_missing(self) -> None:
        """Compute the schedules records still lack (AIPs from before schedules were computed at ingest), as
        the acting person; a person is asked for only when there is one to compute."""
        from preservation.retention import refresh_schedules, unscheduled

        if unscheduled(self.catalogue):
            person = self.actor("computing missing retention schedules")
            refresh_schedules(self.config, self.catalogue, stores=self.store.storage, person=person.name,
                              only_missing=True)

    # -------------------------------------------------------------------------------------------------
    # Destruction lists under four eyes

    @audited("retention due")
    def draw_up_destruction_list(self, *, before: date | None = None, out: Path | None = None,
                                 organisation: str | None = None,
                                 categories: Sequence[str] | None = None) -> DrawnUpList | None:
        """Draw up, as the acting person, the list of one organisation's records due before `before` (default:
        due today) that no hold keeps, of the selectielijst `categories` only when given; written as JSON, CSV
        and PDF/A in `out` (default: the data directory's reports). The organisation may be left out when the
        acting person serves one, or the e-Depot serves one (or none is registered). None when nothing is due.
        Whoever draws it up may not approve it."""
        from preservation.destruction import draw_up_list

        action = "draw up a destruction list"
        chosen = self._list_organisation(action, organisation)
        person = self.authorise(action, [chosen.organisation_id] if chosen else None)
        return draw_up_list(self.config, self.catalogue, self.retention_settings, self.due_before(before),
                            stores=self.store.storage, person=person.name, out=out, organisation=chosen,
                            categories=_chosen(categories))

    def _list_organisation(self, action: str, organisation: str | None) -> Organisation | None:
        """The organisation a destruction list is drawn up for (None: nobody registered organisations)."""
        registered = {o.organisation_id: o for o in self.store.directory.organisations()}
        if not registered:
            return None
        if organisation is not None:
            if organisation not in registered:
                raise NotFound(f"no organisation {organisation!r} is registered")
            return registered[organisation]
        reach = self.reach(action)
        candidates = sorted(registered) if reach is None else sorted(reach & registered.keys())
        if len(candidates) != 1:
            raise InputError("a destruction list is drawn up for one organisation: name it",
                             hint=f"one of {', '.join(candidates) or 'none'}")
        return registered[candidates[0]]

    @audited("retention approve")
    def approve_destruction_list(self, reference: str, *, role: str) -> Approval:
        """Approve, as the acting person in `role`, the list named by its id or its JSON file, bound to its
        digest; refused (nothing recorded) when four eyes forbid it (see the module docstring)."""
        from preservation.destruction import executed, record_approval

        stored, approval = self._verdict("approving", reference, role)
        if self.catalogue.tombstones(stored.list_id) and executed(self.catalogue, stored):
            raise InputError(f"destruction list {stored.list_id} was already executed")
        earlier = self._approvals_of(stored)
        problem = (four_eyes_problem(stored, [*earlier, approval])
                   or order_problem(earlier, approval, self.retention_settings.required_roles))
        if problem:
            raise InputError(f"destruction list {stored.list_id}: {problem}; the approval is not recorded",
                             hint="another person approves (four eyes), in the order of the required roles")
        return record_approval(self.catalogue, stored, approval)

    @audited("retention reject")
    def reject_destruction_list(self, reference: str, *, role: str, reason: str) -> Rejection:
        """Reject, as the acting person in `role`, the list named by its id or its JSON file, with the reason: it
        goes back to its drafter (who may draw up a new one) and is neither approved further nor executed.
        Refused for its drafter, and for a list already executed in part or rejected."""
        from preservation.destruction import record_rejection

        _require(reason, "the reason for rejecting the list")
        stored, approval = self._verdict("rejecting", reference, role)
        if self.catalogue.tombstones(stored.list_id):
            raise InputError(f"destruction list {stored.list_id} was executed: it is not rejected any more")
        if _same_person(approval.by) == _same_person(stored.content.get("drawn_up_by", "")):
            raise InputError(f"destruction list {stored.list_id}: {approval.by} drew the list up and may not "
                             "judge it", hint="another person reviews it (four eyes)")
        return record_rejection(self.catalogue, stored, Rejection(approval, reason.strip()))

    def _verdict(self, doing: str, reference: str, role: str) -> tuple[StoredList, Approval]:
        """The list as drawn up, and the acting person's verdict on it in `role` (a role they hold for its
        organisation), now; refused for a list that was rejected."""
        self.actor(f"{doing} a destruction list")
        _require(role, "the role in which the list is judged")
        stored = self._as_drawn_up(reference)
        person = self._authorise_list("approve a destruction list", stored)
        if person.roles is not None:
            key = role_named(role)
            organisation = stored.content.get("organisation", "")
            if not any(g.role == key and g.covers(organisation) for g in person.roles):
                raise NotPermitted(f"{person.name} does not hold the role {role.strip()!r} for this list's "
                                   f"organisation", hint="approve in a role you hold")
        rejected = self._rejections_of(stored)
        if rejected:
            raise InputError(f"destruction list {stored.list_id} was rejected by {rejected[0].approval.by}: "
                             f"{rejected[0].reason}", hint="its drafter draws up a new list")
        return stored, Approval(stored.list_id, stored.digest, person.name, role.strip(), self.now())

    @audited("retention destroy")
    def destroy_destruction_list(self, reference: str, *, out: Path | None = None,
                                 progress: Callable[[str], None] = lambda _s: None) -> DestructionResult:
        """Execute, as the acting person, an approved list: every record still due and not held is destroyed
        and the certificate written in `out` (default: the data directory's reports). Refused, with nothing
        destroyed, when the list changed or its approvals do not suffice. A run that was interrupted is
        finished by the next."""
        from preservation.destruction import destroy_list

        self.actor("destroying records")
        stored = self._as_drawn_up(reference)
        person = self._authorise_list("destroy records", stored)
        settings = self.retention_settings
        approvals = self._sufficient_approvals(stored, settings)
        with self.work_locks() as locks:
            return destroy_list(self.config, self.store, stored, approvals=approvals, settings=settings,
                                person=person.name, locks=locks, out=out, progress=progress)

    @audited("retention lists")
    def destruction_lists(self, *, newest: int | None = None) -> list[ListState]:
        """Every destruction list of the organisations the acting person serves (the `newest` so many, when
        given), oldest first, as it stands (`ListState`)."""
        reach = self.reach("view retention")
        return [self._state(stored) for stored in self.catalogue.destruction_lists(organisations=reach, newest=newest)
                if reach is None or stored.content.get("organisation", "") in reach]

    @audited("retention list")
    def destruction_list_state(self, list_id: str) -> ListState:
        """One destruction list as it stands; NotFound for a list of an organisation the person does not serve."""
        from preservation.destruction import read_list

        stored, _given = read_list(self.catalogue, list_id)
        self._authorise_list("view retention", stored)
        return self._state(stored)

    @audited("retention certificate")
    def destruction_certificate(self, list_id: str) -> Path:
        """The verklaring van vernietiging (PDF/A) of an executed list; NotFound for a list of an organisation the
        person does not serve, and for one not executed (yet)."""
        state = self.destruction_list_state(list_id)
        found = [Path(p) for p in state.certificate if p.endswith(".pdf")]
        if not found or not found[0].is_file():
            raise NotFound(f"destruction list {list_id} has no certificate of destruction",
                           hint="the certificate is written when the list is executed")
        return found[0]

    def approval_steps(self) -> tuple[str, ...]:
        """The roles whose approvals a destruction list needs, in their order (`[retention] required_roles`;
        none: one approval by someone other than the drafter suffices)."""
        return self.retention_settings.required_roles

    def _state(self, stored: StoredList) -> ListState:
        from preservation.destruction import reports_dir

        destroyed = [t["record_id"] for t in self.catalogue.tombstones(stored.list_id)]
        folder = reports_dir(self.config, stored.list_id)
        certificate = sorted(str(p) for p in folder.glob("verklaring-van-vernietiging-*")) if destroyed else []
        approvals, rejections = self._approvals_of(stored), self._rejections_of(stored)
        if destroyed:
            state = DESTROYED
        elif rejections:
            state = REJECTED
        elif approvals:
            try:
                self._sufficient_approvals(stored, self.retention_settings)
                state = APPROVED
            except InputError:
                state = REVIEWED
        else:
            state = DRAWN_UP
        return ListState(stored, approvals, destroyed, certificate, rejections, state)

    def _authorise_list(self, action: str, stored: StoredList) -> Person:
        """The acting person, allowed to `action` on the list's organisation's records; NotFound for a list of
        an organisation they do not serve."""
        organisation = stored.content.get("organisation", "")
        reach = self.reach(action)
        if reach is not None and organisation not in reach:
            raise NotFound(f"no destruction list {stored.list_id!r}")
        return self.authorise(action, [organisation])

    def _as_drawn_up(self, reference: str) -> StoredList:
        """The list named by id or JSON file, refused when it (the file, or the catalogue's row) no longer has
        the digest it was drawn up with."""
        from preservation.destruction import list_digest, read_list

        stored, given = read_list(self.catalogue, reference)
        if list_digest(stored.content) != stored.digest:
            raise InputError(f"destruction list {stored.list_id} was changed in the catalogue after it was drawn up",
                             hint="draw up a new list")
        if given is not None and list_digest(given) != stored.digest:
            raise InputError(f"{reference} differs from destruction list {stored.list_id} as drawn up "
                             f"(digest {list_digest(given)[:12]}… ≠ {stored.digest[:12]}…)",
                             hint="approve and destroy only the list edepot drew up; draw up a new one")
        return stored

    def _approvals_of(self, stored: StoredList) -> list[Approval]:
        """The approvals that count for the list: those of its digest."""
        return [a for a in self.catalogue.approvals(stored.list_id) if a.digest == stored.digest]

    def _rejections_of(self, stored: StoredList) -> list[Rejection]:
        """The rejections of the list as drawn up (of its digest)."""
        return [r for r in self.catalogue.rejections(stored.list_id) if r.approval.digest == stored.digest]

    def _sufficient_approvals(self, stored: StoredList, settings: RetentionSettings) -> list[Approval]:
        """The list's approvals when they allow its execution; InputError (nothing destroyed) otherwise."""
        rejected = self._rejections_of(stored)
        if rejected:
            raise InputError(f"destruction list {stored.list_id} was rejected by {rejected[0].approval.by}; "
                             "nothing was destroyed", hint="its drafter draws up a new list")
        approvals = self._approvals_of(stored)
        if not approvals:
            raise InputError(f"destruction list {stored.list_id} is not approved; nothing was destroyed",
                             hint="it needs the approval of someone who did not draw it up")
        problem = four_eyes_problem(stored, approvals)
        if problem:
            raise InputError(f"destruction list {stored.list_id}: {problem}; nothing was destroyed",
                             hint="draw up a new list and have it approved by other people (four eyes)")
        roles = {role_key(a.role) for a in approvals}
        missing = [r for r in settings.required_roles if role_key(r) not in roles]
        if missing:
            raise InputError(f"destruction list {stored.list_id} lacks the approval of: {', '.join(missing)}; "
                             "nothing was destroyed", hint="[retention] required_roles in edepot.toml")
        return approvals


def four_eyes_problem(stored: StoredList, approvals: Sequence[Approval]) -> str | None:
    """What breaks four eyes in these approvals of the list, or None: the drafter approving, or one person
    approving twice (in two roles, or in one). Names are compared with case and spacing ignored."""
    drafter = _same_person(stored.content.get("drawn_up_by", ""))
    seen: dict[str, str] = {}
    for approval in approvals:
        name = _same_person(approval.by)
        if drafter and name == drafter:
            return f"{approval.by} drew the list up and may not approve it"
        if name in seen:
            return f"{approval.by} already approved it (as {seen[name]}); each approval needs another person"
        seen[name] = approval.role
    return None


def order_problem(earlier: Sequence[Approval], approval: Approval, required: Sequence[str]) -> str | None:
    """What is out of order in giving `approval` after the `earlier` ones, or None: an approval in one of the
    `required` roles comes after an approval in each role listed before it."""
    keys = [role_key(r) for r in required]
    mine = role_key(approval.role)
    if mine not in keys:
        return None
    given = {role_key(a.role) for a in earlier}
    waiting = [role for role, key in zip(required, keys[:keys.index(mine)]) if key not in given]
    if not waiting:
        return None
    return f"an approval as {approval.role.strip()} comes after the approval of: {', '.join(waiting)}"


def _same_person(name: str) -> str:
    return " ".join(name.split()).casefold()


def _chosen(categories: Sequence[str] | None) -> list[str] | None:
    """The categories given (blank ones left out), or None for every category."""
    chosen = [c.strip() for c in categories or () if c.strip()]
    return chosen or None


def _require(value: str, what: str) -> None:
    if not value or not value.strip():
        raise InputError(f"give {what}: it may not be empty")
