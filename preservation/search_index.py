"""Data Management: the full-text index of every message (DESIGN.md, "catalogue: … messages full-text index").

SQLite FTS5, in the catalogue's own file (found by the catalogue URL), in tables of its own:

    search_records   one row per indexed AIP: record kenmerk, title, the access facts read from its MDTO
                     (preservation.record_access), zaak and classification for filters
    search_senders   each sender name once
    search_messages  one row per message: record, seq, time (UTC seconds and the offset it was written
                     in), sender, kind, text
    search_fts       FTS5 over two columns, `body` (the text) and `stems` (Dutch stems), both with the
                     unicode61 tokenizer and remove_diacritics 2 (case and accents folded: "cafe" finds
                     "Café"). The text itself is kept once, in search_messages (external content).

Dutch words: each word is also indexed by its Snowball Dutch (Porter) stem, where the stem differs from
the word, so "vergunningen" finds "vergunning" and "wethouder" finds "wethouders". The stem column is
computed (the SQL function `edepot_stems`), never stored twice. Query syntax (`parse_query`):
words (all must occur, in any inflection), "a phrase" (exact words in order), word* (prefix: finds
compounds, e.g. vergunning* → vergunningaanvraag), OR between two terms, -word (must not occur).
User text never reaches FTS5 as syntax: every term is quoted.

Called at ingest (`index_aip`), by `edepot search reindex` (from the stored AIPs), and by destruction
(`remove_aip_from_index`, which the retention stage must call before the AIP is gone).
"""
from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo

from kernel.errors import InputError
from kernel.model import Conversation, Message
from preservation.record_access import RecordAccess, fold, informatieobject_document, record_access_from_mdto

STEMMER_ALGORITHM = "dutch_porter"
TOKENIZER = "unicode61 remove_diacritics 2"
_TOKEN = re.compile(r"[^\W_]+")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS search_records (
    record_key INTEGER PRIMARY KEY,
    aip_id TEXT NOT NULL UNIQUE,
    record_id TEXT NOT NULL,
    title TEXT NOT NULL,
    access TEXT NOT NULL,
    zaak_folded TEXT NOT NULL,
    classificatie_folded TEXT NOT NULL,
    current INTEGER NOT NULL,
    messages INTEGER NOT NULL,
    first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    indexed TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS search_records_record ON search_records(record_id);
CREATE TABLE IF NOT EXISTS search_senders (sender_key INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS search_messages (
    message_id INTEGER PRIMARY KEY,
    record_key INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    utc_offset INTEGER NOT NULL,
    sender_key INTEGER,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS search_messages_record ON search_messages(record_key, seq);
CREATE VIEW IF NOT EXISTS search_content AS
    SELECT message_id, body, edepot_stems(body) AS stems FROM search_messages;
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
    body, stems, content='search_content', content_rowid='message_id', tokenize='{TOKENIZER}'
);
"""


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer(STEMMER_ALGORITHM, 100_000)


def stemmer_version() -> str:
    return f"{STEMMER_ALGORITHM} PyStemmer {package_version('PyStemmer')}"


def fold_fast(text: str) -> str:
    """`fold` with a fast path for ASCII text."""
    return text.lower() if text.isascii() else fold(text)


def words(text: str) -> list[str]:
    """The folded words of a text, split as FTS5's unicode61 tokenizer splits them."""
    return _TOKEN.findall(fold_fast(text))


def stem(word: str) -> str:
    """The Dutch stem of one folded word."""
    return str(_stemmer().stemWord(word))


def stems_of(text: str) -> str:
    """The stems of a text's words that differ from the word itself, each once (the `stems` column)."""
    tokens = words(text)
    if not tokens:
        return ""
    seen = dict.fromkeys(s for t, s in zip(tokens, _stemmer().stemWords(tokens)) if s != t)
    return " ".join(seen)


def sqlite_path(url: str) -> Path:
    """The file behind a catalogue URL `sqlite:///path` (the catalogue's own convention)."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    raise InputError(f"catalogue URL {url!r} is not supported for search",
                     hint="use sqlite:///path/to/catalogue.sqlite")


def connect(path: Path, bulk: bool = False) -> sqlite3.Connection:
    """A connection to the SQLite file with the index's tables and its stem function ready.

    `bulk` (benchmarks only) turns off fsync: a crash may then lose the index, never the catalogue."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=60)
    db.create_function("edepot_stems", 1, stems_of, deterministic=True)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF" if bulk else "PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA cache_size=-262144")
    db.executescript(SCHEMA)
    found = db.execute("SELECT value FROM search_meta WHERE key = 'stemmer'").fetchone()
    if found is None:
        db.execute("INSERT OR REPLACE INTO search_meta VALUES ('stemmer', ?)", (stemmer_version(),))
    elif found[0] != stemmer_version():
        _rebuild(db)
    return db


def _rebuild(db: sqlite3.Connection) -> None:
    """Re-derive the FTS index from the stored texts (after a stemmer upgrade the old stems would not
    match what a delete recomputes)."""
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    db.execute("INSERT OR REPLACE INTO search_meta VALUES ('stemmer', ?)", (stemmer_version(),))
    db.execute("COMMIT")


@dataclass(frozen=True)
class IndexedRecord:
    """One indexed AIP with its access facts."""

    record_key: int
    aip_id: str
    record_id: str
    title: str
    access: RecordAccess
    current: bool  # False when a later AIP of the same record was indexed
    messages: int
    first_id: int  # the record's messages have consecutive ids first_id..last_id
    last_id: int


@dataclass(frozen=True)
class Filters:
    """Which messages a search looks at (all given conditions hold). Dates are whole local days."""

    date_from: date | None = None
    date_to: date | None = None
    participant: str | None = None  # part of the sender's name, case and accents ignored
    aip: str | None = None  # an AIP id or a record kenmerk
    zaak: str | None = None  # part of the zaak's kenmerk or naam
    classification: str | None = None  # part of a classificatie code or label
    kind: str | None = None  # a MessageKind value
    timezone: str = "Europe/Amsterdam"
    custodians: tuple[str, ...] = ()  # parts of custodians' names: chats from these people's phones or accounts

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
                for k, v in self.__dict__.items() if v is not None and v != ()}

    def narrows(self) -> bool:
        """Whether any condition besides the time zone is given (a search without words needs one)."""
        return any(v not in (None, ()) for k, v in self.__dict__.items() if k != "timezone")


@dataclass(frozen=True)
class IndexedMessage:
    """A message as the index holds it."""

    message_id: int
    record_key: int
    seq: int
    timestamp: datetime
    sender: str | None
    kind: str
    text: str


def record_access_of(metadata: bytes | Path | RecordAccess) -> RecordAccess:
    """Access facts from an MDTO document (bytes), an AIP/SIP metadata folder or file, or as given."""
    if isinstance(metadata, RecordAccess):
        return metadata
    if isinstance(metadata, Path):
        return record_access_from_mdto(metadata.read_bytes() if metadata.is_file()
                                       else informatieobject_document(metadata))
    return record_access_from_mdto(metadata)


def index_aip(catalogue_url: str, aip_id: str, conversation: Conversation,
              record_metadata: bytes | Path | RecordAccess, indexed: datetime | None = None) -> int:
    """Index every message of one AIP (replacing what was indexed for it before); returns the count.

    `record_metadata` is the record's MDTO informatieobject (bytes), the folder holding it (the AIP's or
    SIP's metadata folder), or RecordAccess facts. Earlier AIPs of the same record stop being "current"
    (search shows the newest version unless asked for an AIP by id). One transaction."""
    facts = record_access_of(record_metadata)
    db = connect(sqlite_path(catalogue_url))
    try:
        return index_conversation(db, aip_id, conversation.messages, facts, indexed or datetime.now(timezone.utc))
    finally:
        db.close()


def index_conversation(db: sqlite3.Connection, aip_id: str, messages: Iterable[Message], facts: RecordAccess,
                       indexed: datetime, batch: int = 50_000) -> int:
    """Index messages of one AIP in the open connection, in one transaction."""
    db.execute("BEGIN IMMEDIATE")
    try:
        _delete_record(db, aip_id)
        db.execute("UPDATE search_records SET current = 0 WHERE record_id = ?", (facts.record_id,))
        cursor = db.execute(
            "INSERT INTO search_records (aip_id, record_id, title, access, zaak_folded, classificatie_folded, "
            "current, messages, first_id, last_id, indexed) VALUES (?, ?, ?, ?, ?, ?, 1, 0, 0, 0, ?)",
            (aip_id, facts.record_id, facts.title, facts.to_json(),
             fold(" | ".join(f"{z.kenmerk or ''} {z.naam}" for z in facts.zaken)),
             fold(" | ".join(facts.classificatie)), indexed.isoformat()),
        )
        record_key = int(cursor.lastrowid or 0)
        count = 0
        senders = _SenderKeys(db)
        rows: list[tuple] = []
        for message in messages:
            moment = message.timestamp
            offset = moment.utcoffset()
            rows.append((record_key, message.seq, int(moment.timestamp()),
                         int(offset.total_seconds() // 60) if offset is not None else 0,
                         senders.key(message.sender), message.kind.value, message.text))
            if len(rows) >= batch:
                count += _insert_messages(db, rows)
                rows = []
        count += _insert_messages(db, rows)
        db.execute("UPDATE search_records SET messages = ?1, "
                   "first_id = (SELECT COALESCE(MIN(message_id), 0) FROM search_messages WHERE record_key = ?2), "
                   "last_id = (SELECT COALESCE(MAX(message_id), -1) FROM search_messages WHERE record_key = ?2) "
                   "WHERE record_key = ?2", (count, record_key))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return count


class _SenderKeys:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.known: dict[str, int] = {}

    def key(self, name: str | None) -> int | None:
        if name is None:
            return None
        found = self.known.get(name)
        if found is None:
            self.db.execute("INSERT OR IGNORE INTO search_senders (name) VALUES (?)", (name,))
            found = self.db.execute("SELECT sender_key FROM search_senders WHERE name = ?", (name,)).fetchone()[0]
            self.known[name] = found
        return found


def _insert_messages(db: sqlite3.Connection, rows: Sequence[tuple]) -> int:
    if not rows:
        return 0
    first = db.execute("SELECT COALESCE(MAX(message_id), 0) + 1 FROM search_messages").fetchone()[0]
    numbered = [(first + i, *row) for i, row in enumerate(rows)]
    db.executemany("INSERT INTO search_messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)", numbered)
    db.executemany("INSERT INTO search_fts (rowid, body, stems) VALUES (?, ?, ?)",
                   ((row[0], row[7], stems_of(row[7])) for row in numbered))
    return len(rows)


def remove_aip_from_index(catalogue_url: str, aip_id: str) -> int:
    """Remove every message of one AIP from the index (for destruction); returns how many were removed.

    Retention calls this when it destroys an AIP, in the same run, before the AIP's files are gone;
    it is idempotent (0 when the AIP was not indexed). When the destroyed AIP was the current version of
    its record, the newest remaining AIP of that record becomes current."""
    db = connect(sqlite_path(catalogue_url))
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            removed = _delete_record(db, aip_id)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return removed
    finally:
        db.close()


def _delete_record(db: sqlite3.Connection, aip_id: str) -> int:
    row = db.execute("SELECT record_key, record_id, current FROM search_records WHERE aip_id = ?",
                     (aip_id,)).fetchone()
    if row is None:
        return 0
    record_key, record_id, current = row
    db.execute(
        "INSERT INTO search_fts (search_fts, rowid, body, stems) "
        "SELECT 'delete', message_id, body, edepot_stems(body) FROM search_messages WHERE record_key = ?",
        (record_key,),
    )
    removed = db.execute("DELETE FROM search_messages WHERE record_key = ?", (record_key,)).rowcount
    db.execute("DELETE FROM search_records WHERE record_key = ?", (record_key,))
    if current:
        db.execute("UPDATE search_records SET current = 1 WHERE record_key = (SELECT MAX(record_key) "
                   "FROM search_records WHERE record_id = ?)", (record_id,))
    return removed


def records(db: sqlite3.Connection) -> list[IndexedRecord]:
    """Every indexed AIP, in indexing order."""
    rows = db.execute("SELECT record_key, aip_id, record_id, title, access, current, messages, first_id, last_id "
                      "FROM search_records ORDER BY record_key")
    return [IndexedRecord(r[0], r[1], r[2], r[3], RecordAccess.from_dict(json.loads(r[4])), bool(r[5]), r[6],
                          r[7], r[8]) for r in rows]


def matching_records(db: sqlite3.Connection, filters: Filters) -> list[IndexedRecord]:
    """The indexed AIPs the record-level filters (aip, zaak, classification, custodians) let through; without
    `aip`, only the current version of each record."""
    found = []
    for record in records(db):
        if filters.aip:
            if filters.aip not in (record.aip_id, record.record_id):
                continue
            if filters.aip == record.record_id and not record.current:
                continue
        elif not record.current:
            continue
        if filters.zaak and fold(filters.zaak) not in fold(" | ".join(f"{z.kenmerk or ''} {z.naam}"
                                                                      for z in record.access.zaken)):
            continue
        if filters.classification and fold(filters.classification) not in fold(" | ".join(
                record.access.classificatie)):
            continue
        if filters.custodians and not any(fold(wanted) in fold(name) for wanted in filters.custodians
                                          for name in record.access.custodians):
            continue
        found.append(record)
    return found


# ---------------------------------------------------------------------------------------------------
# Queries


@dataclass(frozen=True)
class Term:
    """One term of a query: the folded words (several: a phrase), whether it is a prefix, negated."""

    words: tuple[str, ...]
    prefix: bool = False
    negated: bool = False
    either: tuple["Term", ...] = ()  # alternatives joined by OR (this term's own words unused)


_QUERY_TOKEN = re.compile(r'-?"[^"]*"\*?|\S+')


def parse_query(query: str) -> list[Term]:
    """The terms of a user query; InputError when it has no positive term."""
    raw = _QUERY_TOKEN.findall(query)
    terms: list[Term] = []
    pending_or = False
    for token in raw:
        if token == "OR":
            pending_or = bool(terms)
            continue
        negated = token.startswith("-") and len(token) > 1
        body = token[1:] if negated else token
        prefix = body.endswith("*")
        body = body.rstrip("*").strip('"')
        parts = tuple(words(body))
        if not parts:
            pending_or = False
            continue
        term = Term(parts, prefix, negated)
        if pending_or and not negated and not terms[-1].negated:
            previous = terms.pop()
            options = previous.either or (previous,)
            terms.append(Term((), either=(*options, term)))
        else:
            terms.append(term)
        pending_or = False
    if not any(not t.negated for t in terms):
        raise InputError(f"the query {query!r} has no word to search for",
                         hint='give words, "a phrase", word* or a OR b; -word excludes')
    return terms


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


def matches_terms(text: str, terms: Sequence[Term]) -> list[tuple[int, int]]:
    """Character spans in `text` of words that a positive term matches (for highlighting snippets)."""
    spans: list[tuple[int, int]] = []
    tokens = [(m.start(), m.end(), fold_fast(m.group())) for m in _TOKEN.finditer(text)]
    wanted: list[Term] = []
    for term in terms:
        if not term.negated:
            wanted.extend(term.either or (term,))
    for i, (start, end, word) in enumerate(tokens):
        for term in wanted:
            n = len(term.words)
            window = [t[2] for t in tokens[i:i + n]]
            if len(window) < n:
                continue
            if term.prefix:
                ok = window[:-1] == list(term.words[:-1]) and window[-1].startswith(term.words[-1])
            elif n > 1:
                ok = window == list(term.words)
            else:
                ok = word == term.words[0] or stem(word) == stem(term.words[0]) or word == stem(term.words[0])
            if ok:
                spans.append((start, tokens[i + n - 1][1]))
                break
    return spans


SORTS = ("chat", "relevance", "newest", "oldest")
RANGE_QUERIES_UP_TO = 64  # records: up to this many, each record's id range is searched on its own


def find_messages(db: sqlite3.Connection, terms: Sequence[Term], filters: Filters,
                  within: Sequence[IndexedRecord] | None, limit: int | None, sort: str = "chat",
                  offset: int = 0) -> list[IndexedMessage]:
    """Messages matching every term and filter, in the records `within` (None: every record). Without
    terms, every message the filters let through (e.g. all media of a chat).

    Sort "chat" (the default) lists hits conversation by conversation in message order; FTS5 yields
    them in that order, so a page costs the same however many messages match. "relevance" (bm25),
    "newest" and "oldest" sort every match first: slower for words found in millions of messages."""
    if sort not in SORTS:
        raise InputError(f"unknown sort {sort!r}", hint=f"use one of {', '.join(SORTS)}")
    query = _Query.of(db, terms, filters, within)
    if query is None:
        return []
    identity = "f.rowid" if terms else "m.message_id"
    order = {"chat": identity, "relevance": "f.rank" if terms else identity,
             "newest": "m.ts DESC, m.message_id DESC", "oldest": "m.ts, m.message_id"}[sort]
    select = ("SELECT m.message_id, m.record_key, m.seq, m.ts, m.utc_offset, s.name, m.kind, m.body "
              + query.source + " LEFT JOIN search_senders s ON s.sender_key = m.sender_key WHERE ")
    where, params = query.where, query.params
    wanted_total = None if limit is None else limit + offset
    if within is not None and sort == "chat" and len(within) <= RANGE_QUERIES_UP_TO:
        rows: list[Any] = []
        for record in sorted(within, key=lambda r: r.first_id):
            sql = select + " AND ".join(where + [f"{identity} BETWEEN ? AND ?"]) + f" ORDER BY {order}"
            extra: list[Any] = [record.first_id, record.last_id]
            if wanted_total is not None:
                sql += " LIMIT ?"
                extra.append(wanted_total - len(rows))
            rows += _run(db, sql, params + extra)
            if wanted_total is not None and len(rows) >= wanted_total:
                break
        return [_message(r) for r in rows[offset:wanted_total]]
    where, params = query.within_records(within)
    sql = select + " AND ".join(where) + f" ORDER BY {order}"
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, offset]
    return [_message(r) for r in _run(db, sql, params)]


def count_messages(db: sqlite3.Connection, terms: Sequence[Term], filters: Filters,
                   within: Sequence[IndexedRecord] | None) -> int:
    """How many messages `find_messages` would find with no limit."""
    query = _Query.of(db, terms, filters, within)
    if query is None:
        return 0
    where, params = query.within_records(within)
    return int(_run(db, "SELECT COUNT(*) " + query.source + " WHERE " + " AND ".join(where), params)[0][0])


@dataclass(frozen=True)
class _Query:
    """The FROM part and the conditions of a message search (terms, dates, kind, participant)."""

    source: str
    where: list[str]
    params: list[Any]

    @classmethod
    def of(cls, db: sqlite3.Connection, terms: Sequence[Term], filters: Filters,
           within: Sequence[IndexedRecord] | None) -> "_Query | None":
        """The query, or None when it can find nothing (no record within, no sender with that name)."""
        if within is not None and not within:
            return None
        where: list[str]
        params: list[Any]
        if terms:
            source = "FROM search_fts f JOIN search_messages m ON m.message_id = f.rowid"
            where, params = ["search_fts MATCH ?"], [fts_expression(terms)]
        else:
            source, where, params = "FROM search_messages m", ["1"], []
        zone = ZoneInfo(filters.timezone)
        if filters.date_from:
            where.append("m.ts >= ?")
            params.append(int(datetime.combine(filters.date_from, time(), zone).timestamp()))
        if filters.date_to:
            where.append("m.ts < ?")
            params.append(int(datetime.combine(filters.date_to + timedelta(days=1), time(), zone).timestamp()))
        if filters.kind:
            where.append("m.kind = ?")
            params.append(filters.kind)
        if filters.participant:
            wanted = fold(filters.participant)
            keys = [k for k, name in db.execute("SELECT sender_key, name FROM search_senders") if wanted in fold(name)]
            if not keys:
                return None
            where.append(f"m.sender_key IN ({', '.join(str(int(k)) for k in keys)})")
        return cls(source, where, params)

    def within_records(self, within: Sequence[IndexedRecord] | None) -> tuple[list[str], list[Any]]:
        """The conditions, limited to the records `within` (None: every record)."""
        if within is None:
            return list(self.where), list(self.params)
        return (self.where + ["m.record_key IN (SELECT value FROM json_each(?))"],
                self.params + [json.dumps([r.record_key for r in within])])


def _run(db: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    try:
        return db.execute(sql, params).fetchall()
    except sqlite3.OperationalError as error:
        raise InputError(f"the search index cannot run this query: {error}") from None


def _message(r: Sequence[Any]) -> IndexedMessage:
    zone = timezone(timedelta(minutes=r[4]))
    return IndexedMessage(r[0], r[1], r[2], datetime.fromtimestamp(r[3], zone), r[5], r[6], r[7])


def messages_of(db: sqlite3.Connection, record_key: int, seqs: Iterable[int] | None = None) -> Iterator[IndexedMessage]:
    """The indexed messages of one record in seq order (all, or those with the given seqs)."""
    sql = ("SELECT m.message_id, m.record_key, m.seq, m.ts, m.utc_offset, s.name, m.kind, m.body "
           "FROM search_messages m LEFT JOIN search_senders s ON s.sender_key = m.sender_key "
           "WHERE m.record_key = ? ORDER BY m.seq")
    wanted = set(seqs) if seqs is not None else None
    for row in db.execute(sql, (record_key,)):
        if wanted is None or row[2] in wanted:
            yield _message(row)


def index_size(path: Path) -> int:
    """Bytes of the SQLite file with its WAL."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
