"""Access: a query answers only from what its asker may see (DESIGN.md: "a query never tells anyone anything
about content they may not see").

The full-text index holds every message as written. For anybody but the archive itself, a message counts as
a hit only when the query matches the message *as it would be delivered*: with every passage the redaction
would remove (phone numbers, e-mail addresses, IBANs, BSNs, names on the organisation's list) taken out, and
its sender as shown (a redacted name is a pseudonym, so `--participant` cannot test a hidden name). The
index is asked for the positive terms only; each term, excluded ones too, is then judged on the delivered
text, so `-0612345678` cannot tell which messages hold that number either. Records whose content the asker
may not see are never searched (`access.rules`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from access.redaction import Redactor
from preservation.record_access import fold
from preservation.search_index import IndexedMessage, Term, TextMatcher

FIRST_BATCH = 200


@dataclass
class QueryGuard:
    """Judges index hits for one asker: the query's terms, their redactor, the participant filter."""

    terms: Sequence[Term]
    redactor: Redactor
    participant: str | None = None
    _senders: dict[str | None, bool] = field(default_factory=dict, init=False, repr=False)  # sender → shown matches
    _matches: TextMatcher = field(init=False, repr=False)  # every term, on a delivered text
    _excluded: TextMatcher | None = field(init=False, repr=False)  # no excluded term (None: the query has none)

    def __post_init__(self) -> None:
        self._matches = TextMatcher(self.terms)
        excluded = [t for t in self.terms if t.negated]
        self._excluded = TextMatcher(excluded) if excluded else None

    @property
    def index_terms(self) -> list[Term]:
        """What the index is asked: the positive terms (excluded ones are judged on the delivered text)."""
        return [t for t in self.terms if not t.negated]

    def keeps(self, message: IndexedMessage) -> bool:
        """Whether the message, an index hit for `index_terms`, is a hit as the asker would see it."""
        if self.participant and not self._shown_sender_matches(message.sender):
            return False
        delivered = self.redactor.visible(message.text)
        if delivered == message.text:  # nothing is hidden: the index found every positive term in this text
            return self._excluded is None or self._excluded(delivered)
        return self._matches(delivered)

    def _shown_sender_matches(self, sender: str | None) -> bool:
        known = self._senders.get(sender)
        if known is None:
            known = self._senders[sender] = fold(self.participant or "") in fold(self.redactor.person(sender) or "")
        return known



def guarded_page(fetch: Callable[[int, int], list[IndexedMessage]], guard: QueryGuard, limit: int | None,
                 offset: int = 0, *, up_to: int | None = None) -> tuple[list[IndexedMessage], int]:
    """One page of the hits `guard` keeps (`limit` None: all from `offset`), and how many it keeps on all pages
    (counted here, on the delivered text: an index count would tell of hidden text); with `up_to`, counting stops
    past that many and past the page (a number above `up_to` means "more than `up_to`"; one above the page's end,
    that more follow). `fetch(offset, size)` reads raw index hits in a stable order, in growing batches, each
    once; only the page's hits are kept."""
    page: list[IndexedMessage] = []
    end = None if limit is None else offset + limit
    kept = position = 0
    size = FIRST_BATCH if up_to is None else _first_read(up_to)
    while True:
        batch = fetch(position, size)
        for message in batch:
            if guard.keeps(message):
                if kept >= offset and (end is None or kept < end):
                    page.append(message)
                kept += 1
                if up_to is not None and kept > up_to and end is not None and kept > end:
                    return page, kept
        position += len(batch)
        if len(batch) < size:
            return page, kept
        size = min(size * 2, 20_000)


def guarded_count(read: Callable[[int], list[IndexedMessage]], fetch: Callable[[int, int], list[IndexedMessage]],
                  guard: QueryGuard, *, up_to: int) -> int:
    """How many hits `guard` keeps, counted up to `up_to` (a number above `up_to` means "more than `up_to`").
    `read(size)` gives up to that many raw index hits in any order, the index's fastest; when those hold too few
    kept ones to tell, the hits are counted through `fetch` as `guarded_page` reads them."""
    size = _first_read(up_to)
    hits = read(size)
    kept = sum(1 for message in hits if guard.keeps(message))
    if kept > up_to or len(hits) < size:
        return kept
    return guarded_page(fetch, guard, 0, up_to=up_to)[1]


def _first_read(up_to: int) -> int:
    """Hits read at first to count past `up_to` in one read, mostly: a fifth more, for the hits the guard drops (a
    second read starts again from the first hit, in every index)."""
    return (up_to + 1) * 6 // 5 + 1
