"""Threema "Export chat" text (the `messages-<chat>.txt` in the zip Threema makes, with the media files).

Implements the `threema` export format of issue 4. No real Threema export was available (see
../shared/corpus/SOURCES.md, "No real samples found for: Threema export"). Threema's FAQ ("How can I
export a chat?", threema.ch/en/faq/chatexport) says only that the export is a password-protected ZIP
holding a text file and, optionally, the media. The line grammar here is the one two independent
readers of real exports document:

- Android (hkramski/threema2html, written for German-language exports): one message per line
  `[DD.MM.YYYY, HH:MM] Name: text`, continuation lines without `[`, the exporter's own messages under
  the localized word for "me" (Ich, Me, Ik), media as `<uuid.jpg>` naming a file in the zip. The date
  follows the phone's locale, so `/`, `-` and year-first forms and 12-hour times are accepted too.
- iOS (WhatsAppChatBeautifier's ThreemaParser): `>>> ` for sent and `<<< ` for received messages, then
  `D. Monthname YYYY <word> HH:MM:SS <zone>: text`, month names in the phone's language, media as
  `Type (file.ext)`.

Decisions a records manager should know:
- Threema protects the zip with a password, and edepot refuses encrypted zips: unpack it with the
  password and hand over the .txt with the media files (or a zip without password).
- Android dates: day/month order from values above 12, else `.` means day first; `--date-order`
  overrides; the evidence is in `source.inferred["date_order"]`. Times are wall clock, read in `--tz`.
- iOS lines carry a zone abbreviation (MEZ, MESZ, CET, CEST, GMT, UTC, BST, EET, EEST): when known,
  it fixes the offset and `--tz` only chooses how it is shown; otherwise the time is read in `--tz`.
  The iOS export names nobody: received messages get the chat's name from the file name
  (`messages-<name>.txt`), else "<<<" as written; sent messages get `OWNER_IOS` ("Ik").
- Detection: the Android line form is also a WhatsApp iPhone form, so Threema wins only on its own
  marks: the file name `messages-<chat>.txt`, `>>>`/`<<<` lines, or `<file.jpg>` media lines.
- A line before the first header is an unparsed entry with its line number.
"""
from __future__ import annotations

import dataclasses
import mimetypes
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from ingest.export import Export
from ingest.sources.base import ParseOptions
from ingest.sources.unparsed import fill_unparsed
from ingest.sources.wall_clock import aware
from kernel.errors import InputError
from kernel.model import Attachment, Conversation, Message, MessageKind, Source, participants_of

NAME = "threema"
OWNER_IOS = "Ik"
ANDROID = re.compile(
    r"^\[(?P<a>\d{1,4})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{2,4}),? "
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\s?(?P<ampm>[AaPp]\.?\s?[Mm]\.?))?\] (?P<rest>.*)$"
)
IOS = re.compile(
    r"^(?P<dir>>>>|<<<) (?P<day>\d{1,2})\.? (?P<month>[^\W\d_]+)\.? (?P<year>\d{4}),? (?:\S+ )?"
    r"(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})(?: (?P<zone>[A-Z]{2,5}))?: (?P<rest>.*)$"
)
SENDER_BODY = re.compile(r"^(?P<sender>[^:\n]{1,80}?): (?P<body>.*)$", re.S)
_ANDROID_MEDIA = re.compile(r"^<(?P<name>[^<>/\\\n]+\.[A-Za-z0-9]{2,5})>$")
_IOS_MEDIA = re.compile(r"^(?P<label>[^\s()]+) \((?P<name>[^()/\\\n]+\.[A-Za-z0-9]{2,5})\)$")
_ZONES = {"MEZ": 1, "CET": 1, "MESZ": 2, "CEST": 2, "GMT": 0, "UTC": 0, "WEZ": 0, "BST": 1, "EET": 2, "EEST": 3,
          "OEZ": 2, "OESZ": 3, "WET": 0, "WEST": 1}
_MONTHS: dict[str, int] = {}
for _names in (
    "januar februar märz april mai juni juli august september oktober november dezember",
    "january february march april may june july august september october november december",
    "januari februari maart april mei juni juli augustus september oktober november december",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "jan feb mär mrz apr mai jun jul aug sep sept okt nov dez",
    "jan feb mar apr may jun jul aug sep sept oct nov dec",
    "jan feb mrt apr mei jun jul aug sep sept okt nov dec",
):
    _short = len(_names.split()) != 12
    for _number, _word in enumerate(_names.split(), 1):
        if _short:
            _number = {"jan": 1, "feb": 2, "mär": 3, "mrz": 3, "mar": 3, "mrt": 3, "apr": 4, "mai": 5, "may": 5,
                       "mei": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "okt": 10, "oct": 10,
                       "nov": 11, "dez": 12, "dec": 12}[_word]
        _MONTHS.setdefault(_word, _number)


def looks_like_threema(head: str) -> float:
    """How surely the first lines of a text are a Threema export (0.0 .. 1.0)."""
    lines = [line for line in head.splitlines()[:40] if line.strip()]
    if not lines:
        return 0.0
    ios = sum(1 for line in lines if IOS.match(line))
    if ios and ios >= min(2, len(lines)):
        return 0.97
    android = sum(1 for line in lines if ANDROID.match(line))
    media = any(_ANDROID_MEDIA.match((SENDER_BODY.match(m.group("rest")) or m).group(0).split(": ", 1)[-1])
                for line in lines if (m := ANDROID.match(line)))
    if android and media:
        return 0.97  # `<uuid.jpg>` is Threema's own way to name a media file
    return 0.5 if android else 0.0  # the same line form as WhatsApp on iPhone: plausible, not distinctive


def title_of(member: str) -> str | None:
    """The chat's name from `messages-<name>.txt`, else None."""
    leaf = member.rsplit("/", 1)[-1]
    match = re.match(r"^messages-(?P<name>.+)\.txt$", leaf, re.I)
    return match.group("name") if match else None


def parse_text(text: str, options: ParseOptions, members: frozenset[str], title: str | None) -> Conversation:
    """A Threema export text as a Conversation; InputError when it holds no Threema line."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    blocks: list[tuple[int, re.Match[str] | None, str, list[str]]] = []
    for line_no, line in enumerate(lines, 1):
        android, ios = ANDROID.match(line), IOS.match(line)
        if ios is not None:
            blocks.append((line_no, ios, "ios", []))
        elif android is not None:
            blocks.append((line_no, android, "android", []))
        elif blocks:
            blocks[-1][3].append(line)
        elif line.strip():
            blocks.append((line_no, None, "", [line]))
    headers = [m for _, m, style, _ in blocks if m is not None and style == "android"]
    if not any(m is not None for _, m, _, _ in blocks):
        raise InputError("no Threema message line ([date, time] Name: text, or >>>/<<< date: text) found")
    order, evidence = _date_order(headers, options.date_order)
    inferred: dict[str, Any] = {}
    if headers:
        inferred["date_order"] = {"order": order, "evidence": evidence}
    dst: list[dict[str, Any]] = []
    unparsed: list[dict[str, Any]] = []
    zones: set[str] = set()
    messages: list[Message | None] = []
    damaged: dict[int, str] = {}
    for line_no, match, style, more in blocks:
        seq = len(messages) + 1
        when = None
        if match is not None:
            when = _android_time(match, order, options, seq, dst) if style == "android" else _ios_time(
                match, options, seq, dst, zones
            )
        if match is None or when is None:
            written = "\n".join(([match.group(0)] if match is not None else []) + more)
            reason = "before the first message line" if match is None else "not a calendar date or time"
            unparsed.append({"seq": seq, "line": line_no, "text": written, "reason": reason})
            damaged[seq] = written
            messages.append(None)
            continue
        rest = "\n".join([match.group("rest"), *more])
        if style == "ios":
            sender = OWNER_IOS if match.group("dir") == ">>>" else (title or "<<<")
            messages.append(_message(seq, when, sender, rest, _IOS_MEDIA, members))
            continue
        body = SENDER_BODY.match(rest)
        if body is None:
            messages.append(Message(seq, when, None, MessageKind.SYSTEM, rest))
            continue
        messages.append(_message(seq, when, body.group("sender").strip(), body.group("body"), _ANDROID_MEDIA, members))
    if zones:
        inferred["time_basis"] = f"zone abbreviations written by the app ({', '.join(sorted(zones))}), shown in {options.tz}"
    else:
        inferred["time_basis"] = f"wall clock without zone, read in {options.tz}"
    if dst:
        inferred["dst"] = dst
    if unparsed:
        inferred["unparsed_lines"] = unparsed
    complete = fill_unparsed(messages, damaged)
    platform = "ios" if any(style == "ios" for _, _, style, _ in blocks) else "android"
    source = Source(format=NAME, platform=platform, locale=None, timezone=options.tz, files=(), inferred=inferred)
    return Conversation(source=source, participants=participants_of(complete), messages=tuple(complete), title=title)


def _message(
    seq: int, when: datetime, sender: str, body: str, media: re.Pattern[str], members: frozenset[str]
) -> Message:
    found = media.match(body.strip())
    if found is None:
        return Message(seq, when, sender, MessageKind.TEXT, body)
    name = found.group("name")
    present = name in members or any(m.rsplit("/", 1)[-1] == name for m in members)
    guessed, _ = mimetypes.guess_type(name, strict=False)
    kind = MessageKind.CONTACT if name.lower().endswith(".vcf") else MessageKind.MEDIA
    label = found.groupdict().get("label") or ""
    return Message(seq, when, sender, kind, label, (Attachment(name=name, present=present, media_type=guessed),))


def _date_order(headers: list[re.Match[str]], override: str | None) -> tuple[str, str]:
    if override is not None:
        return override, "given by the archivist"
    if headers and len(headers[0].group("a")) == 4:
        return "YMD", "four-digit year first"
    for h in headers:
        a, b = int(h.group("a")), int(h.group("b"))
        if a > 12 >= b:
            return "DMY", f"day value {a} > 12 in {h.group(0)[:24]!r}"
        if b > 12 >= a:
            return "MDY", f"day value {b} > 12 in {h.group(0)[:24]!r}"
    if headers and headers[0].group("sep") == ".":
        return "DMY", "no value above 12; dates with dots are written day first"
    return "DMY", "no value above 12; day first assumed (Threema's German and Dutch default)"


def _android_time(
    m: re.Match[str], order: str, options: ParseOptions, seq: int, dst: list[dict[str, Any]]
) -> datetime | None:
    a, b, c = int(m.group("a")), int(m.group("b")), int(m.group("c"))
    year, month, day = (a, b, c) if order == "YMD" else (c, b, a) if order == "DMY" else (c, a, b)
    if year < 100:
        year += 2000
    hour = int(m.group("H"))
    ampm = (m.group("ampm") or "").replace(".", "").replace(" ", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    try:
        wall = datetime(year, month, day, hour, int(m.group("M")), int(m.group("S") or 0))
    except ValueError:
        return None
    return aware(wall, options.zone, seq, dst)


def _ios_time(
    m: re.Match[str], options: ParseOptions, seq: int, dst: list[dict[str, Any]], zones: set[str]
) -> datetime | None:
    month = _MONTHS.get(m.group("month").lower())
    if month is None:
        return None
    try:
        wall = datetime(int(m.group("year")), month, int(m.group("day")), int(m.group("H")), int(m.group("M")),
                        int(m.group("S")))
    except ValueError:
        return None
    zone = m.group("zone")
    if zone in _ZONES:
        zones.add(zone)
        fixed = timezone(timedelta(hours=_ZONES[zone]))
        return wall.replace(tzinfo=fixed).astimezone(options.zone)
    return aware(wall, options.zone, seq, dst)


def chat_member(export: Export) -> str | None:
    """`messages-<chat>.txt`, else the only .txt member."""
    texts = [m.name for m in export.members() if m.name.lower().endswith(".txt")]
    named = [n for n in texts if title_of(n) is not None]
    if named:
        return named[0]
    return texts[0] if len(texts) == 1 else None


class ThreemaFormat:
    """The registry entry for Threema chat exports (Android and iOS text forms)."""

    name = NAME

    def score(self, export: Export) -> float:
        """0.97 for Threema's own marks (messages-<chat>.txt, >>>/<<< lines, `<uuid.jpg>` media), 0.5 for
        its Android line form alone (WhatsApp's 0.95 then wins: the same line form), else 0."""
        member = chat_member(export)
        if member is None:
            return 0.0
        grammar = looks_like_threema(export.read_head(member).decode("utf-8-sig", errors="replace"))
        return 0.97 if grammar and title_of(member) is not None else grammar

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """The one conversation of the export."""
        member = chat_member(export)
        if member is None:
            raise InputError("the export holds no Threema chat text (messages-<chat>.txt)")
        try:
            text = export.read(member).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{member} is not UTF-8 text (byte {exc.start})") from None
        members = frozenset(m.name for m in export.members())
        conversation = parse_text(text, options, members, title_of(member))
        source = dataclasses.replace(conversation.source, files=export.source_files())
        return [dataclasses.replace(conversation, source=source)]


FORMAT = ThreemaFormat()
