"""Retention: when each record is due for destruction or transfer, from its MDTO waardering and bewaartermijn.

Archiefwet 1995 art. 3 and 5 (and the Archiefbesluit 1995 art. 2-8): a record with waardering V ("Tijdelijk te
bewaren") is destroyed when its bewaartermijn has passed; B ("Blijvend te bewaren") is kept and transferred
(overgebracht) to the archive repository; N ("Nader te bepalen") is never due: it waits on the "to appraise" list.

The term (MDTO `bewaartermijn`) counts from, in this order:
  1. a start date set later (recorded with who and why);
  2. `termijnEinddatum` when the MDTO gives the end of the term itself;
  3. `termijnStartdatumLooptijd` (e.g. the date the zaak was closed, for trigger "Afsluiting zaak");
  4. the last message (`dekkingInTijdEinddatum`) when the trigger is absent or says "Laatste bericht".
A term with another trigger and no start date is "start unknown" and also waits on the to-appraise list.
The destruction date is start + looptijd in calendar terms (xs:duration addition, as `end_of_term`: 29 February
plus P1Y is 28 February); the record is due from that day on, judged on the calendar of the configured time
zone (default Europe/Amsterdam), so a record due on 29 March is due from 00:00 local time whether that is
23:00 or 22:00 UTC the day before.

Transfer (overbrenging) of B records: Archiefwet 1995 art. 12 required transfer of records older than twenty
years; the amendment (the new Archiefwet, wetsvoorstel 2021) lowers that to ten. edepot counts the transfer
term from the same start as a bewaartermijn and defaults to ten years; `[retention] transfer_term = "P20Y"` in
`edepot.toml` sets another. The other settings: `required_roles` (roles whose approval a destruction list
needs, default: any one approval) and `timezone`.

Every change (schedule computed at ingest or refresh, re-appraisal, start set, hold placed or lifted) is kept
in the catalogue's appraisal history or holds table and leaves a PREMIS event on the record's newest AIP,
naming the person who made it. Who may make which change, and what a change must give (a reason), is the
Depot service's to decide (edepot/service/retention_and_holds.py): these functions do what they are told.
"""
from __future__ import annotations

import tomllib
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Collection, Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kernel.config import Config
from kernel.errors import InputError, NotFound
from kernel.version import EDEPOT_AGENT_ID
from preservation.blobstore import BlobStore, aip_key, read_verified
from preservation.catalogue import GONE_STATES, Catalogue
from preservation.metadata.informatieobject import Informatieobject, informatieobject_files
from preservation.metadata.premis import PremisEvent
from preservation.metadata.record import WAARDERINGEN, end_of_term
from preservation.retention_catalogue import Hold, RetentionRow

SIP_METADATA_PREFIX = "data/metadata/sip/"
DEFAULT_TRANSFER_TERM = "P10Y"
DEFAULT_TIMEZONE = "Europe/Amsterdam"
LAST_MESSAGE_TRIGGERS = {"", "laatste bericht", "datum laatste bericht", "einde gesprek", "einde looptijd gesprek"}
SYSTEM = "edepot"


class RetentionStatus(str, Enum):
    """What the retention schedule says of a record."""

    DESTROY = "destroy"  # V with a destruction date
    TRANSFER = "transfer"  # B with a transfer date
    TO_APPRAISE = "to-appraise"  # N: appraisal pending, never due
    START_UNKNOWN = "start-unknown"  # V or B whose term counts from an event whose date is not known yet
    NO_TERM = "no-term"  # V without a bewaartermijn: cannot be destroyed until one is given


@dataclass(frozen=True)
class RetentionSettings:
    """The `[retention]` settings of edepot.toml."""

    transfer_term: str = DEFAULT_TRANSFER_TERM
    required_roles: tuple[str, ...] = ()
    timezone: str = DEFAULT_TIMEZONE

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Schedule:
    """A record's retention schedule: its appraisal, the date the term counts from and what follows."""

    record_id: str
    aip_id: str
    title: str
    waardering: str
    looptijd: str | None
    trigger: str | None
    start: date | None
    start_basis: str  # where `start` came from, in words
    destruction_date: date | None
    transfer_date: date | None
    status: RetentionStatus
    category: Mapping[str, str | None]
    dekking_begin: str | None
    dekking_eind: str | None
    why: str  # one sentence, in Dutch (it goes on the vernietigingslijst): why this date, or why none

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id, "aip_id": self.aip_id, "title": self.title,
            "waardering": self.waardering, "waardering_label": WAARDERINGEN.get(self.waardering, self.waardering),
            "bewaartermijn": self.looptijd, "trigger": self.trigger,
            "start": _iso(self.start), "start_basis": self.start_basis,
            "destruction_date": _iso(self.destruction_date), "transfer_date": _iso(self.transfer_date),
            "status": self.status.value, "category": dict(self.category),
            "dekking_begin": self.dekking_begin, "dekking_eind": self.dekking_eind, "why": self.why,
        }


# ---------------------------------------------------------------------------------------------------
# Settings and the calendar


def load_retention_settings(config: Config) -> RetentionSettings:
    """The `[retention]` table of `<data-dir>/edepot.toml` over the defaults; InputError for bad values."""
    path = config.data_dir / "edepot.toml"
    table: dict[str, Any] = {}
    if path.is_file():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("retention", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not valid TOML: {exc}") from None
    term = str(table.get("transfer_term", DEFAULT_TRANSFER_TERM))
    if end_of_term(date(2000, 1, 1), term) is None:
        raise InputError(f"{path}: [retention] transfer_term {term!r} is not a duration such as P10Y")
    zone = str(table.get("timezone", DEFAULT_TIMEZONE))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"{path}: [retention] timezone {zone!r} is not an IANA time zone") from None
    roles = table.get("required_roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) and r.strip() for r in roles):
        raise InputError(f"{path}: [retention] required_roles must be a list of role names")
    return RetentionSettings(term, tuple(r.strip() for r in roles), zone)


def local_today(now: datetime, settings: RetentionSettings) -> date:
    """The calendar day it is at `now` (aware) in the configured time zone."""
    return now.astimezone(settings.zone).date()


def due_cutoff(now: datetime, settings: RetentionSettings) -> date:
    """The exclusive `before` date of "due now": tomorrow in the configured time zone."""
    return date.fromordinal(local_today(now, settings).toordinal() + 1)


def parse_day(text: str, what: str = "date") -> date:
    """A YYYY-MM-DD date given by a user; InputError otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{what} {text!r} is not a date YYYY-MM-DD") from None


# ---------------------------------------------------------------------------------------------------
# Reading the appraisal from MDTO, and computing the schedule (pure)


def appraisal_from_mdto(mdto_xml: bytes) -> dict[str, Any]:
    """What the record's MDTO informatieobject says about its appraisal, as plain JSON-able data.

    MetadataError (an InputError) when the document is not XML or holds no informatieobject.
    """
    node = Informatieobject.parse(mdto_xml)
    text = node.text
    code = text("waardering/begripCode")
    if code is None:
        label = (text("waardering/begripLabel") or "").casefold()
        code = next((c for c, lab in WAARDERINGEN.items() if lab.casefold() == label), "N")
    return {
        "record_id": text("identificatie/identificatieKenmerk") or "",
        "title": text("naam") or "",
        "waardering": code.upper() if code.upper() in WAARDERINGEN else "N",
        "looptijd": text("bewaartermijn/termijnLooptijd"),
        "trigger": text("bewaartermijn/termijnTriggerStartLooptijd/begripLabel"),
        "startdatum": text("bewaartermijn/termijnStartdatumLooptijd"),
        "einddatum": text("bewaartermijn/termijnEinddatum"),
        "dekking_begin": text("dekkingInTijd/dekkingInTijdBegindatum"),
        "dekking_eind": text("dekkingInTijd/dekkingInTijdEinddatum"),
        "category": {
            "code": text("informatiecategorie/begripCode"),
            "label": text("informatiecategorie/begripLabel"),
            "list": text("informatiecategorie/begripBegrippenlijst/verwijzingNaam"),
        },
    }


def compute_schedule(row: RetentionRow, settings: RetentionSettings) -> Schedule:
    """The record's schedule from its appraisal as read from MDTO with the later changes over it."""
    a = {**row.mdto, **row.override}
    waardering = a.get("waardering") or "N"
    looptijd, trigger = a.get("looptijd"), a.get("trigger")
    start, basis = _start(a)
    destruction = transfer = None
    if waardering == "N":
        status, why = RetentionStatus.TO_APPRAISE, "waardering N (nader te bepalen): eerst waarderen"
    elif waardering == "V" and a.get("einddatum") and not a.get("start_override"):
        destruction = date.fromisoformat(a["einddatum"])
        status, why = RetentionStatus.DESTROY, f"bewaartermijn eindigt op {destruction} (termijnEinddatum)"
    elif waardering == "V" and not looptijd:
        status, why = RetentionStatus.NO_TERM, "waardering V zonder bewaartermijn: herwaardeer met een bewaartermijn"
    elif start is None:
        status = RetentionStatus.START_UNKNOWN
        why = f"de termijn telt vanaf '{trigger}', waarvan de datum niet bekend is: stel de startdatum vast"
    elif waardering == "V":
        destruction = end_of_term(start, str(looptijd))
        status = RetentionStatus.DESTROY if destruction else RetentionStatus.NO_TERM
        why = f"bewaartermijn {looptijd} vanaf {basis} {start}: vernietigen vanaf {destruction}"
    else:
        transfer = end_of_term(start, settings.transfer_term)
        status = RetentionStatus.TRANSFER
        why = f"blijvend te bewaren: overbrengen binnen {settings.transfer_term} vanaf {basis} {start}, uiterlijk {transfer}"
    return Schedule(
        record_id=row.record_id, aip_id=row.aip_id, title=row.title, waardering=waardering, looptijd=looptijd,
        trigger=trigger, start=start, start_basis=basis, destruction_date=destruction, transfer_date=transfer,
        status=status, category=dict(a.get("category") or {}), dekking_begin=a.get("dekking_begin"),
        dekking_eind=a.get("dekking_eind"), why=why,
    )


def stored_schedule(mdto: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """The columns the catalogue keeps beside a record's appraisal so the records due are found in the database:
    its status, destruction date, the start of a B record's transfer term and its selectielijst category. None
    of them depends on the `[retention]` settings (a transfer date does, and is the start plus the term)."""
    row = RetentionRow("", "", "", dict(mdto), dict(override), datetime.min)
    schedule = compute_schedule(row, RetentionSettings())
    category = schedule.category
    return {"status": schedule.status.value, "destruction_date": schedule.destruction_date,
            "term_start": schedule.start if schedule.status is RetentionStatus.TRANSFER else None,
            "category": category.get("code") or category.get("label") or "",
            "category_label": category.get("label") or category.get("code") or ""}


def latest_transfer_start(before: date, settings: RetentionSettings) -> date:
    """The last day a B record's term may start and its transfer date (start plus the transfer term) still lie
    before `before`: end_of_term is monotonic in its start, so a search over the days finds it."""
    low, high = date.min.toordinal(), before.toordinal()
    while low < high:
        middle = (low + high + 1) // 2
        end = end_of_term(date.fromordinal(middle), settings.transfer_term)
        if end is not None and end < before:
            low = middle
        else:
            high = middle - 1
    return date.fromordinal(low)


def _start(a: Mapping[str, Any]) -> tuple[date | None, str]:
    if a.get("start_override"):
        return date.fromisoformat(a["start_override"]), "de later vastgestelde datum"
    if a.get("startdatum"):
        trigger = a.get("trigger") or "startdatum"
        return date.fromisoformat(a["startdatum"]), f"'{trigger}' op"
    if (a.get("trigger") or "").strip().casefold() in LAST_MESSAGE_TRIGGERS and a.get("dekking_eind"):
        return date.fromisoformat(a["dekking_eind"]), "het laatste bericht op"
    return None, "onbekend"


# ---------------------------------------------------------------------------------------------------
# Recording schedules: at ingest, on refresh


def schedule_retention(catalogue: Catalogue, aip_id: str, mdto_xml: bytes, now: datetime, *,
                       action: str = "ingest", person: str | None = None) -> RetentionRow:
    """Record the retention schedule of the AIP's record from its MDTO informatieobject (at ingest, or refresh).

    The newest AIP of a record is the one read; changes made since (re-appraisal, a start date set later)
    are kept. Leaves a PREMIS "policy assignment" event naming `person` (the one who asked for it; at ingest
    edepot alone, as part of the ingest); does nothing when nothing changed.
    """
    aip = catalogue.aip(aip_id)
    mdto = appraisal_from_mdto(mdto_xml)
    previous = catalogue.retention_row(aip.record_id)
    if previous is not None and previous.mdto == mdto and previous.aip_id == aip_id:
        return previous
    if previous is not None and previous.aip_id != aip_id:
        newer = [a for a, _state in catalogue.aips_of_record(aip.record_id)]
        if previous.aip_id in newer and newer.index(previous.aip_id) > newer.index(aip_id):
            return previous  # an older version's MDTO never replaces the newest one's
    row = RetentionRow(aip.record_id, aip_id, aip.title, mdto, previous.override if previous else {}, now)
    schedule = compute_schedule(row, RetentionSettings())
    event = premis_event("policy assignment", now, f"retention schedule from the MDTO of AIP {aip_id}",
                         schedule.why, person_agents(person) if person else (SYSTEM,))
    catalogue.save_retention(row, action, person or SYSTEM, "read from the MDTO informatieobject",
                             {**previous.mdto, **previous.override} if previous else None, [event])
    return row


def schedule_retention_from_aip(catalogue: Catalogue, aip_id: str, bag_root: Path, now: datetime, *,
                                person: str | None = None) -> RetentionRow:
    """`schedule_retention` with the informatieobject found under the bag's data/metadata/sip/."""
    return schedule_retention(catalogue, aip_id, _informatieobject(bag_root).read_bytes(), now, person=person)


def _informatieobject(bag_root: Path) -> Path:
    found = informatieobject_files(bag_root / SIP_METADATA_PREFIX)
    if not found:
        raise InputError(f"{bag_root}: no MDTO informatieobject under {SIP_METADATA_PREFIX}")
    return found[0]


def newest_aips(catalogue: Catalogue) -> dict[str, str]:
    """Each kept record's newest AIP: record identifier → AIP identifier."""
    newest: dict[str, str] = {}
    for aip in catalogue.aips():  # oldest first: the last one seen of a record is its newest
        newest[aip.record_id] = aip.aip_id
    return newest


def unscheduled(catalogue: Catalogue) -> dict[str, str]:
    """The kept records without a retention schedule (AIPs ingested before schedules were computed at ingest,
    or whose MDTO could not be read), each with its newest AIP."""
    return {r: a for r, a in newest_aips(catalogue).items() if catalogue.retention_row(r) is None}


def refresh_schedules(config: Config, catalogue: Catalogue, *, stores: Sequence[BlobStore], person: str,
                      only_missing: bool = False, problems: list[str] | None = None) -> list[RetentionRow]:
    """Compute every kept record's schedule from the MDTO of its newest stored AIP (read from a replica
    whose copy matches the catalogue's sha256), as `person`; returns the rows, changed or not. With
    `only_missing`, only for records that have no schedule yet (`unscheduled`). An AIP whose MDTO cannot
    be read (e.g. a SIP described in ToPX only) is passed over with a line in `problems`: its record gets
    no schedule, so it is never due."""
    records = unscheduled(catalogue) if only_missing else newest_aips(catalogue)
    now = config.clock()
    rows = []
    for record_id, aip_id in records.items():
        try:
            mdto = _read_verified_mdto(stores, catalogue, aip_id)
            rows.append(schedule_retention(catalogue, aip_id, mdto, now, action="refresh", person=person))
        except InputError as problem:
            if problems is not None:
                problems.append(f"{record_id} (AIP {aip_id}): {problem.message}")
    return rows


def schedule_stored_aip(catalogue: Catalogue, aip_id: str, now: datetime, *, stores: Sequence[BlobStore],
                        person: str) -> RetentionRow:
    """Compute the schedule of one AIP's record from its stored MDTO (a replica whose copy matches), as ingest
    does; InputError when it has no intact MDTO informatieobject."""
    return schedule_retention(catalogue, aip_id, _read_verified_mdto(stores, catalogue, aip_id), now, person=person)


def _read_verified_mdto(stores: Sequence[BlobStore], catalogue: Catalogue, aip_id: str) -> bytes:
    candidates = [f for f in catalogue.files(aip_id) if f.path.startswith(SIP_METADATA_PREFIX)
                  and f.path.endswith(".mdto.xml") and not f.path.endswith(".bestand.mdto.xml")
                  and "/" not in f.path[len(SIP_METADATA_PREFIX):]]
    for record in sorted(candidates, key=lambda f: f.path):
        data = read_verified(stores, aip_key(aip_id, record.path), record.sha256)
        if data is not None:
            return data
    if not candidates:
        raise InputError("no MDTO informatieobject in the AIP (a ToPX-only SIP is not scheduled yet)")
    raise InputError("no replica holds an intact MDTO informatieobject",
                     hint="check and repair the replicas first")


# ---------------------------------------------------------------------------------------------------
# Lists


def schedules(catalogue: Catalogue, settings: RetentionSettings) -> list[Schedule]:
    """The schedule of every record still kept (no tombstone, some AIP not destroyed)."""
    result = []
    for row in catalogue.retention_rows():
        states = [state for _aip, state in catalogue.aips_of_record(row.record_id)]
        if catalogue.tombstone(row.record_id) is not None or not states or all(s in GONE_STATES for s in states):
            continue
        result.append(compute_schedule(row, settings))
    return result


def held_records(catalogue: Catalogue) -> set[str]:
    """Identifiers of records with a hold that has not been lifted."""
    return {h.record_id for h in catalogue.holds(active_only=True)}


def due_for_destruction(catalogue: Catalogue, settings: RetentionSettings, before: date, *,
                        organisations: Collection[str] | None = None,
                        categories: Collection[str] | None = None) -> list[Schedule]:
    """Records with waardering V whose destruction date lies before `before`, not held, not destroyed (of those
    organisations and selectielijst categories, when given); by category, then date. Selected in the catalogue
    by the dates stored with each schedule."""
    rows = catalogue.due_records(before, organisations=organisations, categories=categories)
    due = [s for s in (compute_schedule(row, settings) for row, _owner in rows)
           if s.status is RetentionStatus.DESTROY and s.destruction_date is not None and s.destruction_date < before]
    return sorted(due, key=lambda s: (s.category.get("code") or "", s.destruction_date or date.min, s.record_id))


def due_for_transfer(catalogue: Catalogue, settings: RetentionSettings, before: date, *,
                     organisations: Collection[str] | None = None, limit: int | None = None) -> list[Schedule]:
    """Permanent (B) records whose transfer date lies before `before` (of those organisations), oldest first."""
    rows = catalogue.transfer_records(latest_transfer_start(before, settings), organisations=organisations,
                                      limit=limit)
    return [compute_schedule(row, settings) for row, _owner in rows]


def to_appraise(catalogue: Catalogue, settings: RetentionSettings) -> list[Schedule]:
    """Records nobody can act on until someone appraises them or sets the start of their term."""
    waiting = (RetentionStatus.TO_APPRAISE, RetentionStatus.START_UNKNOWN, RetentionStatus.NO_TERM)
    return [s for s in schedules(catalogue, settings) if s.status in waiting]


# ---------------------------------------------------------------------------------------------------
# Changes by people: re-appraisal, the start of the term, holds


def reappraise(catalogue: Catalogue, record_id: str, *, person: str, reason: str, now: datetime,
               waardering: str | None = None, bewaartermijn: str | None = None) -> Schedule:
    """Change a record's waardering and/or bewaartermijn, recorded with who and why (event "appraisal" naming
    `person`); InputError for a value that is not a waardering or a duration."""
    row = _row(catalogue, record_id)
    override = dict(row.override)
    if waardering is not None:
        code = waardering.strip().upper()
        if code not in WAARDERINGEN:
            raise InputError(f"waardering {waardering!r} is not B, V or N")
        override["waardering"] = code
    if bewaartermijn is not None:
        term = bewaartermijn.strip()
        if term.startswith("-") or end_of_term(date(2000, 1, 1), term) is None:
            raise InputError(f"bewaartermijn {bewaartermijn!r} is not a duration such as P10Y or P6M")
        override["looptijd"] = term
        override["einddatum"] = None  # an end date given with the old term no longer holds
    return _save_change(catalogue, row, override, now=now, action="reappraisal", person=person, reason=reason)


def set_start(catalogue: Catalogue, record_id: str, *, day: date, person: str, reason: str,
              now: datetime) -> Schedule:
    """Set the date a record's term counts from (e.g. the zaak closed later), recorded with who and why."""
    row = _row(catalogue, record_id)
    override = {**row.override, "start_override": day.isoformat()}
    return _save_change(catalogue, row, override, now=now, action="set-start", person=person, reason=reason)


def _save_change(catalogue: Catalogue, row: RetentionRow, override: dict[str, Any], *, now: datetime,
                 action: str, person: str, reason: str) -> Schedule:
    _refuse_if_destroying(catalogue, row.record_id)
    before = {**row.mdto, **row.override}
    changed = RetentionRow(row.record_id, row.aip_id, row.title, row.mdto, override, now)
    schedule = compute_schedule(changed, RetentionSettings())
    event = premis_event("appraisal", now, f"{action} by {person}: {reason}", schedule.why, person_agents(person))
    catalogue.save_retention(changed, action, person, reason, before, [event])
    return schedule


def add_hold(catalogue: Catalogue, record_id: str, reason: str, by: str, now: datetime) -> Hold:
    """Place a hold by `by`: the record appears on no destruction list and is not destroyed until it is lifted."""
    _refuse_if_destroying(catalogue, record_id)
    aip_id = _newest_aip(catalogue, record_id)
    hold = Hold(str(uuid.uuid4()), record_id, reason.strip(), by.strip(), now)
    event = premis_event("hold", now, f"hold placed by {by}: {reason}", "no destruction until the hold is lifted",
                         person_agents(by))
    catalogue.add_hold(hold, aip_id, [event])
    return hold


def hold_records(catalogue: Catalogue, record_ids: Iterable[str], reason: str, by: str, now: datetime) -> None:
    """Place a hold for `reason` on each record that has no active hold for it yet (placed by `by`)."""
    for record_id in dict.fromkeys(record_ids):
        if not any(h.reason == reason for h in catalogue.holds(record_id, active_only=True)):
            add_hold(catalogue, record_id, reason, by, now)


def lift_hold(catalogue: Catalogue, record_id: str, reason: str, by: str, now: datetime, *,
              only: str | None = None) -> int:
    """Lift every active hold on the record (only those placed for the reason `only`, when given), recorded with
    who (`by`) and why; InputError when none is active."""
    aip_id = _newest_aip(catalogue, record_id)
    which = f" ({only})" if only else ""
    event = premis_event("hold release", now, f"hold{which} lifted by {by}: {reason}",
                         "destruction may follow its schedule unless another hold remains", person_agents(by))
    lifted = catalogue.lift_holds(record_id, by.strip(), reason.strip(), now, aip_id, [event], only=only)
    if not lifted:
        raise InputError(f"record {record_id!r} has no active hold")
    return lifted


def _row(catalogue: Catalogue, record_id: str) -> RetentionRow:
    row = catalogue.retention_row(record_id)
    if row is None or catalogue.tombstone(record_id) is not None:
        _newest_aip(catalogue, record_id)  # raises the right NotFound
        raise NotFound(f"record {record_id!r} has no retention schedule yet",
                       hint="compute the retention schedules from the stored MDTO first")
    return row


def _newest_aip(catalogue: Catalogue, record_id: str) -> str:
    if catalogue.tombstone(record_id) is not None:
        raise NotFound(f"record {record_id!r} was destroyed", hint="its tombstone says when and under which list")
    kept = [a for a, state in catalogue.aips_of_record(record_id) if state not in GONE_STATES]
    if not kept:
        raise NotFound(f"no record {record_id!r} in the catalogue", hint="check the record's identifier (kenmerk)")
    return kept[-1]


def _refuse_if_destroying(catalogue: Catalogue, record_id: str) -> None:
    started = catalogue.journal_entries(record_id=record_id)
    if started:
        raise InputError(f"record {record_id!r} is being destroyed under list {started[0]['list_id']}",
                         hint=f"finish destroying list {started[0]['list_id']} first")


def person_agents(person: str) -> tuple[str, ...]:
    """The PREMIS agents of a step done by `person` (beside edepot itself, which `premis_event` adds)."""
    return (f"person:{' '.join(person.split())}",)


def premis_event(kind: str, now: datetime, detail: str, outcome_detail: str, agents: tuple[str, ...],
                 outcome: str = "success", sources: tuple[str, ...] = ()) -> PremisEvent:
    """A PREMIS event of a retention step, by edepot and the people named in `agents`."""
    return PremisEvent(identifier=str(uuid.uuid4()), type=kind, date_time=now, detail=detail, outcome=outcome,
                       outcome_detail=outcome_detail, agents=(EDEPOT_AGENT_ID, *agents), source_objects=sources,
                       outcome_objects=())


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
