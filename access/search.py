"""Access: `edepot search`: full-text search over every message, as a researcher or as an archivist.

A researcher sees hits only in records open to them on the request date (`access.rules`): nothing of a
record that is not, not its title, not a count. A message is their hit only when the query matches it as it
would be delivered (`access.query_guard`: without what redaction removes, the sender as shown), and their
snippets are cut from the message text after the redaction (`access.redaction`: phone numbers, e-mail
addresses, IBANs, BSNs, names on the organisation's list), so a snippet boundary can never split a number
past its detector. An archivist sees every record, unredacted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Sequence

from access.aip_files import file_of, informatieobject_file, read_verified
from access.query_guard import QueryGuard, guarded_count, guarded_page
from access.redaction import NameList, Redactor
from access.rules import AccessDecision, Role, current_facts, decide, role_of, viewer_for
from kernel.config import Config
from kernel.errors import InvalidPackage
from kernel.model import Conversation
from preservation.access_register import AccessRegister
from preservation.aip import CONVERSATION_JSON
from preservation.catalogue import FileRecord
from preservation.record_access import record_access_from_mdto
from preservation.search_index import (
    COUNTED_UP_TO,
    Filters,
    IndexedMessage,
    IndexedRecord,
    Term,
    index_aip,
    matches_terms,
    matching_records,
    parse_query,
)
from preservation.unit_of_work import UnitOfWork

SNIPPET_CHARS = 160
MARK_OPEN, MARK_CLOSE = "«", "»"


@dataclass(frozen=True)
class SearchRequest:
    """One search: the query, the filters, and who asks on which date."""

    query: str
    filters: Filters = field(default_factory=Filters)
    role: Role | str = Role.RESEARCHER
    on: date | None = None  # the request date; default today
    requester: str | None = None  # whose permits count
    limit: int = 20
    offset: int = 0
    sort: str = "chat"


@dataclass(frozen=True)
class SearchHit:
    aip_id: str
    record_id: str
    title: str
    seq: int
    timestamp: datetime
    sender: str | None
    kind: str
    snippet: str

    def to_dict(self) -> dict[str, Any]:
        return {"aip_id": self.aip_id, "record_id": self.record_id, "title": self.title, "seq": self.seq,
                "timestamp": self.timestamp.isoformat(), "sender": self.sender, "kind": self.kind,
                "snippet": self.snippet}


@dataclass(frozen=True)
class SearchResult:
    query: str
    role: Role
    on: date
    filters: Filters
    hits: tuple[SearchHit, ...]
    more: bool  # further hits beyond this page
    total: int = 0  # every hit the requester may see, on all pages, counted up to COUNTED_UP_TO
    offset: int = 0  # the hits skipped before this page
    limit: int = 20  # the most hits a page shows
    total_exact: bool = True  # False: more than `total` hits (counting stopped there)

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "role": self.role.value, "date": self.on.isoformat(),
                "filters": self.filters.to_dict(), "total": self.total, "total_exact": self.total_exact,
                "hits": [h.to_dict() for h in self.hits], "more": self.more}


def visible_records(register: AccessRegister, records: Sequence[IndexedRecord], role: Role, on: date,
                    requester: str | None) -> list[tuple[IndexedRecord, AccessDecision]]:
    """Each record with the access decision for this requester on this date."""
    who = viewer_for(register, on, requester, archive=role is Role.ARCHIVIST)
    facts = current_facts((r.access for r in records), register)
    return [(r, decide(facts[r.record_id], who)) for r in records]


def search(store: UnitOfWork, request: SearchRequest, *, names: NameList | None = None,
           organisations: frozenset[str] | None = None) -> SearchResult:
    """One page of hits for the request, in the request's sort order, with the number of hits on all pages.
    Without words (an empty query) every message the filters let through is a hit (whether a search may go
    without both is the Depot service's rule). A researcher's hits, and their number, are judged on the text as
    delivered to them (redacted, also of the `names` of the organisation's list). With `organisations`, only
    records of those organisations are searched."""
    with store.search.reading():  # the page, its count and the records they are in: one view of the index
        return _search(store, request, names=names, organisations=organisations)


def _search(store: UnitOfWork, request: SearchRequest, *, names: NameList | None,
            organisations: frozenset[str] | None) -> SearchResult:
    role = role_of(request.role) if isinstance(request.role, str) else request.role
    on = request.on or date.today()
    terms = parse_query(request.query) if request.query.strip() else []
    redactor = Redactor(names) if role is Role.RESEARCHER else None
    index = store.search
    candidates = of_organisations(store, matching_records(index, request.filters), organisations)
    allowed = candidates if role is Role.ARCHIVIST else [  # the archive sees every record: nothing to decide
        r for r, decision in visible_records(store.register, candidates, role, on, request.requester)
        if decision.allowed]
    by_key = {r.record_key: r for r in allowed}
    within = None if len(allowed) == index.indexed_count() else allowed  # no record condition needed at all
    if redactor is None:
        found = index.find_messages(terms, request.filters, within, request.limit + 1, request.sort, request.offset)
        more = len(found) > request.limit
        count = index.count_messages(terms, request.filters, within, up_to=COUNTED_UP_TO) if allowed else 0
    else:
        guard = QueryGuard(terms, redactor, request.filters.participant)

        def fetch(at: int, size: int) -> list[IndexedMessage]:
            return index.find_messages(guard.index_terms, request.filters, within, size, request.sort, at)

        # in chat order one read gives the page and the count; in another order the page is read alone, and the
        # hits are counted from those the index reads fastest (by relevance: the first hits it ranked)
        in_chat_order = request.sort == "chat"
        found, through_page = (guarded_page(fetch, guard, request.limit, request.offset, up_to=COUNTED_UP_TO
                                            if in_chat_order else request.offset + request.limit)
                               if allowed else ([], 0))
        count = guarded_count(
            lambda size: index.find_any_messages(guard.index_terms, request.filters, within, size),
            lambda at, size: index.find_messages(guard.index_terms, request.filters, within, size, "chat", at),
            guard, up_to=COUNTED_UP_TO) if allowed and not in_chat_order else through_page
        more = through_page > request.offset + request.limit  # (counted on past the page when there are more)
    hits = []
    for message in found[:request.limit]:
        record = by_key[message.record_key]
        text, title, sender = message.text, record.title, message.sender
        if redactor is not None:
            text, title, sender = redactor.clean(text), redactor.clean(title), redactor.person(sender)
        hits.append(SearchHit(record.aip_id, record.record_id, title, message.seq, message.timestamp, sender,
                              message.kind, snippet(text, terms)))
    return SearchResult(request.query, role, on, request.filters, tuple(hits), more, min(count, COUNTED_UP_TO),
                        request.offset, request.limit, count <= COUNTED_UP_TO)


def of_organisations(store: UnitOfWork, records: list[IndexedRecord],
                     organisations: frozenset[str] | None) -> list[IndexedRecord]:
    """The indexed records of AIPs of these organisations (None: every record)."""
    if organisations is None:
        return records
    kept = {a.aip_id for a in store.catalogue.aips() if a.organisation in organisations}
    return [r for r in records if r.aip_id in kept]


def snippet(text: str, terms: Sequence[Term], width: int = SNIPPET_CHARS) -> str:
    """The part of `text` around the first matched word, matched words marked «so», cut at word ends."""
    spans = matches_terms(text, terms)
    if len(text) <= width:
        start, end = 0, len(text)
    else:
        centre = spans[0][0] if spans else 0
        start = max(0, centre - width // 3)
        end = min(len(text), start + width)
        start = max(0, min(start, end - width))
        if start > 0:
            found = re.search(r"\s", text[start:])
            start = start + found.end() if found and found.end() < 30 else start
        if end < len(text):
            cut = text.rfind(" ", start, end)
            end = cut if cut > start + width // 2 else end
    out, last = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out += [text[last:s], MARK_OPEN, text[s:e], MARK_CLOSE]
        last = e
    out.append(text[last:end])
    body = " ".join("".join(out).split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


@dataclass(frozen=True)
class Reindexed:
    aip_id: str
    record_id: str
    messages: int
    missing: tuple[str, ...] = ()  # files declared lost: indexed from what is intact, or not at all
    not_indexed: str = ""  # why the AIP is not in the index: its conversation (or every MDTO) is lost


def reindex(config: Config, store: UnitOfWork, *, aip_id: str | None = None,
            on_progress: Callable[[int, int], None] | None = None) -> list[Reindexed]:
    """(Re)build the index of every AIP in the catalogue (or one) from its stored conversation.json and MDTO,
    each read from a replica that verifies. Works whether or not ingest indexed the AIP. Files declared lost are
    passed by (the AIP's own MDTO by the SIP's as received); an AIP whose conversation is lost leaves the index."""
    catalogue = store.catalogue
    aips = [catalogue.aip(aip_id)] if aip_id else catalogue.aips()
    done = []
    for n, aip in enumerate(aips, start=1):
        missing = tuple(loss.path for loss in catalogue.losses(aip.aip_id))
        files = [f for f in catalogue.files(aip.aip_id) if f.path not in missing]
        metadata = informatieobject_file(files, aip.aip_id) if not missing else _informatieobject_left(files)
        if CONVERSATION_JSON in missing or metadata is None:
            store.search.remove(aip.aip_id)
            done.append(Reindexed(aip.aip_id, aip.record_id, 0, missing,
                                  "its conversation or its MDTO informatieobject was declared lost"))
            continue
        facts = record_access_from_mdto(read_verified(metadata, aip.aip_id, store.storage))
        conversation = Conversation.from_json(read_verified(
            file_of(files, CONVERSATION_JSON, aip.aip_id), aip.aip_id, store.storage))
        count = index_aip(store.search, aip.aip_id, conversation, facts, config.clock())
        done.append(Reindexed(aip.aip_id, facts.record_id, count, missing))
        if on_progress:
            on_progress(n, len(aips))
    return done


def _informatieobject_left(files: Sequence[FileRecord]) -> FileRecord | None:
    try:
        return informatieobject_file(files, "")
    except InvalidPackage:
        return None
