"""Exports that hold several conversations: naming each one, listing them, and picking one as a record.

An SMS Backup & Restore file holds one conversation per thread, a Telegram full-account export one per chat
(issue 4). A SIP is one record, and one record is one conversation (VNG guidance: a conversation is
registered with its own participants, zaak and retention), so `sip create` takes one conversation out of
such an export, or makes one SIP for each (`--split`).

Each conversation gets an id that stays the same for the same export, whatever else is picked:
- Telegram: `chat-<id>` from the chat's own `id` in result.json;
- SMS Backup & Restore: `thread-<addresses>`, the thread's addresses as the parser keys them
  (`thread-+31612345678`, a group `thread-+31611111111~+31622222222`; `thread-unknown` without address);
- SMS Backup & Restore call logs: `calls-<number>`;
- Messenger/Instagram downloads: `thread-<thread folder>` (`thread-raadsgriffie_123`), end-to-end encrypted
  Messenger downloads `thread-<threadName>`;
- iPhone backups: `chat-<chat guid>` (`chat-iMessage_+_chat42`, `chat-SMS_-_+31612345678`);
- any other format: `conversation-<n>`, its place in the export.
Characters outside letters, digits and `+~._-` become `_`; a second conversation with the same id gets
`-2`, `-3`, ... (in export order). A conversation may also be named by its 1-based index in the listing.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ingest.selection import ExportPart
from ingest.sources import ConversationStream, ParseOptions, keeps_export_out, stream_export
from kernel.errors import InputError
from kernel.model import Conversation, ConversationHead, participants_of

_UNSAFE = re.compile(r"[^A-Za-z0-9+~._-]")
MAX_SHOWN_IDS = 8


@dataclass(frozen=True)
class ConversationEntry:
    """One conversation of an export as a listing shows it."""

    index: int  # 1-based, in the export's order
    id: str
    title: str | None
    participants: tuple[str, ...]
    messages: int
    first: datetime | None
    last: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "title": self.title, "participants": list(self.participants),
                "messages": self.messages, "first": self.first.isoformat() if self.first else None,
                "last": self.last.isoformat() if self.last else None}

    def label(self) -> str:
        """The title, else the participants, else the id: what a person calls this conversation."""
        return self.title or " - ".join(self.participants) or self.id


def natural_id(head: ConversationHead, index: int) -> str:
    """The id the format itself gives the conversation (see the module docstring), before deduplication."""
    inferred = head.source.inferred
    chat = inferred.get("chat")
    if head.source.format == "telegram" and isinstance(chat, dict) and chat.get("id") is not None:
        return "chat-" + _UNSAFE.sub("_", str(chat["id"]))
    for fmt, key, prefix in (("sms-backup", "thread", "thread-"), ("sms-backup-calls", "number", "calls-"),
                             ("meta-dyi", "thread_path", "thread-"), ("meta-e2ee", "thread_name", "thread-"),
                             ("iphone-backup", "chat_guid", "chat-"), ("iphone-backup", "whatsapp_jid", "whatsapp-"),
                             ("iphone-backup", "call_address", "calls-")):
        value = inferred.get(key)
        if head.source.format == fmt and isinstance(value, str) and value.strip("/"):
            value = value.strip("/").rsplit("/", 1)[-1]  # Meta's thread_path "inbox/<thread folder>"
            return prefix + ("unknown" if value.startswith("(") else _UNSAFE.sub("_", value))
    return f"conversation-{index}"


def conversation_ids(heads: Sequence[ConversationHead]) -> list[str]:
    """Every conversation's id, in export order, unique within the export."""
    seen: dict[str, int] = {}
    ids = []
    for index, head in enumerate(heads, start=1):
        base = natural_id(head, index)
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def pick_index(ids: Sequence[str], wanted: str) -> int:
    """The 0-based position of the conversation `wanted` names (its id, or its 1-based index);
    InputError naming the known ids otherwise."""
    if wanted in ids:
        return ids.index(wanted)
    folded = [i.casefold() for i in ids]
    if wanted.casefold() in folded:
        return folded.index(wanted.casefold())
    if wanted.strip().isdigit() and 1 <= int(wanted) <= len(ids):
        return int(wanted) - 1
    shown = ", ".join(ids[:MAX_SHOWN_IDS]) + (f" and {len(ids) - MAX_SHOWN_IDS} more" if len(ids) > MAX_SHOWN_IDS
                                              else "")
    raise InputError(f"the export holds no conversation {wanted!r}",
                     hint=f"its conversations are {shown} (or 1 to {len(ids)})", remedy="list-conversations")


def choose(heads: Sequence[ConversationHead], wanted: str | None, can_split: bool = True
           ) -> tuple[int, ExportPart | None]:
    """The 0-based position of the conversation `wanted` names (id or index) among the export's `heads`, and
    which part of the export it is when the export holds several. InputError for an unknown name (even when
    the export holds one conversation), and for an export holding several when `wanted` is None (naming
    splitting too when the caller can split)."""
    ids = conversation_ids(heads)
    if len(heads) == 1:
        if wanted is not None:
            pick_index(ids, wanted)
        if keeps_export_out(heads[0].source.format):  # a backup of one chat still never enters the SIP
            return 0, ExportPart(ids[0], 1, 1, heads[0].title)
        return 0, None
    if wanted is None:
        raise several_conversations_error(len(heads), can_split)
    index = pick_index(ids, wanted)
    return index, ExportPart(ids[index], index + 1, len(heads), heads[index].title)


def several_conversations_error(count: int, can_split: bool = True) -> InputError:
    """The refusal for an export holding several conversations when none was picked: it names the ways out."""
    if not can_split:
        return InputError(f"the export holds {count} conversations",
                          hint="name the conversation (its id or index)", remedy="pick-conversation")
    return InputError(f"the export holds {count} conversations and a SIP is one record (one conversation)",
                      hint="name the conversation to make a SIP of (its id or index), or make one SIP of each",
                      remedy="pick-or-split")


def materialise(stream: ConversationStream) -> Conversation:
    """The whole conversation of a stream (its messages read to the end, the head completed)."""
    messages = tuple(stream.messages)
    head = stream.head
    return Conversation(source=head.source, participants=participants_of(messages), messages=messages,
                        title=head.title)


def list_conversations(exports: Sequence[Path], options: ParseOptions | None = None,
                       export_format: str | None = None,
                       on_entry: Callable[[ConversationEntry, int], None] = lambda _entry, _total: None,
                       ) -> list[ConversationEntry]:
    """Every conversation of the export with its id, title, participants, message count and first/last time.

    Streams the export: one message at a time is held, whatever its size. `on_entry(entry, total)` after each
    conversation is counted (for progress). Raises what parsing raises."""
    streams = stream_export(exports, options, export_format)
    ids = conversation_ids([s.head for s in streams])
    entries = []
    for n, stream in enumerate(streams, start=1):
        entries.append(_entry(n, ids[n - 1], stream))
        on_entry(entries[-1], len(streams))
    return entries


def _entry(index: int, conversation_id: str, stream: ConversationStream) -> ConversationEntry:
    count = 0
    first = last = None
    senders: dict[str, None] = {}
    for message in stream.messages:
        count += 1
        first = message.timestamp if first is None or message.timestamp < first else first
        last = message.timestamp if last is None or message.timestamp > last else last
        if message.sender is not None:
            senders.setdefault(message.sender)
    return ConversationEntry(index, conversation_id, stream.head.title, tuple(senders), count, first, last)


def metadata_for(metadata: Mapping[str, Any] | None, part: ExportPart,
                 conversation: Conversation) -> Mapping[str, Any] | None:
    """The metadata file's values for this conversation's record: naam and kenmerk made its own."""
    if metadata is None or part.of == 1:  # an export of one conversation: the file describes that record
        return metadata
    own = copy.deepcopy(dict(metadata))
    if isinstance(own.get("naam"), str):
        own["naam"] = f"{own['naam']} – {conversation_label(conversation, part)}"
    identificatie = own.get("identificatie")
    if isinstance(identificatie, dict) and isinstance(identificatie.get("kenmerk"), str):
        identificatie["kenmerk"] = f"{identificatie['kenmerk']}-{part.padded_index()}"
    return own


def conversation_label(conversation: Conversation, part: ExportPart) -> str:
    """What a person calls the conversation: its title, else its first participants, else its id."""
    return conversation.title or " - ".join(p.name for p in conversation.participants[:3]) or part.id
