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
                     On PostgreSQL there is no such table: each message's row holds its tsvector
                     (`preservation.catalogue_db.search_postgres`).

Dutch words: each word is also indexed by its Snowball Dutch (Porter) stem, where the stem differs from
the word, so "vergunningen" finds "vergunning" and "wethouder" finds "wethouders". The stem column is
computed (the SQL function `edepot_stems`, `preservation.search_stems`), never stored twice. Query syntax
(`parse_query`): words (all must occur, in any inflection), "a phrase" (exact words in order), word* (prefix:
finds compounds, e.g. vergunning* → vergunningaanvraag), OR between two terms, -word (must not occur).
User text never reaches FTS5 as syntax: every term is quoted.

`SearchIndex` is what the engine needs of the index; the implementation on the catalogue's database is
`preservation.catalogue_db.search_store`. Get one from a unit of work (`preservation.unit_of_work`), or on its
own with `open_index`. Written at ingest (`index_aip`), by `edepot search reindex` (from the stored AIPs), and
by destruction (`SearchIndex.remove`, which the retention stage calls before the AIP is gone).
"""
from __future__ import annotations

import math
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Protocol, Sequence

from kernel.errors import InputError
from kernel.model import Conversation, Message
from preservation.record_access import RecordAccess, fold, informatieobject_document, record_access_from_mdto
from preservation.search_stems import TOKEN, fold_fast, stem, stems, words


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

    @cached_property
    def zaken_folded(self) -> str:
        """Its zaken's kenmerken and names, folded (what the zaak filter looks in)."""
        return fold(" | ".join(f"{z.kenmerk or ''} {z.naam}" for z in self.access.zaken))

    @cached_property
    def classification_folded(self) -> str:
        """Its classifications' codes and labels, folded."""
        return fold(" | ".join(self.access.classificatie))

    @cached_property
    def custodians_folded(self) -> tuple[str, ...]:
        """Its custodians' names, folded."""
        return tuple(fold(name) for name in self.access.custodians)


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


class IndexedMessage(NamedTuple):
    """A message as the index holds it (a named tuple: a search makes thousands)."""

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


def index_aip(index: "SearchIndex", aip_id: str, conversation: Conversation,
              record_metadata: bytes | Path | RecordAccess, indexed: datetime | None = None) -> int:
    """Index every message of one AIP (replacing what was indexed for it before); returns the count.

    `record_metadata` is the record's MDTO informatieobject (bytes), the folder holding it (the AIP's or
    SIP's metadata folder), or RecordAccess facts. Earlier AIPs of the same record stop being "current"
    (search shows the newest version unless asked for an AIP by id). One transaction."""
    facts = record_access_of(record_metadata)
    return index.index(aip_id, conversation.messages, facts, indexed or datetime.now(timezone.utc))


def matching_records(index: "SearchIndex", filters: Filters) -> list[IndexedRecord]:
    """The indexed AIPs the record-level filters (aip, zaak, classification, custodians) let through; without
    `aip`, only the current version of each record."""
    found = []
    zaak = fold(filters.zaak) if filters.zaak else None
    classification = fold(filters.classification) if filters.classification else None
    custodians = [fold(wanted) for wanted in filters.custodians]
    for record in index.records():
        if filters.aip:
            if filters.aip not in (record.aip_id, record.record_id):
                continue
            if filters.aip == record.record_id and not record.current:
                continue
        elif not record.current:
            continue
        if zaak is not None and zaak not in record.zaken_folded:
            continue
        if classification is not None and classification not in record.classification_folded:
            continue
        if custodians and not any(wanted in name for wanted in custodians for name in record.custodians_folded):
            continue
        found.append(record)
    return found




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
COUNTED_UP_TO = 1_000  # a search counts its matches up to this many ("more than" beyond)
SORTED_UP_TO = 100_000  # matches counted (on SQLite) to choose between sorting every match and reading a page
# in its order until it is full
RANKED_UP_TO = 2_000  # relevance ranks the first this many matches in chat order (all of them when no more match)
_K1, _B = 1.2, 0.75  # BM25's usual constants


def rank_by_relevance(messages: Sequence[IndexedMessage], terms: Sequence[Term]) -> list[IndexedMessage]:
    """`messages` most relevant first, by BM25 computed here over these messages (see `relevance_order`)."""
    return [messages[i] for i in relevance_order([(m.message_id, m.text) for m in messages], terms)]


def relevance_order(messages: Sequence[tuple[int, str]], terms: Sequence[Term]) -> list[int]:
    """The positions of `messages` (message id, text) most relevant first, by BM25 computed here over these
    messages (a term occurring more often in a shorter message counts more; a term fewer of them hold counts
    more), message order breaking ties. An occurrence is what the index matches: the word or an inflection of it
    (the same Dutch stem), a prefix, a phrase. Computed by edepot, not by the database, so SQLite and PostgreSQL
    rank alike."""
    counters = [_occurrence_counter(t) for term in terms if not term.negated for t in (term.either or (term,))]
    lengths, found = [], []
    for _, text in messages:
        folded = fold_fast(text)
        lengths.append(_word_count(folded))
        found.append([count(folded) for count in counters])
    if not messages:
        return []
    average = max(1.0, sum(lengths) / len(messages))
    holding = [sum(1 for counts in found if counts[i]) for i in range(len(counters))]
    weight = [math.log(1 + (len(messages) - n + 0.5) / (n + 0.5)) for n in holding]

    def score(at: int) -> float:
        norm = _K1 * (1 - _B + _B * lengths[at] / average)
        return sum(w * f * (_K1 + 1) / (f + norm) for w, f in zip(weight, found[at]) if f)

    return sorted(range(len(messages)), key=lambda at: (-score(at), messages[at][0]))


def _word_count(folded: str) -> int:
    """len(TOKEN.findall(folded)), faster for the usual text of words between spaces (a word of TOKEN is a run
    of characters for which str.isalnum holds)."""
    chunks = folded.split()
    return len(chunks) if all(map(str.isalnum, chunks)) else len(TOKEN.findall(folded))


def _word_starts(folded: str, start: str) -> Iterator[int]:
    """Where the words of a folded text that begin with `start` begin."""
    at = folded.find(start)
    while at >= 0:
        if at == 0 or not folded[at - 1].isalnum():
            yield at
        at = folded.find(start, at + 1)


def _occurrence_counter(term: Term) -> Callable[[str], int]:
    """How often `term` occurs in a folded text, as `_occurrences` counts; a one-word term's words found by
    their start, not by splitting the text."""
    if len(term.words) > 1:
        return lambda folded: _occurrences(term, TOKEN.findall(folded))
    if term.prefix:
        return lambda folded: sum(1 for _ in _word_starts(folded, term.words[0]))
    word, root, needle = term.words[0], stem(term.words[0]), _needle(term)
    verdicts: dict[str, bool] = {}

    def count(folded: str) -> int:  # a word whose stem is `root` begins with the needle: only those are stemmed
        found = 0
        for at in _word_starts(folded, needle):
            end = at + len(needle)
            while end < len(folded) and folded[end].isalnum():
                end += 1
            token = folded[at:end]
            verdict = verdicts.get(token)
            if verdict is None:
                verdict = verdicts[token] = token in (word, root) or stem(token) == root
            found += verdict
        return found
    return count


def has_prefix(terms: Sequence[Term]) -> bool:
    """Whether any term, or any alternative of one, is a prefix (word*)."""
    return any(t.prefix for term in terms for t in (term.either or (term,)))


class TextMatcher:
    """Whether a message's text matches parsed terms as the index matches them (every positive term, no negated
    one), tested here on the text: for reading messages in an order no full-text index keeps."""

    def __init__(self, terms: Sequence[Term]) -> None:
        self.positive = [term.either or (term,) for term in terms if not term.negated]
        self.negative = [Term(term.words, term.prefix) for term in terms if term.negated]
        # what the folded text holds when a term matches: its first word, or the start of a word's stem (Dutch
        # stemming changes at most a word's last two letters): most texts are passed by without splitting them
        self.needles = [tuple(_needle(t) for t in options) for options in self.positive]
        self.negative_needles = [_needle(t) for t in self.negative]
        # only a single word matches by its stem: phrases and prefixes need no text's stems
        self.stemmed = any(len(t.words) == 1 and not t.prefix
                           for t in [t for options in self.positive for t in options] + self.negative)

    def __call__(self, text: str) -> bool:
        folded = fold_fast(text)
        if not all(any(needle in folded for needle in needles) for needles in self.needles):
            return False
        negative = [t for t, needle in zip(self.negative, self.negative_needles) if needle in folded]
        if not self.positive and not negative:
            return True
        tokens = TOKEN.findall(folded)
        token_stems = stems(tokens) if self.stemmed else None
        return (all(any(_occurrences(t, tokens, token_stems) for t in options) for options in self.positive)
                and not any(_occurrences(t, tokens, token_stems) for t in negative))


def _needle(term: Term) -> str:
    if term.prefix or len(term.words) > 1:
        return term.words[0]
    root = stem(term.words[0])
    return root[:-2] if len(root) > 3 else root[:1]


def _occurrences(term: Term, tokens: list[str], token_stems: list[str] | None = None) -> int:
    if term.prefix or len(term.words) > 1:
        n, head, last = len(term.words), list(term.words[:-1]), term.words[-1]
        return sum(1 for i in range(len(tokens) - n + 1) if tokens[i:i + n - 1] == head
                   and (tokens[i + n - 1].startswith(last) if term.prefix else tokens[i + n - 1] == last))
    word = term.words[0]
    root = stem(word)
    return sum(1 for token, token_stem in zip(tokens, token_stems if token_stems is not None else stems(tokens))
               if token_stem == root or token in (word, root))


class SearchIndex(Protocol):
    """The full-text index of every message, with the access facts of each indexed AIP."""

    def index(self, aip_id: str, messages: Iterable[Message], facts: RecordAccess, indexed: datetime) -> int:
        """Index messages of one AIP (replacing what was indexed for it before), in one transaction; earlier
        AIPs of the same record stop being current. Returns the count."""
    def remove(self, aip_id: str) -> int:
        """Remove every message of one AIP; how many were removed (0 when it was not indexed). When it was the
        current version of its record, the newest remaining AIP of that record becomes current."""
    def records(self) -> list[IndexedRecord]:
        """Every indexed AIP, in indexing order."""
    def indexed_count(self) -> int:
        """How many AIPs are indexed (every version)."""
    def find_messages(self, terms: Sequence[Term], filters: Filters, within: Sequence[IndexedRecord] | None,
                      limit: int | None, sort: str = "chat", offset: int = 0) -> list[IndexedMessage]:
        """Messages matching every term and filter, in the records `within` (None: every record); without terms,
        every message the filters let through. Sorted as SORTS names: "chat" (record by record, in message
        order), "relevance", "newest", "oldest"."""
    def count_messages(self, terms: Sequence[Term], filters: Filters, within: Sequence[IndexedRecord] | None,
                       *, up_to: int | None = None) -> int:
        """How many messages `find_messages` would find with no limit; with `up_to`, counting stops past that many
        (a number above `up_to` means "more than `up_to`")."""
    def reading(self) -> AbstractContextManager[None]:
        """Reads inside see the index as it was when the first began (a page and its count from the same
        messages)."""
    def find_any_messages(self, terms: Sequence[Term], filters: Filters, within: Sequence[IndexedRecord] | None,
                          limit: int) -> list[IndexedMessage]:
        """Up to `limit` of the messages `find_messages` finds, whichever the index reads fastest, in no order
        (for counting what a caller judges message by message: all of them when fewer match)."""
    def size(self) -> int:
        """Bytes the index takes on disk."""


def open_index(catalogue_url: str) -> SearchIndex:
    """The search index in the catalogue at `catalogue_url`, ready to search and write to."""
    from preservation.catalogue_db.database import catalogue_alias

    alias = catalogue_alias(catalogue_url)  # sets Django up first
    from preservation.catalogue_db.search_store import search_index_at

    return search_index_at(alias)
