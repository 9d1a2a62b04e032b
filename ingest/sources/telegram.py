"""Telegram Desktop "Export chat history" / "Export Telegram data" in the Machine-readable JSON format.

Implements the `telegram` export format of issue 4. The grammar is the one Telegram Desktop writes
(`export_output_json.cpp` in telegramdesktop/tdesktop): either one chat (`{"name", "type", "id",
"messages": [...]}`) or a whole account (`{"personal_information", "chats": {"list": [...]},
"left_chats": {"list": [...]}}`), each message an object with `type` "message" or "service".
The argument may be `result.json` alone, the export folder, or a zip of it.

Decisions a records manager should know:
- One conversation per chat, in the order of `chats.list` then `left_chats.list`.
- Time: `date_unixtime` (seconds, UTC) when present, shown in the `--tz` zone. Exports before 2021
  only carry `date`, the wall clock of the exporting computer without zone: then it is read in `--tz`
  and `source.inferred["time_basis"]` says so.
- Text is the string, or the concatenation of the `text` of each entity of the array (links, bold,
  mentions are kept as the characters shown; a `text_link`'s address is listed under `links`).
- Service messages (joined, invited, title changed, ...) are kind system with a text in Dutch words built
  from the actor, the action and its members or title ("Jan heeft de groep „Raad” aangemaakt met Piet");
  an action without words keeps its code ("Jan: Telegram-actie game_score (…)"); `phone_call` and
  `group_call` are kind call. A one-chat export's `name` is its title, before or after its messages.
- Media: `photo`, `file` (voice, video, audio, sticker, document) and `contact_vcard` are attachments;
  a path that exists in the export is `present` True. Telegram writes "(File not included. Change data
  exporting settings to download.)" (and "File exceeds maximum size", "File unavailable") when the file
  was not exported: `present` False and `omitted` True (the export says it left the file out), the attachment
  named by `file_name` if known, else by the marker.
- `edited` is True when the message carries `edited`. Forwarded messages (`forwarded_from`), replies
  (`reply_to_message_id`, mapped to the seq of the message replied to when it is in the chat) and
  `via_bot` are listed in `source.inferred` per seq; the text is kept as written.
- `from` null (a deleted account) → the sender is the `from_id` ("user5555555555"), listed under
  `inferred["sender_from_id"]`.
- A message object that cannot be read (no date, a date that is not a time) is an unparsed entry.
"""
from __future__ import annotations

import json
import marshal
import mimetypes
import tempfile
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import IO, Any, Iterator

import ijson

from ingest.export import Export
from ingest.sources.base import ConversationStream, ParseOptions
from kernel.errors import InputError
from kernel.model import Attachment, Conversation, ConversationHead, Message, MessageKind, Source, participants_of

NAME = "telegram"
NOT_INCLUDED_PREFIXES = ("(File not included.", "(File exceeds maximum size.", "(File unavailable")
_MEDIA_FIELDS = ("photo", "file", "contact_vcard")
_CALL_ACTIONS = ("phone_call", "group_call", "invite_to_group_call")
_SIGNATURES = (b'"date_unixtime"', b'"from_id"', b'"text_entities"', b'"personal_information"')
_MEDIA_TYPES = mimetypes.MimeTypes()


@dataclass
class _ChatNotes:
    """What reading one chat had to infer or could not read, keyed for `source.inferred`."""

    time_basis: set[str] = field(default_factory=set)
    forwarded: dict[str, str] = field(default_factory=dict)
    replies: dict[str, int | str] = field(default_factory=dict)
    via_bot: dict[str, str] = field(default_factory=dict)
    links: dict[str, list[str]] = field(default_factory=dict)
    sender_from_id: list[int] = field(default_factory=list)
    unparsed_lines: list[dict[str, Any]] = field(default_factory=list)

    def to_inferred(self, tz: str) -> dict[str, Any]:
        inferred: dict[str, Any] = {}
        if self.time_basis == {"date_unixtime"}:
            inferred["time_basis"] = "date_unixtime (UTC seconds), shown in the zone " + tz
        elif self.time_basis:
            inferred["time_basis"] = (
                "date (wall clock of the exporting computer, no zone) read in " + tz
                + ("" if self.time_basis == {"date"} else "; date_unixtime where present")
            )
        for key in ("forwarded", "replies", "via_bot", "links", "sender_from_id", "unparsed_lines"):
            value = getattr(self, key)
            if value:
                inferred[key] = value
        return inferred


def looks_like_telegram(head: bytes) -> float:
    """How surely the first bytes of a JSON file are Telegram Desktop's export (0.0 .. 1.0)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return 0.0
    if b'"chats"' in text and b'"list"' in text and b'"personal_information"' in text:
        return 1.0
    hits = sum(1 for s in _SIGNATURES if s in text)
    if b'"messages"' in text and hits >= 2:
        return 1.0
    if b'"messages"' in text and hits == 1 and b'"type": "message"' in text.replace(b'":"', b'": "'):
        return 0.9
    return 0.0


def _unreadable_reason(obj: dict[str, Any]) -> str:
    if "date_unixtime" not in obj and "date" not in obj:
        return "no date"
    return f"date {str(obj.get('date_unixtime', obj.get('date')))[:40]!r} is not a time"


def _timestamp(obj: dict[str, Any], tz: Any, notes: _ChatNotes) -> datetime | None:
    unix = obj.get("date_unixtime")
    if isinstance(unix, (str, int)) and str(unix).strip().lstrip("-").isdigit():
        try:
            notes.time_basis.add("date_unixtime")
            return datetime.fromtimestamp(int(unix), tz=timezone.utc).astimezone(tz)
        except (OverflowError, OSError, ValueError):
            return None
    wall = obj.get("date")
    if isinstance(wall, str):
        try:
            parsed = datetime.fromisoformat(wall)
        except ValueError:
            return None
        notes.time_basis.add("date")
        if parsed.tzinfo is not None:
            return parsed.astimezone(tz)
        return parsed.replace(tzinfo=tz)
    return None


def message_text(value: Any) -> tuple[str, list[str]]:
    """The text of a Telegram `text` field (a string or an array of strings and entities) and the
    addresses of its `text_link` entities."""
    if isinstance(value, str):
        return value, []
    if not isinstance(value, list):
        return "", []
    pieces: list[str] = []
    links: list[str] = []
    for item in value:
        if isinstance(item, str):
            pieces.append(item)
        elif isinstance(item, dict):
            text = item.get("text")
            pieces.append(text if isinstance(text, str) else "")
            href = item.get("href")
            if isinstance(href, str) and href:
                links.append(href)
    return "".join(pieces), links


def _message(
    obj: dict[str, Any], seq: int, tz: Any, base: str, members: frozenset[str], notes: _ChatNotes
) -> Message | None:
    when = _timestamp(obj, tz, notes)
    if when is None:
        return None
    text, links = message_text(obj.get("text"))
    if links:
        notes.links[str(seq)] = links
    attachments = _attachments(obj, base, members)
    edited = "edited" in obj or "edited_unixtime" in obj
    if obj.get("type") == "service":
        actor = obj.get("actor") if isinstance(obj.get("actor"), str) else None
        action = str(obj.get("action") or "service")
        if action in _CALL_ACTIONS:
            return Message(seq, when, actor, MessageKind.CALL, _call_text(obj, text), attachments, edited)
        return Message(seq, when, None, MessageKind.SYSTEM, _service_text(obj, actor, action, text), attachments, edited)
    sender = obj.get("from") if isinstance(obj.get("from"), str) else None
    if sender is None:
        from_id = obj.get("from_id")
        sender = str(from_id) if from_id not in (None, "") else None
        if sender is not None:
            notes.sender_from_id.append(seq)
    for key, target in (("forwarded_from", notes.forwarded), ("via_bot", notes.via_bot)):
        if isinstance(obj.get(key), str):
            target[str(seq)] = obj[key]
    if isinstance(obj.get("reply_to_message_id"), (int, str)):
        notes.replies[str(seq)] = obj["reply_to_message_id"]
    kind = _kind(obj, attachments)
    if kind is MessageKind.LOCATION:
        text = _location_text(obj, text)
    elif kind is MessageKind.CONTACT:
        text = _contact_text(obj, text)
    elif kind is MessageKind.POLL:
        text = _poll_text(obj, text)
    return Message(seq, when, sender, kind, text, attachments, edited)


def _kind(obj: dict[str, Any], attachments: tuple[Attachment, ...]) -> MessageKind:
    if isinstance(obj.get("location_information"), dict):
        return MessageKind.LOCATION
    if isinstance(obj.get("contact_information"), dict) or "contact_vcard" in obj:
        return MessageKind.CONTACT
    if isinstance(obj.get("poll"), dict):
        return MessageKind.POLL
    if attachments:
        return MessageKind.MEDIA
    return MessageKind.TEXT


def _attachments(obj: dict[str, Any], base: str, members: frozenset[str]) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    for key in _MEDIA_FIELDS:
        value = obj.get(key)
        if not isinstance(value, str) or not value:
            continue
        mime = obj.get("mime_type") if key == "file" and isinstance(obj.get("mime_type"), str) else None
        if value.startswith(NOT_INCLUDED_PREFIXES):
            file_name = obj.get("file_name") if key == "file" else None
            name = file_name if isinstance(file_name, str) and file_name else value
            found.append(Attachment(name=name, present=False, media_type=mime or _guess(name), omitted=True))
            continue
        member = _member_name(base, value)
        found.append(Attachment(name=member, present=member in members, media_type=mime or _guess(value)))
    return tuple(found)


def _member_name(base: str, relative: str) -> str:
    path = PurePosixPath(relative.replace("\\", "/"))
    return str(PurePosixPath(base) / path) if base else str(path)


def _guess(name: str) -> str | None:
    guessed, _ = _MEDIA_TYPES.guess_type(name, strict=False)
    return guessed


# Service lines as Telegram shows them, in Dutch (result.json gives only the action's code and its fields).
_SERVICE_WORDS = {
    "create_group": "{actor} heeft de groep „{title}” aangemaakt{with_members}",
    "create_channel": "{actor} heeft het kanaal „{title}” aangemaakt",
    "edit_group_title": "{actor} heeft de naam van de groep gewijzigd in „{title}”",
    "edit_group_photo": "{actor} heeft de groepsfoto gewijzigd",
    "delete_group_photo": "{actor} heeft de groepsfoto verwijderd",
    "invite_members": "{actor} heeft {members} toegevoegd",
    "remove_members": "{actor} heeft {members} verwijderd",
    "join_group_by_link": "{actor} is lid geworden via een uitnodigingslink{by_inviter}",
    "join_group_by_request": "{actor} is lid geworden na een verzoek",
    "migrate_to_supergroup": "{actor} heeft de groep omgezet in een supergroep",
    "migrate_from_group": "{actor} heeft de supergroep „{title}” gemaakt uit een gewone groep",
    "pin_message": "{actor} heeft een bericht vastgezet",
    "clear_history": "{actor} heeft de geschiedenis gewist",
    "screenshot_taken": "{actor} heeft een schermafbeelding gemaakt",
    "contact_sign_up": "{actor} gebruikt nu Telegram",
    "suggest_profile_photo": "{actor} heeft een profielfoto voorgesteld",
    "set_messages_ttl": "{actor} heeft de tijd voor zelfverwijderende berichten ingesteld",
    "topic_created": "{actor} heeft het onderwerp „{title}” aangemaakt",
}


def _service_text(obj: dict[str, Any], actor: str | None, action: str, text: str) -> str:
    """The service line in words ("Jan heeft Piet toegevoegd"); an action without words keeps its code and
    fields ("Jan: Telegram-actie game_score (score: 3)")."""
    members = obj.get("members")
    names = ", ".join(m if isinstance(m, str) else "(onbekend)" for m in members) if isinstance(members, list) else ""
    template = _SERVICE_WORDS.get(action)
    if template is not None:
        inviter = obj.get("inviter")
        line = template.format(actor=actor or "Iemand", title=obj.get("title") or "", members=names or "(onbekend)",
                               with_members=f" met {names}" if names else "",
                               by_inviter=f" van {inviter}" if isinstance(inviter, str) and inviter else "")
    else:
        details = [names] if names else []
        for key in ("title", "message_id", "inviter", "discard_reason", "duration_seconds", "amount", "currency"):
            value = obj.get(key)
            if value not in (None, "", []):
                details.append(f"{key}: {value}")
        line = f"{actor or '(onbekend)'}: Telegram-actie {action}" + (" (" + "; ".join(details) + ")" if details else "")
    return line + ("\n" + text if text else "")


def _call_text(obj: dict[str, Any], text: str) -> str:
    parts = [str(obj.get("action"))]
    if obj.get("discard_reason"):
        parts.append(f"discard_reason: {obj['discard_reason']}")
    if obj.get("duration_seconds") is not None:
        parts.append(f"duration_seconds: {obj['duration_seconds']}")
    return "; ".join(parts) + (f"\n{text}" if text else "")


def _location_text(obj: dict[str, Any], text: str) -> str:
    loc = obj["location_information"]
    lines = [f"{loc.get('latitude')}, {loc.get('longitude')}"]
    for key in ("place_name", "address"):
        if isinstance(obj.get(key), str) and obj[key]:
            lines.append(obj[key])
    if obj.get("live_location_period_seconds") is not None:
        lines.append(f"live location for {obj['live_location_period_seconds']} s")
    if text:
        lines.append(text)
    return "\n".join(lines)


def _contact_text(obj: dict[str, Any], text: str) -> str:
    info = obj.get("contact_information")
    if not isinstance(info, dict):
        return text
    name = " ".join(str(info.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    line = ", ".join(p for p in (name, str(info.get("phone_number") or "").strip()) if p)
    return line + (f"\n{text}" if text else "")


def _poll_text(obj: dict[str, Any], text: str) -> str:
    poll = obj["poll"]
    lines = [str(poll.get("question") or "")]
    answers = poll.get("answers")
    for answer in answers if isinstance(answers, list) else []:
        if isinstance(answer, dict):
            lines.append(f"- {answer.get('text', '')} ({answer.get('voters', 0)})")
    if text:
        lines.append(text)
    return "\n".join(lines)


def result_member(export: Export) -> str | None:
    """The member holding the export's JSON: `result.json` (shallowest), else the only `.json`."""
    names = [m.name for m in export.members()]
    results = sorted((n for n in names if n.rsplit("/", 1)[-1] == "result.json"), key=lambda n: n.count("/"))
    if results:
        return results[0]
    jsons = [n for n in names if n.lower().endswith(".json")]
    return jsons[0] if len(jsons) == 1 else None


def base_of(member: str) -> str:
    """The folder of the export's JSON inside the export ('' at the top): media paths are relative to it."""
    return member.rsplit("/", 1)[0] if "/" in member else ""


class TelegramFormat:
    """The registry entry for Telegram Desktop JSON exports (one chat, or a whole account)."""

    name = NAME

    def score(self, export: Export) -> float:
        """1.0 for the export's signature keys, 0.9 for a trimmed message list with unix dates, else 0."""
        member = result_member(export)
        if member is None:
            return 0.0
        return looks_like_telegram(export.read_head(member))

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """One conversation per chat of the export, in the export's order."""
        conversations = []
        for stream in self.stream(export, options):
            messages = tuple(stream.messages)
            head = stream.head
            conversations.append(Conversation(head.source, participants_of(messages), messages, head.title))
        return conversations

    def stream(self, export: Export, options: ParseOptions) -> list[ConversationStream]:
        """The chats as streams. result.json is read once, incrementally (ijson), before this returns;
        each chat's messages wait in a temporary spool file, so memory does not grow with the export."""
        member = result_member(export)
        if member is None:
            raise InputError("the export holds no Telegram result.json")
        reading = _Reading(options, base_of(member), frozenset(m.name for m in export.members()))
        try:
            with export.open(member) as raw:
                for kind, value in _walk(_SkipBom(raw), member):
                    reading.take(kind, value)
            reading.finish()
        except BaseException:
            reading.spool.close()
            raise
        if not reading.chats:
            reading.spool.close()
            raise InputError(f"{member} is JSON but holds no Telegram chat (no \"messages\" list)")
        files = export.source_files()
        remaining = [len(reading.chats)]
        streams = []
        for chat in reading.chats:
            inferred = chat.notes.to_inferred(options.tz)
            inferred["chat"] = {"type": chat.fields.get("type"), "id": chat.fields.get("id")}
            source = Source(format=NAME, platform="desktop", locale=None, timezone=options.tz, files=files,
                            inferred=inferred)
            head = ConversationHead(source=source, title=chat.title())
            streams.append(ConversationStream(head, _replay(reading.spool, chat, options.zone, remaining)))
        return streams


FORMAT = TelegramFormat()


# --- incremental reading ------------------------------------------------------------------------------

_CHAT_PREFIXES = ("chats.list.item", "left_chats.list.item")
_MESSAGE_PREFIXES = ("messages.item", "chats.list.item.messages.item", "left_chats.list.item.messages.item")
_CHAT_FIELDS = ("name", "type", "id")


class _SkipBom:
    """A binary stream without a leading UTF-8 byte order mark (yajl does not accept one)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._first = True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if self._first:
            self._first = False
            if data.startswith(b"\xef\xbb\xbf"):
                data = data[3:] or self._raw.read(size)
        return data


def _walk(raw: Any, name: str) -> Iterator[tuple[str, Any]]:
    """('chat', top) when a chat begins (top: the single chat of a one-chat export, whose name, type and id
    are top-level keys, before or after its messages), ('field', (key, value, top)) for a name/type/id, ('message', obj)
    for each element of its messages list, in file order; InputError for JSON that is not readable."""
    builder: ijson.ObjectBuilder | None = None
    building = ""
    top_chat = False
    try:
        for prefix, event, value in ijson.parse(raw, use_float=True):
            if builder is not None:
                builder.event(event, value)
                if prefix == building and event == "end_map":
                    yield "message", builder.value
                    builder = None
                continue
            if prefix in _MESSAGE_PREFIXES:
                if event == "start_map":
                    builder, building = ijson.ObjectBuilder(), prefix
                    builder.event(event, value)
                elif event not in ("end_array",):
                    yield "message", value  # not an object: kept as an unparsed entry
            elif prefix in _CHAT_PREFIXES and event == "start_map":
                yield "chat", False
            elif prefix == "messages" and event == "start_array" and not top_chat:
                top_chat = True
                yield "chat", True
            elif event in ("string", "number", "integer", "double") and (
                prefix in _CHAT_FIELDS or (prefix.rpartition(".")[0] in _CHAT_PREFIXES and prefix.rpartition(".")[2] in _CHAT_FIELDS)
            ):
                yield "field", (prefix.rpartition(".")[2], value, prefix in _CHAT_FIELDS)
            elif prefix == "" and event == "start_array":
                raise InputError(f"{name} is JSON but not a Telegram export (not an object)")
    except ijson.JSONError as exc:
        raise InputError(f"{name} is not valid JSON (truncated?): {_one_line(exc)}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text (byte {exc.start})") from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]


@dataclass
class _Chat:
    """A chat being read: its fields, notes, and where its messages are in the spool."""

    fields: dict[str, Any] = field(default_factory=dict)
    notes: _ChatNotes = field(default_factory=_ChatNotes)
    ids: dict[Any, int] = field(default_factory=dict)  # message id → seq, when ids are not increasing ints
    int_ids: array[int] = field(default_factory=lambda: array("q"))  # increasing int ids; seq = index + 1
    dense: bool = True  # every id so far an int, increasing, one per seq: int_ids holds them compactly
    first_row: int = 0  # byte offset of its first row in the spool
    rows: int = 0
    last_when: datetime | None = None

    def remember(self, message_id: Any, seq: int) -> None:
        """Note that `message_id` is the message at `seq` (so replies can name the seq)."""
        if self.dense:
            if isinstance(message_id, int) and len(self.int_ids) == seq - 1 and (
                not self.int_ids or message_id > self.int_ids[-1]
            ):
                self.int_ids.append(message_id)
                return
            self.dense = False
            self.ids = {value: index for index, value in enumerate(self.int_ids, 1)}
            self.int_ids = array("q")
        if isinstance(message_id, (int, str)):
            self.ids[message_id] = seq

    def seq_of(self, message_id: Any) -> int | None:
        """The seq of the message with `message_id` in this chat, if it is in it."""
        if self.dense:
            if not isinstance(message_id, int):
                return None
            index = bisect_left(self.int_ids, message_id)
            return index + 1 if index < len(self.int_ids) and self.int_ids[index] == message_id else None
        return self.ids.get(message_id)

    def title(self) -> str | None:
        name = self.fields.get("name")
        if isinstance(name, str):
            return name
        return "Saved Messages" if self.fields.get("type") == "saved_messages" else None


class _Spool:
    """Rows (one per message) in one temporary file, in file order; each chat reads back its own run."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None

    def position(self) -> int:
        """Where the next row will be written."""
        return self._file.tell() if self._file is not None else 0

    def add(self, row: tuple[Any, ...]) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="edepot-telegram-")
        marshal.dump(row, self._file)

    def rows(self, offset: int, count: int) -> Iterator[tuple[Any, ...]]:
        """`count` rows from `offset`; safe to interleave with other readers of the same spool."""
        if self._file is None or count == 0:
            return
        self._file.flush()
        position = offset
        for _ in range(count):
            if self._file.tell() != position:
                self._file.seek(position)
            row = marshal.load(self._file)
            position = self._file.tell()
            yield row

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class _Reading:
    """Pass one: turns the walk's events into spooled rows and per-chat notes."""

    def __init__(self, options: ParseOptions, base: str, members: frozenset[str]) -> None:
        self.options = options
        self.base = base
        self.members = members
        self.spool = _Spool()
        self.chats: list[_Chat] = []
        self.top_fields: dict[str, Any] = {}  # a one-chat export's name, type and id (they may precede its messages)
        self.top_chat: _Chat | None = None

    def take(self, kind: str, value: Any) -> None:
        if kind == "chat":
            self._close_chat()
            self.chats.append(_Chat(fields=dict(self.top_fields) if value else {}, first_row=self.spool.position()))
            if value:
                self.top_chat = self.chats[-1]
        elif kind == "field":
            key, item, top_level = value
            if top_level:
                self.top_fields.setdefault(key, item)
                if self.top_chat is not None:
                    self.top_chat.fields.setdefault(key, item)
            elif self.chats:
                self.chats[-1].fields.setdefault(key, item)
        elif kind == "message" and self.chats:
            self._message(self.chats[-1], value)

    def _message(self, chat: _Chat, obj: Any) -> None:
        seq = chat.rows + 1
        message = _message(obj, seq, self.options.zone, self.base, self.members, chat.notes) if isinstance(obj, dict) else None
        if message is None:
            reason = _unreadable_reason(obj) if isinstance(obj, dict) else "not a JSON object"
            written = json.dumps(obj, ensure_ascii=False)
            chat.notes.unparsed_lines.append({"seq": seq, "line": seq, "text": written, "reason": reason})
            when = chat.last_when.isoformat() if chat.last_when is not None else None
            self.spool.add((when, None, MessageKind.UNPARSED.value, written, [], False))
        else:
            chat.remember(obj.get("id"), seq)
            chat.last_when = message.timestamp
            self.spool.add((
                message.timestamp.isoformat(), message.sender, message.kind.value, message.text,
                [(a.name, a.present, a.media_type, a.omitted) for a in message.attachments], message.edited,
            ))
        chat.rows += 1

    def _close_chat(self) -> None:
        if not self.chats:
            return
        chat = self.chats[-1]
        for seq_key, target in list(chat.notes.replies.items()):
            found = chat.seq_of(target)
            chat.notes.replies[seq_key] = found if found is not None else f"message id {target} (not in this chat)"
        chat.ids, chat.int_ids = {}, array("q")

    def finish(self) -> None:
        self._close_chat()


def _replay(spool: _Spool, chat: _Chat, zone: Any, remaining: list[int]) -> Iterator[Message]:
    """Pass two for one chat: its rows as Messages; an unparsed row before any timed one takes the time
    of the first message after it."""
    try:
        waiting: list[tuple[int, tuple[Any, ...]]] = []
        for seq, row in enumerate(spool.rows(chat.first_row, chat.rows), 1):
            if row[0] is None:
                waiting.append((seq, row))
                continue
            when = datetime.fromisoformat(row[0]).astimezone(zone)
            for early_seq, early in waiting:
                yield _row_message(early_seq, when, early)
            waiting.clear()
            yield _row_message(seq, when, row)
        if waiting:
            raise InputError("a Telegram chat holds no message that could be read; every entry is damaged")
    finally:
        remaining[0] -= 1
        if remaining[0] == 0:
            spool.close()


def _row_message(seq: int, when: datetime, row: tuple[Any, ...]) -> Message:
    _, sender, kind, text, attachments, edited = row
    return Message(seq, when, sender, MessageKind(kind), text,
                   tuple(Attachment(name=n, present=p, media_type=t, omitted=o) for n, p, t, o in attachments), edited)
