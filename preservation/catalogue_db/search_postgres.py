"""The search index on a PostgreSQL catalogue: the same tables and query language as on SQLite, with the full
text in a tsvector in each message's own row (search_messages.doc, GIN index search_messages_doc, migration 0020)
instead of FTS5.

edepot builds each tsvector itself, from the words and Snowball Dutch stems `preservation.search_stems` computes
(PostgreSQL's own `dutch` configuration stems differently and would split words otherwise): every folded word
at its position with weight A (the text: phrases and prefixes match only these), every stem that differs from
its word at weight B. Today's query language maps onto a tsquery term by term, as `fts_expression` maps it onto
FTS5: a word matches itself or its stem, "a phrase" is `a:A <-> b:A`, word* is `word:*A`, OR is `|`, -word is
`& !`. User text never reaches the tsquery as syntax: every lexeme is quoted.

How a page is read. The matches of a search can be found in four ways, and each search takes the one expected
to read the fewest rows, judged from a sample of about _SAMPLED messages (how many match the words, and how many
of those also pass the filters), remembered per query:

- "matches": every message the GIN index finds for the words, each one's row read and tested against the
  filters, the page sorted from those (costs a row per match, however few pass);
- "walk" (searching every record, or many): messages read in the page's order, along the primary key (chat
  order) or the index on time, each one's tsvector and filters tested, until the page is full (costs the page's
  size over the share that passes); given up for "matches" when as many rows as that way would read do not fill
  the page (the sample can be wrong: a filter can pass many messages, but not the newest);
- "window": the GIN index's matches among some messages only, the bitmaps of both indexes and-ed before any
  row is read: in chat order the first messages, as many as the sample says hold the page, the window widened
  until the page is full; searching a few records, their id ranges;
- "records" (searching up to RANGE_QUERIES_UP_TO records): each record read on its own, in the page's order,
  along its id range (chat order) or the index on record and time, until the page is full; counted by reading
  their id ranges until enough match.

Counting up to a bound takes the same choice.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from django.db import connections, transaction
from django.db.backends.utils import CursorWrapper

from preservation.catalogue_db.nul_text import read_text, stored_text
from preservation.catalogue_db.search_store import (
    _ORDER,
    DjangoSearchIndex,
    _id_ranges,
    _message,
    _Query,
    _run,
)
from preservation.search_index import Filters, IndexedMessage, IndexedRecord, Term, has_prefix
from preservation.search_stems import TOKEN, fold_fast, stem, stems

_LEXEME_BYTES = 2046  # PostgreSQL's longest lexeme; a longer "word" (a run of base64) is not indexed
_POSITION_MAX = 16383  # later positions are all this one
_INDEXING_LOCK = 0x6564_6570_7473  # one indexer at a time numbers messages
_SAMPLED = 2_500  # messages sampled to tell how many a query matches
# microseconds, measured over 10,000,000 messages (benchmarks/search_10m.py): a match in the GIN index's bitmap,
# and its row read from a page of its own and tested; a row read along an index, in its order, and tested
_PER_MATCH_FOUND, _PER_MATCH_READ, _PER_ROW = 0.3, 1.6, 0.45
# a window of ids (0021's BRIN index): every block summary read, and each message in the window on a page that
# holds a match read and tested again (whichever bitmap the planner and-s first, the pages may stay lossy)
_PER_SUMMARY, _ROWS_PER_PAGE = 0.0008, 15
_PREFIX_FOUND = 2.0  # a prefix's matches cost this much more in the GIN index (every word it begins, merged)
_WINDOW_MARGIN = 1.5  # a window of ids is made this much wider than the sample says the page needs
_WALK_FIRST = 1_000  # rows a walk may read at least
_WORK_MEM = "64MB"  # a search's bitmaps and sorts: exact for millions of matches
_COLUMNS = "m.message_id, m.record_key, m.seq, m.ts, m.utc_offset, m.sender_key, m.kind, m.body"
_READING = {"enable_mergejoin": "off", "enable_hashjoin": "off", "work_mem": f"'{_WORK_MEM}'", "jit": "off"}
_PLANS = {  # what the planner may use, per way (the module's docstring)
    "matches": {"enable_bitmapscan": "on", "enable_indexscan": "off", "enable_seqscan": "off", "enable_sort": "on"},
    "walk": {"enable_bitmapscan": "off", "enable_indexscan": "on", "enable_seqscan": "off", "enable_sort": "off"},
    "window": {"enable_bitmapscan": "on", "enable_indexscan": "off", "enable_seqscan": "off", "enable_sort": "on"},
    "records": {"enable_bitmapscan": "on", "enable_indexscan": "on", "enable_seqscan": "off", "enable_sort": "on"},
}
_shares: dict[tuple[str, str, str], "_Shares"] = {}
# per alias: sender key → name, as read while the index is in one state
_sender_names: dict[str, tuple[tuple[Any, ...], dict[int, str]]] = {}
_SENDER_NAMES_KEPT = 1_000_000


@dataclass(frozen=True)
class _Shares:
    """Shares of the sampled messages: matching the words, and matching them and passing the filters."""

    words: float
    both: float


@dataclass(frozen=True)
class _Conditions:
    """A search's conditions: the words' match (its parameters first), the filters, and, when few records are
    searched, their id ranges and keys."""

    match: str
    match_params: list[Any]
    filters: list[str]
    filter_params: list[Any]
    ranges: list[tuple[int, int]] | None
    in_ranges: int  # messages in those ranges
    records: list[int]  # the keys of those records
    prefixed: bool  # a term is a prefix: the GIN index merges every word it begins

    @property
    def where(self) -> str:
        return " AND ".join([self.match, *self.filters])

    @property
    def params(self) -> list[Any]:
        return self.match_params + self.filter_params


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_of(text: str) -> str:
    """The tsvector literal of a message text: its folded words with positions (A), their stems that differ (B)."""
    tokens = [t for t in TOKEN.findall(fold_fast(text)) if len(t.encode()) <= _LEXEME_BYTES]
    if not tokens:
        return ""
    positions: dict[str, list[str]] = {}
    for at, (token, stemmed) in enumerate(zip(tokens, stems(tokens)), start=1):
        position = min(at, _POSITION_MAX)
        positions.setdefault(token, []).append(f"{position}A")
        if stemmed != token:
            positions.setdefault(stemmed, []).append(f"{position}B")
    return " ".join(f"{_lexeme(word)}:{','.join(dict.fromkeys(at))}" for word, at in positions.items())


def _term_query(term: Term) -> str:
    if term.either:
        return "(" + " | ".join(_term_query(t) for t in term.either) + ")"
    if term.prefix or len(term.words) > 1:
        parts = [f"{_lexeme(w)}:A" for w in term.words]
        if term.prefix:
            parts[-1] = parts[-1].replace(":A", ":*A")
        return "(" + " <-> ".join(parts) + ")"
    word = term.words[0]
    stemmed = stem(word)
    if stemmed == word:
        return _lexeme(word)  # the word in the text or as a stem
    return f"({_lexeme(word)}:A | {_lexeme(stemmed)})"


def tsquery_expression(terms: Sequence[Term]) -> str:
    """The tsquery of parsed terms, matching what `fts_expression` matches on FTS5."""
    positive = " & ".join(_term_query(t) for t in terms if not t.negated)
    negative = [_term_query(Term(t.words, t.prefix)) for t in terms if t.negated]
    return positive + "".join(f" & !{n}" for n in negative)


class PostgresSearchIndex(DjangoSearchIndex):
    """The full-text index in a PostgreSQL catalogue."""

    _FULL_TEXT_ID = "m.message_id"
    _TEXT_ONLY: dict[str, str] = {}

    def rebuild_full_text(self) -> None:
        with connections[self._alias].cursor() as cursor:
            after = 0
            while True:
                cursor.execute("SELECT message_id, body FROM search_messages WHERE message_id > %s "
                               "ORDER BY message_id LIMIT 50000", [after])
                rows = cursor.fetchall()
                if not rows:
                    return
                cursor.execute("UPDATE search_messages m SET doc = v.doc::tsvector FROM unnest(%s::bigint[], "
                               "%s::text[]) AS v(message_id, doc) WHERE m.message_id = v.message_id",
                               [[r[0] for r in rows], [tsvector_of(read_text(r[1])) for r in rows]])
                after = rows[-1][0]

    def _insert(self, rows: Sequence[tuple]) -> int:
        with connections[self._alias].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_INDEXING_LOCK])
            cursor.execute("SELECT COALESCE(MAX(message_id), 0) + 1 FROM search_messages")
            first = int(cursor.fetchone()[0])
        # COPY, on the DB-API connection inside the transaction atomic began: millions of rows, a tenth of the
        # time of INSERTs
        with connections[self._alias].connection.cursor() as raw:
            with raw.copy("COPY search_messages (message_id, record_key, seq, ts, utc_offset, sender_key, kind, "
                          "body, doc) FROM STDIN") as copy:
                for i, row in enumerate(rows):
                    copy.write_row((first + i, *row[:6], stored_text(row[6]), tsvector_of(row[6])))
        return first

    def _delete_full_text(self, record_key: int) -> None:
        """Nothing: a message's tsvector goes with its row."""

    def _matching(self, terms: Sequence[Term]) -> tuple[str, str, str, list[Any]]:
        source = "FROM search_messages m"
        return source, source, "m.doc @@ %s::tsquery", [tsquery_expression(terms)]

    def _in_records(self, keys: list[int]) -> tuple[str, list[Any]]:
        # the keys written out, a constant the planner hashes once (a parameter's array is searched through for
        # every message tested: thousands of keys, microseconds a message)
        return f"m.record_key = ANY('{{{','.join(str(int(key)) for key in keys)}}}'::bigint[])", []

    # -- reading: the way of each search (the module's docstring)

    def count_messages(self, terms: Sequence[Term], filters: Any, within: Sequence[IndexedRecord] | None,
                       *, up_to: int | None = None) -> int:
        query = _Query.of(self, terms, filters, within)
        if query is None or not terms or up_to is None:
            return super().count_messages(terms, filters, within, up_to=up_to)
        conditions = _conditions_of(query, within)

        def count() -> int:
            with self._reading() as cursor:
                for way, sql, params in self._unordered(cursor, conditions, up_to + 1):
                    counted = int(self._planned(cursor, way, f"SELECT COUNT(*) FROM (SELECT 1 {sql} LIMIT %s) c",
                                                params + [up_to + 1])[0][0])
                    if counted > up_to or way != "walk":
                        return counted
                return 0
        return self._remembered((conditions.where, repr((conditions.params, conditions.ranges, up_to))), count)

    def find_any_messages(self, terms: Sequence[Term], filters: Filters, within: Sequence[IndexedRecord] | None,
                          limit: int) -> list[IndexedMessage]:
        """Up to `limit` matching messages, read the way that reads fewest for any `limit` of them: without a sort,
        the GIN index's way stops after `limit` rows (the pages in its bitmap are read in order)."""
        query = _Query.of(self, terms, filters, within)
        if query is None or not terms:
            return self.find_messages(terms, filters, within, limit)
        known = self._first_known(query, filters, within, limit)  # relevance's ranked matches, read already
        if known is not None:
            return [self._message(r) for r in known]
        conditions = _conditions_of(query, within)
        with self._reading() as cursor:
            for way, sql, params in self._unordered(cursor, conditions, limit):
                rows = self._planned(cursor, way, f"SELECT {_COLUMNS} {sql} LIMIT %s", params + [limit])
                if len(rows) == limit or way != "walk":
                    return [self._message(r) for r in self._named(cursor, rows)]
        return []

    def _unordered(self, cursor: CursorWrapper, conditions: _Conditions,
                   wanted: int) -> Iterator[tuple[str, str, list[Any]]]:
        """The ways to read any `wanted` matches (their way, FROM and WHERE parts, parameters), in the order to try
        them: the cheapest first; a walk (the first in message order, if a budget's rows hold them) is followed by
        the GIN index's way."""
        way = self._way(cursor, conditions, wanted, sort=None)
        if way == "walk":
            yield (way, *_walked(conditions, "chat", self._walk_budget(cursor, conditions, wanted)))
            way = "matches"
        yield (way, *_query(way, conditions))

    def _ordered(self, query: _Query, within: Sequence[IndexedRecord] | None, sort: str,
                 wanted: int | None) -> list[Any]:
        if not query.terms:
            return super()._ordered(query, within, sort, wanted)
        conditions = _conditions_of(query, within)
        with self._reading() as cursor:
            way = self._way(cursor, conditions, wanted, sort=sort)
            if way == "walk" and wanted is not None:
                rows = self._walk_rows(cursor, conditions, sort, wanted)
                if rows is not None:
                    return rows
                way = "matches"
            if way == "window" and conditions.ranges is None and wanted is not None:
                return self._named(cursor, self._in_windows(cursor, conditions, wanted))
            if way == "records" and wanted is not None:
                return self._named(cursor, self._by_record(cursor, conditions, sort, wanted))
            sql, params = _query(way, conditions)
            sql = f"SELECT {_COLUMNS} {sql} ORDER BY {_ORDER[sort]}"
            if wanted is not None:
                sql, params = sql + " LIMIT %s", params + [wanted]
            return self._named(cursor, self._planned(cursor, way, sql, params))

    def _way(self, cursor: CursorWrapper, conditions: _Conditions, wanted: int | None, *, sort: str | None) -> str:
        """The way expected to read the fewest rows to find `wanted` matches (None: every match) in the sort
        order (None: any `wanted`, for counting)."""
        costs = self._costs(cursor, conditions, wanted, sort=sort)
        if conditions.ranges is None:
            costs.pop("records", None)
            if sort != "chat":
                costs.pop("window", None)
        else:
            costs.pop("walk", None)
        return min(costs, key=lambda way: costs[way])

    def _costs(self, cursor: CursorWrapper, conditions: _Conditions, wanted: int | None, *,
               sort: str | None) -> dict[str, float]:
        """Microseconds each way is expected to take (the module's docstring)."""
        shares = self._shares(cursor, conditions)
        messages = self._indexed_messages()
        matches = shares.words * messages
        read = matches if sort or wanted is None or not shares.both else min(
            matches, wanted * shares.words / shares.both)
        found = matches * _PER_MATCH_FOUND * (_PREFIX_FOUND if conditions.prefixed else 1.0)
        costs = {"matches": found + read * _PER_MATCH_READ}
        if wanted is not None:
            costs["walk"] = wanted / shares.both * _PER_ROW if shares.both else math.inf
        if conditions.ranges is not None:  # the records' ids are the window
            costs["window"] = found + messages * _PER_SUMMARY + conditions.in_ranges * _per_window_id(shares)
            # in the records' own messages, a share `density` passes; by time each record is read on its own
            density = shares.both * messages / max(1, conditions.in_ranges)
            reads = len(conditions.records) if sort in ("newest", "oldest") else 1
            needed = conditions.in_ranges if wanted is None or not density else reads * wanted / density
            costs["records"] = min(conditions.in_ranges, needed) * _PER_ROW
        elif wanted is not None:
            span = _WINDOW_MARGIN * wanted / shares.both if shares.both else math.inf
            costs["window"] = found + messages * _PER_SUMMARY + span * _per_window_id(shares)
        return costs

    def _shares(self, cursor: CursorWrapper, conditions: _Conditions) -> _Shares:
        """The shares of messages that match the words, and that also pass the filters, in a sample of about
        _SAMPLED messages from pages all over the table (the planner's own estimate knows only its statistics'
        most common words, not a prefix's or a rarer word's share, nor how filters and words go together)."""
        key = (self._alias, conditions.where, repr((conditions.params, conditions.ranges)))
        known = _shares.get(key)
        if known is not None:
            return known
        percent = min(100.0, 100.0 * _SAMPLED / max(1.0, self._indexed_messages()))
        ranges, range_params = _range_conditions(conditions)
        filters = " AND ".join(conditions.filters + ranges) or "true"
        filter_params = conditions.filter_params + range_params
        cursor.execute(f"SELECT COUNT(*) FILTER (WHERE {conditions.match}), COUNT(*) FILTER (WHERE "
                       f"{conditions.match} AND {filters}), COUNT(*) FROM search_messages m "
                       "TABLESAMPLE SYSTEM (%s) REPEATABLE (0)",
                       conditions.match_params + conditions.match_params + filter_params + [percent])
        words, both, sampled = cursor.fetchone()
        found = _Shares(*(n / sampled if sampled else 0.0 for n in (words, both)))
        if len(_shares) > 1024:
            _shares.clear()
        _shares[key] = found
        return found

    def _walk_rows(self, cursor: CursorWrapper, conditions: _Conditions, sort: str, wanted: int) -> list[Any] | None:
        """The first `wanted` matches in the sort order, read along its index; None when they are not all among
        as many rows as finding every match from the GIN index would read (the sample misjudged the query, or
        fewer match): then that way serves."""
        sql, params = _walked(conditions, sort, self._walk_budget(cursor, conditions, wanted))
        rows = self._planned(cursor, "walk", f"SELECT {_COLUMNS} {sql} ORDER BY {_ORDER[sort]} LIMIT %s",
                             params + [wanted])
        return self._named(cursor, rows) if len(rows) == wanted else None

    def _in_windows(self, cursor: CursorWrapper, conditions: _Conditions, wanted: int) -> list[Any]:
        """The first `wanted` matches in chat order, from windows of message ids one after another, each as wide as
        the share of matches says the rest of the page needs: the sample's share first, then the share found."""
        records = self.records()
        after = min(r.first_id for r in records) - 1
        last = max(r.last_id for r in records)
        shares = self._shares(cursor, conditions)
        share = max(shares.both, 1e-9)
        # each window costs the GIN index's bitmap of every match: a window narrower than costs as much is not worth
        # a read of its own
        least = max(_WALK_FIRST, int(shares.words * self._indexed_messages() * _PER_MATCH_FOUND
                                     / _per_window_id(shares)))
        rows: list[Any] = []
        read = 0
        while len(rows) < wanted and after < last:
            end = min(last, after + max(least, int(_WINDOW_MARGIN * (wanted - len(rows)) / share)))
            rows += self._planned(cursor, "window", f"SELECT {_COLUMNS} FROM search_messages m WHERE "
                                  f"m.message_id > %s AND m.message_id <= %s AND {conditions.where} "
                                  "ORDER BY m.message_id LIMIT %s", [after, end] + conditions.params
                                  + [wanted - len(rows)])
            read, after = read + end - after, end
            share = max(len(rows) / read, share / 4)  # fewer than the sample said: at most four times as wide
        return rows

    def _by_record(self, cursor: CursorWrapper, conditions: _Conditions, sort: str, wanted: int) -> list[Any]:
        """The first `wanted` matches in the few records searched: in chat order each record's id range in turn
        until the page is full; by time each record's first `wanted` along the index on record and time, merged."""
        where, params = conditions.where, conditions.params
        if sort == "chat":
            rows: list[Any] = []
            for first, last in conditions.ranges or []:
                rows += self._planned(cursor, "walk", f"SELECT {_COLUMNS} FROM search_messages m WHERE "
                                      f"m.message_id BETWEEN %s AND %s AND {where} ORDER BY m.message_id LIMIT %s",
                                      [first, last] + params + [wanted - len(rows)])
                if len(rows) >= wanted:
                    break
            return rows
        order = _ORDER[sort]
        return self._planned(cursor, "walk", f"SELECT m.* FROM unnest(%s::bigint[]) AS r(record_key), LATERAL "
                             f"(SELECT {_COLUMNS} FROM search_messages m WHERE m.record_key = r.record_key AND "
                             f"{where} ORDER BY {order} LIMIT %s) m ORDER BY {order} LIMIT %s",
                             [conditions.records] + params + [wanted, wanted])

    def _walk_budget(self, cursor: CursorWrapper, conditions: _Conditions, wanted: int) -> int:
        """The most rows a walk reads: as many as the GIN index's way would cost."""
        return max(_WALK_FIRST, int(self._costs(cursor, conditions, wanted, sort="chat")["matches"] / _PER_ROW))

    def _planned(self, cursor: CursorWrapper, way: str, sql: str, params: list[Any]) -> list[Any]:
        """The rows of `sql`, planned the way named (`_PLANS`)."""
        self._set(cursor, _PLANS[way])
        return _run(cursor, sql, params)

    def _named(self, cursor: CursorWrapper, rows: list[Any]) -> list[Any]:
        """Result rows with each sender's name in place of its key (each name read once while the index stays as it
        is)."""
        state = self._state()
        known = _sender_names.get(self._alias)
        if known is None or known[0] != state or len(known[1]) > _SENDER_NAMES_KEPT:
            known = _sender_names[self._alias] = (state, {})
        names = known[1]
        missing = sorted({r[5] for r in rows if r[5] is not None} - names.keys())
        if missing:
            cursor.execute("SELECT sender_key, name FROM search_senders WHERE sender_key = ANY(%s)", [missing])
            names.update(cursor.fetchall())
        return [(*r[:5], names.get(r[5]), *r[6:]) for r in rows]

    @contextmanager
    def _reading(self) -> Iterator[CursorWrapper]:
        # A search without words joins messages to senders message by message (the primary key): the planner
        # would otherwise merge-join along the whole messages table to save sorting a handful of them. A bitmap of
        # a frequent word's matches fits in _WORK_MEM (in the default 4 MB it turns lossy: every row on a page it
        # names is read and tested again), and compiling a plan (JIT, 15 ms) never pays for reading one page.
        with transaction.atomic(using=self._alias, savepoint=False), connections[self._alias].cursor() as cursor:
            self._set(cursor, _READING)
            yield cursor

    def _set(self, cursor: CursorWrapper, settings: dict[str, str]) -> None:
        """SET LOCAL each setting, but those a `reading` block's transaction has made so already."""
        view = self._view()
        made = view.settings if view is not None else None
        needed = {name: value for name, value in settings.items() if made is None or made.get(name) != value}
        if needed:
            cursor.execute("; ".join(f"SET LOCAL {name} = {value}" for name, value in needed.items()))
            if made is not None:
                made.update(needed)

    def _message(self, row: Sequence[Any]) -> IndexedMessage:
        sender, body = row[5], row[7]
        return _message((*row[:5], read_text(sender) if sender is not None else None, row[6], read_text(body)))

    def _text(self, body: str) -> str:
        return read_text(body)

    def size(self) -> int:
        """Bytes the index's tables and their indexes take."""
        with connections[self._alias].cursor() as cursor:
            cursor.execute("SELECT SUM(pg_total_relation_size(t)) FROM unnest(ARRAY['search_messages', "
                           "'search_records', 'search_senders']) AS t")
            return int(cursor.fetchone()[0] or 0)


def _per_window_id(shares: _Shares) -> float:
    """Microseconds a message id in a window costs: its row read and tested when its page holds a match."""
    return max(1e-6, min(1.0, _ROWS_PER_PAGE * shares.words)) * _PER_ROW


def _conditions_of(query: _Query, within: Sequence[IndexedRecord] | None) -> _Conditions:
    """The conditions of a search with words, in the records `within` (None: every record)."""
    matched = len(query.match_params)
    filters, filter_params = list(query.where[1:]), list(query.params[matched:])
    ranges = _id_ranges(within)
    if within is not None and ranges is None:
        condition, params = query.index._in_records([r.record_key for r in within])
        filters, filter_params = filters + [condition], filter_params + params
    few = list(within) if ranges is not None and within is not None else []
    return _Conditions(query.where[0], list(query.params[:matched]), filters, filter_params, ranges,
                       sum(r.messages for r in few), [r.record_key for r in few], has_prefix(query.terms))


def _range_conditions(conditions: _Conditions) -> tuple[list[str], list[Any]]:
    """The condition (none, or one) that a message is in one of the id ranges, and its parameters."""
    if conditions.ranges is None:
        return [], []
    return (["(" + " OR ".join(["m.message_id BETWEEN %s AND %s"] * len(conditions.ranges)) + ")"],
            [bound for pair in conditions.ranges for bound in pair])


def _query(way: str, conditions: _Conditions) -> tuple[str, list[Any]]:
    """The FROM and WHERE parts reading the matches the way named ("matches"; "records": every message in the
    records' id ranges; "window": the GIN index's matches in those ranges), and their parameters. A subquery that
    cannot be flattened (OFFSET 0) is read first: the GIN index's matches, or the ranges' rows."""
    ranges, range_params = _range_conditions(conditions)
    if way == "window":  # bitmaps and-ed: the GIN index's, and the ranges' (the BRIN index's or the primary key's)
        return (f"FROM search_messages m WHERE {' AND '.join([conditions.where] + ranges)}",
                conditions.params + range_params)
    if way == "records":
        return (f"FROM (SELECT * FROM search_messages m WHERE {ranges[0]} OFFSET 0) m WHERE {conditions.where}",
                range_params + conditions.params)
    rest = " AND ".join(conditions.filters + ranges) or "true"
    return (f"FROM (SELECT * FROM search_messages m WHERE {conditions.match} OFFSET 0) m WHERE {rest}",
            conditions.match_params + conditions.filter_params + range_params)


def _walked(conditions: _Conditions, sort: str, budget: int) -> tuple[str, list[Any]]:
    """The FROM and WHERE parts of a walk: at most `budget` messages passing the filters, read in the sort order
    along its index, of which those matching the words."""
    ranges, range_params = _range_conditions(conditions)
    filters = " AND ".join(conditions.filters + ranges) or "true"
    return (f"FROM (SELECT * FROM search_messages m WHERE {filters} ORDER BY {_ORDER[sort]} LIMIT %s) m "
            f"WHERE {conditions.match}", conditions.filter_params + range_params + [budget] + conditions.match_params)
