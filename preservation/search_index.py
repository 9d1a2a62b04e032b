"""Data Management: the full-text index of every message (DESIGN.md, "catalogue: … messages full-text index").

The index lives in the catalogue (its models and migrations, `preservation.catalogue_db`), in tables of its own:

    search_records   one row per indexed AIP: record kenmerk, title, the access facts read from its MDTO
                     (preservation.record_access), zaak and classification for filters
    search_senders   each sender name once
    search_messages  one row per message: record, seq, time (UTC seconds and the offset it was written
                     in), sender, kind, text
    search_fts       SQLite FTS5 over two columns, `body` (the text) and `stems` (Dutch stems), both with the
                     unicode61 tokenizer and remove_diacritics 2 (case and accents folded: "cafe" finds
                     "Café"). The text itself is kept once, in search_messages (external content).

Dutch words: each word is also indexed by its Snowball Dutch (Porter) stem, where the stem differs from
the word, so "vergunningen" finds "vergunning" and "wethouder" finds "wethouders". The stem column is
computed (the SQL function `edepot_stems`, `preservation.search_stems`), never stored twice. Query syntax
(`parse_query`): words (all must occur, in any inflection), "a phrase" (exact words in order), word* (prefix:
finds compounds, e.g. vergunning* → vergunningaanvraag), OR between two terms, -word (must not occur).
User text never reaches FTS5 as syntax: every term is quoted.

Functions take the catalogue's database alias (`open_index`). Records and senders go through the ORM; the
messages, FTS5 MATCH with bm25, and the FTS commands are SQL on that alias's connection (millions of rows).
Called at ingest (`index_aip`), by `edepot search reindex` (from the stored AIPs), and by destruction
(`remove_aip_from_index`, which the retention stage must call before the AIP is gone).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence
from zoneinfo import ZoneInfo

from kernel.errors import InputError
from kernel.model import Conversation, Message
from preservation.record_access import RecordAccess, fold, informatieobject_document, record_access_from_mdto
from preservation.search_stems import TOKEN, fold_fast, stem, stemmer_version, stems_of, words

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

_stems_checked: set[str] = set()


def open_index(catalogue_url: str) -> str:
    """The database alias of the catalogue at `catalogue_url`, its index ready to search and write to; once per
    process, stems made by another stemmer version are re-derived from the stored texts."""
    from preservation.catalogue_db.database import catalogue_alias

    alias = catalogue_alias(catalogue_url)
    if alias not in _stems_checked:
        _check_stems(alias)
        _stems_checked.add(alias)
    return alias


def _check_stems(alias: str) -> None:
    from django.db import connections, transaction

    from preservation.catalogue_db.models import SearchMeta

    version = stemmer_version()
    meta = SearchMeta.objects.using(alias)
    if meta.filter(key="stemmer", value=version).exists():
        return
    with transaction.atomic(using=alias):
        found = meta.filter(key="stemmer").values_list("value", flat=True).first()
        if found is not None and found != version:
            # the old stems would not match what a delete recomputes
            with connections[alias].cursor() as cursor:
                cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
        meta.update_or_create(key="stemmer", defaults={"value": version})


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
    return index_conversation(open_index(catalogue_url), aip_id, conversation.messages, facts,
                              indexed or datetime.now(timezone.utc))


def index_conversation(alias: str, aip_id: str, messages: Iterable[Message], facts: RecordAccess,
                       indexed: datetime, batch: int = 50_000) -> int:
    """Index messages of one AIP in the catalogue behind `alias`, in one transaction."""
    from django.db import connections, transaction

    from preservation.catalogue_db.models import SearchRecord

    records = SearchRecord.objects.using(alias)
    with transaction.atomic(using=alias):
        _delete_record(alias, aip_id)
        records.filter(record_id=facts.record_id).update(current=0)
        record_key = records.create(
            aip_id=aip_id, record_id=facts.record_id, title=facts.title, access=facts.to_json(),
            zaak_folded=fold(" | ".join(f"{z.kenmerk or ''} {z.naam}" for z in facts.zaken)),
            classificatie_folded=fold(" | ".join(facts.classificatie)), current=1, messages=0, first_id=0,
            last_id=-1, indexed=indexed.isoformat()).record_key
        db = connections[alias].connection  # the DB-API connection, in the transaction atomic began
        senders = _SenderKeys(alias)
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
            first = _insert_messages(db, rows)
            first_id = first if first_id is None else first_id
            count += len(rows)
        if first_id is not None:
            records.filter(record_key=record_key).update(messages=count, first_id=first_id,
                                                          last_id=first_id + count - 1)
    return count


class _SenderKeys:
    """Each sender name's key, the names not yet known added in bulk."""

    def __init__(self, alias: str) -> None:
        from preservation.catalogue_db.models import SearchSender

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


def remove_aip_from_index(catalogue_url: str, aip_id: str) -> int:
    """Remove every message of one AIP from the index (for destruction); returns how many were removed.

    Retention calls this when it destroys an AIP, in the same run, before the AIP's files are gone;
    it is idempotent (0 when the AIP was not indexed). When the destroyed AIP was the current version of
    its record, the newest remaining AIP of that record becomes current. One transaction."""
    from django.db import transaction

    alias = open_index(catalogue_url)
    with transaction.atomic(using=alias):
        return _delete_record(alias, aip_id)


def _delete_record(alias: str, aip_id: str) -> int:
    from django.db import connections

    from preservation.catalogue_db.models import SearchMessage, SearchRecord

    records = SearchRecord.objects.using(alias)
    found = records.filter(aip_id=aip_id).values_list("record_key", "record_id", "current").first()
    if found is None:
        return 0
    record_key, record_id, current = found
    with connections[alias].cursor() as cursor:
        cursor.execute("INSERT INTO search_fts (search_fts, rowid, body, stems) SELECT 'delete', message_id, body, "
                       "edepot_stems(body) FROM search_messages WHERE record_key = %s", [record_key])
    removed, _ = SearchMessage.objects.using(alias).filter(record_key=record_key).delete()
    records.filter(record_key=record_key).delete()
    if current:
        newest = records.filter(record_id=record_id).order_by("-record_key").values_list("record_key", flat=True).first()
        if newest is not None:
            records.filter(record_key=newest).update(current=1)
    return removed


def records(alias: str) -> list[IndexedRecord]:
    """Every indexed AIP, in indexing order."""
    from preservation.catalogue_db.models import SearchRecord

    rows = SearchRecord.objects.using(alias).order_by("record_key").values_list(
        "record_key", "aip_id", "record_id", "title", "access", "current", "messages", "first_id", "last_id")
    return [IndexedRecord(key, aip_id, record_id, title, RecordAccess.from_dict(json.loads(access)), bool(current),
                          messages, first_id, last_id)
            for key, aip_id, record_id, title, access, current, messages, first_id, last_id in rows]


def indexed_count(alias: str) -> int:
    """How many AIPs are indexed (every version)."""
    from preservation.catalogue_db.models import SearchRecord

    return SearchRecord.objects.using(alias).count()


def matching_records(alias: str, filters: Filters) -> list[IndexedRecord]:
    """The indexed AIPs the record-level filters (aip, zaak, classification, custodians) let through; without
    `aip`, only the current version of each record."""
    found = []
    for record in records(alias):
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
    tokens = [(m.start(), m.end(), fold_fast(m.group())) for m in TOKEN.finditer(text)]
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


def find_messages(alias: str, terms: Sequence[Term], filters: Filters,
                  within: Sequence[IndexedRecord] | None, limit: int | None, sort: str = "chat",
                  offset: int = 0) -> list[IndexedMessage]:
    """Messages matching every term and filter, in the records `within` (None: every record). Without
    terms, every message the filters let through (e.g. all media of a chat).

    Sort "chat" (the default) lists hits conversation by conversation in message order; FTS5 yields
    them in that order, so a page costs the same however many messages match. "relevance" (bm25),
    "newest" and "oldest" sort every match first: slower for words found in millions of messages."""
    from django.db import connections

    if sort not in SORTS:
        raise InputError(f"unknown sort {sort!r}", hint=f"use one of {', '.join(SORTS)}")
    query = _Query.of(alias, terms, filters, within)
    if query is None:
        return []
    identity = "f.rowid" if terms else "m.message_id"
    order = {"chat": identity, "relevance": "f.rank" if terms else identity,
             "newest": "m.ts DESC, m.message_id DESC", "oldest": "m.ts, m.message_id"}[sort]
    select = ("SELECT m.message_id, m.record_key, m.seq, m.ts, m.utc_offset, s.name, m.kind, m.body "
              + query.source + " LEFT JOIN search_senders s ON s.sender_key = m.sender_key WHERE ")
    where, params = query.where, query.params
    wanted_total = None if limit is None else limit + offset
    with connections[alias].cursor() as cursor:
        if within is not None and sort == "chat" and len(within) <= RANGE_QUERIES_UP_TO:
            rows: list[Any] = []
            for record in sorted(within, key=lambda r: r.first_id):
                sql = select + " AND ".join(where + [f"{identity} BETWEEN %s AND %s"]) + f" ORDER BY {order}"
                extra: list[Any] = [record.first_id, record.last_id]
                if wanted_total is not None:
                    sql += " LIMIT %s"
                    extra.append(wanted_total - len(rows))
                rows += _run(cursor, sql, params + extra)
                if wanted_total is not None and len(rows) >= wanted_total:
                    break
            return [_message(r) for r in rows[offset:wanted_total]]
        where, params = query.within_records(within)
        sql = select + " AND ".join(where) + f" ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT %s OFFSET %s"
            params += [limit, offset]
        return [_message(r) for r in _run(cursor, sql, params)]


def count_messages(alias: str, terms: Sequence[Term], filters: Filters,
                   within: Sequence[IndexedRecord] | None) -> int:
    """How many messages `find_messages` would find with no limit."""
    from django.db import connections

    query = _Query.of(alias, terms, filters, within)
    if query is None:
        return 0
    where, params = query.within_records(within)
    with connections[alias].cursor() as cursor:
        return int(_run(cursor, "SELECT COUNT(*) " + query.source + " WHERE " + " AND ".join(where), params)[0][0])


@dataclass(frozen=True)
class _Query:
    """The FROM part and the conditions of a message search (terms, dates, kind, participant)."""

    source: str
    where: list[str]
    params: list[Any]

    @classmethod
    def of(cls, alias: str, terms: Sequence[Term], filters: Filters,
           within: Sequence[IndexedRecord] | None) -> "_Query | None":
        """The query, or None when it can find nothing (no record within, no sender with that name)."""
        if within is not None and not within:
            return None
        where: list[str]
        params: list[Any]
        if terms:
            source = "FROM search_fts f JOIN search_messages m ON m.message_id = f.rowid"
            where, params = ["search_fts MATCH %s"], [fts_expression(terms)]
        else:
            source, where, params = "FROM search_messages m", ["1"], []
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
            from preservation.catalogue_db.models import SearchSender

            wanted = fold(filters.participant)
            keys = [key for key, name in SearchSender.objects.using(alias).values_list("sender_key", "name")
                    if wanted in fold(name)]
            if not keys:
                return None
            where.append(f"m.sender_key IN ({', '.join(str(int(k)) for k in keys)})")
        return cls(source, where, params)

    def within_records(self, within: Sequence[IndexedRecord] | None) -> tuple[list[str], list[Any]]:
        """The conditions, limited to the records `within` (None: every record)."""
        if within is None:
            return list(self.where), list(self.params)
        return (self.where + ["m.record_key IN (SELECT value FROM json_each(%s))"],
                self.params + [json.dumps([r.record_key for r in within])])


def _run(cursor: CursorWrapper, sql: str, params: Sequence[Any]) -> list[Any]:
    from django.db import OperationalError

    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    except OperationalError as error:
        raise InputError(f"the search index cannot run this query: {error}") from None


def _message(r: Sequence[Any]) -> IndexedMessage:
    zone = timezone(timedelta(minutes=r[4]))
    return IndexedMessage(r[0], r[1], r[2], datetime.fromtimestamp(r[3], zone), r[5], r[6], r[7])


def index_size(path: Path) -> int:
    """Bytes of the SQLite file with its WAL."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
