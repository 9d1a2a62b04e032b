"""The search index on a PostgreSQL catalogue: the same tables and queries as on SQLite, with the full text in
a tsvector per message (table search_fts, GIN index, migration 0005) instead of FTS5.

edepot builds each tsvector itself, from the words and Snowball Dutch stems `preservation.search_stems` computes
(PostgreSQL's own `dutch` configuration stems differently and would split words otherwise): every folded word
at its position with weight A (the text: phrases and prefixes match only these), every stem that differs from
its word at weight B. Today's query language maps onto a tsquery term by term, as `fts_expression` maps it onto
FTS5: a word matches itself or its stem, "a phrase" is `a:A <-> b:A`, word* is `word:*A`, OR is `|`, -word is
`& !`. Relevance is ts_rank. User text never reaches the tsquery as syntax: every lexeme is quoted.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from django.db import connections, transaction
from django.db.backends.utils import CursorWrapper

from preservation.catalogue_db.nul_text import read_text, stored_text
from preservation.catalogue_db.search_store import _ORDER, _SELECT, _SENDER, DjangoSearchIndex, _message, _Query, _run
from preservation.search_index import COUNTED_UP_TO, IndexedMessage, Term
from preservation.search_stems import TOKEN, fold_fast, stem, stems

_LEXEME_BYTES = 2046  # PostgreSQL's longest lexeme; a longer "word" (a run of base64) is not indexed
_POSITION_MAX = 16383  # later positions are all this one
_INDEXING_LOCK = 0x6564_6570_7473  # one indexer at a time numbers messages
# A query a sample finds in many messages is read along an index in order (the primary key, the index on time),
# each message's tsvector tested, rather than from its GIN index: a bitmap of every match costs about as much per
# match as testing a message does, and reading in order stops once enough are found (`_frequent`)
_SAMPLED = 5_000  # messages sampled to tell how frequent a query is
# what testing one message costs, against a match from the GIN index (whose row is on a page of its own): read in
# the table's order (pages one after another) and by the index on time (a message and its tsvector looked up)
_IN_ORDER, _BY_TIME = 0.1, 2.0
_shares: dict[tuple[str, str], float] = {}  # (alias, tsquery) → the share of messages a sample found it in


@contextmanager
def _without_bitmaps(cursor: CursorWrapper) -> Iterator[None]:
    """The queries inside read along an index in its order (or the table), never a GIN index's bitmap."""
    cursor.execute("SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off")
    try:
        yield
    finally:
        cursor.execute("SET LOCAL enable_bitmapscan = on; SET LOCAL enable_sort = on")


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

    _FULL_TEXT_ID = "f.message_id"

    def rebuild_full_text(self) -> None:
        with connections[self._alias].cursor() as cursor:
            cursor.execute("DELETE FROM search_fts")
            after = 0
            while True:
                cursor.execute("SELECT message_id, body FROM search_messages WHERE message_id > %s "
                               "ORDER BY message_id LIMIT 50000", [after])
                rows = [(message_id, tsvector_of(read_text(body))) for message_id, body in cursor.fetchall()]
                if not rows:
                    return
                cursor.executemany("INSERT INTO search_fts (message_id, doc) VALUES (%s, %s::tsvector)", rows)
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
                          "body) FROM STDIN") as copy:
                for i, row in enumerate(rows):
                    copy.write_row((first + i, *row[:6], stored_text(row[6])))
            with raw.copy("COPY search_fts (message_id, doc) FROM STDIN") as copy:
                for i, row in enumerate(rows):
                    copy.write_row((first + i, tsvector_of(row[6])))
        return first

    def _delete_full_text(self, record_key: int) -> None:
        with connections[self._alias].cursor() as cursor:
            cursor.execute("DELETE FROM search_fts WHERE message_id IN "
                           "(SELECT message_id FROM search_messages WHERE record_key = %s)", [record_key])

    _MATCHES = "FROM (SELECT message_id FROM search_fts WHERE doc @@ %s::tsquery OFFSET 0) f"
    _JOINED = _MATCHES + " JOIN search_messages m ON m.message_id = f.message_id"
    _RANGED = "FROM search_fts f JOIN search_messages m ON m.message_id = f.message_id AND f.doc @@ %s::tsquery"
    _TEXT_ONLY = {_JOINED: _MATCHES, _RANGED: "FROM (SELECT message_id FROM search_fts WHERE doc @@ %s::tsquery) f"}

    def _matching(self, terms: Sequence[Term]) -> tuple[str, str, str, list[Any]]:
        # Every match from the GIN index first (the subquery keeps the planner from reading messages in some order
        # and testing each, which it may misjudge badly); within a range of ids, the planner's own way.
        return self._JOINED, self._RANGED, "1 = 1", [tsquery_expression(terms)]

    def _share(self, cursor: CursorWrapper, tsquery: str) -> float:
        """The share of messages a tsquery matches, as a sample of about _SAMPLED messages from pages all over the
        table finds it (the planner's own estimate knows only its statistics' most common words, not a prefix's
        or a rarer word's share)."""
        known = _shares.get((self._alias, tsquery))
        if known is not None:
            return known
        percent = min(100.0, 100.0 * _SAMPLED / max(1.0, self._messages(cursor)))
        cursor.execute("SELECT COUNT(*) FILTER (WHERE doc @@ %s::tsquery), COUNT(*) FROM search_fts "
                       "TABLESAMPLE SYSTEM (%s) REPEATABLE (0)", [tsquery, percent])
        matching, sampled = cursor.fetchone()
        share = matching / sampled if sampled else 0.0
        if len(_shares) > 1024:
            _shares.clear()
        _shares[(self._alias, tsquery)] = share
        return share

    def _frequent(self, cursor: CursorWrapper, tsquery: str, wanted: int, *, cost: float) -> bool:
        """Whether `wanted` matches are found sooner by reading messages in an order, testing each (about wanted /
        share of them, at `cost` each), than from the GIN index's bitmap of every match (share × messages, each
        match's row on a page of its own)."""
        share = self._share(cursor, tsquery)
        return share > 0 and share * share >= cost * wanted / max(1.0, self._messages(cursor))

    def _messages(self, cursor: CursorWrapper) -> float:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'search_fts'::regclass")
        return float(cursor.fetchone()[0])

    def _count(self, cursor: CursorWrapper, source: str, where: list[str], params: list[Any],
               up_to: int | None, *, remember: bool = False) -> int:
        """As on SQLite; a frequent query without conditions on the messages counted by reading the tsvectors
        until more than `up_to` match."""
        if (up_to is None or source != self._JOINED or any(c.startswith("m.") for c in where)
                or not self._frequent(cursor, params[0], up_to, cost=_IN_ORDER)):
            return super()._count(cursor, source, where, params, up_to, remember=remember)
        with _without_bitmaps(cursor):
            return super()._count(cursor, self._RANGED, where, params, up_to, remember=remember)

    def _walks(self, cursor: CursorWrapper, query: _Query, where: list[str], params: list[Any], sort: str) -> bool:
        """A GIN index finds matches in no order: up to COUNTED_UP_TO matches (the count the total takes) are
        sorted whole; with more, a page is read in its order (`_walk`)."""
        return self._count(cursor, query.source, where, params, COUNTED_UP_TO, remember=True) > COUNTED_UP_TO

    def _walk(self, cursor: CursorWrapper, query: _Query, where: list[str], params: list[Any], sort: str,
              wanted: int) -> list[Any]:
        """The first `wanted` of many matches. A frequent query: messages read in the order, along the primary key
        or the index on time, each one's tsvector tested, with no bitmap of every match. Another: every match from
        the GIN index, sorted (reading it window by window of ids would visit every match's row for each window)."""
        if not self._frequent(cursor, params[0], wanted, cost=_IN_ORDER if sort == "chat" else _BY_TIME):
            return self._sorted(cursor, query.source, where, params, query.identity if sort == "chat"
                                else _ORDER[sort], wanted)
        if sort == "chat":
            sql = (_SELECT + self._RANGED + _SENDER + " WHERE " + " AND ".join(where)
                   + " ORDER BY f.message_id LIMIT %s")
        else:
            sql = (_SELECT + "FROM search_messages m JOIN search_fts f ON f.message_id = m.message_id" + _SENDER
                   + " WHERE " + " AND ".join(["f.doc @@ %s::tsquery"] + where[1:])
                   + f" ORDER BY {_ORDER[sort]} LIMIT %s")
        with _without_bitmaps(cursor):
            return _run(cursor, sql, params + [wanted])

    @contextmanager
    def _reading(self) -> Iterator[CursorWrapper]:
        # Joins message by message (the primary key): the planner would otherwise merge-join along the whole
        # messages table to save sorting a handful of matches, which it cannot tell from a million.
        with transaction.atomic(using=self._alias), connections[self._alias].cursor() as cursor:
            cursor.execute("SET LOCAL enable_mergejoin = off; SET LOCAL enable_hashjoin = off")
            yield cursor

    def _in_records(self, keys: list[int]) -> tuple[str, Any]:
        return "m.record_key = ANY(%s)", keys

    def _message(self, row: Sequence[Any]) -> IndexedMessage:
        sender, body = row[5], row[7]
        return _message((*row[:5], read_text(sender) if sender is not None else None, row[6], read_text(body)))

    def _text(self, body: str) -> str:
        return read_text(body)

    def size(self) -> int:
        """Bytes the index's tables and their indexes take."""
        with connections[self._alias].cursor() as cursor:
            cursor.execute("SELECT SUM(pg_total_relation_size(t)) FROM unnest(ARRAY['search_fts', 'search_messages', "
                           "'search_records', 'search_senders']) AS t")
            return int(cursor.fetchone()[0] or 0)
