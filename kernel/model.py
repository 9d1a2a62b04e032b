"""The canonical conversation: the one vocabulary every export format is turned into.

Shape and field meaning are fixed by `schemas/conversation.schema.json` (DESIGN.md, "Canonical
conversation"). Parsers build these objects from bytes; everything after parsing reads only these.
Timestamps are timezone-aware: exports carry wall-clock time, which the parser reads in a zone.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from json.encoder import encode_basestring
from typing import IO, Any, Callable, Iterable

from kernel.errors import InputError

CONVERSATION_SCHEMA_ID = "https://edepot.example/schemas/conversation/1"
CONVERSATIONS_SCHEMA_ID = "https://edepot.example/schemas/conversations/1"
MAX_JSON_DEPTH = 64  # the canonical JSON nests 5 levels; what a parser inferred (free-form) gets the rest


class MessageKind(str, Enum):
    """What a message is, as far as the export tells."""

    TEXT = "text"  # words typed by a participant
    MEDIA = "media"  # a photo, voice note, video, document, sticker (present or omitted)
    SYSTEM = "system"  # a line written by the app: joined, left, encryption notice, subject changed
    DELETED = "deleted"  # "this message was deleted"
    LOCATION = "location"  # a shared or live location
    CONTACT = "contact"  # a shared contact card
    POLL = "poll"  # a poll with its options
    CALL = "call"  # a missed or made call noted in the chat
    UNPARSED = "unparsed"  # a damaged line kept as written; its line number is in source.inferred["unparsed_lines"]


@dataclass(frozen=True)
class Attachment:
    """A file a message refers to. `present` says whether the export holds the file itself; `omitted` that
    the export says it left the file out on purpose (WhatsApp "<Media weggelaten>", exported without media),
    as opposed to a file it names but does not hold (lost)."""

    name: str
    present: bool
    media_type: str | None = None  # IANA media type guessed from the name; identification comes later
    omitted: bool = False

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"name": self.name, "present": self.present, "media_type": self.media_type}
        if self.omitted:  # written only when true, so the JSON of every other attachment stays as it was
            found["omitted"] = True
        return found


@dataclass(frozen=True)
class Message:
    """One message. `seq` is its 1-based position in the export; `sender` is None for system lines."""

    seq: int
    timestamp: datetime
    sender: str | None
    kind: MessageKind
    text: str
    attachments: tuple[Attachment, ...] = ()
    edited: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "timestamp": self.timestamp.isoformat(),
            "sender": self.sender,
            "kind": self.kind.value,
            "text": self.text,
            "attachments": [a.to_dict() for a in self.attachments],
            "edited": self.edited,
        }


@dataclass(frozen=True)
class Participant:
    """Somebody who wrote in the conversation, named as the export names them."""

    name: str
    message_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "message_count": self.message_count}


@dataclass(frozen=True)
class SourceFile:
    """A file of the original export, with its digest, so the canonical JSON points at its origin."""

    name: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class DamagedFile:
    """A file of the export that could be read only in part (cut short): what is wrong, how many of its
    elements or members were whole (and kept), where the file ends, and what could not be read."""

    name: str
    problem: str
    complete: int
    end_byte: int | None = None
    end_line: int | None = None
    unreadable: tuple[str, ...] = ()  # names of members that could not be read (a zip cut short)

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"name": self.name, "problem": self.problem, "complete": self.complete}
        if self.end_byte is not None:
            found["end"] = {"byte": self.end_byte, "line": self.end_line}
        if self.unreadable:
            found["unreadable"] = list(self.unreadable)
        return found

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DamagedFile":
        end = data.get("end") or {}
        return cls(data["name"], data["problem"], data["complete"], end.get("byte"), end.get("line"),
                   tuple(data.get("unreadable", ())))


@dataclass(frozen=True)
class Damage:
    """That the export is damaged: the files found damaged while reading it, and the producer's own statement
    (`reason`) when the producer declared the export damaged."""

    files: tuple[DamagedFile, ...] = ()
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "files": [f.to_dict() for f in self.files]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Damage":
        return cls(tuple(DamagedFile.from_dict(f) for f in data.get("files", ())), data.get("reason"))


@dataclass(frozen=True)
class Source:
    """Where the conversation came from and what the parser had to infer to read it."""

    format: str  # registry name, e.g. "whatsapp"
    platform: str  # e.g. "ios", "android"
    locale: str | None  # language of the phone's settings as inferred, e.g. "nl"
    timezone: str  # IANA zone the wall-clock times were read in
    files: tuple[SourceFile, ...] = ()
    inferred: dict[str, Any] = field(default_factory=dict)  # e.g. date order and its evidence
    damaged: Damage | None = None  # the export was read only in part
    renamed: tuple[tuple[str, str], ...] = ()  # (name in the SIP, name in the export) of files whose names were cut

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "format": self.format,
            "platform": self.platform,
            "locale": self.locale,
            "timezone": self.timezone,
            "files": [f.to_dict() for f in self.files],
            "inferred": self.inferred,
        }
        if self.damaged is not None:
            found["damaged"] = self.damaged.to_dict()
        if self.renamed:
            found["renamed"] = [{"name": name, "original": original} for name, original in self.renamed]
        return found


# How exports name the phone's or account's owner (SMS Backup & Restore and Threema "Ik", Signal "Me", …).
OWNER_NAMES = ("Ik", "Me", "You")


@dataclass(frozen=True)
class Custodian:
    """Whose phone or account the conversation came from: a person's name and function (e.g. "wethouder").

    `export_name` is the sender name the export gives that person ("Ik", "Me"), when it is another name."""

    name: str
    function: str | None = None
    export_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "function": self.function, "export_name": self.export_name}

    def label(self) -> str:
        """The name with the function: "J. de Vries (wethouder)"."""
        return f"{self.name} ({self.function})" if self.function else self.name


@dataclass(frozen=True)
class Conversation:
    """A whole conversation: its source, who took part, and every message in export order."""

    source: Source
    participants: tuple[Participant, ...]
    messages: tuple[Message, ...]
    title: str | None = None  # the chat's name where the export gives it (zip name, group subject)
    custodian: Custodian | None = None  # whose phone or account; given when the SIP was made

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"schema": CONVERSATION_SCHEMA_ID, "title": self.title}
        if self.custodian is not None:
            data["custodian"] = self.custodian.to_dict()
        return data | {
            "source": self.source.to_dict(),
            "participants": [p.to_dict() for p in self.participants],
            "messages": [m.to_dict() for m in self.messages],
        }

    def owner(self) -> str | None:
        """The sender name of the phone's or account's owner: the custodian's, else a name the export gives
        the owner ("Ik", "Me") when one of the senders has it; None when the export does not say."""
        if self.custodian is not None:
            return self.custodian.name
        senders = {p.name for p in self.participants}
        return next((name for name in OWNER_NAMES if name in senders), None)

    def with_custodian(self, custodian: Custodian) -> "Conversation":
        """This conversation with its custodian named: the messages the export ascribes to the owner ("Ik",
        "You", …) carry the custodian's name, and `custodian.export_name` records what the export wrote."""
        senders = {p.name for p in self.participants} | {m.sender for m in self.messages if m.sender}
        alias = next((name for name in OWNER_NAMES if name in senders and name != custodian.name), None)
        named = Custodian(custodian.name, custodian.function, alias)
        if alias is None:
            return replace(self, custodian=named)
        messages = tuple(replace(m, sender=custodian.name) if m.sender == alias else m for m in self.messages)
        return replace(self, custodian=named, messages=messages, participants=participants_of(messages))

    def to_json(self) -> str:
        """The canonical JSON text: UTF-8 characters kept as written, stable key order, 2-space indent."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    @property
    def first_timestamp(self) -> datetime | None:
        return min((m.timestamp for m in self.messages), default=None)

    @property
    def last_timestamp(self) -> datetime | None:
        return max((m.timestamp for m in self.messages), default=None)

    @classmethod
    def from_json(cls, text: str | bytes) -> "Conversation":
        """Rebuild a conversation from its canonical JSON text; InputError as `load_json` says, or when the
        JSON is not a conversation (a value of the wrong type, a date that does not exist)."""
        data = load_json(text, what="the conversation JSON")
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"the conversation JSON is not a conversation: {exc!r}") from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Conversation":
        """Rebuild a conversation from its canonical JSON (as written by `to_dict`)."""
        src = data["source"]
        source = Source(
            format=src["format"],
            platform=src["platform"],
            locale=src.get("locale"),
            timezone=src["timezone"],
            files=tuple(SourceFile(**f) for f in src.get("files", [])),
            inferred=dict(src.get("inferred", {})),
            damaged=Damage.from_dict(src["damaged"]) if src.get("damaged") else None,
            renamed=tuple((r["name"], r["original"]) for r in src.get("renamed", ())),
        )
        messages = tuple(
            Message(
                seq=m["seq"],
                timestamp=datetime.fromisoformat(m["timestamp"]),
                sender=m["sender"],
                kind=MessageKind(m["kind"]),
                text=m["text"],
                attachments=tuple(Attachment(**a) for a in m.get("attachments", [])),
                edited=bool(m.get("edited", False)),
            )
            for m in data["messages"]
        )
        participants = tuple(Participant(**p) for p in data["participants"])
        custodian = Custodian(**data["custodian"]) if data.get("custodian") else None
        return cls(source=source, participants=participants, messages=messages, title=data.get("title"),
                   custodian=custodian)


def load_json(text: str | bytes, *, what: str) -> Any:
    """The value of the JSON `text`; InputError naming `what` when it is not JSON, or nests deeper than
    MAX_JSON_DEPTH levels (Python's reader, like everything that walks the value after it, recurses once per
    level: a document nested 200,000 deep would otherwise end in a RecursionError somewhere)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise InputError(f"{what} nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise InputError(f"{what} is not JSON: {exc}") from None
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise InputError(f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects in `value` nest more than `limit` levels: walked level by level, not by
    recursion, and at C speed per level (a million messages in about a second)."""
    level = [value] if type(value) in (dict, list) else []
    for _ in range(limit):
        level = [child for node in level for child in (node.values() if type(node) is dict else node)
                 if type(child) in (dict, list)]
        if not level:
            return False
    return True


def participants_of(messages: tuple[Message, ...] | list[Message]) -> tuple[Participant, ...]:
    """Participants in order of first appearance, with how many messages each sent."""
    counts: dict[str, int] = {}
    for m in messages:
        if m.sender is not None:
            counts[m.sender] = counts.get(m.sender, 0) + 1
    return tuple(Participant(name, n) for name, n in counts.items())


@dataclass
class ConversationHead:
    """What is known of a conversation apart from its messages: where it came from, its title, and
    the participants known in advance (message counts are added while the messages stream past).

    A producer may still replace `source` (e.g. with the locale it inferred) or add keys to
    `source.inferred` until the conversation's messages are exhausted; readers read it after that."""

    source: Source
    title: str | None = None
    participants: tuple[Participant, ...] = ()


_KIND_JSON = {kind: encode_basestring(kind.value) for kind in MessageKind}


def message_json(m: Message) -> str:
    """One message as compact canonical JSON (same keys and values as `Message.to_dict`), fast."""
    if m.attachments:
        attachments = json.dumps([a.to_dict() for a in m.attachments], ensure_ascii=False)
    else:
        attachments = "[]"
    sender = "null" if m.sender is None else encode_basestring(m.sender)
    return (
        f'{{"seq": {m.seq}, "timestamp": "{m.timestamp.isoformat()}", "sender": {sender}, '
        f'"kind": {_KIND_JSON[m.kind]}, "text": {encode_basestring(m.text)}, '
        f'"attachments": {attachments}, "edited": {"true" if m.edited else "false"}}}'
    )


def write_conversation_json(
    head: ConversationHead, messages: Iterable[Message], out: IO[str], indent: str = ""
) -> tuple[Participant, ...]:
    """Write one canonical conversation document to `out` while `messages` are produced, holding none.

    Messages come first, one per line; participants and source follow them, because participants'
    counts and some inferred facts are known only at the end (JSON key order is not significant, so
    the document validates against `schemas/conversation.schema.json` like `Conversation.to_json`'s).
    Returns the participants with their counts."""
    counts: dict[str, int] = {p.name: p.message_count for p in head.participants}
    write = out.write
    inner = indent + "  "
    write(f"{{\n{inner}\"schema\": \"{CONVERSATION_SCHEMA_ID}\",\n")
    write(f"{inner}\"title\": {json.dumps(head.title, ensure_ascii=False)},\n{inner}\"messages\": [")
    line = "\n" + inner + "  "
    fast = getattr(messages, "write_json_messages", None)  # a producer that encodes its own messages
    if fast is not None:
        wrote_any = bool(fast(write, line, counts))
    else:
        wrote_any = encode_messages(messages, write, line, counts)
    write(("\n" + inner if wrote_any else "") + "],\n")
    participants = tuple(Participant(name, n) for name, n in counts.items())
    write(f"{inner}\"participants\": {json.dumps([p.to_dict() for p in participants], ensure_ascii=False)},\n")
    source = json.dumps(head.source.to_dict(), ensure_ascii=False, indent=2).replace("\n", "\n" + inner)
    write(f"{inner}\"source\": {source}\n{indent}}}")
    return participants


# A message as the JSON writer takes it: (seq, ISO 8601 time, sender, kind, text, attachments, edited).
Record = tuple[int, str, "str | None", MessageKind, str, "tuple[Attachment, ...]", bool]


def records_of(messages: Iterable[Message]) -> Iterable[Record]:
    """`messages` as records (the timestamp written once per distinct time object)."""
    last_time: datetime | None = None
    last_iso = ""
    for m in messages:
        if m.timestamp is not last_time:
            last_time, last_iso = m.timestamp, m.timestamp.isoformat()
        yield (m.seq, last_iso, m.sender, m.kind, m.text, m.attachments, m.edited)


def encode_messages(
    messages: Iterable[Message], write: Callable[[str], object], line: str, counts: dict[str, int],
    wrote_any: bool = False,
) -> bool:
    """`encode_records` of `messages`."""
    return encode_records(records_of(messages), write, line, counts, wrote_any)


def encode_records(
    records: Iterable[Record], write: Callable[[str], object], line: str, counts: dict[str, int],
    wrote_any: bool = False,
) -> bool:
    """Write `records` as the items of a canonical `messages` array: each as `Message.to_dict` would
    give it, compact, preceded by `line` and separated by commas (a first comma too when `wrote_any`).
    Counts each sender's messages into `counts` (in order of first appearance). Returns whether
    anything was written in all."""
    batch: list[str] = []
    senders: dict[str, str] = {}  # sender → its JSON string, encoded once
    kinds = _KIND_JSON
    encode = encode_basestring
    append = batch.append
    for seq, iso, sender, kind, text, attachments, edited in records:
        if sender is None:
            sender_json = "null"
        else:
            counts[sender] = counts.get(sender, 0) + 1
            sender_json = senders.get(sender) or senders.setdefault(sender, encode(sender))
        files = json.dumps([a.to_dict() for a in attachments], ensure_ascii=False) if attachments else "[]"
        append(
            f'{{"seq": {seq}, "timestamp": "{iso}", "sender": {sender_json}, "kind": {kinds[kind]}, '
            f'"text": {encode(text)}, "attachments": {files}, "edited": {"true" if edited else "false"}}}'
        )
        if len(batch) >= 4096:
            write(("," if wrote_any else "") + line + ("," + line).join(batch))
            wrote_any = True
            batch.clear()
    if batch:
        write(("," if wrote_any else "") + line + ("," + line).join(batch))
        wrote_any = True
    return wrote_any


def write_conversations_json(
    heads_and_messages: Iterable[tuple[ConversationHead, Iterable[Message]]], count: int, out: IO[str]
) -> None:
    """Write `count` conversations: one plain conversation document when `count` is 1, else one
    document `{"schema": CONVERSATIONS_SCHEMA_ID, "conversations": [...]}` (schemas/conversations.schema.json).
    Each conversation is written while its messages are produced; ends with a newline."""
    if count == 1:
        for head, messages in heads_and_messages:
            write_conversation_json(head, messages, out)
        out.write("\n")
        return
    out.write(f'{{\n  "schema": "{CONVERSATIONS_SCHEMA_ID}",\n  "conversations": [')
    first = True
    for head, messages in heads_and_messages:
        out.write("\n    " if first else ",\n    ")
        write_conversation_json(head, messages, out, indent="    ")
        first = False
    out.write("\n  ]\n}\n" if not first else "]\n}\n")


def head_of(conversation: Conversation) -> ConversationHead:
    """The head of a whole conversation (for writing it as a stream)."""
    return ConversationHead(
        source=conversation.source,
        title=conversation.title,
        participants=tuple(Participant(p.name, 0) for p in conversation.participants),
    )

