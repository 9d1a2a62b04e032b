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

import codecs
import dataclasses
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import IO, Any

from ingest.export import Export
from ingest.sources.base import ConversationStream, ParseOptions
from ingest.sources.whatsapp_body import BodyReader, media_type_of
from ingest.sources.whatsapp_headers import (
    DateOrderVotes,
    HeaderForm,
    WallClock,
    ascii_digits,
    date_of,
    decide_date_order,
    fields_of,
    has_foreign_digits,
    hour24,
    sniff_form,
)
from kernel.errors import InputError
from kernel.model import (
    Conversation,
    ConversationHead,
    Message,
    MessageKind,
    Source,
    SourceFile,
    participants_of,
)

__all__ = ["FORMAT", "NAME", "chat_member", "decode_chat_text", "media_type_of", "parse_chat_text", "title_of"]

NAME = "whatsapp"
SNIFF_LINES = 2000
BLOCK_BYTES = 4 * 1024 * 1024
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
_ENGLISH_HINT = re.compile(r"omitted|<attached: |This message was deleted|end-to-end encrypted|\(file attached\)")


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
        return [ConversationStream(head, reader.messages())]


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


def text_blocks(handle: IO[bytes], name: str, block_bytes: int = BLOCK_BYTES) -> Iterator[str]:
    """The text of `handle` in blocks that end at line ends: UTF-8 (BOM dropped), CRLF → LF, each block
    without its last LF (blocks are joined by LF), the file's final LF dropped."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    carry = ""
    consumed = 0
    while True:
        raw = handle.read(block_bytes)
        final = not raw
        try:
            text = carry + decoder.decode(raw, final)
        except UnicodeDecodeError as exc:
            raise InputError(f"{name} is not UTF-8 text (byte {consumed + exc.start})") from None
        consumed += len(raw)
        if not final and text.endswith("\r"):
            text, tail = text[:-1], "\r"
        else:
            tail = ""
        if "\r\n" in text:
            text = text.replace("\r\n", "\n")
        if final:
            if text.endswith("\n"):
                text = text[:-1]
            if text or consumed == 0:
                yield text
            return
        cut = text.rfind("\n")
        if cut < 0:
            carry = text + tail
            continue
        yield text[:cut]
        carry = text[cut + 1:] + tail


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


class ChatReader:
    """Reads one chat text, given as a re-readable stream of blocks, into messages."""

    def __init__(self, blocks: Any, options: ParseOptions, present: frozenset[str], title: str | None) -> None:
        self._blocks = blocks
        self.options = options
        self.present = present
        self.title = title
        self.inferred: dict[str, Any] = {}
        self.form: HeaderForm | None = None
        self.order = "DMY"
        self.foreign_digits = False
        self._clock = WallClock(options.zone)

    def prepare(self, files: Iterable[SourceFile]) -> ConversationHead:
        """Sniff the header form and settle the day/month order; the head of the conversation."""
        first = next(iter(self._blocks()), "")
        sample = first[: 512 * 1024].split("\n")[:SNIFF_LINES]
        self.foreign_digits = has_foreign_digits(first[: 512 * 1024])
        form, _ = sniff_form([ascii_digits(line) for line in sample] if self.foreign_digits else sample)
        if form is None:
            raise InputError("no WhatsApp message header found in the chat text")
        self.form = form
        hint = "en" if _ENGLISH_HINT.search(first[: 512 * 1024]) else None
        self.order, evidence = self._date_order(form, hint)
        self.inferred.update({"date_order": self.order, "evidence": evidence, "header_form": form.describe()})
        source = Source(format=NAME, platform=form.platform, locale=None, timezone=self.options.tz,
                        files=tuple(files), inferred=self.inferred)
        self.head = ConversationHead(source=source, title=self.title)
        return self.head

    def _date_order(self, form: HeaderForm, hint: str | None) -> tuple[str, str]:
        votes = DateOrderVotes()
        line_base = 1
        for block in self._blocks():
            view = ascii_digits(block) if self.foreign_digits else block
            for m in form.regex.finditer(view):
                a, b, c = fields_of(form, m)[:3]
                before = (votes.first_dmy, votes.first_mdy)
                votes.add(a, b, c, 0)
                if (votes.first_dmy, votes.first_mdy) != before:
                    line = line_base + view.count("\n", 0, m.start())
                    if votes.first_dmy is not None and votes.first_dmy[0] == 0:
                        votes.first_dmy = (line, votes.first_dmy[1])
                    if votes.first_mdy is not None and votes.first_mdy[0] == 0:
                        votes.first_mdy = (line, votes.first_mdy[1])
            line_base += block.count("\n") + 1
            if votes.decided or form.year_first or self.options.date_order:
                break
        inferred, evidence = decide_date_order(form, votes, hint)
        if self.options.date_order:
            self.inferred["inferred_date_order"] = inferred
            self.inferred["inferred_evidence"] = evidence
            return self.options.date_order, f"set by the archivist (--date-order {self.options.date_order})"
        return inferred, evidence

    def messages(self) -> Iterator[Message]:
        """Every message in export order; fills `inferred` (unparsed lines, DST, view-once, locale)."""
        form = self.form
        assert form is not None, "prepare() first"
        regex = form.regex
        read = BodyReader(form.platform, self.present, self.title)
        cache: dict[tuple[str, ...], tuple[date, int, tzinfo | None] | None] = {}
        unparsed: list[dict[str, Any]] = []
        dst: list[dict[str, Any]] = []
        view_once: list[int] = []
        seq = 0
        last: datetime | None = None  # the time of the last readable header
        waiting: list[tuple[int, str]] = []  # unparsed lines before the first readable header
        media, text_kind, unparsed_kind = MessageKind.MEDIA, MessageKind.TEXT, MessageKind.UNPARSED

        def when_of(m: re.Match[str]) -> tuple[datetime | None, dict[str, Any] | None]:
            a, b, c, hh, mm, ss, marker = fields_of(form, m)
            key = (a, b, c, hh, marker)
            if key in cache:
                hour = cache[key]
            else:
                day = date_of(a, b, c, self.order, form.era)
                h = hour24(int(hh), marker)
                hour = None if day is None or h is None else (day, h, self._clock.offset_zone(day, h))
                cache[key] = hour
            if hour is None:
                return None, None
            minute, second = int(mm), int(ss or 0)
            if minute > 59 or second > 59:
                return None, None
            day, h, zone = hour
            if zone is not None:
                return datetime(day.year, day.month, day.day, h, minute, second, tzinfo=zone), None
            wall = datetime(day.year, day.month, day.day, h, minute, second)
            when, case, choice = self._clock.resolve(wall, last)
            if not case:
                return when, None
            entry: dict[str, Any] = {"case": case, "wall_clock": wall.isoformat()}
            entry.update({"chosen": choice} if choice else {"read_as": when.isoformat()})
            return when, entry

        def unparsed_message(line: int, raw: str, when: datetime) -> Message:
            nonlocal seq
            seq += 1
            unparsed.append({"seq": seq, "line": line, "text": raw})
            return Message(seq, when, None, unparsed_kind, raw)

        # A message's header is found in one block, its text may go on in the next ones: `carried` is
        # (header time, dst case, line, raw header line or None, text pieces) of that message.
        carried: tuple[datetime | None, dict[str, Any] | None, int, str | None, list[str]] | None = None
        last_header: str = ""
        last_when: datetime | None = None
        last_dst: dict[str, Any] | None = None
        previous_when: datetime | None = None
        previous_dst: dict[str, Any] | None = None
        previous_unparsed_when: datetime | None = None
        line_base = 1
        for block in self._blocks():
            view = ascii_digits(block) if self.foreign_digits else block
            previous: re.Match[str] | None = None
            counted_at, counted_line = 0, line_base
            for m in regex.finditer(view):
                start = m.start()
                if previous is None:  # the block's text before its first header
                    pieces = [block[:start - 1]] if start > 0 else []
                    if carried is not None:
                        carried[4].extend(pieces)
                        pending = carried
                        carried = None
                    else:
                        pending = None
                        if pieces:
                            waiting.extend(_lines_of(pieces[0], line_base))
                else:
                    pending = None
                    text = block[previous.start(8): start - 1]
                if pending is not None:  # the message carried over from the last block ends here
                    p_when, p_dst, p_line, p_raw, p_pieces = pending
                    text = "\n".join(p_pieces)
                    if p_raw is not None:
                        if p_when is None:
                            waiting.append((p_line, text))
                        else:
                            yield unparsed_message(p_line, text, p_when)
                    else:
                        assert p_when is not None
                        seq += 1
                        if p_dst is not None:
                            dst.append({"seq": seq, **p_dst})
                        body = read.read(text)
                        if body.kind is media and body.attachments and not body.attachments[0].name:
                            view_once.append(seq)
                        yield Message(seq, p_when, body.sender, body.kind, body.text, body.attachments, body.edited)
                elif previous is not None:  # the message of the previous header in this block
                    if previous_when is None:
                        counted_line += block.count("\n", counted_at, previous.start())
                        counted_at = previous.start()
                        raw = block[previous.start(): start - 1]
                        if last is None:
                            waiting.append((counted_line, raw))
                        else:
                            yield unparsed_message(counted_line, raw, previous_unparsed_when or last)
                    else:
                        seq += 1
                        if previous_dst is not None:
                            dst.append({"seq": seq, **previous_dst})
                        body = read.read(text)
                        kind = body.kind
                        if kind is text_kind:
                            yield Message(seq, previous_when, body.sender, kind, body.text, (), body.edited)
                        else:
                            if kind is media and body.attachments and not body.attachments[0].name:
                                view_once.append(seq)
                            yield Message(seq, previous_when, body.sender, kind, body.text, body.attachments,
                                          body.edited)
                header = view[start:m.start(8)]
                if header == last_header:
                    when, dst_case = last_when, last_dst
                else:
                    when, dst_case = when_of(m)
                    last_header, last_when, last_dst = header, when, dst_case
                previous_unparsed_when = last
                if when is not None:
                    last = when
                    if waiting:
                        for line, raw in waiting:
                            yield unparsed_message(line, raw, when)
                        waiting.clear()
                previous, previous_when, previous_dst = m, when, dst_case
            if previous is None:  # a block without any header: all of it continues the carried message
                if carried is not None:
                    carried[4].append(block)
                elif block.strip():
                    waiting.extend(_lines_of(block, line_base))
            else:
                counted_line += block.count("\n", counted_at, previous.start())
                if previous_when is None:
                    carried = (previous_unparsed_when, None, counted_line, "", [block[previous.start():]])
                else:
                    carried = (previous_when, previous_dst, counted_line, None, [block[previous.start(8):]])
            line_base += block.count("\n") + 1
        if carried is not None:
            p_when, p_dst, p_line, p_raw, p_pieces = carried
            text = "\n".join(p_pieces)
            if p_raw is not None:
                if p_when is None:
                    waiting.append((p_line, text))
                else:
                    yield unparsed_message(p_line, text, p_when)
            else:
                assert p_when is not None
                seq += 1
                if p_dst is not None:
                    dst.append({"seq": seq, **p_dst})
                body = read.read(text)
                if body.kind is media and body.attachments and not body.attachments[0].name:
                    view_once.append(seq)
                yield Message(seq, p_when, body.sender, body.kind, body.text, body.attachments, body.edited)
        if waiting:
            raise InputError("no readable WhatsApp message header in the chat text",
                             hint=f"line {waiting[0][0]} looks like one but its date or time cannot be read")
        if unparsed:
            self.inferred["unparsed_lines"] = unparsed
        if dst:
            self.inferred["dst"] = dst
        if view_once:
            self.inferred["view_once"] = {"seqs": view_once,
                                          "evidence": "Android writes the body 'null' for view-once media"}
        locale, evidence = read.locale()
        self.inferred["locale_evidence"] = evidence
        self.head.source = dataclasses.replace(self.head.source, locale=locale)


def _lines_of(text: str, first_line: int) -> list[tuple[int, str]]:
    """The non-empty lines of `text` with their line numbers."""
    return [(first_line + i, line) for i, line in enumerate(text.split("\n")) if line.strip()]

