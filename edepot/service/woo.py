"""The Depot's rules for Woo requests: a request of one organisation, its scope, a decision per document, the
besluit and the closing.

A request belongs to the organisation it was made to; only Woo officers of that organisation see it, build its
scope (from that organisation's records only) and decide on its documents. Every record that enters the scope
is held ("Woo-verzoek ID") until the request is closed, which is possible once the objection period after the
besluit has passed. A decision is changeable until the besluit; the besluit is refused while any document in
scope is undecided, and delivers only what was decided open, with its redactions burnt in (`access.dip`), the
inventarislijst, a PDF per delivered document named by its id, and the productierapport (`access.woo`).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from edepot.service.base import DepotBase, audited
from kernel.errors import DecisionNeeded, InputError, NotFound
from preservation.woo_register import (
    CLOSED,
    DECIDED,
    DELIVERED,
    IN_PROGRESS,
    RECEIVED,
    SUSPENDED,
    Redaction,
    ScopeEntry,
    WooDecision,
    WooRequest,
)

if TYPE_CHECKING:
    from access import inventory
    from access.dip import Delivered, DipFile, DipResult
    from access.redaction import Withholding
    from preservation.job_register import JobRecord
    from preservation.search_index import Filters, IndexedMessage, IndexedRecord

HANDLE = "handle Woo requests"
DECIDE = "decide on Woo documents"
DELIVER = "deliver a Woo decision"


@dataclass(frozen=True)
class Document:
    """A document in scope (or context around one) as the officer reads it: the message as the archive holds it,
    the record's restriction from its metadata beside it, and the decision taken, if any."""

    document_id: str
    record_id: str
    seq: int | None
    context: bool
    timestamp: datetime | None
    sender: str
    text: str
    restriction: str  # the record's beperkingGebruik, as its metadata (or a later decision) gives it
    decision: WooDecision | None
    zaak: str = ""  # the kenmerk of the record's zaak
    archiefvormer: str = ""
    metadata_open: bool = False  # whether the record's metadata makes it public (else closed, restricted, undecided)


@dataclass(frozen=True)
class DocumentFilter:
    """Which documents a decision in bulk applies to: named ones, a record's, a date range; `undecided` only
    those nobody decided yet. Context messages are taken only when named."""

    documents: tuple[str, ...] = ()
    records: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    undecided: bool = False


@dataclass(frozen=True)
class Verdict:
    """What a decision says of a document."""

    beoordeling: str
    grounds: tuple[str, ...] = ()
    toelichting: str = ""
    opgeschort: bool = False
    link: str = ""
    redactions: tuple[Redaction, ...] = ()


class WooService(DepotBase):
    """Woo requests, each handled by Woo officers of its organisation."""

    # -- the request

    @audited("woo open")
    def open_request(self, request_id: str, *, requester: str, subject: str, received: date,
                     organisation: str | None = None) -> WooRequest:
        """Register a Woo request received on `received`, with its decision deadline (four weeks); refused when
        the id is taken. The organisation is the one named, else the one the acting officer serves."""
        from access.woo import deadline_of

        request_id, requester, subject = request_id.strip(), requester.strip(), subject.strip()
        if not request_id or not requester or not subject:
            raise InputError("a Woo request needs its id, its requester and its subject")
        if received > self.now().date():
            raise InputError(f"a request received on {received.isoformat()} lies in the future")
        owner = self._organisation_for(organisation)
        person = self.authorise(HANDLE, [owner] if owner else None)
        if self.store.woo.request(request_id) is not None:
            raise InputError(f"Woo request {request_id} exists already")
        request = WooRequest(request_id, owner, requester, subject, received, deadline_of(received), False,
                             RECEIVED, person.name, self.now())
        self.store.woo.save_request(request)
        return request

    def _organisation_for(self, named: str | None) -> str:
        organisations = self.store.directory.organisations()
        if named:
            for organisation in organisations:
                if named.strip().casefold() in (organisation.organisation_id.casefold(), organisation.name.casefold()):
                    return organisation.organisation_id
            raise NotFound(f"no organisation {named!r}", hint="list the organisations the e-Depot serves")
        if not organisations:
            return ""
        reach = self.reach(HANDLE)
        served = sorted(reach) if reach is not None else [o.organisation_id for o in organisations]
        if len(served) != 1:
            raise InputError("name the organisation the request was made to", hint="--organisation ID")
        return served[0]

    @audited("woo show")
    def request(self, request_id: str) -> WooRequest:
        """The request, when the acting person handles Woo requests of its organisation; NotFound otherwise."""
        found = self.store.woo.request(request_id)
        reach = self.reach(HANDLE)
        if found is None or (reach is not None and found.organisation not in reach):
            raise NotFound(f"no Woo request {request_id!r}", hint="list the Woo requests you handle")
        if not self._anonymous_reading():
            self.authorise(HANDLE, [found.organisation] if found.organisation else None)
        return found

    @audited("woo list")
    def requests(self) -> list[WooRequest]:
        """The requests of the organisations whose requests the acting person handles, oldest received first."""
        reach = self.reach(HANDLE)
        return [r for r in self.store.woo.requests() if reach is None or r.organisation in reach]

    @audited("woo extend")
    def extend(self, request_id: str, *, reason: str) -> WooRequest:
        """Take the one extension of two weeks (Woo art. 4.4 lid 2), with its reason."""
        from access.woo import EXTENSION

        request = self._open(request_id)
        if request.extended:
            raise InputError(f"Woo request {request_id} was extended already: the term extends once")
        if not reason.strip():
            raise InputError("an extension needs its reason")
        changed = replace(request, extended=True, deadline=request.deadline + EXTENSION)
        self.store.woo.save_request(changed)
        return changed

    @audited("woo suspend")
    def suspend(self, request_id: str) -> WooRequest:
        """Suspend the term (opgeschort), e.g. while third parties give their view; the days do not count."""
        request = self._open(request_id)
        if request.state == SUSPENDED:
            raise InputError(f"Woo request {request_id} is suspended already")
        changed = replace(request, state=SUSPENDED, suspended_since=self.now().date())
        self.store.woo.save_request(changed)
        return changed

    @audited("woo resume")
    def resume(self, request_id: str) -> WooRequest:
        """End the suspension: the deadline moves on by the days it lasted."""
        request = self._open(request_id)
        if request.state != SUSPENDED or request.suspended_since is None:
            raise InputError(f"Woo request {request_id} is not suspended")
        days = self.now().date() - request.suspended_since
        changed = replace(request, state=IN_PROGRESS, suspended_since=None, deadline=request.deadline + days)
        self.store.woo.save_request(changed)
        return changed

    def _open(self, request_id: str, action: str = HANDLE) -> WooRequest:
        """The request, still open to change (before its besluit); the acting person may `action` on it."""
        request = self.request(request_id)
        self.authorise(action, [request.organisation] if request.organisation else None)
        if request.state in (DECIDED, DELIVERED, CLOSED):
            raise InputError(f"Woo request {request_id} has its besluit ({request.state}): it no longer changes")
        return request

    # -- the scope

    @audited("woo scope")
    def add_to_scope(self, request_id: str, *, query: str | None = None, filters: Filters | None = None,
                     seqs: Sequence[int] = (), whole: bool = False, context: int = 0) -> int:
        """Add to the scope the messages a search finds (words and/or filters, within the request's
        organisation), or of the record `filters.aip` the messages `seqs` (all when none), or that record as one
        whole document (`whole`); `context` messages before and after each hit come along as context. Each record
        entering the scope is held. Returns how many documents the scope gained."""
        from access.dip import WOO_HOLD
        from preservation.retention import hold_records
        from preservation.search_index import Filters, parse_query

        request = self._open(request_id)
        person = self.authorise(HANDLE, [request.organisation] if request.organisation else None)
        filters = filters or Filters()
        if not (query or "").strip() and not filters.narrows():
            raise InputError("say what enters the scope: words to search for, a record, or a date range")
        if (seqs or whole) and not filters.aip:
            raise InputError("name the record whose messages are picked", hint="--record KENMERK")
        records = self._records(request, filters)
        if not records:
            raise NotFound("no record of this request's organisation matches", hint="check the record's kenmerk")
        terms = parse_query(query) if query and query.strip() else []
        hits = self.search_index.find_messages(terms, filters, records, None)
        by_key = {r.record_key: r for r in records}
        now, origin = self.now(), _origin(query, filters, seqs, whole)
        entries: dict[tuple[str, int | None], ScopeEntry] = {}
        if whole:
            for record in records:
                entries[(record.record_id, None)] = ScopeEntry(request_id, record.record_id, None, False, origin,
                                                               person.name, now)
        else:
            wanted = set(seqs)
            if wanted and (missing := wanted - {h.seq for h in hits}):
                raise InputError(f"record {records[0].record_id} has no message {min(missing)}")
            found = [h for h in hits if not wanted or h.seq in wanted]
            if not found:
                raise InputError("the search finds no message", hint="try other words or a wider date range")
            for hit in found:
                record_id = by_key[hit.record_key].record_id
                entries[(record_id, hit.seq)] = ScopeEntry(request_id, record_id, hit.seq, False, origin,
                                                           person.name, now)
            for hit in found if context else ():
                record = by_key[hit.record_key]
                for seq in range(max(1, hit.seq - context), min(record.messages, hit.seq + context) + 1):
                    entries.setdefault((record.record_id, seq), ScopeEntry(
                        request_id, record.record_id, seq, True, f"context bij bericht {hit.seq}", person.name, now))
        whole_chats = {s.record_id for s in self.store.woo.scope(request_id) if s.seq is None}
        clash = sorted({record for record, seq in entries if seq is not None and record in whole_chats})
        if clash:
            raise InputError(f"{clash[0]} is in scope as one whole document already",
                             hint="remove it from the scope first to pick its messages")
        with self.store.atomic():
            if whole:
                for record in records:
                    self.store.woo.remove_from_scope(request_id, record.record_id, None)
            gained = self.store.woo.add_to_scope(list(entries.values()))
            hold_records(self.catalogue, sorted({record for record, _ in entries}),
                         WOO_HOLD.format(request.request_id), person.name, self.now())
            if request.state == RECEIVED:
                self.store.woo.save_request(replace(request, state=IN_PROGRESS))
        return gained

    def _records(self, request: WooRequest, filters: Filters) -> list[IndexedRecord]:
        from access.search import of_organisations
        from preservation.search_index import matching_records

        organisations = frozenset({request.organisation}) if request.organisation else None
        return of_organisations(self.store, matching_records(self.search_index, filters), organisations)

    @audited("woo scope remove")
    def remove_from_scope(self, request_id: str, *, record: str, seqs: Sequence[int] = ()) -> int:
        """Take a record's documents (only `seqs` when given) and their decisions out of the scope; the hold
        stays until the request is closed. Returns how many were removed."""
        self._open(request_id)
        removed = self.store.woo.remove_from_scope(request_id, record, list(seqs) or None)
        if not removed:
            raise NotFound(f"record {record} has no such documents in the scope of {request_id}")
        return removed

    @audited("woo documents")
    def documents(self, request_id: str) -> list[Document]:
        """Every document in scope and the context around them, as the archive holds them, each with its record's
        restriction and its decision."""
        from access.woo import document_id
        from preservation.record_access import Openness
        from preservation.search_index import Filters

        request = self.request(request_id)
        scope = self.store.woo.scope(request_id)
        decided = {(d.record_id, d.seq): d for d in self.store.woo.decisions(request_id)}
        records = {r.record_id: r for r in self._records(request, Filters())}
        messages: dict[str, dict[int, IndexedMessage]] = {}
        for record_id in dict.fromkeys(s.record_id for s in scope):
            if record_id in records:
                found = self.search_index.find_messages([], Filters(), [records[record_id]], None)
                messages[record_id] = {m.seq: m for m in found}
        documents = []
        for entry in scope:
            record = records.get(entry.record_id)
            restriction = _restriction(record) if record else "niet meer in het archief"
            zaken = record.access.zaken if record else ()
            held = messages.get(entry.record_id, {})
            message = held.get(entry.seq) if entry.seq is not None else None
            first = message or (held[min(held)] if held else None)
            text = message.text if message else (f"het hele gesprek ({len(held)} berichten): {record.title}"
                                                 if record else "")
            documents.append(Document(document_id(entry.record_id, entry.seq), entry.record_id, entry.seq,
                                      entry.context, first.timestamp if first else None,
                                      (message.sender or "") if message else "", text, restriction,
                                      decided.get((entry.record_id, entry.seq)),
                                      next((z.kenmerk for z in zaken if z.kenmerk), ""),
                                      record.access.archiefvormer if record else "",
                                      record is not None and record.access.openness is Openness.OPEN))
        return documents

    # -- decisions

    @audited("woo decide")
    def decide(self, request_id: str, which: DocumentFilter, verdict: Verdict) -> int:
        """Decide the documents `which` selects, as the acting Woo officer (changeable until the besluit); a
        context message named becomes a document. Returns how many documents were decided."""
        request = self._open(request_id, DECIDE)
        chosen = self._select(request_id, which)
        if not chosen:
            raise InputError("no document in scope matches these conditions")
        self._record(request, [(d, verdict) for d in chosen])
        return len(chosen)

    @audited("woo decide sheet")
    def decide_from_sheet(self, request_id: str, sheet: Path) -> int:
        """Decide the documents a sheet lists (CSV or XLSX: ID, Beoordeling, Beoordelingsgrond, Toelichting,
        Opgeschort, Publieke link), all or none: InputError naming the first bad row."""
        from access.woo import beoordeling_of, grounds_of, parse_document_id, read_sheet

        request = self._open(request_id, DECIDE)
        documents = {(d.record_id, d.seq): d for d in self.documents(request_id)}
        records = {record_id for record_id, _ in documents}
        taken: list[tuple[Document, Verdict]] = []
        for row in read_sheet(sheet):
            try:
                document = documents[parse_document_id(row.document, records)]
                verdict = Verdict(beoordeling_of(row.beoordeling), grounds_of(row.grounds), row.toelichting,
                                  row.opgeschort, row.link)
                _check(document, verdict)
            except (InputError, KeyError) as error:
                why = getattr(error, "message", f"{row.document} is not in the scope")
                raise InputError(f"{sheet.name} row {row.line}: {why}") from None
            taken.append((document, verdict))
        if not taken:
            raise InputError(f"{sheet.name} decides nothing: no row has an ID and a Beoordeling")
        self._record(request, taken)
        return len(taken)

    def _select(self, request_id: str, which: DocumentFilter) -> list[Document]:
        documents = self.documents(request_id)
        named = set(which.documents)
        unknown = named - {d.document_id for d in documents}
        if unknown:
            raise InputError(f"{sorted(unknown)[0]} is not in the scope of {request_id}")
        chosen = []
        for document in documents:
            if named:
                if document.document_id not in named:
                    continue
            elif document.context:
                continue
            if which.records and document.record_id not in which.records:
                continue
            day = document.timestamp.date() if document.timestamp else None
            if day and ((which.date_from and day < which.date_from) or (which.date_to and day > which.date_to)):
                continue
            if which.undecided and document.decision is not None:
                continue
            chosen.append(document)
        return chosen

    def _record(self, request: WooRequest, taken: Sequence[tuple[Document, Verdict]]) -> None:
        person = self.authorise(DECIDE, [request.organisation] if request.organisation else None)
        now = self.now()
        for document, verdict in taken:
            _check(document, verdict)
        with self.store.atomic():
            promoted = [ScopeEntry(request.request_id, d.record_id, d.seq, False, "beslist als document",
                                   person.name, now) for d, _ in taken if d.context]
            if promoted:
                self.store.woo.add_to_scope(promoted)
            self.store.woo.decide([WooDecision(request.request_id, d.record_id, d.seq, v.beoordeling, v.grounds,
                                               v.toelichting.strip(), v.opgeschort, v.link.strip(), v.redactions,
                                               person.name, now) for d, v in taken])
            if request.state == RECEIVED:
                self.store.woo.save_request(replace(request, state=IN_PROGRESS))

    @audited("woo undecided")
    def undecided(self, request_id: str) -> list[Document]:
        """The documents in scope nobody decided yet (context excepted): each blocks the besluit."""
        return [d for d in self.documents(request_id) if not d.context and d.decision is None]

    # -- the besluit

    @audited("woo besluit queue")
    def queue_besluit(self, request_id: str) -> JobRecord:
        """Queue the making of the besluit (`besluit`) by a worker, as the acting person, who must be allowed to
        make it now; its DIP is made under `<data>/dips/<job>/`."""
        from edepot.service.job_kinds import BESLUIT
        from edepot.service.jobs import enqueue_job

        request = self._open(request_id, DELIVER)
        person = self.authorise(DELIVER, [request.organisation] if request.organisation else None)
        waiting = [d.document_id for d in self.undecided(request_id)]
        if waiting:
            raise _undecided(request_id, waiting)
        return enqueue_job(self, BESLUIT, {"request_id": request_id}, by=person)

    @audited("woo besluit")
    def besluit(self, request_id: str, *, out: Path) -> DipResult:
        """Make the besluit's DIP at `out`: only decided-open content, redactions burnt in, the inventarislijst, a
        PDF/A per delivered document named by its id under documenten/, and productierapport.xlsx; refused
        (DecisionNeeded) while a document is undecided."""
        from access.dip import DipRequest, build_dip, resolve_aips
        from access.redaction import ManualRedaction
        from access.woo import ALREADY_PUBLIC, NOT_OPEN

        request = self._open(request_id, DELIVER)
        person = self.authorise(DELIVER, [request.organisation] if request.organisation else None)
        documents = [d for d in self.documents(request_id) if not d.context]
        if not documents:
            result = _none_found(request, out, created=self.now())
            self.store.woo.save_request(replace(request, state=DECIDED, besluit_on=self.now().date(),
                                                besluit_path=str(result.path)))
            return result
        waiting = [d.document_id for d in documents if d.decision is None]
        if waiting:
            raise _undecided(request_id, waiting)
        record_ids = list(dict.fromkeys(d.record_id for d in documents))
        aip_of = dict(zip(record_ids, resolve_aips(record_ids, self.catalogue)))
        scope: dict[str, frozenset[int] | None] = {}
        withhold: list[Withholding] = []
        manual: list[ManualRedaction] = []
        names: list[str] = []
        for record_id in record_ids:
            own = [d for d in documents if d.record_id == record_id]
            whole = any(d.seq is None for d in own)
            scope[aip_of[record_id]] = None if whole else frozenset(d.seq for d in own if d.seq is not None)
            for document in own:
                assert document.decision is not None
                decision = document.decision
                seqs = self._seqs_of(request, record_id) if document.seq is None else [document.seq]
                refused = decision.beoordeling in (NOT_OPEN, ALREADY_PUBLIC) or decision.opgeschort
                for seq in seqs if refused else ():
                    withhold.append(_withholding(decision, seq, record_id))
                names += [r.name for r in decision.redactions if r.name]
                for span in () if refused else [r for r in decision.redactions if not r.name]:
                    for seq in seqs:
                        manual.append(ManualRedaction(seq, span.start, span.end, span.ground, record_id))
        order = DipRequest(requester=request.requester, purpose=f"Woo-besluit: {request.subject}",
                           on=self.now().date(), woo_request=request.request_id, besluit_scope=scope,
                           withhold=tuple(withhold), manual=tuple(manual), names=tuple(dict.fromkeys(names)))
        writer = _BesluitFiles(request, documents, created=self.now())
        result = build_dip(out, order, self.config, store=self.store, by=person.name,
                           aip_ids=[aip_of[r] for r in record_ids], extra=writer)
        self.store.woo.save_request(replace(request, state=DECIDED, besluit_on=self.now().date(),
                                            besluit_path=str(result.path)))
        return result

    def _seqs_of(self, request: WooRequest, record_id: str) -> list[int]:
        from preservation.search_index import Filters

        records = [r for r in self._records(request, Filters(aip=record_id)) if r.current]
        return [m.seq for m in self.search_index.find_messages([], Filters(), records, None)]

    @audited("woo sent")
    def mark_sent(self, request_id: str, *, on: date | None = None) -> WooRequest:
        """Record that the besluit was sent to the requester (verstrekt) on `on` (default today): the objection
        period of six weeks runs from then."""
        request = self.request(request_id)
        self.authorise(HANDLE, [request.organisation] if request.organisation else None)
        if request.state != DECIDED:
            raise InputError(f"Woo request {request_id} is {request.state}: only a besluit made is sent")
        changed = replace(request, state=DELIVERED, besluit_on=on or self.now().date())
        self.store.woo.save_request(changed)
        return changed

    @audited("woo close")
    def close_request(self, request_id: str, *, reason: str) -> tuple[WooRequest, int]:
        """Close the request once its besluit was sent and the objection period has passed, lifting the holds it
        placed (other holds stay); returns the request and how many holds were lifted."""
        from access.dip import WOO_HOLD
        from access.woo import objection_ends
        from preservation.retention import lift_hold

        request = self.request(request_id)
        person = self.authorise(HANDLE, [request.organisation] if request.organisation else None)
        if request.state == CLOSED:
            raise InputError(f"Woo request {request_id} is closed already")
        if not reason.strip():
            raise InputError("closing a request needs its reason", hint='e.g. --reason "besluit onherroepelijk"')
        if request.state != DELIVERED or request.besluit_on is None:
            raise InputError(f"Woo request {request_id} is {request.state}: it closes after its besluit was sent "
                             "and the objection period has passed")
        ends = objection_ends(request.besluit_on)
        if self.now().date() <= ends:
            raise InputError(f"the objection period of {request_id} runs until {ends.isoformat()}",
                             hint="close it after that day (or after a decision on an objection)")
        hold = WOO_HOLD.format(request_id)
        lifted = 0
        with self.store.atomic():
            for record_id in sorted({s.record_id for s in self.store.woo.scope(request_id)}):
                if any(h.reason == hold for h in self.catalogue.holds(record_id, active_only=True)):
                    lifted += lift_hold(self.catalogue, record_id, reason, person.name, self.now(), only=hold)
            changed = replace(request, state=CLOSED, closed_on=self.now().date())
            self.store.woo.save_request(changed)
        return changed, lifted


def _origin(query: str | None, filters: Filters, seqs: Sequence[int], whole: bool) -> str:
    parts = [f'zoekvraag "{query.strip()}"'] if query and query.strip() else []
    if filters.aip:
        parts.append(("heel gesprek " if whole else "gesprek ") + filters.aip)
    if seqs:
        parts.append("berichten " + ", ".join(str(s) for s in sorted(seqs)))
    if filters.date_from or filters.date_to:
        parts.append(f"{filters.date_from or '…'} t/m {filters.date_to or '…'}")
    return "; ".join(parts) or "gekozen"


def _restriction(record: IndexedRecord) -> str:
    access = record.access
    label = access.restriction_label or access.openness.value
    grounds = f" ({', '.join(access.grounds)})" if access.grounds else ""
    until = f" tot en met {access.until.isoformat()}" if access.until else ""
    return f"{label}{grounds}{until}"


def _check(document: Document, verdict: Verdict) -> None:
    from access.woo import PARTLY_OPEN, check_decision

    check_decision(verdict.beoordeling, verdict.grounds, link=verdict.link, toelichting=verdict.toelichting,
                   restricted=not document.metadata_open)
    if verdict.redactions and verdict.beoordeling != PARTLY_OPEN:
        raise InputError("a decision that blacks out passages is Gedeeltelijk openbaar")
    if any(not r.name for r in verdict.redactions) and document.seq is None:
        raise InputError("a redaction names a span of one message: decide the messages, not the whole chat")


def _withholding(decision: WooDecision, seq: int, record_id: str) -> Withholding:
    from access.redaction import Withholding
    from access.woo import ALREADY_PUBLIC

    if decision.opgeschort:
        return Withholding(seq, ", ".join(decision.grounds), record_id, "opgeschort", "opgeschort")
    if decision.beoordeling == ALREADY_PUBLIC:
        return Withholding(seq, "", record_id, "reeds openbaar", f"reeds openbaar: {decision.link}")
    return Withholding(seq, ", ".join(decision.grounds), record_id)


def _none_found(request: WooRequest, out: Path, *, created: datetime) -> DipResult:
    """The besluit of a request whose scope holds no document: productierapport.xlsx with the one row "Geen
    documenten aangetroffen" and its manifest, published whole at `out`."""
    import shutil

    from access.dip import DipResult, write_file
    from access.woo import none_found_row, productierapport
    from kernel.atomic import publish_directory, temporary_name

    out = out.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} already exists and is not an empty folder")
    staging = out.parent / temporary_name(out.name, "partial")
    staging.mkdir(parents=True)
    try:
        made = write_file(staging / "productierapport.xlsx",
                          productierapport(request.request_id, [none_found_row(request.request_id)], created=created),
                          "productierapport.xlsx")
        (staging / "manifest-sha256.txt").write_text(f"{made.sha256}  {made.path}\n", encoding="utf-8")
        if out.exists():
            out.rmdir()
        publish_directory(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return DipResult("", "", out, (made,))


def _undecided(request_id: str, waiting: Sequence[str]) -> DecisionNeeded:
    """The refusal of a besluit while the documents `waiting` are undecided."""
    return DecisionNeeded(f"{len(waiting)} document(s) of {request_id} are undecided: "
                          + ", ".join(waiting[:10]) + (" …" if len(waiting) > 10 else ""),
                          hint="a Woo officer decides every document before the besluit", remedy="woo-undecided")


class _BesluitFiles:
    """Writes a besluit's own files into its DIP: a PDF/A per delivered document (documenten/<ID>.pdf) and
    productierapport.xlsx, the beoordeling of each row as delivered (a document decided open that lost passages
    to automatic redaction is reported as partly open, with the grounds)."""

    def __init__(self, request: WooRequest, documents: Sequence[Document], *, created: datetime) -> None:
        self.request = request
        self.documents = documents
        self.created = created

    def __call__(self, staging: Path, delivered: Sequence[Delivered], rows: Sequence[inventory.Row]
                 ) -> list[DipFile]:
        from access.dip import write_file
        from access.woo import DELIVERED as OPEN_ONES
        from access.woo import PARTLY_OPEN, ReportRow, file_name, productierapport

        shown = {d.outcome.record_id: d for d in delivered}
        row_of = {(r.record_id, r.seq): r for r in rows}
        report: list[ReportRow] = []
        jobs: list[tuple[Path, Document, Delivered]] = []
        for document in self.documents:
            decision = document.decision
            assert decision is not None
            beoordeling, grounds = decision.beoordeling, decision.grounds
            automatic = self._automatic_grounds(row_of, document)
            if beoordeling in OPEN_ONES and automatic - set(grounds):
                beoordeling, grounds = PARTLY_OPEN, tuple(dict.fromkeys((*grounds, *sorted(automatic))))
            report.append(ReportRow(document.document_id, document.record_id, document.timestamp,
                                    beoordeling,
                                    decision.opgeschort, grounds, decision.toelichting, decision.link,
                                    document.zaak))
            if decision.beoordeling in OPEN_ONES and not decision.opgeschort and document.record_id in shown:
                jobs.append((staging / "documenten" / file_name(document.document_id), document,
                             shown[document.record_id]))
        (staging / "documenten").mkdir(exist_ok=True)
        with ThreadPoolExecutor(max_workers=2) as pool:
            written = list(pool.map(lambda job: self._render(*job), jobs))
        written.append(write_file(staging / "productierapport.xlsx",
                                  productierapport(self.request.request_id, report, created=self.created),
                                  "productierapport.xlsx"))
        return written

    @staticmethod
    def _automatic_grounds(rows: dict[tuple[str, int | None], inventory.Row], document: Document) -> set[str]:
        if document.seq is not None:
            found = [rows.get((document.record_id, document.seq))]
        else:
            found = [r for (record, _), r in rows.items() if record == document.record_id]
        return {g for r in found if r is not None and r.redactions for g in r.grounds.split(", ") if g}

    def _render(self, path: Path, document: Document, delivered: Delivered) -> DipFile:
        from access.dip import write_file
        from kernel.model import Conversation, participants_of
        from preservation.normalise.conversation_pdf import RenderContext, render_conversation_pdf

        conversation = delivered.conversation
        if document.seq is not None:
            messages = tuple(m for m in conversation.messages if m.seq == document.seq)
            conversation = Conversation(source=conversation.source, participants=participants_of(messages),
                                        messages=messages, title=conversation.title,
                                        custodian=conversation.custodian)
        context = RenderContext(
            title=delivered.outcome.title or "Chatgesprek", identifier=document.document_id,
            archiefvormer=document.archiefvormer or "onbekend",
            description_rows=(("Woo-verzoek", self.request.request_id), ("Document", document.document_id),
                              ("Gesprek", delivered.outcome.record_id)),
            created=self.created)
        return write_file(path, render_conversation_pdf(conversation, delivered.media, context),
                      f"documenten/{path.name}")
