"""Selecting the messages that are the record (VNG guidance: a phone exports the whole chat, so it must be filtered).

A selection keeps the messages that pass every criterion and drops the rest; media follow their messages
(an attachment is kept when a kept message refers to it). The result is a new conversation, in the
canonical model, holding only what was kept (seq numbers stay those of the export, so every kept message
can be traced back), and a statement of what was done: the criteria, how many messages were kept and why
the others were excluded, and the original export's sha256 and size. The statement is provenance
(OAIS PDI): it goes into the SIP as `data/metadata/selection.json` and into the MDTO record as an event.

A conversation taken out of an export holding several (an SMS backup with many threads, a Telegram account
export with many chats) is a selection too: the record is that one conversation, and the statement names it
(`conversation`: its id, its place in the export, its title) and how many conversations the export holds
(`original_export.conversations`). `original_export.messages` counts the messages the selection was made
from: with a conversation taken from such an export, that conversation's.

Criteria (all optional, all combined with AND):
- `date_from`/`date_to`: a day (YYYY-MM-DD, inclusive, in the message's own offset) or a moment (ISO 8601).
- `participants`: keep only messages sent by one of these names (system lines have no sender and go too).
- `exclude_participants`: drop messages sent by these names.
- `queries`: keep a message when its text holds every word of at least one query (case- and accent-blind).
- `exclude_seqs`, `private_seqs`: drop these messages; private ones are counted apart (a reviewer's mark).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

from kernel.errors import InputError
from kernel.model import Conversation, Message, participants_of

SELECTION_SCHEMA_ID = "https://edepot.example/schemas/selection/1"
MAX_SEQ_FILE_BYTES = 10_000_000

# Why a message was left out, in the order the reasons are tested (a message counts under its first reason).
REASONS = ("private", "excluded_seq", "period", "participant", "query")

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Criteria:
    """What a records manager asked to keep and to leave out."""

    date_from: date | datetime | None = None
    date_to: date | datetime | None = None
    participants: tuple[str, ...] = ()
    exclude_participants: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()
    exclude_seqs: frozenset[int] = frozenset()
    private_seqs: frozenset[int] = frozenset()

    @property
    def empty(self) -> bool:
        """True when nothing would be left out."""
        return self == Criteria()

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "participants": list(self.participants),
            "exclude_participants": list(self.exclude_participants),
            "queries": list(self.queries),
            "exclude_seqs": sorted(self.exclude_seqs),
            "private_seqs": sorted(self.private_seqs),
        }


@dataclass(frozen=True)
class ExportPart:
    """Which conversation of an export holding several the record was taken from."""

    id: str  # stable within the export (ingest/conversations.py says how it is made)
    index: int  # 1-based, in the export's order
    of: int  # how many conversations the export holds
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "index": self.index, "of": self.of, "title": self.title}

    def padded_index(self) -> str:
        """The index with leading zeros (at least 3 digits), so names and kenmerken sort in export order."""
        return f"{self.index:0{max(3, len(str(self.of)))}d}"

    def sentence(self) -> str:
        """One Dutch sentence for the MDTO record saying which conversation this is."""
        named = f"{self.title}, id {self.id}" if self.title else f"id {self.id}"
        return (f"Gesprek {self.index} van {self.of} uit een export met meerdere gesprekken ({named}); "
                f"de andere gesprekken zijn niet in dit record opgenomen.")


@dataclass(frozen=True)
class Selection:
    """The conversation as selected, and the counts a selection statement reports."""

    conversation: Conversation
    criteria: Criteria
    total_messages: int
    excluded: dict[str, int] = field(default_factory=dict)  # reason → messages left out for it
    kept_attachments: tuple[str, ...] = ()
    excluded_attachments: int = 0
    part: ExportPart | None = None  # set when the conversation was taken from an export holding several

    @property
    def kept_messages(self) -> int:
        return len(self.conversation.messages)

    def statement(self, export_files: Iterable[dict[str, Any]], original_included: bool) -> dict[str, Any]:
        """The selection statement (JSON-ready): criteria, counts, the original export's digest and size, and
        for a conversation taken from an export holding several, which one."""
        original: dict[str, Any] = {"files": list(export_files), "messages": self.total_messages,
                                    "included_in_sip": original_included}
        statement: dict[str, Any] = {"schema": SELECTION_SCHEMA_ID, "criteria": self.criteria.to_dict(),
                                     "original_export": original}
        if self.part is not None:
            original["conversations"] = self.part.of
            statement["conversation"] = {**self.part.to_dict(), "messages": self.total_messages}
        statement["kept"] = {"messages": self.kept_messages, "attachments": list(self.kept_attachments)}
        statement["excluded"] = {"messages": self.total_messages - self.kept_messages,
                                 "by_reason": {r: self.excluded.get(r, 0) for r in REASONS},
                                 "attachments": self.excluded_attachments}
        return statement

    def summary(self) -> str:
        """Dutch sentences for the MDTO record: which conversation (when taken from an export holding several),
        how many messages were kept, and why others were not."""
        left_out = self.total_messages - self.kept_messages
        reasons = ", ".join(f"{n} {_REASON_NL[r]}" for r in REASONS if (n := self.excluded.get(r, 0)))
        text = f"Selectie: {self.kept_messages} van {self.total_messages} berichten behouden"
        text += f"; {left_out} weggelaten ({reasons})." if left_out else "."
        return f"{self.part.sentence()} {text}" if self.part is not None else text


_REASON_NL = {"private": "privé", "excluded_seq": "handmatig uitgesloten", "period": "buiten de periode",
              "participant": "op deelnemer", "query": "zonder de zoekwoorden"}


def select(conversation: Conversation, criteria: Criteria, part: ExportPart | None = None) -> Selection:
    """Apply `criteria`: the kept messages (their media with them) as a new conversation, and the counts.

    `part` names the conversation when it was taken from an export holding several (then even empty
    criteria make a selection: the record is that conversation, not the export).

    InputError when a named participant or seq does not occur in the conversation (a typo would otherwise
    silently select nothing or keep what was meant to go).
    """
    _check_names(conversation, criteria)
    _check_seqs(conversation, criteria)
    kept: list[Message] = []
    excluded: dict[str, int] = {}
    for message in conversation.messages:
        reason = _exclusion_reason(message, criteria)
        if reason is None:
            kept.append(message)
        else:
            excluded[reason] = excluded.get(reason, 0) + 1
    kept_names = {a.name for m in kept for a in m.attachments if a.present and a.name}
    all_names = {a.name for m in conversation.messages for a in m.attachments if a.present and a.name}
    kept_seqs = {m.seq for m in kept}
    selected = replace(
        conversation,
        messages=tuple(kept),
        participants=participants_of(kept),
        source=replace(conversation.source, inferred=_inferred_for(conversation.source.inferred, kept_seqs)),
    )
    return Selection(selected, criteria, len(conversation.messages), excluded, tuple(sorted(kept_names)),
                     len(all_names - kept_names), part)


def _exclusion_reason(message: Message, criteria: Criteria) -> str | None:
    if message.seq in criteria.private_seqs:
        return "private"
    if message.seq in criteria.exclude_seqs:
        return "excluded_seq"
    if not _in_period(message.timestamp, criteria.date_from, criteria.date_to):
        return "period"
    if criteria.participants and message.sender not in criteria.participants:
        return "participant"
    if message.sender is not None and message.sender in criteria.exclude_participants:
        return "participant"
    if criteria.queries and not any(_matches(message.text, q) for q in criteria.queries):
        return "query"
    return None


def _in_period(moment: datetime, start: date | datetime | None, end: date | datetime | None) -> bool:
    if isinstance(start, datetime):
        if moment < start:
            return False
    elif start is not None and moment.date() < start:
        return False
    if isinstance(end, datetime):
        return moment <= end
    return end is None or moment.date() <= end


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _matches(text: str, query: str) -> bool:
    words = set(_WORD.findall(_fold(text)))
    wanted = _WORD.findall(_fold(query))
    return bool(wanted) and all(w in words for w in wanted)


def _check_names(conversation: Conversation, criteria: Criteria) -> None:
    senders = {m.sender for m in conversation.messages if m.sender is not None}
    unknown = [n for n in (*criteria.participants, *criteria.exclude_participants) if n not in senders]
    if unknown:
        raise InputError(f"no message in the export is sent by {', '.join(map(repr, unknown))}",
                         hint=f"participants are: {', '.join(sorted(senders))}")


def _check_seqs(conversation: Conversation, criteria: Criteria) -> None:
    known = {m.seq for m in conversation.messages}
    unknown = sorted((criteria.exclude_seqs | criteria.private_seqs) - known)
    if unknown:
        shown = ", ".join(str(s) for s in unknown[:10])
        raise InputError(f"the export has no message with seq {shown}",
                         hint=f"seq runs from {min(known, default=0)} to {max(known, default=0)}")


def _inferred_for(inferred: dict[str, Any], kept: set[int]) -> dict[str, Any]:
    """The parser's notes, without those about left-out messages (notes keyed by seq, or lists of seqs)."""
    result: dict[str, Any] = {}
    for key, value in inferred.items():
        if isinstance(value, dict) and value and all(str(k).isdigit() for k in value):
            value = {k: v for k, v in value.items() if int(k) in kept}
        elif isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            value = [v for v in value if v in kept]
        result[key] = value
    return result


# ---------------------------------------------------------------------------------------------------
# Reading criteria as a user writes them


def parse_moment(text: str, flag: str) -> date | datetime:
    """A day (YYYY-MM-DD) or a moment with its offset (ISO 8601); InputError naming the flag otherwise."""
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{flag} {text!r} is not a date YYYY-MM-DD or an ISO 8601 moment") from None
    if moment.tzinfo is None:
        raise InputError(f"{flag} {text!r} has no UTC offset", hint="write e.g. 2024-03-14T09:00+01:00, or a day")
    return moment


def parse_seqs(values: Iterable[str], flag: str) -> frozenset[int]:
    """Seq numbers from `3,5,10-12` lists or from files holding such lists (one or more a line, # comments)."""
    seqs: set[int] = set()
    for value in values:
        path = Path(value)
        if path.is_file():
            if path.stat().st_size > MAX_SEQ_FILE_BYTES:
                raise InputError(f"{flag} {value}: larger than {MAX_SEQ_FILE_BYTES} bytes")
            try:
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"{flag} {value}: cannot read: {exc}") from None
            lines = [line.split("#", 1)[0] for line in text.splitlines()]
            seqs |= _seq_list(",".join(lines), f"{flag} {value}")
        else:
            seqs |= _seq_list(value, flag)
    return frozenset(seqs)


def _seq_list(text: str, where: str) -> set[int]:
    seqs: set[int] = set()
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        match = _RANGE.match(part)
        if not match:
            raise InputError(f"{where}: {part!r} is not a seq number or range like 10-12 (nor a file)")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if last < first or last - first > 10_000_000:
            raise InputError(f"{where}: the range {part!r} runs backwards or is too long")
        seqs.update(range(first, last + 1))
    return seqs
