"""Facebook Messenger and Instagram messages from Meta's "Download your information" (JSON format).

Implements the `meta-dyi` export format of issue 4. Each conversation is a folder
`messages/inbox/<name>_<id>/` (Instagram: `your_instagram_activity/messages/inbox/...`) holding
`message_1.json`, `message_2.json`, ... with `participants` [{name}], `title`, `thread_path` and
`messages`: objects with `sender_name`, `timestamp_ms`, `content`, `photos`/`videos`/`audio_files`/
`gifs`/`files` [{uri, creation_timestamp}], `sticker` {uri}, `share` {link, share_text}, `reactions`
[{reaction, actor}], `call_duration`, `is_unsent`, `type`. The argument may be one message_N.json, the
conversation folder, the whole download folder, or its zip.

Decisions a records manager should know:
- Meta writes the files newest first, and message_1.json holds the newest messages: messages are
  put in time order (`timestamp_ms`, UTC, shown in `--tz`); equal times keep the reverse of the file's
  order, which is the order they were sent.
- Meta writes every non-ASCII character as its UTF-8 bytes, each escaped as if it were a Latin-1
  character ("CafÃ©" for "Café"). The repair `text.encode("latin-1").decode("utf-8")` is applied only
  when every non-ASCII string of the file survives it; one string that does not (a file Meta wrote
  correctly, or a Latin-1 text typed as such) means nothing in that file is changed. What was decided is
  in `source.inferred["mojibake"]`, with its evidence.
- Photos, videos, audio, GIFs, files and stickers are attachments named by their `uri` (a path inside
  the download); `present` says whether the download holds the file. A shared link is appended to the
  text on its own line. Reactions are listed in `source.inferred["reactions"]` per seq.
- `is_unsent` True → kind deleted; `type` "Call" → kind call; "Subscribe"/"Unsubscribe" → system.
- One conversation per `message_N.json` folder (thread), in the order their folders sort.
- A message object without `timestamp_ms` cannot be placed in time: it is kept as an `unparsed`
  message at the end of the conversation (timed like the last message), with its file and record
  number under `unparsed_lines`.
"""
from __future__ import annotations

import dataclasses
import json
import mimetypes
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from ingest.export import Export
from ingest.sources.base import ParseOptions
from kernel.errors import InputError
from kernel.model import Attachment, Conversation, Message, MessageKind, Source, participants_of

NAME = "meta-dyi"
_MEDIA_KEYS = ("photos", "videos", "audio_files", "gifs", "files")
_MEDIA_TYPES = mimetypes.MimeTypes()


@dataclass(frozen=True)
class MojibakeVerdict:
    """Whether a file's strings are Meta's Latin-1-escaped UTF-8, and why."""

    repair: bool
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return {"repaired": self.repair, "evidence": self.evidence}


def strings_of(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys excluded, depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_of(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_of(item)


def undo_mojibake(text: str) -> str | None:
    """`text` read back as the UTF-8 its characters are the bytes of; None when it is not such text."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def judge_mojibake(document: Any) -> MojibakeVerdict:
    """Repair a file only when all its non-ASCII strings are Latin-1-escaped UTF-8 (see module)."""
    non_ascii = 0
    changed = 0
    for text in strings_of(document):
        if text.isascii():
            continue
        non_ascii += 1
        repaired = undo_mojibake(text)
        if repaired is None:
            return MojibakeVerdict(False, f"a non-ASCII string is not Latin-1-escaped UTF-8: {text[:40]!r}")
        if repaired != text:
            changed += 1
    if non_ascii == 0:
        return MojibakeVerdict(False, "all strings are ASCII")
    return MojibakeVerdict(True, f"all {non_ascii} non-ASCII strings are UTF-8 bytes escaped as Latin-1")


def repaired(value: Any) -> Any:
    """The JSON value with every string (keys included) repaired; call only after judge_mojibake."""
    if isinstance(value, str):
        fixed = undo_mojibake(value)
        return value if fixed is None else fixed
    if isinstance(value, list):
        return [repaired(v) for v in value]
    if isinstance(value, dict):
        return {repaired(k): repaired(v) for k, v in value.items()}
    return value


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


def looks_like_meta(head: bytes) -> float:
    """How surely the first bytes of a JSON file are a Meta DYI message file (0.0 .. 1.0)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{") or b'"messages"' not in text:
        return 0.0
    hits = sum(1 for s in (b'"sender_name"', b'"timestamp_ms"', b'"thread_path"', b'"is_still_participant"') if s in text)
    if hits >= 2:
        return 1.0
    return 0.0


def thread_to_conversation(
    documents: list[Any], name: str, tz: Any, tz_name: str, present: Callable[[str], bool]
) -> Conversation:
    """The message_N.json documents of one thread as a Conversation (see module for the decisions).

    `present(uri)` tells whether the export holds the file a `uri` names (relative to the download).
    """
    verdicts = [judge_mojibake(d) for d in documents]
    repair = all(v.repair for v in verdicts) and bool(verdicts)
    verdict = verdicts[0] if repair else next((v for v in verdicts if not v.repair), verdicts[0])
    docs = [repaired(d) for d in documents] if repair else documents
    raw: list[tuple[int, int, dict[str, Any]]] = []
    unparsed: list[dict[str, Any]] = []
    damaged_text: list[str] = []
    order = 0
    for file_no, doc in enumerate(docs, 1):
        if not isinstance(doc, dict) or not isinstance(doc.get("messages"), list):
            raise InputError(f"{name}: file {file_no} of the thread holds no \"messages\" list")
        for index, obj in enumerate(doc["messages"]):
            order += 1
            stamp = obj.get("timestamp_ms") if isinstance(obj, dict) else None
            if not isinstance(stamp, int) or isinstance(stamp, bool):
                written = json.dumps(obj, ensure_ascii=False)
                # "line" is the record number in the file's "messages" list
                unparsed.append({"file": file_no, "line": index + 1, "text": written, "reason": "no timestamp_ms"})
                damaged_text.append(written)
                continue
            raw.append((stamp, -order, obj))
    raw.sort(key=lambda item: (item[0], item[1]))
    reactions: dict[str, list[str]] = {}
    messages: list[Message] = []
    for stamp, _, obj in raw:
        seq = len(messages) + 1
        when = datetime.fromtimestamp(stamp / 1000, tz=timezone.utc).astimezone(tz)
        messages.append(_message(obj, seq, when, present))
        listed = obj.get("reactions")
        found = [
            f"{r.get('actor', '')}: {r.get('reaction', '')}"
            for r in (listed if isinstance(listed, list) else [])
            if isinstance(r, dict)
        ]
        if found:
            reactions[str(seq)] = found
    if damaged_text and not messages:
        raise InputError(f"{name}: no message could be read; every entry lacks timestamp_ms")
    for entry, text in zip(unparsed, damaged_text):
        entry["seq"] = len(messages) + 1
        messages.append(Message(entry["seq"], messages[-1].timestamp, None, MessageKind.UNPARSED, text))
    inferred: dict[str, Any] = {
        "mojibake": {**verdict.to_dict(), "repaired": repair},
        "order": "sorted by timestamp_ms; Meta writes newest first",
    }
    if reactions:
        inferred["reactions"] = reactions
    if unparsed:
        inferred["unparsed_lines"] = unparsed
    first = docs[0] if isinstance(docs[0], dict) else {}
    title = first.get("title") if isinstance(first.get("title"), str) else None
    thread_path = first.get("thread_path")
    if isinstance(thread_path, str):
        inferred["thread_path"] = thread_path
    source = Source(format=NAME, platform=_platform(first), locale=None, timezone=tz_name, files=(), inferred=inferred)
    return Conversation(source=source, participants=participants_of(messages), messages=tuple(messages), title=title)


def _platform(document: dict[str, Any]) -> str:
    path = str(document.get("thread_path") or "")
    if "magic_words" in document or path.startswith("inbox/") and "_" in path:
        return "messenger"
    return "instagram" if "instagram" in path.lower() else "meta"


def _message(obj: dict[str, Any], seq: int, when: datetime, present: Callable[[str], bool]) -> Message:
    sender = obj.get("sender_name") if isinstance(obj.get("sender_name"), str) else None
    content = obj.get("content")
    text: str = content if isinstance(content, str) else ""
    attachments = _attachments(obj, present)
    share = obj.get("share")
    if isinstance(share, dict):
        link = share.get("link")
        if isinstance(link, str) and link and link not in text:
            text = f"{text}\n{link}" if text else link
    kind_name = obj.get("type")
    if obj.get("is_unsent") is True:
        return Message(seq, when, sender, MessageKind.DELETED, text, attachments)
    if kind_name == "Call":
        duration = obj.get("call_duration")
        call_text = text or "call"
        if isinstance(duration, int):
            call_text += f" (call_duration: {duration} s)"
        return Message(seq, when, sender, MessageKind.CALL, call_text, attachments)
    if kind_name in ("Subscribe", "Unsubscribe"):
        return Message(seq, when, None, MessageKind.SYSTEM, text or str(kind_name), attachments)
    kind = MessageKind.MEDIA if attachments else MessageKind.TEXT
    return Message(seq, when, sender, kind, text, attachments)


def _attachments(obj: dict[str, Any], present: Callable[[str], bool]) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    items: list[Any] = []
    for key in _MEDIA_KEYS:
        value = obj.get(key)
        if isinstance(value, list):
            items.extend(value)
    if isinstance(obj.get("sticker"), dict):
        items.append(obj["sticker"])
    for item in items:
        uri = item.get("uri") if isinstance(item, dict) else None
        if not isinstance(uri, str) or not uri:
            continue
        guessed, _ = _MEDIA_TYPES.guess_type(uri, strict=False)
        found.append(Attachment(name=uri, present=present(uri), media_type=guessed))
    return tuple(found)


_MESSAGE_FILE = re.compile(r"(?:^|/)message_(\d+)\.json$")


def thread_files(export: Export) -> dict[str, list[str]]:
    """The message_N.json members of each thread folder, folders sorted, files by N; a lone .json
    member that looks like a Meta message file counts as a thread of its own."""
    threads: dict[str, list[tuple[int, str]]] = {}
    for member in export.members():
        match = _MESSAGE_FILE.search(member.name)
        if match is not None:
            folder = member.name.rsplit("/", 1)[0] if "/" in member.name else ""
            threads.setdefault(folder, []).append((int(match.group(1)), member.name))
    if not threads:
        jsons = [m.name for m in export.members() if m.name.lower().endswith(".json")]
        if len(jsons) == 1:
            threads[""] = [(1, jsons[0])]
    return {folder: [name for _, name in sorted(files)] for folder, files in sorted(threads.items())}


class MetaDyiFormat:
    """The registry entry for Messenger / Instagram message files from "Download your information"."""

    name = NAME

    def score(self, export: Export) -> float:
        """1.0 when a message_N.json (or the only JSON) carries Meta's message keys, else 0."""
        for files in thread_files(export).values():
            return looks_like_meta(export.read_head(files[0]))
        return 0.0

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """One conversation per thread folder, in the order the folders sort."""
        threads = thread_files(export)
        if not threads:
            raise InputError("the export holds no Meta message file (message_1.json)")
        names = frozenset(m.name for m in export.members())
        files = export.source_files()
        conversations = []
        for folder, members in threads.items():
            prefixes = _ancestors(folder)

            def present(uri: str, prefixes: list[str] = prefixes) -> bool:
                return any(prefix + uri in names for prefix in prefixes)

            documents = [load_document(export.read(m), m) for m in members]
            conversation = thread_to_conversation(documents, members[0], options.zone, options.tz, present)
            platform = "instagram" if any("instagram" in m.lower() for m in members) else conversation.source.platform
            source = dataclasses.replace(conversation.source, files=files, platform=platform)
            conversations.append(dataclasses.replace(conversation, source=source))
        return conversations


def _ancestors(folder: str) -> list[str]:
    """'' and every ancestor folder of `folder`, each ending in '/', as prefixes a uri may be relative to."""
    parts = folder.split("/") if folder else []
    return [""] + ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


FORMAT = MetaDyiFormat()
