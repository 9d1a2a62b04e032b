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
- Service messages (joined, invited, title changed, ...) are kind system with a text built from the
  actor, the action and its members or title; `phone_call` and `group_call` are kind call.
- Media: `photo`, `file` (voice, video, audio, sticker, document) and `contact_vcard` are attachments;
  a path that exists in the export is `present` True. Telegram writes "(File not included. Change data
  exporting settings to download.)" (and "File exceeds maximum size", "File unavailable") when the file
  was not exported: `present` False, the attachment named by `file_name` if known, else by the marker.
- `edited` is True when the message carries `edited`. Forwarded messages (`forwarded_from`), replies
  (`reply_to_message_id`, mapped to the seq of the message replied to when it is in the chat) and
  `via_bot` are listed in `source.inferred` per seq; the text is kept as written.
- `from` null (a deleted account) → the sender is the `from_id` ("user5555555555"), listed under
  `inferred["sender_from_id"]`.
- A message object that cannot be read (no date, a date that is not a time) is an unparsed entry.
"""
from __future__ import annotations

import dataclasses
import json
import mimetypes
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Any

from ingest.export import Export
from ingest.sources.base import ParseOptions
from ingest.sources.unparsed import fill_unparsed
from kernel.errors import InputError
from kernel.model import Attachment, Conversation, Message, MessageKind, Source, participants_of

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


def chats_of(document: Any, name: str) -> list[dict[str, Any]]:
    """The chat objects of an export document: the single chat, or every chat of a full export."""
    if not isinstance(document, dict):
        raise InputError(f"{name} is JSON but not a Telegram export (not an object)")
    chats: list[dict[str, Any]] = []
    if isinstance(document.get("messages"), list):
        chats.append(document)
    for section in ("chats", "left_chats"):
        block = document.get(section)
        if isinstance(block, dict) and isinstance(block.get("list"), list):
            chats.extend(c for c in block["list"] if isinstance(c, dict) and isinstance(c.get("messages"), list))
    if not chats:
        raise InputError(f"{name} is JSON but holds no Telegram chat (no \"messages\" list)")
    return chats


def load_document(data: bytes, name: str) -> Any:
    """The JSON document of `data`; InputError for bytes that are not UTF-8 JSON (truncated, damaged)."""
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{name} is not valid JSON (truncated?): {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise InputError(f"{name} nests JSON too deeply to be a chat export") from None


def chat_to_conversation(
    chat: dict[str, Any], tz: Any, tz_name: str, base: str, members: frozenset[str]
) -> Conversation:
    """One Telegram chat object as a Conversation; `base` is the folder of result.json in the export."""
    notes = _ChatNotes()
    ids: dict[Any, int] = {}
    messages: list[Message | None] = []
    damaged: dict[int, str] = {}
    for index, obj in enumerate(chat["messages"]):
        seq = len(messages) + 1
        message = _message(obj, seq, tz, base, members, notes) if isinstance(obj, dict) else None
        if message is None:
            reason = _unreadable_reason(obj) if isinstance(obj, dict) else "not a JSON object"
            written = json.dumps(obj, ensure_ascii=False)
            # "line" is the record number: the position of the object in the chat's "messages" list
            notes.unparsed_lines.append({"seq": seq, "line": index + 1, "text": written, "reason": reason})
            damaged[seq] = written
            messages.append(None)
            continue
        if "id" in obj:
            ids[obj["id"]] = message.seq
        messages.append(message)
    complete = fill_unparsed(messages, damaged)
    for seq_key, target in list(notes.replies.items()):
        if target in ids:
            notes.replies[seq_key] = ids[target]
        else:
            notes.replies[seq_key] = f"message id {target} (not in this chat)"
    inferred = notes.to_inferred(tz_name)
    inferred["chat"] = {"type": chat.get("type"), "id": chat.get("id")}
    source = Source(format=NAME, platform="desktop", locale=None, timezone=tz_name, files=(), inferred=inferred)
    title = chat.get("name") if isinstance(chat.get("name"), str) else None
    if title is None and chat.get("type") == "saved_messages":
        title = "Saved Messages"
    return Conversation(source=source, participants=participants_of(complete), messages=tuple(complete), title=title)


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
            found.append(Attachment(name=name, present=False, media_type=mime or _guess(name)))
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


def _service_text(obj: dict[str, Any], actor: str | None, action: str, text: str) -> str:
    details: list[str] = []
    members = obj.get("members")
    if isinstance(members, list):
        names = [m if isinstance(m, str) else "(unknown)" for m in members]
        details.append(", ".join(names))
    for key in ("title", "message_id", "inviter", "discard_reason", "duration_seconds", "amount", "currency"):
        value = obj.get(key)
        if value not in (None, "", []):
            details.append(f"{key}: {value}")
    line = f"{actor or '(unknown)'}: {action}"
    if details:
        line += " (" + "; ".join(details) + ")"
    if text:
        line += "\n" + text
    return line


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
        member = result_member(export)
        if member is None:
            raise InputError("the export holds no Telegram result.json")
        chats = chats_of(load_document(export.read(member), member), member)
        members = frozenset(m.name for m in export.members())
        files = export.source_files()
        conversations = []
        for chat in chats:
            conversation = chat_to_conversation(chat, options.zone, options.tz, base_of(member), members)
            conversations.append(dataclasses.replace(conversation, source=dataclasses.replace(conversation.source, files=files)))
        return conversations


FORMAT = TelegramFormat()
