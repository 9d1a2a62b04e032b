"""Reading a WhatsApp chat text into messages, block by block (issue 4; the reading steps are described
in `ingest/sources/whatsapp.py`). `ChatReader` sniffs the header form, settles the day/month order and
yields the messages; `text_blocks` turns a byte stream into line-aligned text blocks.
"""
from __future__ import annotations

import codecs
import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime, tzinfo
from typing import IO, Any

from ingest.sources.base import ParseOptions
from ingest.sources.whatsapp_body import BodyReader, locale_of
from ingest.sources.whatsapp_headers import (
    DateOrderVotes,
    HeaderForm,
    WallClock,
    ascii_digits,
    date_of,
    decide_date_order,
    field_groups,
    fields_of,
    has_foreign_digits,
    hour24,
    sniff_form,
)
from kernel.errors import InputError
from kernel.model import Attachment, ConversationHead, Message, MessageKind, Record, Source, SourceFile

NAME = "whatsapp"
SNIFF_LINES = 2000
BLOCK_BYTES = 4 * 1024 * 1024
_ENGLISH_HINT = re.compile(r"omitted|<attached: |This message was deleted|end-to-end encrypted|\(file attached\)")


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
        self.seq_start = 0  # messages before this reader's part of the text (a part read in parallel)
        self.line_start = 1
        self.last_start: datetime | None = None  # the time of the last readable header before the part
        self.languages: Counter[str] = Counter()
        self.set_locale = True

    def part(self, blocks: Any, seq_start: int, line_start: int, last_start: datetime | None) -> "ChatReader":
        """A reader of a later part of the same text (header form and order already settled)."""
        other = ChatReader(blocks, self.options, self.present, self.title)
        other.form, other.order, other.foreign_digits = self.form, self.order, self.foreign_digits
        other.seq_start, other.line_start, other.last_start = seq_start, line_start, last_start
        other.set_locale = False
        return other

    def time_of(self, m: re.Match[str]) -> datetime | None:
        """The time of a header match (DST folds read as the earlier time), None when it cannot be read."""
        assert self.form is not None
        a, b, c, hh, mm, ss, marker = fields_of(self.form, m)
        day = date_of(a, b, c, self.order, self.form.era)
        h = hour24(int(hh), marker)
        if day is None or h is None or int(mm) > 59 or int(ss or 0) > 59:
            return None
        return self._clock.resolve(datetime(day.year, day.month, day.day, h, int(mm), int(ss or 0)), None)[0]

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
            return self.options.date_order, f"set by the archivist (date order {self.options.date_order})"
        return inferred, evidence

    def messages(self) -> Iterator[Message]:
        """Every message in export order; fills `inferred` (unparsed lines, DST, view-once, locale)."""
        last_iso, last_time = "", None
        for seq, iso, sender, kind, text, attachments, edited in self.records():
            if iso != last_iso:
                last_iso, last_time = iso, datetime.fromisoformat(iso)
            assert last_time is not None
            yield Message(seq, last_time, sender, kind, text, attachments, edited)

    def records(self) -> Iterator[Record]:
        """Every message in export order as a `kernel.model.Record` (its time as ISO 8601 text), the
        form the JSON writer takes without building objects; fills `inferred` like `messages`."""
        form = self.form
        assert form is not None, "prepare() first"
        regex = form.regex
        order = field_groups(form)
        body_reader = BodyReader(form.platform, self.present, self.title)
        read = body_reader.read
        cache: dict[tuple[str, ...], tuple[str, str, int, date, tzinfo | None] | None] = {}
        unparsed: list[dict[str, Any]] = []
        dst: list[dict[str, Any]] = []
        view_once: list[int] = []
        seq = self.seq_start
        last: str | None = self.last_start.isoformat() if self.last_start else None  # last readable time
        waiting: list[tuple[int, str]] = []  # unparsed lines before the first readable header
        media, unparsed_kind = MessageKind.MEDIA, MessageKind.UNPARSED
        no_files: tuple[Attachment, ...] = ()

        def when_of(m: re.Match[str]) -> tuple[str | None, dict[str, Any] | None]:
            a, b, c, hh, mm, ss, marker = m.group(*order)
            ss = ss or ""
            marker = marker or ""
            key = (a, b, c, hh, marker)
            if key in cache:
                hour = cache[key]
            else:
                day = date_of(a, b, c, self.order, form.era)
                h = hour24(int(hh), marker)
                hour = None
                if day is not None and h is not None:
                    zone = self._clock.offset_zone(day, h)
                    sample = datetime(day.year, day.month, day.day, h, tzinfo=zone).isoformat() if zone else ""
                    hour = (sample[:14], sample[19:], h, day, zone)
                cache[key] = hour
            if hour is None or mm > "59" or ss > "59":
                return None, None
            prefix, offset, h, day, zone = hour
            if zone is not None:
                return prefix + mm + ":" + (ss or "00") + offset, None
            wall = datetime(day.year, day.month, day.day, h, int(mm), int(ss or 0))
            when, case, choice = self._clock.resolve(wall, datetime.fromisoformat(last) if last else None)
            if not case:
                return when.isoformat(), None
            entry: dict[str, Any] = {"case": case, "wall_clock": wall.isoformat()}
            entry.update({"chosen": choice} if choice else {"read_as": when.isoformat()})
            return when.isoformat(), entry

        def unparsed_message(line: int, raw: str, when: str) -> Record:
            nonlocal seq
            seq += 1
            unparsed.append({"seq": seq, "line": line, "text": raw})
            return (seq, when, None, unparsed_kind, raw, no_files, False)

        def close_carried(item: tuple[str | None, dict[str, Any] | None, int, str | None, list[str]]) -> Iterator[Record]:
            """The message carried over from earlier blocks (see `carried` below), now that its text is whole."""
            nonlocal seq
            p_when, p_dst, p_line, p_raw, p_pieces = item
            text = "\n".join(p_pieces)
            if p_raw is not None:
                if p_when is None:
                    waiting.append((p_line, text))
                else:
                    yield unparsed_message(p_line, text, p_when)
                return
            assert p_when is not None
            seq += 1
            if p_dst is not None:
                dst.append({"seq": seq, **p_dst})
            body = read(text)
            if body[1] is media and body[3] and not body[3][0].name:
                view_once.append(seq)
            yield (seq, p_when, *body)

        # A message's header is found in one block, its text may go on in the next ones: `carried` is
        # (header time, dst case, line, raw header line or None, text pieces) of that message.
        carried: tuple[str | None, dict[str, Any] | None, int, str | None, list[str]] | None = None
        last_header: str = ""
        last_when: str | None = None
        last_dst: dict[str, Any] | None = None
        previous_when: str | None = None
        previous_dst: dict[str, Any] | None = None
        previous_unparsed_when: str | None = None
        line_base = self.line_start
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
                    yield from close_carried(pending)
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
                        body = read(text)
                        if body[1] is media and body[3] and not body[3][0].name:
                            view_once.append(seq)
                        yield (seq, previous_when, *body)
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
            yield from close_carried(carried)
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
        self.languages = body_reader.languages
        if self.set_locale:
            self.finish_locale()

    def finish_locale(self) -> None:
        """Record the phone's language from the phrases counted (`self.languages`) in the head."""
        locale, evidence = locale_of(self.languages)
        self.inferred["locale_evidence"] = evidence
        self.head.source = dataclasses.replace(self.head.source, locale=locale)


def _lines_of(text: str, first_line: int) -> list[tuple[int, str]]:
    """The non-empty lines of `text` with their line numbers."""
    return [(first_line + i, line) for i, line in enumerate(text.split("\n")) if line.strip()]

