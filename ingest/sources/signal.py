"""Signal Desktop chats as written by signal-export (`sigexport`, github.com/carderne/signal-export).

Implements the `signal` export format of issue 4. Signal has no export of its own; signal-export
writes per chat a folder with `chat.md`, `data.json` and `media/`. The grammar is signal-export's
`Message.to_md` and `Message.dict_str` (sigexport/models.py):

- `chat.md`: `[YYYY-MM-DD HH:MM:SS] Sender: {quote}{body}` (older versions: `[YYYY-MM-DD, HH:MM]`),
  bodies over several lines, attachments appended as `![name](./media/file)` (`!` for images) with
  spaces written `%20`, reactions as a last line `(- Name: emoji, ... -)`, a quoted message before
  the body as `> ` lines between blank lines, deleted messages as `(This message was deleted)`.
- `data.json`: JSON Lines, one object per message: `date` (ISO, local, no zone), `sender`, `body`,
  `quote`, `sticker`, `reactions` [[name, emoji]], `attachments` [{name, path}], `deleted`, `call`,
  `missed`.

Decisions a records manager should know:
- Both files carry the local time of the computer that ran signal-export, without zone: read in
  `--tz` (DST gaps and folds noted under `source.inferred["dst"]`).
- When a chat folder holds both, `data.json` is read (it is unambiguous) and `chat.md` is kept as an
  original only.
- Sender "Me" is the owner of the Signal account, kept as signal-export writes it.
- Quotes (the message replied to) and reactions are listed in `source.inferred` per seq; the text is
  the body without them. Trailing spaces signal-export adds for Markdown line breaks are removed.
- Calls (`call` true, or a body like "Incoming voice call") are kind call; a sticker is kind media.
- A line before the first header is an unparsed entry with its line number.
"""
from __future__ import annotations

import dataclasses
import json
import mimetypes
import re
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from ingest.export import Export
from ingest.sources.base import ParseOptions
from ingest.sources.unparsed import fill_unparsed
from ingest.sources.wall_clock import aware
from kernel.errors import InputError
from kernel.model import Attachment, Conversation, Message, MessageKind, Source, participants_of

NAME = "signal"
HEADER = re.compile(r"^\[(?P<date>\d{4}-\d{2}-\d{2}),? (?P<time>\d{2}:\d{2}(?::\d{2})?)\] (?P<rest>.*)$")
SENDER_BODY = re.compile(r"^(?P<sender>[^:\n]+?): ?(?P<body>.*)$", re.S)
_LINK = re.compile(r"!?\[(?P<name>[^\]\n]*)\]\((?P<path>\.{1,2}/[^)\s]+)\)")
_REACTIONS = re.compile(r"\n\(- (?P<list>.*) -\)\s*$")
_STICKER = re.compile(r"\n\(\( (?P<label>.*) \)\)\s*$")
_DELETED = "(This message was deleted)"
_CALL = re.compile(r"^(?:Incoming|Outgoing|Missed) (?:voice |video )?call(?: \(.*\))?$")


def looks_like_signal_md(head: str) -> float:
    """How surely the first lines of a text are signal-export's chat.md (0.0 .. 1.0)."""
    lines = [line for line in head.splitlines()[:40] if line.strip()]
    if not lines:
        return 0.0
    hits = sum(1 for line in lines if HEADER.match(line))
    if hits == 0:
        return 0.0
    return 0.9 if hits >= min(3, len(lines)) or HEADER.match(lines[0]) else 0.5


def parse_chat_md(text: str, zone: Any, tz_name: str, members: frozenset[str], base: str, title: str | None) -> Conversation:
    """A signal-export chat.md as a Conversation; InputError when it holds no message header."""
    lines = text.replace("\r\n", "\n").split("\n")
    blocks: list[tuple[int, re.Match[str] | None, list[str]]] = []
    for line_no, line in enumerate(lines, 1):
        header = HEADER.match(line)
        if header is not None:
            blocks.append((line_no, header, []))
        elif blocks:
            blocks[-1][2].append(line)
        elif line.strip():
            blocks.append((line_no, None, [line]))
    if not any(header is not None for _, header, _ in blocks):
        raise InputError("no signal-export message header ([YYYY-MM-DD HH:MM] Name: text) found")
    notes = _Notes(tz_name)
    messages: list[Message | None] = []
    damaged: dict[int, str] = {}
    for line_no, header, more in blocks:
        seq = len(messages) + 1
        wall = _wall(header.group("date"), header.group("time")) if header is not None else None
        if header is None or wall is None:
            reason = "before the first message header" if header is None else "not a calendar date"
            written = "\n".join(([header.group(0)] if header is not None else []) + more).rstrip("\n")
            notes.unparsed_lines.append({"seq": seq, "line": line_no, "text": written, "reason": reason})
            damaged[seq] = written
            messages.append(None)
            continue
        when = aware(wall, zone, seq, notes.dst)
        rest = "\n".join([header.group("rest"), *more])
        match = SENDER_BODY.match(rest)
        if match is None:
            messages.append(Message(seq, when, None, MessageKind.SYSTEM, rest.strip()))
            continue
        body = match.group("body")
        body, found_reactions = _cut(_REACTIONS, body, "list")
        if found_reactions:
            notes.reactions[str(seq)] = [r.strip() for r in found_reactions.split(", ")]
        body, sticker = _cut(_STICKER, body, "label")
        body, quote = _quote(body)
        if quote:
            notes.quotes[str(seq)] = quote
        attachments = tuple(
            _attachment(m.group("name"), m.group("path"), base, members) for m in _LINK.finditer(body)
        )
        body = _LINK.sub("", body)
        text_body = "\n".join(line.rstrip() for line in body.split("\n")).strip("\n")
        messages.append(_classify(seq, when, match.group("sender").strip(), text_body, attachments, sticker))
    return notes.conversation(fill_unparsed(messages, damaged), title)


class _Notes:
    """What reading a chat inferred, for `source.inferred`."""

    def __init__(self, tz_name: str) -> None:
        self.tz_name = tz_name
        self.dst: list[dict[str, Any]] = []
        self.quotes: dict[str, str] = {}
        self.reactions: dict[str, list[str]] = {}
        self.unparsed_lines: list[dict[str, Any]] = []

    def conversation(self, messages: list[Message], title: str | None) -> Conversation:
        inferred: dict[str, Any] = {
            "time_basis": f"local time of the computer that ran signal-export, read in {self.tz_name}"
        }
        for key in ("dst", "quotes", "reactions", "unparsed_lines"):
            value = getattr(self, key)
            if value:
                inferred[key] = value
        source = Source(format=NAME, platform="desktop", locale=None, timezone=self.tz_name, files=(), inferred=inferred)
        return Conversation(source=source, participants=participants_of(messages), messages=tuple(messages), title=title)


def parse_data_json(
    text: str, zone: Any, tz_name: str, members: frozenset[str], base: str, title: str | None
) -> Conversation:
    """A signal-export data.json (JSON Lines) as a Conversation; damaged lines become unparsed entries."""
    notes = _Notes(tz_name)
    messages: list[Message | None] = []
    damaged: dict[int, str] = {}
    for line_no, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if not line.strip():
            continue
        seq = len(messages) + 1
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            obj = None
        wall = _iso_wall(obj.get("date")) if isinstance(obj, dict) else None
        if not isinstance(obj, dict) or wall is None:
            reason = "no readable date" if isinstance(obj, dict) else "not a JSON object"
            notes.unparsed_lines.append({"seq": seq, "line": line_no, "text": line, "reason": reason})
            damaged[seq] = line
            messages.append(None)
            continue
        messages.append(_json_message(obj, seq, aware(wall, zone, seq, notes.dst), base, members, notes))
    if not messages:
        raise InputError("data.json holds no signal-export message")
    return notes.conversation(fill_unparsed(messages, damaged), title)


def _json_message(
    obj: dict[str, Any], seq: int, when: datetime, base: str, members: frozenset[str], notes: _Notes
) -> Message:
    sender = obj.get("sender") if isinstance(obj.get("sender"), str) else None
    raw_body = obj.get("body")
    body: str = raw_body if isinstance(raw_body, str) else ""
    text_body = "\n".join(part.rstrip() for part in body.split("\n")).strip("\n")
    quote = obj.get("quote")
    if isinstance(quote, str) and quote.strip():
        notes.quotes[str(seq)] = _quote(quote.lstrip("\n"))[1] or quote.strip()
    listed = obj.get("reactions")
    found = [f"{r[0]}: {r[1]}" for r in (listed if isinstance(listed, list) else []) if isinstance(r, list) and len(r) == 2]
    if found:
        notes.reactions[str(seq)] = found
    attachments = tuple(
        _attachment(str(a.get("name") or ""), str(a.get("path") or ""), base, members)
        for a in (obj["attachments"] if isinstance(obj.get("attachments"), list) else [])
        if isinstance(a, dict)
    )
    sticker = obj.get("sticker") if isinstance(obj.get("sticker"), str) and obj.get("sticker") else None
    if obj.get("deleted") is True:
        return Message(seq, when, sender, MessageKind.DELETED, text_body or _DELETED)
    if obj.get("call") is True:
        return Message(seq, when, sender, MessageKind.CALL, text_body)
    return _classify(seq, when, sender or "", text_body, attachments, sticker)


def _classify(
    seq: int, when: datetime, sender: str, text: str, attachments: tuple[Attachment, ...], sticker: str | None
) -> Message:
    who = sender or None
    if text == _DELETED and not attachments:
        return Message(seq, when, who, MessageKind.DELETED, text)
    if _CALL.match(text) and not attachments:
        return Message(seq, when, who, MessageKind.CALL, text)
    if sticker is not None and not attachments:
        return Message(seq, when, who, MessageKind.MEDIA, text, (Attachment(name=f"sticker {sticker}", present=False),))
    return Message(seq, when, who, MessageKind.MEDIA if attachments else MessageKind.TEXT, text, attachments)


def _cut(pattern: re.Pattern[str], body: str, group: str) -> tuple[str, str | None]:
    match = pattern.search(body)
    if match is None:
        return body, None
    return body[: match.start()], match.group(group)


def _quote(body: str) -> tuple[str, str | None]:
    """The body without a leading quote block ("\\n\\n> line\\n> line\\n\\n"), and the quoted text."""
    if not body.lstrip("\n").startswith("> "):
        return body, None
    lines = body.lstrip("\n").split("\n")
    quoted: list[str] = []
    i = 0
    while i < len(lines) and lines[i].startswith("> "):
        quoted.append(lines[i][2:])
        i += 1
    while i < len(lines) and lines[i] == "":
        i += 1
    return "\n".join(lines[i:]), "\n".join(quoted)


def _attachment(name: str, path: str, base: str, members: frozenset[str]) -> Attachment:
    relative = unquote(path)
    while relative.startswith("./"):
        relative = relative[2:]
    member = f"{base}/{relative}" if base and not relative.startswith("../") else relative
    guessed, _ = mimetypes.guess_type(relative, strict=False)
    return Attachment(name=member, present=member in members, media_type=guessed)


def _wall(date: str, time: str) -> datetime | None:
    try:
        return datetime.fromisoformat(f"{date}T{time}")
    except ValueError:
        return None


def _iso_wall(value: Any) -> datetime | None:
    """A naive wall-clock time from signal-export's ISO `date` (it writes no zone)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=None)


_OLD_FORM = re.compile(r"^\[\d{4}-\d{2}-\d{2}, \d{2}:\d{2}\] [^:\n]+: ")


def chat_members(export: Export) -> list[tuple[str, str]]:
    """(folder, member) of each chat: a folder's data.json, else its chat.md, else the only text member."""
    names = [m.name for m in export.members()]
    by_folder: dict[str, dict[str, str]] = {}
    for name in names:
        folder, _, leaf = name.rpartition("/")
        if leaf in ("chat.md", "data.json"):
            by_folder.setdefault(folder, {})[leaf] = name
    if by_folder:
        return [(folder, files.get("data.json") or files["chat.md"]) for folder, files in sorted(by_folder.items())]
    texts = [n for n in names if n.lower().endswith((".md", ".txt"))]
    return [("", texts[0])] if len(texts) == 1 else []


class SignalFormat:
    """The registry entry for signal-export's chat folders (chat.md, data.json, media/)."""

    name = NAME

    def score(self, export: Export) -> float:
        """0.99 for signal-export's own file names with its grammar inside; 0.96 for its old bracketed
        `[YYYY-MM-DD, HH:MM]` form in any text file; 0.5 for its newer form under another name."""
        chats = chat_members(export)
        if not chats:
            return 0.0
        member = chats[0][1]
        head = export.read_head(member).decode("utf-8-sig", errors="replace")
        leaf = member.rsplit("/", 1)[-1]
        if leaf == "data.json":
            first = head.lstrip().split("\n", 1)[0]
            return 0.99 if first.startswith("{") and '"date"' in first and '"sender"' in first else 0.0
        grammar = looks_like_signal_md(head)
        if grammar == 0.0:
            return 0.0
        if leaf == "chat.md":
            return 0.99
        lines = [line for line in head.splitlines()[:20] if HEADER.match(line)]
        if lines and all(_OLD_FORM.match(line) for line in lines):
            return 0.96
        return 0.5

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """One conversation per chat folder (data.json preferred over chat.md), folders in name order."""
        chats = chat_members(export)
        if not chats:
            raise InputError("the export holds no signal-export chat (chat.md or data.json)")
        members = frozenset(m.name for m in export.members())
        files = export.source_files()
        conversations = []
        for folder, member in chats:
            text = _decode(export.read(member), member)
            title = folder.rsplit("/", 1)[-1] or None
            if member.endswith("data.json"):
                conversation = parse_data_json(text, options.zone, options.tz, members, folder, title)
            else:
                conversation = parse_chat_md(text, options.zone, options.tz, members, folder, title)
            source = dataclasses.replace(conversation.source, files=files)
            conversations.append(dataclasses.replace(conversation, source=source))
        return conversations


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text (byte {exc.start})") from None


FORMAT = SignalFormat()
