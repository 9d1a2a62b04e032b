"""Messenger's end-to-end encrypted chats, as downloaded from Messenger ("Download your end-to-end encrypted
chats"; Meta's newer download, separate from "Download your information").

Implements the `meta-e2ee` export format of issue 4 (Facebook Messenger JSON, the encrypted-chat variant).
The layout, as read by other parsers of real downloads (no sample file is public): one JSON file per thread,
`<Name>_<n>.json`, beside a `media/` folder, with camelCase keys: `participants` (names), `threadName`,
`messages` [{`senderName`, `timestamp` (milliseconds since 1970 UTC), `text`, `type` ("text", "media",
"link", "placeholder"), `isUnsent`, `media` [{`uri`: "./media/<uuid>.<ext>" or the literal "Failed to
download media"}], `reactions` [{`actor`, `reaction`}]}]. The argument may be one thread file, the
download folder, or its zip.

Decisions a records manager should know:
- One conversation per thread file, in the order the files' paths sort; the title is `threadName`
  without Meta's `_<n>` suffix (the whole `threadName` is kept in `source.inferred["thread_name"]`).
- Messages are put in time order (`timestamp`, UTC, shown in `--tz`). Equal times keep the order in
  which they were sent: the file's order when the file runs oldest first, its reverse when it runs
  newest first (as "Download your information" does); which one the file does is recorded under
  `order` with its evidence.
- The Latin-1 mojibake of "Download your information" is judged as `meta-dyi` judges it: repaired only
  when every non-ASCII string of the file survives the repair (`source.inferred["mojibake"]`).
- `media` entries are attachments named by the file's path in the export: the thread file's folder and
  the `uri` without "./" (`media/<uuid>.jpeg`, or `<top folder>/media/<uuid>.jpeg` in a zip with a top
  folder); `present` says whether the download holds the file. "Failed to download media" is an attachment with
  that name, `present` False, and its seq is listed under `media_not_downloaded`.
- `isUnsent` True → kind deleted. `type` "placeholder" (Meta's stand-in for content it could not
  export) keeps its text and is listed under `placeholders`; any other type is text, or media when the
  message has media. Reactions are listed in `source.inferred["reactions"]` per seq.
- A message object without a numeric `timestamp` is kept as an `unparsed` message at the end (timed
  like the last message), with its record number under `unparsed_lines`.
"""
from __future__ import annotations

import dataclasses
import json
import mimetypes
import re
from datetime import datetime, timezone
from typing import Any, Callable

from ingest.export import Export
from ingest.sources.base import ParseOptions
from ingest.sources.meta_dyi import MojibakeVerdict, judge_mojibake, load_document, repaired
from kernel.errors import InputError
from kernel.model import Attachment, Conversation, Message, MessageKind, Source, participants_of

NAME = "meta-e2ee"
FAILED_MEDIA = "Failed to download media"
_MEDIA_TYPES = mimetypes.MimeTypes()  # built-in table only: the same answer on every machine
_THREAD_SUFFIX = re.compile(r"_\d+$")
_KEYS = (b'"senderName"', b'"isUnsent"', b'"timestamp"', b'"participants"')


def looks_like_e2ee(head: bytes) -> float:
    """How surely the first bytes of a JSON file are an encrypted-chat thread file (0.0 .. 1.0): 1.0 with
    `threadName`, `messages` and two camelCase message keys; 0.9 with the message keys alone (a file whose
    `threadName` comes after its messages); 0.5 with `threadName` and `messages` alone."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{") or b'"messages"' not in text:
        return 0.0
    keys = sum(1 for key in _KEYS if key in text)
    if b'"threadName"' in text:
        return 1.0 if keys >= 2 else 0.5
    return 0.9 if b'"senderName"' in text and keys >= 3 else 0.0


def thread_members(export: Export) -> list[str]:
    """The export's thread files: every .json member whose head looks like one (`looks_like_e2ee`), sorted."""
    found = []
    for member in export.members():
        if not member.name.lower().endswith(".json"):
            continue
        try:
            head = export.read_head(member.name, 4096)
        except InputError:
            continue
        if looks_like_e2ee(head) > 0.0:
            found.append(member.name)
    return sorted(found)


def thread_to_conversation(document: Any, name: str, tz: Any, tz_name: str,
                           locate: Callable[[str], tuple[str, bool]]) -> Conversation:
    """One thread file's document as a Conversation (see the module for the decisions).

    `locate(path)` gives, for a media path relative to the thread file, its path in the export and whether
    the export holds it."""
    if not isinstance(document, dict) or not isinstance(document.get("messages"), list):
        raise InputError(f"{name} holds no \"messages\" list; not a Messenger encrypted-chat thread file")
    verdict: MojibakeVerdict = judge_mojibake(document)
    doc = repaired(document) if verdict.repair else document
    timed: list[tuple[int, int, dict[str, Any]]] = []
    untimed: list[tuple[int, str]] = []
    for index, obj in enumerate(doc["messages"]):
        stamp = obj.get("timestamp") if isinstance(obj, dict) else None
        if isinstance(stamp, bool) or not isinstance(stamp, int) or not 0 <= stamp <= 253402300799000:
            untimed.append((index + 1, json.dumps(obj, ensure_ascii=False)))
            continue
        timed.append((stamp, index, obj))
    newest_first, order_evidence = _file_order([stamp for stamp, _, _ in timed])
    timed.sort(key=lambda item: (item[0], -item[1] if newest_first else item[1]))
    inferred: dict[str, Any] = {"mojibake": verdict.to_dict(), "order": order_evidence}
    messages: list[Message] = []
    for stamp, _, obj in timed:
        seq = len(messages) + 1
        when = datetime.fromtimestamp(stamp / 1000, tz=timezone.utc).astimezone(tz)
        messages.append(_message(obj, seq, when, locate, inferred))
    if untimed and not messages:
        raise InputError(f"{name}: no message could be read; every entry lacks a numeric timestamp")
    for record, text in untimed:
        seq = len(messages) + 1
        inferred.setdefault("unparsed_lines", []).append(
            {"seq": seq, "line": record, "text": text, "reason": "no numeric timestamp"})
        messages.append(Message(seq, messages[-1].timestamp, None, MessageKind.UNPARSED, text))
    thread_name = doc.get("threadName")
    title = None
    if isinstance(thread_name, str) and thread_name:
        inferred["thread_name"] = thread_name
        title = _THREAD_SUFFIX.sub("", thread_name) or thread_name
    names = doc.get("participants")
    if isinstance(names, list):
        listed = [p if isinstance(p, str) else p.get("name") for p in names if isinstance(p, (str, dict))]
        inferred["participants_listed"] = [p for p in listed if isinstance(p, str)]
    source = Source(format=NAME, platform="messenger", locale=None, timezone=tz_name, files=(), inferred=inferred)
    return Conversation(source=source, participants=participants_of(messages), messages=tuple(messages), title=title)


def _file_order(stamps: list[int]) -> tuple[bool, str]:
    """Whether the file lists messages newest first, and the evidence."""
    falls = sum(1 for a, b in zip(stamps, stamps[1:]) if b < a)
    rises = sum(1 for a, b in zip(stamps, stamps[1:]) if b > a)
    if falls > rises:
        return True, f"sorted by timestamp; the file runs newest first ({falls} steps back in time, {rises} forward)"
    return False, f"sorted by timestamp; the file runs oldest first ({rises} steps forward in time, {falls} back)"


def _message(obj: dict[str, Any], seq: int, when: datetime, locate: Callable[[str], tuple[str, bool]],
             inferred: dict[str, Any]) -> Message:
    named = obj.get("senderName")
    sender: str | None = named if isinstance(named, str) and named else None
    written = obj.get("text")
    text: str = written if isinstance(written, str) else ""
    attachments: list[Attachment] = []
    media = obj.get("media")
    for item in media if isinstance(media, list) else []:
        uri = item.get("uri") if isinstance(item, dict) else None
        if not isinstance(uri, str) or not uri:
            continue
        if uri.strip() == FAILED_MEDIA:
            attachments.append(Attachment(FAILED_MEDIA, False, None))
            inferred.setdefault("media_not_downloaded", []).append(seq)
            continue
        path, present = locate(uri[2:] if uri.startswith("./") else uri)
        guessed, _ = _MEDIA_TYPES.guess_type(path, strict=False)
        attachments.append(Attachment(path, present, guessed))
    listed = obj.get("reactions")
    reactions = [
        f"{r.get('actor', '')}: {r.get('reaction', '')}" for r in (listed if isinstance(listed, list) else [])
        if isinstance(r, dict)
    ]
    if reactions:
        inferred.setdefault("reactions", {})[str(seq)] = reactions
    if obj.get("isUnsent") is True:
        return Message(seq, when, sender, MessageKind.DELETED, text, tuple(attachments))
    if obj.get("type") == "placeholder":
        inferred.setdefault("placeholders", []).append(seq)
    kind = MessageKind.MEDIA if attachments else MessageKind.TEXT
    return Message(seq, when, sender, kind, text, tuple(attachments))


class MetaE2eeFormat:
    """The registry entry for Messenger's end-to-end encrypted chat download."""

    name = NAME

    def score(self, export: Export) -> float:
        """The best `looks_like_e2ee` of the export's .json members (1.0 for a thread file as Meta writes it)."""
        best = 0.0
        for member in thread_members(export):
            best = max(best, looks_like_e2ee(export.read_head(member, 4096)))
        return best

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """One conversation per thread file, in the order their paths sort."""
        members = thread_members(export)
        if not members:
            raise InputError("the export holds no Messenger encrypted-chat thread file (JSON with threadName)")
        names = frozenset(m.name for m in export.members())
        files = export.source_files()
        conversations = []
        for member in members:
            folder = member.rsplit("/", 1)[0] + "/" if "/" in member else ""

            def locate(path: str, folder: str = folder) -> tuple[str, bool]:
                return folder + path, folder + path in names

            conversation = thread_to_conversation(
                load_document(export.read(member), member), member, options.zone, options.tz, locate)
            source = dataclasses.replace(conversation.source, files=files)
            conversations.append(dataclasses.replace(conversation, source=source))
        return conversations


FORMAT = MetaE2eeFormat()
