"""WhatsApp chat exports ("Export chat" on iPhone and Android) read into the canonical conversation
(issue 4, "WhatsApp, iPhone and Android, any phone language").

The `whatsapp` registry format. Reading goes in three steps, each over the text as a stream of blocks:
1. sniff: the first lines tell the header form (`whatsapp_headers.sniff_form`), compiled into one regex;
2. day/month order: the headers' values decide it (read as far as needed, the whole file when no value
   is above 12), unless the archivist set it (`--date-order`); the evidence is recorded;
3. messages: one `finditer` of that regex per block finds every header; the text up to the next header
   is the message (continuation lines joined with LF), classified by `whatsapp_body.BodyReader`.
Memory does not grow with the number of messages: `stream` yields them one by one.

Wall-clock times are read in the zone the archivist gives; the UTC offset is looked up once per local
hour, and in the hours of a DST change each time is resolved on its own (a gap moves forward, a fold
takes the earlier reading unless that would put the message before the one above it), recorded in
`source.inferred["dst"]`. A line with this file's header shape whose date or time cannot be (an
impossible date, a minute 75) is kept as a message of kind `unparsed` (with the lines that follow it),
listed with its line number in `source.inferred["unparsed_lines"]`; so is text before the first header.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ingest.export import Export
from ingest.sources.base import ConversationStream, ParseOptions
from ingest.sources.whatsapp_body import media_type_of
from ingest.sources.whatsapp_headers import ascii_digits, sniff_form
from ingest.sources.whatsapp_parallel import MessageStream
from ingest.sources.whatsapp_reader import NAME, ChatReader, text_blocks
from kernel.errors import InputError
from kernel.model import (
    Conversation,
    participants_of,
)

__all__ = [
    "FORMAT", "NAME", "ChatReader", "chat_member", "decode_chat_text", "media_type_of", "parse_chat_text",
    "text_blocks", "title_of",
]

_TITLE_PATTERNS = (
    re.compile(r"^WhatsApp Chat - (?P<title>.+)$"),
    re.compile(r"^WhatsApp[- ][Cc]hat met (?P<title>.+)$"),
    re.compile(r"^WhatsApp Chat with (?P<title>.+)$"),
    re.compile(r"^WhatsApp[- ]Chat mit (?P<title>.+)$"),
    re.compile(r"^(?:Discussion|Conversation) WhatsApp avec (?P<title>.+)$"),
    re.compile(r"^Chat de WhatsApp con (?P<title>.+)$"),
    re.compile(r"^Chat WhatsApp con (?P<title>.+)$"),
    re.compile(r"^Conversa do WhatsApp com (?P<title>.+)$"),
    re.compile(r"^(?P<title>.+) ile WhatsApp Sohbeti$"),
)


class WhatsAppFormat:
    """The registry entry for WhatsApp exports (iPhone and Android)."""

    name = NAME

    def score(self, export: Export) -> float:
        """0.95 when most header-like first lines of the chat text share one WhatsApp header form,
        0.9 for a single such line, else 0."""
        member = chat_member(export)
        if member is None:
            return 0.0
        head = export.read_head(member).decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
        lines = [ascii_digits(line) for line in head.split("\n")[:60]]
        form, count = sniff_form(lines)
        if form is None:
            return 0.0
        return 0.95 if count >= 2 else 0.9

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """The one conversation in `export`."""
        stream = self.stream(export, options)[0]
        messages = tuple(stream.messages)
        head = stream.head
        return [Conversation(head.source, participants_of(messages), messages, head.title)]

    def stream(self, export: Export, options: ParseOptions) -> list[ConversationStream]:
        """The conversation as a head and a lazy stream of messages; the header form and the day/month
        order are settled before this returns (bad input raises here, not half-way)."""
        member = chat_member(export)
        if member is None:
            raise InputError("the export holds no WhatsApp chat text (_chat.txt or a .txt file)")
        names = {m.name for m in export.members()} | {m.name.rsplit("/", 1)[-1] for m in export.members()}

        def blocks() -> Iterator[str]:
            with export.open(member) as handle:
                yield from text_blocks(handle, member)

        reader = ChatReader(blocks, options, frozenset(names), title_of(export.paths))
        head = reader.prepare(export.source_files())
        size = next(m.size for m in export.members() if m.name == member)
        packed = (size, lambda target: export.extract(member, target))
        return [ConversationStream(head, MessageStream(reader, export.local_path(member), packed))]


FORMAT = WhatsAppFormat()


def chat_member(export: Export) -> str | None:
    """The member holding the chat text: `_chat.txt` (iPhone), else a WhatsApp-named or the only `.txt`."""
    texts = [m.name for m in export.members() if m.name.lower().endswith(".txt")]
    for name in texts:
        if name.rsplit("/", 1)[-1] == "_chat.txt":
            return name
    named = [n for n in texts if n.rsplit("/", 1)[-1].lower().startswith("whatsapp")]
    if len(named) == 1:
        return named[0]
    if len(texts) == 1:
        return texts[0]
    return None


def decode_chat_text(data: bytes, name: str = "chat text") -> str:
    """The chat text as str: UTF-8 with or without BOM, line ends normalised to LF."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text (byte {exc.start})") from None
    return text.replace("\r\n", "\n")


def title_of(paths: Iterable[Path]) -> str | None:
    """The chat's name from the export's file name ("WhatsApp Chat - X.zip" → "X"), else None."""
    for path in paths:
        stem = Path(path).stem if Path(path).suffix.lower() in (".zip", ".txt") else Path(path).name
        for pattern in _TITLE_PATTERNS:
            match = pattern.match(stem)
            if match:
                return match.group("title").strip()
    return None


def parse_chat_text(
    text: str,
    tz: str,
    present: frozenset[str] = frozenset(),
    title: str | None = None,
    date_order: str | None = None,
) -> Conversation:
    """Parse a whole WhatsApp chat text into a Conversation (source.files empty).

    `present` names the files the export holds, so attachments can say whether they are present.
    Raises InputError when the text holds no WhatsApp message header."""
    text = text.replace("\r\n", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    if text.endswith("\n"):
        text = text[:-1]
    reader = ChatReader(lambda: iter([text]), ParseOptions(tz=tz, date_order=date_order), present, title)
    head = reader.prepare(())
    messages = tuple(reader.messages())
    return Conversation(head.source, participants_of(messages), messages, head.title)


