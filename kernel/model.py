"""The canonical conversation: the one vocabulary every export format is turned into.

Shape and field meaning are fixed by `schemas/conversation.schema.json` (DESIGN.md, "Canonical
conversation"). Parsers build these objects from bytes; everything after parsing reads only these.
Timestamps are timezone-aware: exports carry wall-clock time, which the parser reads in a zone.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


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


@dataclass(frozen=True)
class Attachment:
    """A file a message refers to. `present` says whether the export holds the file itself."""

    name: str
    present: bool
    media_type: str | None = None  # IANA media type guessed from the name; identification comes later

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "present": self.present, "media_type": self.media_type}


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
class Source:
    """Where the conversation came from and what the parser had to infer to read it."""

    format: str  # registry name, e.g. "whatsapp"
    platform: str  # e.g. "ios", "android"
    locale: str | None  # language of the phone's settings as inferred, e.g. "nl"
    timezone: str  # IANA zone the wall-clock times were read in
    files: tuple[SourceFile, ...] = ()
    inferred: dict[str, Any] = field(default_factory=dict)  # e.g. date order and its evidence

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "platform": self.platform,
            "locale": self.locale,
            "timezone": self.timezone,
            "files": [f.to_dict() for f in self.files],
            "inferred": self.inferred,
        }


@dataclass(frozen=True)
class Conversation:
    """A whole conversation: its source, who took part, and every message in export order."""

    source: Source
    participants: tuple[Participant, ...]
    messages: tuple[Message, ...]
    title: str | None = None  # the chat's name where the export gives it (zip name, group subject)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "https://edepot.example/schemas/conversation/1",
            "title": self.title,
            "source": self.source.to_dict(),
            "participants": [p.to_dict() for p in self.participants],
            "messages": [m.to_dict() for m in self.messages],
        }

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
        return cls(source=source, participants=participants, messages=messages, title=data.get("title"))


def participants_of(messages: tuple[Message, ...] | list[Message]) -> tuple[Participant, ...]:
    """Participants in order of first appearance, with how many messages each sent."""
    counts: dict[str, int] = {}
    for m in messages:
        if m.sender is not None:
            counts[m.sender] = counts.get(m.sender, 0) + 1
    return tuple(Participant(name, n) for name, n in counts.items())
