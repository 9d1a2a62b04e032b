"""Access (OAIS): a DIP for a named requester and purpose: whole records or a search selection,
restricted by the access rules, redacted, with a Woo inventory list, for permanent or time-limited use.

One record (the files at the top):

    conversation.pdf        PDF/A-2b rendering of the delivered (selected, redacted) messages
    conversation.json       the same messages as a canonical conversation (schemas/conversation.schema.json)
    media/<files>           the media of delivered messages that were not redacted (with derived copies)
    original/<files>        the export as received, only when the whole record is delivered unredacted
    viewer.html             the conversation as a chat, one self-contained HTML file (no network)
    inventarislijst.csv     the Woo inventory: document, date, decision, grounds (access/inventory.py)
    inventarislijst.pdf     the same as PDF/A-2b
    dip.json                the DIP's own description: requester, purpose, dates, records, decisions
    INVENTARIS.txt          what each file is, with size and sha256
    manifest-sha256.txt     `sha256sum -c manifest-sha256.txt`

Several records: the per-record files under `records/<n>-<kenmerk>/`, the rest at the top.

Nothing restricted leaves, whoever runs the command: what a requester gets depends on the requester
(`access.rules`: content open on the request date, or permitted to them by name), never on who makes the
DIP. A query selects only what it finds in that content as delivered (`access.query_guard`), so a word found
only in a closed record, or only in a redacted passage, finds nothing, exactly like a word found nowhere.
Only a DIP for a Woo request (`woo_request`) lists the closed records in its scope, one row each with the
legal ground from the metadata; it is refused while any record in scope awaits a decision on its openness
(`DecisionNeeded`), and it puts a hold on every record in scope. The archive's own DIP (`own_use`) is
whole and unredacted, labelled as such, and never made for a requester. Which combinations make sense (a
purpose for every requester, no Woo request for the archive's own use, an expiry after the request date) is
the Depot service's to decide (`edepot.service.access_and_delivery`); the engine takes the person who makes the
DIP (`by`) from it and names them in the register and in every PREMIS event. Every string of a delivered
record (text, sender, title, attachment and file names, the query) goes through the same `Redactor`
(with the organisation's name list) before anything is written or rendered; media of a message with any
redaction are withheld. Every file is copied from a replica whose copy verifies against the catalogue's
sha256. A file declared lost in the archive is left out and named in
dip.json ("missing") and INVENTARIS.txt; a record whose conversation is lost is not delivered.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from access import inventory, viewer
from access.aip_files import file_of, informatieobject_file, no_intact_copy, read_verified
from access.purge import DIP_WORK, clear_dip_leftovers
from access.query_guard import QueryGuard, guarded_page
from access.redaction import (
    ManualRedaction,
    NameList,
    Passage,
    Redactor,
    Withholding,
    organisation_names,
    short_ground,
)
from access.rules import AccessDecision, Viewer, current_facts, decide, needs_decision, viewer_for, withheld_ground
from access.search import of_organisations
from kernel.atomic import publish_directory, temporary_name
from kernel.config import Config
from kernel.errors import AccessDenied, DecisionNeeded, InputError, InvalidPackage
from kernel.locks import claim_work
from kernel.model import Conversation, Custodian, Message, MessageKind, Source, SourceFile, participants_of
from kernel.version import EDEPOT_AGENT_ID
from preservation import aip as layout
from preservation.access_register import DeliveredAip, DipEntry, DipState
from preservation.blobstore import BlobNotFound, BlobStore, aip_key
from preservation.catalogue import Catalogue, FileRecord
from preservation.metadata.premis import PremisEvent
from preservation.normalise.conversation_pdf import RenderContext, render_conversation_pdf
from preservation.record_access import RecordAccess, record_access_from_mdto
from preservation.retention import hold_records
from preservation.search_index import Filters, matching_records, parse_query
from preservation.unit_of_work import UnitOfWork

OWN_USE = "eigen gebruik archief"
OWN_USE_LABEL = "Eigen gebruik archief: niet voor verstrekking aan derden"
WOO_HOLD = "Woo-verzoek {}"  # the reason of the hold a Woo delivery puts on each record in its scope


@dataclass(frozen=True)
class DipRequest:
    """Who asks, why, on which date, and how the delivery is to be redacted and limited. `own_use`: the
    archive's own copy (whole, unredacted unless `auto_redact`), never for a requester; `woo_request`: the
    identifier of the Woo request the delivery answers."""

    requester: str
    purpose: str
    on: date | None = None  # the request date (default: today by the configured clock)
    expires: date | None = None  # the DIP is purged after this day
    redact_names: tuple[Path, ...] = ()
    manual: tuple[ManualRedaction, ...] = ()
    withhold: tuple[Withholding, ...] = ()
    auto_redact: bool | None = None  # own use only: redact automatically after all (a requester's always is)
    query: str | None = None
    filters: Filters = field(default_factory=Filters)
    context: int = 0  # messages before and after each hit that come along
    own_use: bool = False
    woo_request: str | None = None
    # A Woo besluit: the documents decided per message settle what is delivered (withheld messages and
    # redactions above), whatever the records' metadata says; AIP id → the seqs in scope (None: all of it).
    besluit_scope: Mapping[str, frozenset[int] | None] | None = None
    names: tuple[str, ...] = ()  # further names to redact, beside the name lists

    @property
    def automatic(self) -> bool:
        return bool(self.auto_redact) if self.own_use else True

    @property
    def kind(self) -> str:
        """What the register records as the DIP's role."""
        return "own-use" if self.own_use else "woo" if self.woo_request else "requester"


@dataclass(frozen=True)
class Delivered:
    """A record as it is delivered (selected, redacted), with the media shown in it."""

    outcome: RecordOutcome
    conversation: Conversation
    media: Mapping[str, Path]


# Writes further files into a DIP's staging folder: (staging, delivered records, inventory rows) → files written.
ExtraFiles = Callable[[Path, Sequence["Delivered"], Sequence[inventory.Row]], list["DipFile"]]


@dataclass(frozen=True)
class DipFile:
    path: str
    size: int
    sha256: str
    source: str  # the AIP file it was copied from, or "edepot" for what the DIP made


@dataclass(frozen=True)
class RecordOutcome:
    """What one record contributed: its decision for the inventory, and the counts."""

    aip_id: str
    record_id: str
    title: str  # redacted; "" for a refused record
    decision: AccessDecision
    messages: int
    redactions: int
    withheld_messages: int
    folder: str
    missing: tuple[str, ...] = ()  # the record's files declared lost in the archive: not in the DIP

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"record_id": self.record_id, "delivered": self.decision.allowed,
                                "title": self.title}
        if self.decision.allowed:
            data |= {"aip_id": self.aip_id, "folder": self.folder or ".",
                     "messages": self.messages, "redactions": self.redactions,
                     "withheld_messages": self.withheld_messages, "missing": list(self.missing)}
        else:
            data |= {"decision": inventory.NOT_PUBLIC, "grounds": withheld_ground(self.decision),
                     "opens_on": self.decision.opens_on.isoformat() if self.decision.opens_on else None}
        return data


@dataclass(frozen=True)
class DipResult:
    dip_id: str
    aip_id: str  # the first delivered AIP (kept for callers of the one-AIP DIP)
    path: Path
    files: tuple[DipFile, ...]
    records: tuple[RecordOutcome, ...] = ()
    expires: date | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "dip_id": self.dip_id,
            "aip_id": self.aip_id,
            "path": str(self.path),
            "expires": self.expires.isoformat() if self.expires else None,
            "records": [r.to_dict() for r in self.records],
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }


@dataclass
class _Source:
    """One AIP read for delivery: facts, the whole conversation, and its catalogued files."""

    aip_id: str
    facts: RecordAccess
    conversation: Conversation
    files: list[FileRecord]  # those not declared lost
    archiefvormer: str
    missing: tuple[str, ...] = ()  # files declared lost


def create_dip(aip_id: str, out: Path, config: Config, *, store: UnitOfWork, by: str) -> DipResult:
    """The archive's own DIP of one whole AIP, unredacted, with the export as received, made by `by`."""
    request = DipRequest(requester=OWN_USE, purpose=OWN_USE, own_use=True)
    return build_dip(out, request, config, store=store, by=by, aip_ids=(aip_id,))


def build_dip(out: Path, request: DipRequest, config: Config, *, store: UnitOfWork, by: str,
              aip_ids: Sequence[str] = (), organisations: frozenset[str] | None = None,
              extra: ExtraFiles | None = None) -> DipResult:
    """Build a DIP of whole AIPs (`aip_ids`) or, without them, of a search selection (`request.query`) at `out`
    (absent or empty); it appears whole or not at all, is recorded in the access register as made by `by` and
    leaves a PREMIS dissemination event naming `by` on every AIP it delivers. AccessDenied when a named AIP is
    not open to the requester (outside a Woo request); DecisionNeeded when a Woo request's scope holds a record
    nobody decided on. A query searches only records of `organisations` (None: every organisation). The
    register entry, the events and the catalogue's DIP row are written in one transaction once the folder is
    whole. `extra` writes further files into the DIP before its manifest is made."""
    catalogue = store.catalogue
    aip_ids = resolve_aips(aip_ids, catalogue)
    out = out.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} already exists and is not an empty folder")
    now = config.clock()
    on = request.on or now.date()
    who = viewer_for(store.register, on, request.requester, archive=request.own_use)
    redactor = _redactor(request, organisation_names(config))
    selection = _selection(request, store, aip_ids, who, redactor, organisations)
    sources = []
    for aip_id in selection:
        record = catalogue.aip(aip_id)
        lost = {loss.path: loss for loss in catalogue.losses(aip_id)}
        files = [f for f in catalogue.files(aip_id) if f.path not in lost]
        read = record_access_from_mdto(read_verified(informatieobject_file(files, aip_id), aip_id, store.storage))
        facts = current_facts([read], store.register)[read.record_id]
        decision = decide(facts, who)
        if request.besluit_scope is not None:
            decision = AccessDecision(True, "Woo-besluit: per document beoordeeld")
        if aip_ids and not decision.allowed and not request.woo_request:
            opens = f"; open from {decision.opens_on.isoformat()}" if decision.opens_on else ""
            raise AccessDenied(f"record {facts.record_id} is not open to {request.requester} on {on.isoformat()}: "
                               f"{decision.reason}{opens}",
                               hint="an archivist can grant the requester a permit for the record")
        conversation = Conversation.from_dict({"source": {"format": "", "platform": "", "timezone": "UTC"},
                                               "participants": [], "messages": []})
        if decision.allowed and layout.CONVERSATION_JSON in lost:
            if aip_ids:
                raise InvalidPackage(f"the conversation of AIP {aip_id} was declared lost; there is nothing to "
                                     f"deliver ({lost[layout.CONVERSATION_JSON].reason})")
            decision = AccessDecision(False, "niet te verstrekken: het gesprek is in het archief verloren")
        if decision.allowed:
            conversation = Conversation.from_json(read_verified(
                file_of(files, layout.CONVERSATION_JSON, aip_id), aip_id, store.storage))
        sources.append((_Source(aip_id, facts, conversation, files, facts.archiefvormer or record.title,
                                tuple(lost)), decision))
    if request.woo_request:
        if request.besluit_scope is None:
            _refuse_undecided(sources)
        _hold_scope(catalogue, sources, request, by=by, now=now)
    result = _build(out, request, config, sources, selection, on=on, now=now, redactor=redactor,
                    stores=store.storage, extra=extra)
    entry = DipEntry(result.dip_id, str(out), request.requester, request.purpose, request.kind, on, now,
                     request.expires, DipState.DELIVERED, None, _selection_record(request, redactor),
                     len(result.files))
    delivered = [r for r in result.records if r.decision.allowed]
    with store.atomic():
        store.register.record_delivery(entry, [DeliveredAip(o.aip_id, o.record_id, _record_decision(o), o.messages,
                                                            o.redactions) for o in result.records], by)
        for outcome in delivered:
            catalogue.add_events(outcome.aip_id, [_dissemination_event(result, outcome, request, by=by,
                                                                       now=config.clock())])
        if len(delivered) == 1:
            catalogue.record_dip(result.dip_id, delivered[0].aip_id, out, now)
    return result


def resolve_aips(names: Sequence[str], catalogue: Catalogue) -> tuple[str, ...]:
    """AIP ids for names that are AIP ids or record kenmerken (a kenmerk: the newest kept AIP of that
    record); NotFound for a name that is neither."""
    if not names:
        return ()
    kept = catalogue.aips()  # oldest first
    ids = {a.aip_id for a in kept}
    newest = {a.record_id: a.aip_id for a in kept}
    resolved = []
    for name in names:
        if name not in ids and name in newest:
            resolved.append(newest[name])
        else:
            catalogue.aip(name)  # NotFound, or why it is gone
            resolved.append(name)
    return tuple(resolved)


def _refuse_undecided(sources: Sequence[tuple[_Source, AccessDecision]]) -> None:
    waiting = [(s.facts.record_id, why) for s, decision in sources if (why := needs_decision(s.facts, decision))]
    if waiting:
        raise DecisionNeeded(f"{len(waiting)} record(s) in scope need a decision on their openness first: "
                             + "; ".join(f"{record}: {why}" for record, why in waiting),
                             hint="an archivist decides the openness of each record first")


def _hold_scope(catalogue: Catalogue, sources: Sequence[tuple[_Source, AccessDecision]],
                request: DipRequest, *, by: str, now: datetime) -> None:
    """A hold "Woo-verzoek ID" on every record in scope (once), placed by `by`: none is destroyed until it is
    lifted. Placed before the DIP is built, so a delivery never exists without its holds (a failed build leaves
    them)."""
    hold_records(catalogue, (s.facts.record_id for s, _ in sources), WOO_HOLD.format(request.woo_request), by, now)


def build_dip_from_conversations(records: Sequence[tuple[str, RecordAccess, Conversation, Mapping[str, Path]]],
                                 out: Path, request: DipRequest, now: datetime) -> list[DipFile]:
    """The DIP's files from conversations in memory (no catalogue, no register, no media copied): for the
    benchmark of redaction and rendering. Every record is treated as open; the folder is published whole."""
    staging = out.parent / temporary_name(out.name, "partial")
    staging.mkdir(parents=True)
    redactor = _redactor(request)
    written: list[DipFile] = []
    outcomes: list[RecordOutcome] = []
    shown: list[tuple[RecordOutcome, Conversation, str, Mapping[str, Path]]] = []
    rows: list[inventory.Row] = []
    for n, (aip_id, facts, conversation, media) in enumerate(records):
        folder = _folder_name(n, facts.record_id) if len(records) > 1 else ""
        delivered, count, withheld, record_rows = _redacted_conversation(
            conversation, None, request, redactor, aip_id, facts)
        rows += record_rows
        target = staging / folder if folder else staging
        target.mkdir(parents=True, exist_ok=True)
        written += _write_record(target, folder, delivered, media, facts, redactor, request, "", now)
        outcome = RecordOutcome(aip_id, facts.record_id, redactor.clean(facts.title),
                                AccessDecision(True, "openbaar"), len(delivered.messages), count, withheld, folder)
        outcomes.append(outcome)
        shown.append((outcome, delivered, folder, media))
    written += _write_viewer(staging, shown, request)
    written += inventory.write(staging, rows, _inventory_heading(request, now), now)
    return _finish(staging, out, written, request, outcomes, "bench", now, redactor=redactor)


def _redactor(request: DipRequest, organisation: NameList | None = None) -> Redactor:
    """The DIP's redactor: automatic detection and every name list (the organisation's too, except for the
    archive's own use)."""
    names = [name for path in request.redact_names for name in NameList.from_file(path).names] + list(request.names)
    if organisation is not None and not request.own_use:
        names += organisation.names
    return Redactor(NameList(tuple(names)) if names else None, automatic=request.automatic)


def _selection(request: DipRequest, store: UnitOfWork, aip_ids: Sequence[str], who: Viewer,
               redactor: Redactor, organisations: frozenset[str] | None) -> dict[str, set[int] | None]:
    """AIP id → the seqs selected (None: every message). A requester's query finds only what they may see
    as it is delivered to them; a Woo request's scope also takes in, whole, each record whose content is
    withheld and where the query finds anything."""
    if aip_ids:
        scope = request.besluit_scope or {}
        return {aip_id: set(picked) if (picked := scope.get(aip_id)) is not None else None
                for aip_id in dict.fromkeys(aip_ids)}
    terms = parse_query(request.query or "")
    index = store.search
    records = of_organisations(store, matching_records(index, request.filters), organisations)
    facts = current_facts((r.access for r in records), store.register)
    shown = [r for r in records if decide(facts[r.record_id], who).allowed]
    if who.archive:
        hits = index.find_messages(terms, request.filters, shown, None)
    else:
        guard = QueryGuard(terms, redactor, request.filters.participant)
        hits, _ = guarded_page(lambda at, size: index.find_messages(guard.index_terms, request.filters, shown,
                                                                    size, "chat", at), guard, None)
    by_key = {r.record_key: r for r in shown}
    chosen: dict[str, set[int] | None] = {}
    for hit in hits:
        seqs = chosen.setdefault(by_key[hit.record_key].aip_id, set())
        assert seqs is not None
        seqs.update(range(hit.seq - request.context, hit.seq + request.context + 1))
    if request.woo_request:
        seen = {r.record_key for r in shown}
        for record in records:
            if record.record_key not in seen and index.find_messages(terms, request.filters, [record], 1):
                chosen[record.aip_id] = None
    if not chosen:
        raise InputError(f"the query {request.query!r} finds no message with these filters",
                         hint="AIPs ingested before the search index existed are found once it is rebuilt")
    return chosen


def _build(out: Path, request: DipRequest, config: Config, sources: Sequence[tuple[_Source, AccessDecision]],
           selection: Mapping[str, set[int] | None], *, on: date, now: datetime, redactor: Redactor,
           stores: Sequence[BlobStore], extra: ExtraFiles | None = None) -> DipResult:
    clear_dip_leftovers(config)
    staging = out.parent / temporary_name(out.name, "partial")
    claim = claim_work(config.locks_dir, DIP_WORK, now.isoformat())
    claim.note(staging)  # a killed run's staging is then found and removed (access/purge.py)
    try:
        staging.mkdir(parents=True)
        written: list[DipFile] = []
        outcomes: list[RecordOutcome] = []
        rows: list[inventory.Row] = []
        shown: list[tuple[RecordOutcome, Conversation, str, Mapping[str, Path]]] = []
        several = len(sources) > 1
        for n, (source, decision) in enumerate(sources):
            seqs = selection[source.aip_id]
            if not decision.allowed:
                title = redactor.clean(source.facts.title)
                rows.append(_withheld_row(source.facts, title, decision))
                outcomes.append(RecordOutcome(source.aip_id, source.facts.record_id, title, decision, 0, 0, 0, ""))
                continue
            folder = _folder_name(n, source.facts.record_id) if several else ""
            delivered, count, withheld, record_rows = _redacted_conversation(
                source.conversation, seqs, request, redactor, source.aip_id, source.facts)
            rows += record_rows
            target = staging / folder if folder else staging
            target.mkdir(parents=True, exist_ok=True)
            media = _copy_media(source, delivered, target, folder, stores)
            whole = seqs is None and count == 0 and withheld == 0 and not _withheld_media(delivered)
            written += [f for f, _ in media.values()]
            if whole:  # the whole record unredacted: the export as received, and everything unpacked from it
                written += _copy_originals(source, target, folder, stores)
                written += _copy_remaining_media(source, target, folder, stores, {f.path for f, _ in media.values()})
            shown_media = {name: p for name, (_, p) in media.items()}
            written += _write_record(target, folder, delivered, shown_media, source.facts, redactor, request,
                                     source.archiefvormer, now,
                                     export_messages=max((m.seq for m in source.conversation.messages), default=0))
            outcome = RecordOutcome(source.aip_id, source.facts.record_id, redactor.clean(source.facts.title),
                                    decision, len(delivered.messages), count, withheld, folder, source.missing)
            outcomes.append(outcome)
            shown.append((outcome, delivered, folder, shown_media))
        written += _write_viewer(staging, shown, request)
        rows.sort(key=lambda r: (r.record_id, r.seq or 0))
        written += inventory.write(staging, rows, _inventory_heading(request, now), now)
        if extra is not None:
            written += extra(staging, [Delivered(o, c, m) for o, c, _, m in shown], rows)
        dip_id = str(uuid.uuid4())
        files = _finish(staging, out, written, request, outcomes, dip_id, now, on=on,
                        redactor=redactor)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        claim.release()
    first = next((o.aip_id for o in outcomes if o.decision.allowed), "")
    return DipResult(dip_id, first, out, tuple(files), tuple(outcomes), request.expires)


def _record_decision(outcome: RecordOutcome) -> str:
    if not outcome.decision.allowed:
        return inventory.NOT_PUBLIC
    return inventory.PARTLY_PUBLIC if outcome.redactions or outcome.withheld_messages else inventory.PUBLIC


def _folder_name(n: int, record_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", record_id).strip("._") or "record"
    return f"records/{n + 1:02d}-{safe[:60]}"


def _withheld_row(facts: RecordAccess, title: str, decision: AccessDecision) -> inventory.Row:
    """The one inventory row of a record whose content is withheld: its description and legal ground."""
    begin, end = facts.period
    period = " t/m ".join(dict.fromkeys(d.isoformat() for d in (begin, end) if d))
    return inventory.Row(facts.record_id, None, None, inventory.NOT_PUBLIC, withheld_ground(decision), 0, "",
                         title=title, period=period)


def _redacted_conversation(conversation: Conversation, seqs: set[int] | None, request: DipRequest,
                           redactor: Redactor, aip_id: str, facts: RecordAccess
                           ) -> tuple[Conversation, int, int, list[inventory.Row]]:
    """The delivered conversation (selected messages, redacted), the counts of passages and withheld
    messages, and an inventory row per message."""
    known = {m.seq for m in conversation.messages}
    manual: dict[int, list[Passage]] = {}
    for item in request.manual:
        if item.aip in (None, aip_id, facts.record_id):
            if item.seq not in known:
                raise InputError(f"a redaction names message {item.seq}, which record {facts.record_id} does not have")
            manual.setdefault(item.seq, []).append(Passage(item.start, item.end, item.ground, "manual"))
    withheld = {w.seq: w for w in request.withhold if w.aip in (None, aip_id, facts.record_id)}
    for seq in withheld:
        if seq not in known:
            raise InputError(f"a withheld message {seq} is not in record {facts.record_id}")
    messages: list[Message] = []
    rows: list[inventory.Row] = []
    passages = withheld_count = 0
    unchanged: set[int] = set()
    for message in conversation.messages:
        if seqs is not None and message.seq not in seqs:
            continue
        sender = redactor.person(message.sender)
        if message.seq in withheld:
            withholding = withheld[message.seq]
            withheld_count += 1
            messages.append(Message(message.seq, message.timestamp, sender, MessageKind.TEXT,
                                    withholding.placeholder))
            rows.append(inventory.Row(facts.record_id, message.seq, message.timestamp, withholding.decision,
                                      withholding.ground, 0, withholding.note))
            continue
        redacted = redactor.text(message.text, manual.get(message.seq, ()))
        text, attachments = redacted.text, message.attachments
        grounds = {p.ground for p in redacted.passages}
        count = len(redacted.passages)
        for attachment in attachments:  # a file name that must be redacted takes its file along
            found = redactor.passages(attachment.name)
            grounds |= {p.ground for p in found}
            count += len(found)
        if sender != message.sender:
            grounds |= {p.ground for p in redactor.passages(message.sender or "")}
            count += 1
        if count and attachments:  # any redaction, the sender's name too: the media may show what was redacted
            shorts = ", ".join(sorted(short_ground(g) for g in grounds))
            text = (text + " " if text else "") + f"[bijlage achtergehouden: {shorts}]"
            attachments = ()
        passages += count
        if not count:
            unchanged.add(message.seq)
        messages.append(Message(message.seq, message.timestamp, sender, message.kind, text, attachments,
                                message.edited))
        decision = inventory.PARTLY_PUBLIC if grounds else inventory.PUBLIC
        rows.append(inventory.Row(facts.record_id, message.seq, message.timestamp, decision,
                                  ", ".join(sorted(grounds)), count, ""))
    source = conversation.source
    delivered = Conversation(
        source=Source(source.format, source.platform, source.locale, source.timezone,
                      tuple(SourceFile(redactor.clean(f.name), f.size, f.sha256) for f in source.files),
                      _delivered_notes(source.inferred, {m.seq for m in messages} - set(withheld), unchanged,
                                       redactor)),
        participants=participants_of(messages),
        messages=tuple(messages),
        title=redactor.clean(conversation.title) if conversation.title else None,
        custodian=_redacted_custodian(conversation.custodian, redactor),
    )
    return delivered, passages, withheld_count, rows


def _delivered_notes(inferred: dict[str, Any], shown: set[int], unchanged: set[int], redactor: Redactor
                     ) -> dict[str, Any]:
    """The replies, reactions and earlier versions the viewer shows beside the delivered messages: reactors'
    names redacted as senders are; earlier versions only of messages delivered without any redaction (a
    passage taken out of the text shown may stand in an earlier version)."""
    def of(key: str, kept: set[int]) -> dict[str, Any]:
        found = inferred.get(key)
        return {k: v for k, v in found.items() if str(k).isdigit() and int(k) in kept} if isinstance(found, dict) else {}

    reactions = {k: [_redacted_reaction(str(r), redactor) for r in v] for k, v in of("reactions", shown).items()
                 if isinstance(v, list)}
    replies = {k: v for k, v in of("replies", shown).items() if isinstance(v, int) and not isinstance(v, bool)}
    edits = {k: [{"time": e.get("time", ""), "text": redactor.clean(str(e.get("text", "")))} for e in v
                 if isinstance(e, dict)] for k, v in of("edits", shown & unchanged).items() if isinstance(v, list)}
    notes = {"replies": replies, "reactions": reactions, "edits": edits}
    return {key: value for key, value in notes.items() if value}


def _redacted_reaction(reaction: str, redactor: Redactor) -> str:
    who, separator, what = reaction.rpartition(": ")
    return f"{redactor.person(who)}{separator}{what}" if separator else redactor.clean(reaction)


def _redacted_custodian(custodian: Custodian | None, redactor: Redactor) -> Custodian | None:
    """The custodian under the same pseudonym as their messages when their name must go."""
    if custodian is None:
        return None
    return Custodian(redactor.person(custodian.name) or custodian.name,
                     redactor.clean(custodian.function) if custodian.function else None, custodian.export_name)


def _withheld_media(conversation: Conversation) -> bool:
    return any("[bijlage achtergehouden" in m.text for m in conversation.messages)


def _media_files(files: Sequence[FileRecord], name: str) -> list[FileRecord]:
    """The AIP's files for an attachment name: the unpacked member, loose originals, derived copies. The name
    is a file name, or a path the export gives (an MMS part `backup.parts/…`, a Telegram `chats/…/photo.jpg`)."""
    found = []
    for f in files:
        base = f.path.rsplit("/", 1)[-1]
        if f.path.startswith(layout.MEDIA + "/"):
            relative = f.path[len(layout.MEDIA) + 1:]
            if name in (base, relative) or base.startswith(name + ".") or relative.startswith(name + "."):
                found.append(f)
        elif f.path.startswith(layout.ORIGINAL + "/"):
            relative = f.path[len(layout.ORIGINAL) + 1:]
            # an export folder's files are named below the folder (`<folder>/photos/…` holds `photos/…`)
            if name in (base, relative, relative.split("/", 1)[-1]):
                found.append(f)
    return found


def _copy_media(source: _Source, delivered: Conversation, target: Path, folder: str,
                stores: Sequence[BlobStore]) -> dict[str, tuple[DipFile, Path]]:
    """Copy the media of delivered attachments; name → (file, path shown in the rendering)."""
    copied: dict[str, tuple[DipFile, Path]] = {}
    shown: dict[str, tuple[DipFile, Path]] = {}
    shown_keys: set[str] = set()
    for message in delivered.messages:
        for attachment in message.attachments:
            for record in _media_files(source.files, attachment.name):
                base = record.path.rsplit("/", 1)[-1]
                if base in copied:
                    continue
                place = f"media/{base}"
                copied[base] = (_copy_verified(record, target / place, _join(folder, place), source.aip_id, stores),
                                target / place)
            key = attachment.name.rsplit("/", 1)[-1]  # media/ is flat: an attachment named by a path is found by its file name
            derived_png = copied.get(key + ".png")
            if key in copied:
                shown[attachment.name] = derived_png or copied[key]
                shown_keys.add(key)
    return {**{k: v for k, v in copied.items() if k not in shown and k not in shown_keys}, **shown}


def _copy_originals(source: _Source, target: Path, folder: str, stores: Sequence[BlobStore]) -> list[DipFile]:
    files = []
    for record in source.files:
        if record.path.startswith(layout.ORIGINAL + "/"):
            place = "original/" + record.path[len(layout.ORIGINAL) + 1:]
            files.append(_copy_verified(record, target / place, _join(folder, place), source.aip_id, stores))
    return files


def _copy_remaining_media(source: _Source, target: Path, folder: str, stores: Sequence[BlobStore],
                          done: set[str]) -> list[DipFile]:
    files = []
    for record in source.files:
        if record.path.startswith(layout.MEDIA + "/"):
            place = "media/" + record.path[len(layout.MEDIA) + 1:]
            if _join(folder, place) not in done and not (target / place).exists():
                files.append(_copy_verified(record, target / place, _join(folder, place), source.aip_id, stores))
    return files


def _join(folder: str, place: str) -> str:
    return f"{folder}/{place}" if folder else place


def _write_record(target: Path, folder: str, conversation: Conversation, media: Mapping[str, Path],
                  facts: RecordAccess, redactor: Redactor, request: DipRequest,
                  archiefvormer: str, now: datetime, export_messages: int | None = None) -> list[DipFile]:
    if request.own_use:
        rows = [("Verstrekt voor", OWN_USE_LABEL)]
    else:
        rows = [("Verstrekt aan", request.requester), ("Doel", request.purpose)]
    if request.woo_request:
        rows.insert(0, ("Woo-verzoek", request.woo_request))
    rows.append(("Datum verzoek", (request.on or now.date()).isoformat()))
    if request.expires:
        rows.append(("Te gebruiken tot en met", request.expires.isoformat()))
    if request.query:
        rows.append(("Selectie", f"berichten gevonden met: {redactor.clean(request.query)}"))
    context = RenderContext(title=redactor.clean(facts.title) or "Chatgesprek", identifier=facts.record_id,
                            archiefvormer=redactor.clean(archiefvormer) or "onbekend",
                            description_rows=tuple(rows), created=now, export_messages=export_messages)
    pdf = render_conversation_pdf(conversation, media, context)
    written = [write_file(target / "conversation.pdf", pdf, _join(folder, "conversation.pdf"))]
    written.append(write_file(target / "conversation.json", conversation.to_json().encode("utf-8"),
                          _join(folder, "conversation.json")))
    return written


def _write_viewer(staging: Path, shown: Sequence[tuple[RecordOutcome, Conversation, str, Mapping[str, Path]]],
                  request: DipRequest) -> list[DipFile]:
    html = viewer.render_html([viewer.ViewerRecord(o.record_id, o.title, c, folder, media)
                               for o, c, folder, media in shown],
                              heading=_heading(request))
    return [write_file(staging / "viewer.html", html.encode("utf-8"), "viewer.html")]


def _heading(request: DipRequest) -> str:
    """What the viewer's heading says the delivery is: the archive's own copy, or for whom, why, and for
    which Woo request."""
    if request.own_use:
        return OWN_USE_LABEL
    return (f"Verstrekt aan {request.requester}: {request.purpose}"
            + (f" (Woo-verzoek {request.woo_request})" if request.woo_request else ""))


def _inventory_heading(request: DipRequest, now: datetime) -> inventory.Heading:
    return inventory.Heading(requester=OWN_USE_LABEL if request.own_use else request.requester,
                             purpose=request.purpose, on=(request.on or now.date()), expires=request.expires,
                             woo_request=request.woo_request)


def _selection_record(request: DipRequest, redactor: Redactor) -> dict[str, Any]:
    data: dict[str, Any] = {"role": request.kind, "automatic_redaction": request.automatic,
                            "manual_redactions": len(request.manual), "withheld": len(request.withhold),
                            "name_lists": len(request.redact_names)}
    if request.query:
        data |= {"query": redactor.clean(request.query),
                 "filters": {k: redactor.clean(str(v)) for k, v in request.filters.to_dict().items()},
                 "context": request.context}
    return data


def _finish(staging: Path, out: Path, written: list[DipFile], request: DipRequest,
            outcomes: Sequence[RecordOutcome], dip_id: str, now: datetime, on: date | None = None,
            redactor: Redactor | None = None) -> list[DipFile]:
    """dip.json, INVENTARIS.txt and the manifest; then the folder is published with one rename."""
    redactor = redactor or _redactor(request)
    description = {
        "dip_id": dip_id, "requester": request.requester, "purpose": request.purpose,
        "own_use": request.own_use, "woo_request": request.woo_request,
        "request_date": (on or request.on or now.date()).isoformat(), "created": now.isoformat(),
        "expires": request.expires.isoformat() if request.expires else None,
        "selection": _selection_record(request, redactor), "records": [o.to_dict() for o in outcomes],
    }
    written.append(write_file(staging / "dip.json", (json.dumps(description, ensure_ascii=False, indent=2) + "\n")
                          .encode("utf-8"), "dip.json"))
    written.sort(key=lambda f: f.path)
    _write_inventory_txt(staging, written, request, dip_id, now, outcomes=outcomes)
    (staging / "manifest-sha256.txt").write_text("".join(f"{f.sha256}  {f.path}\n" for f in written),
                                                 encoding="utf-8")
    if out.exists():
        out.rmdir()
    publish_directory(staging, out)
    return written


def write_file(path: Path, data: bytes, place: str) -> DipFile:
    """Write one file the DIP makes itself (not copied from the AIP) and describe it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return DipFile(place, len(data), hashlib.sha256(data).hexdigest(), "edepot")


def _copy_verified(record: FileRecord, target: Path, place: str, aip_id: str, stores: Sequence[BlobStore]) -> DipFile:
    """Copy one AIP file from the first replica whose copy has the catalogued sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for store in stores:
        digest = hashlib.sha256()
        try:
            with store.get(aip_key(aip_id, record.path)) as src, open(target, "wb") as dst:
                while block := src.read(1 << 20):
                    digest.update(block)
                    dst.write(block)
        except BlobNotFound:
            continue
        if digest.hexdigest() == record.sha256:
            return DipFile(place, record.size, record.sha256, record.path)
    raise no_intact_copy(record, aip_id)


def _write_inventory_txt(root: Path, files: list[DipFile], request: DipRequest, dip_id: str,
                         created: datetime, *, outcomes: Sequence[RecordOutcome] = ()) -> None:
    missing = [f"{o.record_id}: {path}" for o in outcomes if o.decision.allowed for path in o.missing]
    width = max((len(f.path) for f in files), default=10)
    lines = [
        "INVENTARIS",
        "",
        f"DIP:                    {dip_id}",
        *([f"Woo-verzoek:            {request.woo_request}"] if request.woo_request else []),
        f"Verstrekt aan:          {OWN_USE_LABEL if request.own_use else request.requester}",
        f"Doel:                   {request.purpose}",
        f"Samengesteld op:        {created.isoformat()}",
        f"Te gebruiken tot:       {request.expires.isoformat() if request.expires else 'onbeperkt'}",
        "",
        "conversation.pdf is de leesbare weergave (PDF/A-2b); conversation.json het gesprek als gegevens;",
        "viewer.html toont het gesprek als chat in een browser (zonder internet); inventarislijst.csv/.pdf",
        "geeft per bericht het besluit (openbaar, deels openbaar, niet openbaar) en de gronden;",
        "original/ bevat de export precies zoals ontvangen (alleen bij een volledig, ongelakt gesprek);",
        "media/ de bestanden bij de verstrekte berichten. Gelakte passages zijn verwijderd, niet afgedekt.",
        "Controleer de bestanden met: sha256sum -c manifest-sha256.txt",
        "",
        f"{'bestand'.ljust(width)}  {'bytes':>12}  sha256",
        *(f"{f.path.ljust(width)}  {f.size:>12}  {f.sha256}" for f in files),
        "",
        *(["Ontbreekt: in het archief verloren verklaard (geen kopie meer), daarom niet in deze levering:",
           *missing, ""] if missing else []),
    ]
    (root / "INVENTARIS.txt").write_text("\n".join(lines), encoding="utf-8")


def _dissemination_event(result: DipResult, outcome: RecordOutcome, request: DipRequest, *, by: str,
                         now: datetime) -> PremisEvent:
    return PremisEvent(
        identifier=str(uuid.uuid4()),
        type="dissemination",
        date_time=now,
        detail=f"DIP {result.dip_id} created at {result.path} for {request.requester} ({request.purpose})"
               + (f", Woo request {request.woo_request}" if request.woo_request else ""),
        outcome="success",
        outcome_detail=(f"{outcome.messages} messages, {outcome.redactions} passages redacted, "
                        f"{outcome.withheld_messages} withheld; every file verified against its sha256 while copied"),
        agents=(EDEPOT_AGENT_ID, f"person:{by}"),
        source_objects=(),
        outcome_objects=(),
    )
