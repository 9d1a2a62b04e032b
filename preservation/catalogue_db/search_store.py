"""The search index port (`preservation.search_index.SearchIndex`) on the catalogue's SQLite database, and
the parts a PostgreSQL catalogue does its own way (`preservation.catalogue_db.search_postgres`).

Records and senders go through the ORM; the messages, FTS5 MATCH with bm25, and the FTS commands are SQL on the
catalogue alias's connection (millions of rows). The FTS5 view and virtual table come from migration 0002.
User text never reaches FTS5 as syntax: every term is quoted.
"""
from __future__ import annotations

import json
import threading
import uuid
from bisect import bisect_right
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from functools import lru_cache
from itertools import accumulate, islice
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo

from django.db import OperationalError, connections, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Max

from kernel.errors import InputError
from kernel.model import Message
from preservation.catalogue_db.models import SearchMessage, SearchMeta, SearchRecord, SearchSender
from preservation.record_access import RecordAccess, fold
from preservation.search_index import (
    COUNTED_UP_TO,
    RANKED_UP_TO,
    SORTED_UP_TO,
    SORTS,
    Filters,
    IndexedMessage,
    IndexedRecord,
    Term,
    TextMatcher,
    has_prefix,
    relevance_order,
)
from preservation.search_stems import stem, stemmer_version, stems_of

RANGE_QUERIES_UP_TO = 64  # records: up to this many, each record's id range is searched on its own
_SELECT = "SELECT m.message_id, m.record_key, m.seq, m.ts, m.utc_offset, s.name, m.kind, m.body "
_SENDER = " LEFT JOIN search_senders s ON s.sender_key = m.sender_key"
_WALK_BATCH = 2_000  # messages read at first when a page is read in time order
# microseconds, measured over 10,000,000 messages (benchmarks/search_10m.py): a full-text match's message read by
# its id; a message read along the index on time and its text tested for the words here
_JOINED_PER_MATCH, _WALKED_PER_MESSAGE = 1.0, 3.0
_MERGED_PER_MATCH = 0.1  # a match of a prefix in the list FTS5 merges from every word the prefix begins
_SAMPLED = 2_000  # messages, spread over every record, whose texts tell how many a prefix query matches
_MAPPED_BYTES = 2**31 - 2**16  # of the catalogue's file, at most (SQLite's own limit)
_FILTER_SAMPLE = 200  # first matches tested against the filters to tell the share they let through
_ORDER = {"chat": "m.message_id", "newest": "m.ts DESC, m.message_id DESC", "oldest": "m.ts, m.message_id"}
_AFTER = {"chat": "m.message_id > %s", "newest": "(m.ts, m.message_id) < (%s, %s)",
          "oldest": "(m.ts, m.message_id) > (%s, %s)"}  # a walk's next batch: the messages after the last read
# the index a walk reads along, named: with a condition on records SQLite would rather read theirs and sort them all
_WALKED_ALONG = {"chat": "NOT INDEXED", "newest": "INDEXED BY search_messages_time",
                 "oldest": "INDEXED BY search_messages_time"}
_TIME_ORDER: dict[str, Callable[[Sequence[Any]], tuple[int, int]]] = {
    "newest": lambda r: (-r[3], -r[0]), "oldest": lambda r: (r[3], r[0])}
_CHANGED = "changed"  # the search_meta key of the mark each change of the index leaves
_stems_checked: set[str] = set()
_records_read: dict[str, tuple[tuple[Any, ...], list[IndexedRecord]]] = {}  # per alias: its records, as of a state
_counted: dict[tuple[str, ...], tuple[tuple[Any, ...], int]] = {}  # per count query: its count, as of a state
_senders_read: dict[str, tuple[int | None, list[tuple[int, str]]]] = {}  # per alias: the greatest key, the senders
_first_read: dict[str, tuple[tuple[Any, ...], int, list[Any]]] = {}  # per alias: the last read in chat order
_views = threading.local()  # per alias: the `reading` block this thread is in (a _View), if any
_prefix_shares: dict[tuple[str, ...], tuple[float, float]] = {}  # per prefix query: (matching, and passing filters)


@dataclass
class _View:
    """A `reading` block: the index's state it sees, and the settings (SET LOCAL) its transaction has made."""

    state: tuple[Any, ...]
    settings: dict[str, str] = field(default_factory=dict)


class DjangoSearchIndex:
    """The full-text index in the catalogue behind a Django database alias."""

    _FULL_TEXT_ID = "f.rowid"  # the message id in the full-text table, in whose order matches come

    def __init__(self, alias: str) -> None:
        self._alias = alias
        if alias not in _stems_checked:
            self._check_stems()
            _stems_checked.add(alias)

    def _check_stems(self) -> None:
        """Once per process: stems made by another stemmer version are re-derived from the stored texts."""
        version = stemmer_version()
        meta = SearchMeta.objects.using(self._alias)
        if meta.filter(key="stemmer", value=version).exists():
            return
        with transaction.atomic(using=self._alias):
            found = meta.filter(key="stemmer").values_list("value", flat=True).first()
            if found is not None and found != version:
                # the old stems would not match what a delete recomputes
                self.rebuild_full_text()
                self._changed()
            meta.update_or_create(key="stemmer", defaults={"value": version})

    def rebuild_full_text(self) -> None:
        """Derive the full-text index of every message again from the stored texts."""
        with connections[self._alias].cursor() as cursor:
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")

    def _insert(self, rows: Sequence[tuple]) -> int:
        """Insert rows (record_key, seq, ts, utc_offset, sender_key, kind, body) with consecutive ids, and their
        full text; returns the first id."""
        return _insert_messages(connections[self._alias].connection, rows)

    def _delete_full_text(self, record_key: int) -> None:
        with connections[self._alias].cursor() as cursor:
            cursor.execute("INSERT INTO search_fts (search_fts, rowid, body, stems) SELECT 'delete', message_id, "
                           "body, edepot_stems(body) FROM search_messages WHERE record_key = %s", [record_key])

    # the FROM parts of `_matching` → the same without the messages, for counting what the full text alone tells
    _TEXT_ONLY = {"FROM search_fts f JOIN search_messages m ON m.message_id = f.rowid": "FROM search_fts f"}

    def _matching(self, terms: Sequence[Term]) -> tuple[str, str, str, list[Any]]:
        """(the FROM part joining the full text to the messages, the same for a search limited to a range of
        message ids, the condition, its parameters) of messages matching `terms`, found by the full-text index."""
        source = "FROM search_fts f JOIN search_messages m ON m.message_id = f.rowid"
        return source, source, "search_fts MATCH %s", [fts_expression(terms)]

    def _in_records(self, keys: list[int]) -> tuple[str, list[Any]]:
        """The condition that a message is in one of the records `keys`, and its parameters."""
        return "m.record_key IN (SELECT value FROM json_each(%s))", [json.dumps(keys)]

    def _message(self, row: Sequence[Any]) -> IndexedMessage:
        """The message of a result row (message_id, record_key, seq, ts, utc_offset, sender, kind, body)."""
        return _message(row)

    def _text(self, body: str) -> str:
        """A message's text as its row holds it, as written."""
        return body

    # -- writing

    def index(self, aip_id: str, messages: Iterable[Message], facts: RecordAccess, indexed: datetime,
              *, batch: int = 50_000) -> int:
        """Index messages of one AIP (replacing what was indexed for it before), in one transaction; earlier AIPs
        of the same record stop being current. Returns the count."""
        records = SearchRecord.objects.using(self._alias)
        with transaction.atomic(using=self._alias):
            self._delete_record(aip_id)
            records.filter(record_id=facts.record_id).update(current=0)
            record_key = records.create(
                aip_id=aip_id, record_id=facts.record_id, title=facts.title, access=facts.to_json(),
                zaak_folded=fold(" | ".join(f"{z.kenmerk or ''} {z.naam}" for z in facts.zaken)),
                classificatie_folded=fold(" | ".join(facts.classificatie)), current=1, messages=0, first_id=0,
                last_id=-1, indexed=indexed.isoformat()).record_key
            senders = _SenderKeys(self._alias)
            first_id, count = None, 0
            iterator = iter(messages)
            while chunk := list(islice(iterator, batch)):
                keys = senders.keys({m.sender for m in chunk})
                rows = []
                for message in chunk:
                    moment = message.timestamp
                    offset = moment.utcoffset()
                    rows.append((record_key, message.seq, int(moment.timestamp()),
                                 int(offset.total_seconds() // 60) if offset is not None else 0,
                                 keys[message.sender], message.kind.value, message.text))
                first = self._insert(rows)
                first_id = first if first_id is None else first_id
                count += len(rows)
            if first_id is not None:
                records.filter(record_key=record_key).update(messages=count, first_id=first_id,
                                                              last_id=first_id + count - 1)
            self._changed()
        return count

    def remove(self, aip_id: str) -> int:
        """Remove every message of one AIP (for destruction); how many were removed (0 when it was not indexed).
        When it was the current version of its record, the newest remaining AIP of that record becomes current."""
        with transaction.atomic(using=self._alias):
            removed = self._delete_record(aip_id)
            self._changed()
            return removed

    def _delete_record(self, aip_id: str) -> int:
        records = SearchRecord.objects.using(self._alias)
        found = records.filter(aip_id=aip_id).values_list("record_key", "record_id", "current").first()
        if found is None:
            return 0
        record_key, record_id, current = found
        self._delete_full_text(record_key)
        removed, _ = SearchMessage.objects.using(self._alias).filter(record_key=record_key).delete()
        records.filter(record_key=record_key).delete()
        if current:
            newest = (records.filter(record_id=record_id).order_by("-record_key")
                      .values_list("record_key", flat=True).first())
            if newest is not None:
                records.filter(record_key=newest).update(current=1)
        return removed

    # -- reading

    def records(self) -> list[IndexedRecord]:
        """Every indexed AIP, in indexing order. Read again only when the records changed (a search reads them
        all, and thousands of access facts take longer to parse than the search takes)."""
        records = SearchRecord.objects.using(self._alias)
        state = self._state()
        known = _records_read.get(self._alias)
        if known is not None and known[0] == state:
            return list(known[1])
        rows = records.order_by("record_key").values_list(
            "record_key", "aip_id", "record_id", "title", "access", "current", "messages", "first_id", "last_id")
        read = [IndexedRecord(key, aip_id, record_id, title, RecordAccess.from_dict(json.loads(access)),
                              bool(current), messages, first_id, last_id)
                for key, aip_id, record_id, title, access, current, messages, first_id, last_id in rows]
        _records_read[self._alias] = (state, read)
        return list(read)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Reads inside see the index as it was when the first began: one transaction (on PostgreSQL repeatable
        read: a page and its count from the same messages), its state read once. Inside a transaction begun
        elsewhere, that transaction's isolation holds."""
        if self._view() is not None:
            yield
            return
        connection = connections[self._alias]
        begins = not connection.in_atomic_block
        with transaction.atomic(using=self._alias, savepoint=False):
            if begins and connection.vendor == "postgresql":  # (the transaction's first statement)
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            setattr(_views, self._alias, _View(self._read_state()))
            try:
                yield
            finally:
                setattr(_views, self._alias, None)

    def _view(self) -> _View | None:
        """The `reading` block this thread is in, None outside one."""
        return getattr(_views, self._alias, None)

    def _state(self) -> tuple[Any, ...]:
        """What changes whenever anything is indexed or removed: the mark each change leaves, and (for records
        written in bulk, without one) the count and the greatest key, which only grows. Reads no record's row;
        inside `reading`, none at all."""
        view = self._view()
        return view.state if view is not None else self._read_state()

    def _read_state(self) -> tuple[Any, ...]:
        with connections[self._alias].cursor() as cursor:
            cursor.execute("SELECT (SELECT value FROM search_meta WHERE key = %s), (SELECT COUNT(*) FROM "
                           "search_records), (SELECT MAX(record_key) FROM search_records)", [_CHANGED])
            return tuple(cursor.fetchone())

    def _changed(self) -> None:
        """Mark the index changed (in the writing transaction), for the readers of `_state`."""
        SearchMeta.objects.using(self._alias).update_or_create(key=_CHANGED, defaults={"value": uuid.uuid4().hex})

    def _senders(self) -> list[tuple[int, str]]:
        """Every sender's key and folded name (senders are only ever added: read again when there are more)."""
        senders = SearchSender.objects.using(self._alias)
        top = senders.aggregate(top=Max("sender_key"))["top"]
        known = _senders_read.get(self._alias)
        if known is None or known[0] != top:
            known = _senders_read[self._alias] = (top, [(key, fold(name)) for key, name
                                                        in senders.values_list("sender_key", "name")])
        return known[1]

    def _indexed_messages(self) -> int:
        """How many messages are indexed, as the records tell (a database's own statistics can lag far behind)."""
        return sum(record.messages for record in self.records())

    def indexed_count(self) -> int:
        """How many AIPs are indexed (every version)."""
        return len(self.records())

    def find_messages(self, terms: Sequence[Term], filters: Filters, within: Sequence[IndexedRecord] | None,
                      limit: int | None, sort: str = "chat", offset: int = 0) -> list[IndexedMessage]:
        """Messages matching every term and filter, in the records `within` (None: every record); without terms,
        every message the filters let through, in the order SORTS describes. A page costs about the same however
        many messages match: the matches are sorted whole, or read in the order asked for until the page is full,
        whichever reads less. The first matches in chat order are remembered until the next search asks for
        others or the index changes: relevance ranks 2,000 of them, and a researcher's count reads them again."""
        if sort not in SORTS:
            raise InputError(f"unknown sort {sort!r}", hint=f"use one of {', '.join(SORTS)}")
        query = _Query.of(self, terms, filters, within)
        if query is None:
            return []
        wanted = None if limit is None else limit + offset
        if sort == "relevance" and terms:
            rows = self._first_in_chat_order(query, filters, within, RANKED_UP_TO)
            ranked = relevance_order([(r[0], self._text(r[7])) for r in rows], terms)
            return [self._message(rows[at]) for at in ranked[offset:wanted]]
        if sort in ("chat", "relevance"):
            return [self._message(r) for r in self._first_in_chat_order(query, filters, within, wanted)[offset:]]
        return [self._message(r) for r in self._ordered(query, within, sort, wanted)[offset:]]

    def find_any_messages(self, terms: Sequence[Term], filters: Filters, within: Sequence[IndexedRecord] | None,
                          limit: int) -> list[IndexedMessage]:
        """Up to `limit` matching messages in no promised order (here: the first in chat order, which FTS5 reads
        fastest)."""
        return self.find_messages(terms, filters, within, limit)

    def _first_in_chat_order(self, query: "_Query", filters: Filters, within: Sequence[IndexedRecord] | None,
                             wanted: int | None) -> list[Any]:
        """The result rows of the first `wanted` matches in chat order (None: all), from the last such read of the
        same search when it holds them."""
        if wanted is None:
            return self._ordered(query, within, "chat", None)
        known = self._first_known(query, filters, within, wanted)
        if known is not None:
            return known
        rows = self._ordered(query, within, "chat", wanted)
        _first_read[self._alias] = (self._first_key(query, filters, within), wanted, rows)
        return rows

    def _first_known(self, query: "_Query", filters: Filters, within: Sequence[IndexedRecord] | None,
                     wanted: int) -> list[Any] | None:
        """The result rows of the first `wanted` matches in chat order, if the last such read holds them."""
        known = _first_read.get(self._alias)
        if known is not None and known[0] == self._first_key(query, filters, within) and (
                wanted <= len(known[2]) or len(known[2]) < known[1]):
            return known[2][:wanted]
        return None

    def _first_key(self, query: "_Query", filters: Filters, within: Sequence[IndexedRecord] | None) -> tuple:
        return (self._state(), repr(query.terms), repr(filters),
                None if within is None else tuple(r.record_key for r in within))

    def count_messages(self, terms: Sequence[Term], filters: Filters, within: Sequence[IndexedRecord] | None,
                       *, up_to: int | None = None) -> int:
        """How many messages `find_messages` would find with no limit; with `up_to`, counting stops past that many
        (any number above `up_to` means "more than `up_to`")."""
        query = _Query.of(self, terms, filters, within)
        if query is None:
            return 0
        with self._reading() as cursor:
            ranges = _id_ranges(within)
            if ranges is None:
                where, params = query.within_records(within)
                share = None if up_to is None else self._prefix_walk(cursor, query, where, params, None, up_to + 1)
                if up_to is not None and share is not None:
                    return self._remembered(("walk", repr(where), repr(params), str(up_to)), lambda: len(
                        self._walk(cursor, query, where, params, "chat", up_to + 1, share=share)))
                return self._count(cursor, query.source, where, params, up_to, remember=True)
            counted = 0
            for first, last in ranges:
                counted += self._count(cursor, query.ranged_source,
                                       query.where + [f"{query.identity} BETWEEN %s AND %s"],
                                       query.params + [first, last], None if up_to is None else up_to - counted)
                if up_to is not None and counted > up_to:
                    break
            return counted

    def _count(self, cursor: CursorWrapper, source: str, where: list[str], params: list[Any],
               up_to: int | None, *, remember: bool = False) -> int:
        if not any(condition.startswith("m.") for condition in where):  # the full text alone can tell
            source = self._TEXT_ONLY.get(source, source)
        sql = "SELECT 1 " + source + " WHERE " + " AND ".join(where)
        if up_to is not None:
            sql, params = sql + " LIMIT %s", params + [up_to + 1]
        # a search counts once to choose how to read its page and once for its total: the second is remembered,
        # for as long as nothing is indexed or removed
        if not remember:
            return int(_run(cursor, f"SELECT COUNT(*) FROM ({sql}) c", params)[0][0])
        return self._remembered((sql, repr(params)),
                                lambda: int(_run(cursor, f"SELECT COUNT(*) FROM ({sql}) c", params)[0][0]))

    def _remembered(self, key: tuple[str, ...], count: Callable[[], int]) -> int:
        """The count of a query (its SQL and parameters), counted again only when the index changed."""
        state = self._state()
        known = _counted.get(key)
        if known is not None and known[0] == state:
            return known[1]
        counted = count()
        if len(_counted) > 256:
            _counted.clear()
        _counted[key] = (state, counted)
        return counted

    def _ordered(self, query: "_Query", within: Sequence[IndexedRecord] | None, sort: str,
                 wanted: int | None) -> list[Any]:
        """The result rows of the first `wanted` matches (None: all) in chat order, or by time ("newest",
        "oldest")."""
        ranges = _id_ranges(within)
        with self._reading() as cursor:
            if ranges is None:
                where, params = query.within_records(within)
                rows = self._in_order(cursor, query, where, params, sort, wanted)
            else:  # each record's id range on its own (its first `wanted` matches in the order), the pages merged
                rows = []
                for first, last in ranges:
                    rows += self._sorted(cursor, query.ranged_source, query.where
                                         + [f"{query.identity} BETWEEN %s AND %s"], query.params + [first, last],
                                         query.identity if sort == "chat" else _ORDER[sort],
                                         wanted if wanted is None or sort != "chat" else wanted - len(rows))
                    if sort == "chat" and wanted is not None and len(rows) >= wanted:
                        break
                if sort != "chat":
                    rows.sort(key=_TIME_ORDER[sort])
            return rows[:wanted]

    def _in_order(self, cursor: CursorWrapper, query: "_Query", where: list[str], params: list[Any], sort: str,
                  wanted: int | None) -> list[Any]:
        """Result rows of one query in the sort order, up to `wanted`: sorted from every match, or read in that
        order (by the index on it), each tested (`_walks`)."""
        if query.terms and wanted is not None:
            share = self._prefix_walk(cursor, query, where, params, sort, wanted)
            if share is not None:
                return self._walk(cursor, query, where, params, sort, wanted, share=share)
            if self._walks(cursor, query, where, params, sort, wanted):
                return self._walk(cursor, query, where, params, sort, wanted)
        return self._sorted(cursor, query.source, where, params,
                            query.identity if sort == "chat" else _ORDER[sort], wanted)

    def _walks(self, cursor: CursorWrapper, query: "_Query", where: list[str], params: list[Any], sort: str,
               wanted: int) -> bool:
        """Whether a page by time is read in its order (along the index on time, each text tested here) rather
        than sorted from every match: whichever is expected to take less, from how many messages the full-text
        index matches (counted up to SORTED_UP_TO) and the share of its first matches the filters let through.
        FTS5 yields matches in message order: a page in chat order is read, never sorted."""
        if sort == "chat":
            return False
        matched = len(query.match_params)
        found = self._count(cursor, query.source, where[:1], params[:matched], SORTED_UP_TO, remember=True)
        if found <= COUNTED_UP_TO:
            return False
        passing = self._passing(cursor, query, where, params) if len(where) > 1 else 1.0
        share = found / max(1, self._indexed_messages()) * passing
        return found * _JOINED_PER_MATCH > wanted / max(share, 1e-9) * _WALKED_PER_MESSAGE

    def _prefix_walk(self, cursor: CursorWrapper, query: "_Query", where: list[str], params: list[Any],
                     sort: str | None, wanted: int) -> float | None:
        """For a query with a prefix that finds `wanted` matches (in the sort order; None: any, for counting) sooner
        by reading messages in order and testing each text here than from FTS5, which merges the lists of every
        word the prefix begins before it yields the first match (a prefix that begins a tenth of all words costs a
        tenth of a second at every search): the share of messages that match and pass the filters, as a sample
        of the messages' texts tells; None when FTS5 serves."""
        shares = self._prefix_share(cursor, query, where, params)
        if shares is None:
            return None
        matching, passing = shares
        full_text = matching * self._indexed_messages() * (
            _MERGED_PER_MATCH + (_JOINED_PER_MATCH if sort in ("newest", "oldest") or len(where) > 1 else 0))
        return passing if passing > 0 and wanted / passing * _WALKED_PER_MESSAGE < full_text else None

    def _prefix_share(self, cursor: CursorWrapper, query: "_Query", where: list[str],
                      params: list[Any]) -> tuple[float, float] | None:
        """For a query with a prefix term, the shares of _SAMPLED messages spread evenly over every record whose
        text matches it, and that also pass the other conditions (None without a prefix term)."""
        if not has_prefix(query.terms):
            return None
        matched = len(query.match_params)
        key = (self._alias, repr(query.terms), repr(where[1:]), repr(params[matched:]))
        known = _prefix_shares.get(key)
        if known is not None:
            return known
        records = sorted((r.first_id, r.messages) for r in self.records() if r.messages)
        starts = list(accumulate(n for _, n in records))
        total = starts[-1] if starts else 0
        size = min(_SAMPLED, total)
        sample = []
        for position in (k * total // size for k in range(size)):
            at = bisect_right(starts, position)
            sample.append(records[at][0] + position - (starts[at - 1] if at else 0))
        rows = _run(cursor, f"SELECT m.body, {' AND '.join(where[1:]) or '1'} FROM search_messages m WHERE "
                            "m.message_id IN (SELECT value FROM json_each(%s))", params[matched:] + [json.dumps(sample)])
        matches = TextMatcher(query.terms)
        hits = [bool(passes) for body, passes in rows if matches(self._text(body))]
        shares = (len(hits) / len(rows), sum(hits) / len(rows)) if rows else (0.0, 0.0)
        if len(_prefix_shares) > 1024:
            _prefix_shares.clear()
        _prefix_shares[key] = shares
        return shares

    def _passing(self, cursor: CursorWrapper, query: "_Query", where: list[str], params: list[Any]) -> float:
        """The share of the full-text index's first matches (up to _FILTER_SAMPLE) that pass the other
        conditions."""
        matched = len(query.match_params)
        sampled, passed = _run(cursor, f"SELECT COUNT(*), COALESCE(SUM({' AND '.join(where[1:])}), 0) FROM (SELECT "
                                       f"m.* {query.source} WHERE {where[0]} LIMIT {_FILTER_SAMPLE}) m",
                               params[matched:] + params[:matched])[0]
        return passed / sampled if sampled else 1.0

    def _sorted(self, cursor: CursorWrapper, source: str, where: list[str], params: list[Any], order: str,
                wanted: int | None) -> list[Any]:
        sql = _SELECT + source + _SENDER + " WHERE " + " AND ".join(where) + f" ORDER BY {order}"
        if wanted is None:
            return _run(cursor, sql, params)
        return _run(cursor, sql + " LIMIT %s", params + [wanted])

    @contextmanager
    def _reading(self) -> Iterator[CursorWrapper]:
        """A cursor for the queries of one search, reading the catalogue's file through memory mapped pages (a
        search reads thousands of messages by their ids: a copy through SQLite's small page cache for each costs
        twice the time)."""
        with connections[self._alias].cursor() as cursor:
            cursor.execute(f"PRAGMA mmap_size = {_MAPPED_BYTES}")
            yield cursor

    def _walk(self, cursor: CursorWrapper, query: "_Query", where: list[str], params: list[Any], sort: str,
              wanted: int, *, share: float | None = None) -> list[Any]:
        """The first `wanted` matches in the sort order ("chat", "newest", "oldest"), many matching: the messages
        the filters let through are read by the index on that order, in growing batches, and each one's text is
        tested for the terms here (asking FTS5 about one message at a time costs a prefix's whole expansion each
        time). With the `share` of messages that match (a sample's), the first batch holds the page, it says."""
        matches = TextMatcher(query.terms)
        filters, filter_params = where[1:], params[len(query.match_params):]
        after = _AFTER[sort]
        found: list[Any] = []
        last: list[Any] = []
        batch = _WALK_BATCH if not share else max(_WALK_BATCH, min(50_000, int(1.2 * wanted / share)))
        while True:
            conditions = filters + ([after] if last else [])
            rows = _run(cursor, _SELECT + f"FROM search_messages m {_WALKED_ALONG[sort]}" + _SENDER + " WHERE "
                        + " AND ".join(conditions or ["1 = 1"]) + f" ORDER BY {_ORDER[sort]} LIMIT %s",
                        filter_params + last + [batch])
            for row in rows:
                if matches(row[7]):
                    found.append(row)
                    if len(found) == wanted:
                        return found
            if len(rows) < batch:
                return found
            last = [rows[-1][0]] if sort == "chat" else [rows[-1][3], rows[-1][0]]
            batch = min(batch * 4, 50_000)

    def size(self) -> int:
        """Bytes the index's database takes (the catalogue's SQLite file with its WAL)."""
        path = Path(connections[self._alias].settings_dict["NAME"])
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def search_index_at(alias: str) -> DjangoSearchIndex:
    """The search index in the catalogue behind `alias`, in the way its database does full text."""
    if connections[alias].vendor == "postgresql":
        from preservation.catalogue_db.search_postgres import PostgresSearchIndex

        return PostgresSearchIndex(alias)
    return DjangoSearchIndex(alias)


class _SenderKeys:
    """Each sender name's key, the names not yet known added in bulk."""

    def __init__(self, alias: str) -> None:
        self.senders = SearchSender.objects.using(alias)
        self.known: dict[str | None, int | None] = {None: None}

    def keys(self, names: set[str | None]) -> dict[str | None, int | None]:
        """The key of every name in `names` (None for None)."""
        new = [name for name in names if name not in self.known]
        for at in range(0, len(new), 500):
            part = new[at:at + 500]
            self.senders.bulk_create([self.senders.model(name=name) for name in part], ignore_conflicts=True)
            self.known.update(self.senders.filter(name__in=part).values_list("name", "sender_key"))
        return self.known


def _insert_messages(db: Any, rows: Sequence[tuple]) -> int:
    """Insert rows (record_key, seq, ts, utc_offset, sender_key, kind, body) with consecutive ids, and their
    text and stems into the FTS index; returns the first id. `db` is the DB-API connection."""
    first = int(db.execute("SELECT COALESCE(MAX(message_id), 0) + 1 FROM search_messages").fetchone()[0])
    numbered = [(first + i, *row) for i, row in enumerate(rows)]
    db.executemany("INSERT INTO search_messages (message_id, record_key, seq, ts, utc_offset, sender_key, kind, "
                   "body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", numbered)
    db.executemany("INSERT INTO search_fts (rowid, body, stems) VALUES (?, ?, ?)",
                   ((row[0], row[7], stems_of(row[7])) for row in numbered))
    return first


def _quoted(parts: Sequence[str]) -> str:
    return '"' + " ".join(parts) + '"'


def _term_expression(term: Term) -> str:
    if term.either:
        return "(" + " OR ".join(_term_expression(t) for t in term.either) + ")"
    if term.prefix:
        return f"{{body}} : {_quoted(term.words)} *"
    if len(term.words) > 1:
        return f"{{body}} : {_quoted(term.words)}"
    word = term.words[0]
    stemmed = stem(word)
    if stemmed == word:
        return f"{{body stems}} : {_quoted([word])}"
    return f"({{body}} : {_quoted([word])} OR {{body stems}} : {_quoted([stemmed])})"


def fts_expression(terms: Sequence[Term]) -> str:
    """The FTS5 MATCH expression of parsed terms (every user word quoted)."""
    positive = " AND ".join(_term_expression(t) for t in terms if not t.negated)
    negative = [_term_expression(Term(t.words, t.prefix)) for t in terms if t.negated]
    return positive + "".join(f" NOT {n}" for n in negative)


class _Query:
    """The FROM part and the conditions of a message search (terms, dates, kind, participant)."""

    def __init__(self, index: DjangoSearchIndex, terms: Sequence[Term], sources: tuple[str, str], where: list[str],
                 params: list[Any], match_params: list[Any]) -> None:
        self.index, self.terms, self.where, self.params = index, terms, where, params
        self.source, self.ranged_source = sources  # the FROM part; the same when ids are limited to a range
        self.match_params = match_params  # the first parameters, those of the first condition (the match)
        self.identity = index._FULL_TEXT_ID if terms else "m.message_id"  # the message id, in message order

    @classmethod
    def of(cls, index: DjangoSearchIndex, terms: Sequence[Term], filters: Filters,
           within: Sequence[IndexedRecord] | None) -> "_Query | None":
        """The query, or None when it can find nothing (no record within, no sender with that name)."""
        if within is not None and not within:
            return None
        where: list[str]
        params: list[Any]
        if terms:
            source, ranged_source, match, match_params = index._matching(terms)
            where, params = [match], list(match_params)
        else:
            source = ranged_source = "FROM search_messages m"
            where, params, match_params = ["1 = 1"], [], []
        zone = ZoneInfo(filters.timezone)
        if filters.date_from:
            where.append("m.ts >= %s")
            params.append(int(datetime.combine(filters.date_from, time(), zone).timestamp()))
        if filters.date_to:
            where.append("m.ts < %s")
            params.append(int(datetime.combine(filters.date_to + timedelta(days=1), time(), zone).timestamp()))
        if filters.kind:
            where.append("m.kind = %s")
            params.append(filters.kind)
        if filters.participant:
            wanted = fold(filters.participant)
            keys = [key for key, name in index._senders() if wanted in name]
            if not keys:
                return None
            where.append(f"m.sender_key IN ({', '.join(str(int(k)) for k in keys)})")
        return cls(index, terms, (source, ranged_source), where, params, match_params)

    def within_records(self, within: Sequence[IndexedRecord] | None) -> tuple[list[str], list[Any]]:
        """The conditions, limited to the records `within` (None: every record)."""
        if within is None:
            return list(self.where), list(self.params)
        condition, params = self.index._in_records([r.record_key for r in within])
        return self.where + [condition], self.params + params


def _id_ranges(within: Sequence[IndexedRecord] | None) -> list[tuple[int, int]] | None:
    """The message id ranges of a few records, in message order (None for every record, or many)."""
    if within is None or len(within) > RANGE_QUERIES_UP_TO:
        return None
    return sorted((r.first_id, r.last_id) for r in within)


def _run(cursor: CursorWrapper, sql: str, params: Sequence[Any]) -> list[Any]:
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    except OperationalError as error:
        raise InputError(f"the search index cannot run this query: {error}") from None


def _message(r: Sequence[Any]) -> IndexedMessage:
    return IndexedMessage(r[0], r[1], r[2], datetime.fromtimestamp(r[3], _zone(r[4])), r[5], r[6], r[7])


@lru_cache(maxsize=None)
def _zone(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))

