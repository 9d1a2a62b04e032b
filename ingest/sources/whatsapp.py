"""WhatsApp chat exports ("Export chat" on iPhone and Android) read into the canonical Conversation.

Implements the `whatsapp` export format: header recognition for iOS (`[date, time] Name: text`) and
Android (`date, time - Name: text`), day/month order inferred from the whole file, wall-clock times
read in an IANA zone with DST gaps and folds resolved deterministically, multi-line bodies, system
lines, attachments (present or omitted), deleted and edited messages, locations, contact cards,
calls and polls. Phrases are known for Dutch and English (and, for omitted media, deleted messages
and system lines, German and Russian). Parsing is one compiled regex per line, two linear passes.

Decisions a records manager should know:
- Omitted media (`<Media weggelaten>`, `image omitted`, ...) become kind media with one attachment
  whose `present` is False and whose `name` is the marker as written, so the kind of the missing
  item ("image omitted") stays readable; a caption or document title is kept as the text.
- Android writes the body `null` for a view-once photo/video: kind media, text "", one attachment
  with name "" and present False; the seqs are listed in `source.inferred["view_once"]`.
- Invisible direction marks (U+200E and friends) are dropped from sender names and from bodies the
  app wrote (markers, system lines, deleted notices); typed text is kept exactly as written.
"""
from __future__ import annotations

import dataclasses
import mimetypes
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.export import Export
from ingest.sources.base import ConversationStream, ParseOptions, zone_of
from kernel.errors import InputError
from kernel.model import Attachment, Conversation, Message, MessageKind, Source, head_of, participants_of

NAME = "whatsapp"
HEAD_BYTES = 16 * 1024
LRM = "\u200e"
_BIDI_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_STRIP_BIDI = str.maketrans("", "", _BIDI_MARKS)

_DATE = r"(?P<a>\d{1,4})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{2,4})\.?(?P<be> BE)?"
_SPACE = "[ \u202f\u00a0]"
_TIME = (
    r"(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?"
    rf"(?:{_SPACE}?(?P<ampm>[AaPp]\.?{_SPACE}?[Mm]\.?))?"
)
IOS_HEADER = re.compile(rf"\[{_DATE},? {_TIME}\] (?P<rest>.*)", re.S)
ANDROID_HEADER = re.compile(rf"{_DATE},? {_TIME} - (?P<rest>.*)", re.S)
SENDER_BODY = re.compile(r"(?P<sender>[^\n]+?): (?P<body>.*)", re.S)

# --- phrases the app writes -------------------------------------------------------------------
# Distinctive system phrases: long or specific enough that nobody types them as a message.
_SYSTEM_DISTINCTIVE = re.compile(
    r"(?:"
    r"Messages and calls are end-to-end encrypted|Messages to this group are now secured"
    r"|Berichten en oproepen worden end-to-end versleuteld|Berichten die naar deze groep"
    r"|Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt"
    r"|Сообщения и звонки защищены сквозным шифрованием"
    r"|Your security code with .+ changed|security code changed"
    r"|beveiligingscode .*gewijzigd|Sicherheitsnummer .*geändert|код безопасности"
    r"|created (?:group \".*\"|this group)|(?:heeft|hebt) (?:groep \".*\"|deze groep) aangemaakt"
    r"|joined using this group's invite link|via de uitnodigingslink"
    r"|changed their phone number|changed to \+\d|telefoonnummer (?:gewijzigd|is gewijzigd)"
    r"|disappearing messages|verdwijnende berichten|zelf-verwijderende berichten"
    r"|This chat is with a business account|Deze chat is met een zakelijk account"
    r"|is a contact\.?$|is een contact\.?$"
    r")",
    re.I,
)
# Group events: short, so on iOS (where the line carries a sender) they count only with the
# direction mark the app puts before its own text.
_SYSTEM_GROUP_EVENT = re.compile(
    r"^(?:"
    r".+ (?:added|removed) .+|.+ added you|You were added|You were removed|.+ left|You left"
    r"|.+ joined|.+ changed (?:the subject|this group's (?:icon|description|settings)|the group description)"
    r".*|.+ deleted this group's icon|.+ (?:is|are) now an admin"
    r"|You're now an admin|You're no longer an admin"
    r"|.+ (?:heeft|hebt) .+ (?:toegevoegd|verwijderd)|(?:U|Je) bent toegevoegd|(?:U|Je) bent verwijderd"
    r"|.+ heeft (?:u|je) toegevoegd|.+ (?:heeft de groep verlaten|is vertrokken)|(?:U|Je) bent vertrokken"
    r"|.+ (?:heeft|hebt) (?:de groepsnaam|het onderwerp|de onderwerpnaam|het groepsicoon|de groepsafbeelding"
    r"|de groepsbeschrijving|de groepsinstellingen) .*(?:gewijzigd|verwijderd).*"
    r"|.+ (?:is|bent) nu (?:een )?beheerder|(?:U|Je) bent geen beheerder meer"
    r")$",
    re.S,
)
_DELETED = re.compile(
    r"^(?:Dit bericht is verwijderd|(?:U|Je) hebt dit bericht verwijderd|This message was deleted"
    r"|You deleted this message|Diese Nachricht wurde gelöscht|Du hast diese Nachricht gelöscht"
    r"|Данное сообщение удалено|Вы удалили данное сообщение|Это сообщение удалено)\.?$",
    re.I,
)
_EDITED_SUFFIX = re.compile(
    r"[ \u200e]*<(?:Dit bericht is bewerkt|This message was edited|Diese Nachricht wurde bearbeitet)>$"
)
_IOS_ATTACHED = re.compile(
    r"\u200e?<(?:attached|bijgevoegd|Anhang|прикреплено|adjunto): (?P<name>[^<>\n]+)>"
)
_ANDROID_ATTACHED = re.compile(
    r"^\u200e?(?P<name>[^\n]+?) \((?:file attached|bestand bijgevoegd|Datei angehängt|файл добавлен)\)"
)
_ANDROID_OMITTED = re.compile(
    r"^\u200e?(?P<marker><(?:Media omitted|Media weggelaten|Medien ausgeschlossen|Без медиафайлов)>)$"
)
_IOS_OMITTED = re.compile(
    r"(?:^\u200e?|\u200e)(?P<marker>"
    r"(?:image|video|audio|document|sticker|GIF|Contact card) omitted"
    r"|(?:afbeelding|foto|video|audio|document|sticker|GIF|contactkaart|visitekaartje) weggelaten"
    r"|(?:Bild|Video|Audio|Dokument|Sticker|GIF) weggelassen|Kontaktkarte ausgelassen"
    r"|изображение отсутствует|видео отсутствует|аудиофайл отсутствует|Карточка контакта отсутствует"
    r"|стикер не добавлен|документ отсутствует|GIF отсутствует"
    r")$",
    re.I,
)
_LOCATION = re.compile(
    r"^(?:(?:live )?location|(?:live-)?locatie|Standort|Местоположение): https?://\S+$"
    r"|^.+ \(.+\): https?://(?:foursquare\.com|maps\.google\.com|maps\.apple\.com)/\S+$"
    r"|^[^\n]+\n[^\n]+\nhttps?://(?:foursquare\.com|maps\.google\.com)/\S+$",
    re.I,
)
_CALL = re.compile(
    r"^(?:Missed (?:voice|video) call|(?:Voice|Video) call(?:, .*)?|Gemiste (?:spraakoproep|video-?oproep)"
    r"|(?:Spraak|Video)-?oproep(?:, .*)?|Verpasster (?:Sprachanruf|Videoanruf))$",
    re.I,
)
_POLL = re.compile(r"^(?:POLL|PEILING|UMFRAGE):\n", re.I)

# Words that tell the language of the phone's settings; the first group found wins ties.
_LOCALE_MARKERS: dict[str, re.Pattern[str]] = {
    "nl": re.compile(
        r"weggelaten|bijgevoegd|verwijderd|versleuteld|bewerkt|locatie:|oproep|aangemaakt|toegevoegd", re.I
    ),
    "en": re.compile(r"omitted|attached|deleted|encrypted|was edited|location:|missed|created group", re.I),
    "de": re.compile(r"weggelassen|angehängt|gelöscht|verschlüsselt|Standort:", re.I),
    "ru": re.compile(r"отсутствует|удалено|удалили|шифрованием", re.I),
}

_MEDIA_TYPES = mimetypes.MimeTypes()  # built-in table only: same answer on every machine
_MEDIA_TYPE_OVERRIDES = {
    ".opus": "audio/ogg",
    ".webp": "image/webp",
    ".vcf": "text/vcard",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".heic": "image/heic",
    ".3gp": "video/3gpp",
}
_TITLE_PATTERNS = (
    re.compile(r"^WhatsApp Chat - (?P<title>.+)$"),
    re.compile(r"^WhatsApp[- ][Cc]hat met (?P<title>.+)$"),
    re.compile(r"^WhatsApp Chat with (?P<title>.+)$"),
    re.compile(r"^WhatsApp[- ]Chat mit (?P<title>.+)$"),
)


@dataclass(frozen=True)
class _Header:
    """A line that looks like a message header, with its raw date and time fields."""

    line_no: int  # 1-based line in the chat text
    style: str  # "ios" or "android"
    a: int
    b: int
    c: int
    year_digits: int
    year_first: bool
    sep: str
    buddhist: bool
    hour: int
    minute: int
    second: int
    ampm: str | None
    rest: str

    @property
    def signature(self) -> tuple[str, str, bool, int, bool]:
        return (self.style, self.sep, self.ampm is not None, self.year_digits, self.year_first)


class WhatsAppFormat:
    """The registry entry for WhatsApp exports (iPhone and Android)."""

    name = NAME

    def score(self, export: Export) -> float:
        """0.95 when the chat text's first lines carry WhatsApp message headers, else 0."""
        member = chat_member(export)
        if member is None:
            return 0.0
        head = export.read_head(member, HEAD_BYTES).decode("utf-8-sig", errors="replace")
        lines = head.replace("\r\n", "\n").split("\n")[:40]
        return 0.95 if any(_match_header(line) is not None for line in lines) else 0.0

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """The one conversation in `export`, wall-clock times read in `options.tz`."""
        member = chat_member(export)
        if member is None:
            raise InputError("the export holds no WhatsApp chat text (_chat.txt or a .txt file)")
        text = decode_chat_text(export.read(member), member)
        names = {m.name for m in export.members()} | {m.name.rsplit("/", 1)[-1] for m in export.members()}
        conversation = parse_chat_text(text, options.tz, present=frozenset(names), title=title_of(export.paths))
        source = dataclasses.replace(conversation.source, files=export.source_files())
        return [dataclasses.replace(conversation, source=source)]

    def stream(self, export: Export, options: ParseOptions) -> list[ConversationStream]:
        """The conversation as a stream (head, then messages)."""
        conversation = self.parse_all(export, options)[0]
        return [ConversationStream(head_of(conversation), iter(conversation.messages))]


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


def title_of(paths: tuple[Path, ...] | list[Path]) -> str | None:
    """The chat's name from the export's file name ("WhatsApp Chat - X.zip" → "X"), else None."""
    for path in paths:
        stem = Path(path).stem if Path(path).suffix.lower() in (".zip", ".txt") else Path(path).name
        for pattern in _TITLE_PATTERNS:
            match = pattern.match(stem)
            if match:
                return match.group("title").strip()
    return None


def parse_chat_text(
    text: str, tz: str, present: frozenset[str] = frozenset(), title: str | None = None
) -> Conversation:
    """Parse a WhatsApp chat text into a Conversation (source.files empty; the caller adds them).

    `present` names the files the export holds, so attachments can say whether they are present.
    Raises InputError when the text holds no WhatsApp message header.
    """
    zone = zone_of(tz)
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    candidates = [h for i, line in enumerate(lines, 1) if (h := _match_header(line, i)) is not None]
    if not candidates:
        raise InputError("no WhatsApp message header found in the chat text")
    signature = Counter(h.signature for h in candidates).most_common(1)[0][0]
    candidates = [h for h in candidates if h.signature == signature]
    order, evidence = infer_date_order(candidates)
    headers = {h.line_no: h for h in candidates if _valid_date(h, order) is not None and _valid_time(h)}
    inferred: dict = {"date_order": order, "evidence": evidence}
    messages, app_written = _build_messages(lines, headers, order, zone, present, inferred, title)
    platform = signature[0]
    locale, locale_evidence = infer_locale(app_written)
    inferred["locale_evidence"] = locale_evidence
    source = Source(format=NAME, platform=platform, locale=locale, timezone=tz, files=(), inferred=inferred)
    return Conversation(source=source, participants=participants_of(messages), messages=tuple(messages), title=title)


def _match_header(line: str, line_no: int = 0) -> _Header | None:
    stripped = line.lstrip(LRM)
    if not stripped:
        return None
    first = stripped[0]
    if first == "[":
        match, style = IOS_HEADER.match(stripped), "ios"
    elif first.isdigit():
        match, style = ANDROID_HEADER.match(stripped), "android"
    else:
        return None
    if match is None:
        return None
    ampm = match.group("ampm")
    return _Header(
        line_no=line_no,
        style=style,
        a=int(match.group("a")),
        b=int(match.group("b")),
        c=int(match.group("c")),
        year_digits=len(match.group("c")) if len(match.group("a")) < 4 else len(match.group("a")),
        year_first=len(match.group("a")) == 4,
        sep=match.group("sep"),
        buddhist=match.group("be") is not None,
        hour=int(match.group("H")),
        minute=int(match.group("M")),
        second=int(match.group("S") or 0),
        ampm=ampm.replace(".", "").replace(" ", "").replace("\u202f", "").replace("\u00a0", "").lower()
        if ampm
        else None,
        rest=match.group("rest"),
    )


def infer_date_order(headers: list[_Header]) -> tuple[str, str]:
    """"DMY", "MDY" or "YMD" for the headers of one file, with the evidence that decided it.

    A value above 12 decides; else the order in which the dates run forward most often; else the
    markers of the header form (AM/PM and bracketed 2-digit years are US-style, '-' and '.' are not).
    """
    if headers and headers[0].year_first:
        return "YMD", f"four-digit year first on line {headers[0].line_no}"
    for h in headers:
        if h.a > 12 and h.b <= 12:
            return "DMY", f"day value {h.a} > 12 on line {h.line_no}"
        if h.b > 12 and h.a <= 12:
            return "MDY", f"day value {h.b} > 12 on line {h.line_no}"
    backwards = {order: _backward_steps(headers, order) for order in ("DMY", "MDY")}
    if backwards["DMY"] != backwards["MDY"]:
        best = min(backwards, key=lambda o: backwards[o])
        return best, f"dates run forward more often read as {best} (backward steps: {backwards})"
    first = headers[0] if headers else None
    if first is not None and first.sep in "-.":
        return "DMY", f"date separator '{first.sep}' is not used with month first"
    if first is not None and first.ampm is not None:
        return "MDY", "12-hour clock with AM/PM, the US form"
    if first is not None and first.style == "ios" and first.year_digits == 2 and first.sep == "/":
        return "MDY", "iPhone m/d/yy form (English, US)"
    return "DMY", "no value above 12 and no ordering evidence; day first assumed"


def _backward_steps(headers: list[_Header], order: str) -> int:
    steps, previous = 0, None
    for h in headers:
        day = _valid_date(h, order)
        if day is None:
            continue
        if previous is not None and day < previous:
            steps += 1
        previous = day
    return steps


def _valid_date(h: _Header, order: str) -> date | None:
    if order == "YMD":
        year, month, day = h.a, h.b, h.c
    elif order == "MDY":
        month, day, year = h.a, h.b, h.c
    else:
        day, month, year = h.a, h.b, h.c
    if year < 100:
        year += 2000
    if h.buddhist:
        year -= 543
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _valid_time(h: _Header) -> bool:
    if h.minute > 59 or h.second > 59:
        return False
    if h.ampm is None:
        return h.hour <= 23
    return h.hour <= 12


def _hour24(h: _Header) -> int:
    if h.ampm is None:
        return h.hour
    if h.ampm.startswith("p"):
        return h.hour if h.hour == 12 else h.hour + 12
    return 0 if h.hour == 12 else h.hour


def _build_messages(
    lines: list[str],
    headers: dict[int, _Header],
    order: str,
    zone: ZoneInfo,
    present: frozenset[str],
    inferred: dict,
    title: str | None,
) -> tuple[list[Message], list[str]]:
    """Group lines into messages (continuations joined with LF) and classify each.

    Also returns the bodies the app wrote (every non-text message), the evidence for the locale."""
    messages: list[Message] = []
    app_written: list[str] = []
    dst_cases: list[dict] = []
    view_once: list[int] = []
    skipped = 0
    current: _Header | None = None
    body_lines: list[str] = []
    previous_utc: datetime | None = None

    def flush() -> None:
        nonlocal previous_utc
        if current is None:
            return
        seq = len(messages) + 1
        when = _resolve_time(current, order, zone, previous_utc, seq, dst_cases)
        previous_utc = when.astimezone(timezone.utc)
        rest = "\n".join(body_lines)
        message = _classify(seq, when, current.style, rest, present, title)
        if message.kind is not MessageKind.TEXT:
            app_written.append(rest)
        if message.kind is MessageKind.MEDIA and message.attachments and message.attachments[0].name == "" and (
            message.text == ""
        ):
            view_once.append(seq)
        messages.append(message)

    for line_no, line in enumerate(lines, 1):
        header = headers.get(line_no)
        if header is not None:
            flush()
            current, body_lines = header, [header.rest]
        elif current is None:
            skipped += 1
        else:
            body_lines.append(line)
    flush()
    if dst_cases:
        inferred["dst"] = dst_cases
    if view_once:
        inferred["view_once"] = {"seqs": view_once, "evidence": "Android writes the body 'null' for view-once media"}
    if skipped:
        inferred["lines_before_first_message"] = skipped
    return messages, app_written


def _resolve_time(
    h: _Header, order: str, zone: ZoneInfo, previous: datetime | None, seq: int, dst_cases: list[dict]
) -> datetime:
    """The header's wall-clock time made aware in `zone`; DST gaps shift forward, folds pick earlier
    unless the earlier reading would put this message before the one above it."""
    day = _valid_date(h, order)
    assert day is not None  # headers with invalid dates were dropped before
    wall = datetime(day.year, day.month, day.day, _hour24(h), h.minute, h.second)
    earlier = wall.replace(tzinfo=zone, fold=0)
    later = wall.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier
    round_trip = earlier.astimezone(timezone.utc).astimezone(zone)
    if round_trip.replace(tzinfo=None) != wall:
        dst_cases.append({"seq": seq, "case": "dst_gap", "wall_clock": wall.isoformat(), "read_as": round_trip.isoformat()})
        return round_trip
    chosen, which = earlier, "earlier"
    # aware datetimes sharing a tzinfo compare by wall clock, ignoring fold: compare in UTC
    if previous is not None and earlier.astimezone(timezone.utc) < previous <= later.astimezone(timezone.utc):
        chosen, which = later, "later"
    dst_cases.append({"seq": seq, "case": "dst_fold", "wall_clock": wall.isoformat(), "chosen": which})
    return chosen


def _classify(
    seq: int, when: datetime, style: str, rest: str, present: frozenset[str], title: str | None
) -> Message:
    """One message from the text after its header: sender, kind, text, attachments, edited."""
    first_line = rest.split("\n", 1)[0]
    bare_rest = first_line.translate(_STRIP_BIDI)
    match = SENDER_BODY.match(rest)
    if match is None or (style == "android" and _android_system_with_colon(match.group("sender"), bare_rest)):
        return Message(seq, when, None, MessageKind.SYSTEM, rest.translate(_STRIP_BIDI))
    sender = match.group("sender").translate(_STRIP_BIDI).strip()
    body = match.group("body")
    edited = False
    edit = _EDITED_SUFFIX.search(body)
    if edit is not None:
        body, edited = body[: edit.start()], True
    bare = body.translate(_STRIP_BIDI).strip()
    if style == "ios" and _is_ios_system(body, bare, sender, title):
        return Message(seq, when, None, MessageKind.SYSTEM, bare)
    kind, text, attachments = _body_kind(style, body, bare, present)
    return Message(seq, when, sender, kind, text, attachments, edited)


def _android_system_with_colon(sender_part: str, bare_rest: str) -> bool:
    """An Android system line whose quoted text holds ': ' (e.g. a new subject "Agenda: mei")."""
    if '"' not in sender_part:
        return False
    return bool(_SYSTEM_DISTINCTIVE.search(bare_rest) or _SYSTEM_GROUP_EVENT.match(bare_rest))


def _is_ios_system(body: str, bare: str, sender: str, title: str | None) -> bool:
    if "\n" in bare:
        return False
    if _SYSTEM_DISTINCTIVE.search(bare):
        return body.startswith(LRM) or bool(re.search(r"end-to-end|Ende-zu-Ende|шифрованием", bare))
    app_wrote = body.startswith(LRM) or (title is not None and sender == title)
    return app_wrote and _SYSTEM_GROUP_EVENT.match(bare) is not None


def _body_kind(
    style: str, body: str, bare: str, present: frozenset[str]
) -> tuple[MessageKind, str, tuple[Attachment, ...]]:
    if _DELETED.match(bare):
        return MessageKind.DELETED, bare, ()
    attached = _attachment(style, body, present)
    if attached is not None:
        return attached
    omitted = _omitted(style, body)
    if omitted is not None:
        return omitted
    if style == "android" and body == "null":
        return MessageKind.MEDIA, "", (Attachment(name="", present=False, media_type=None),)
    if _LOCATION.match(bare):
        return MessageKind.LOCATION, bare, ()
    if _CALL.match(bare):
        return MessageKind.CALL, bare, ()
    if _POLL.match(bare):
        return MessageKind.POLL, body, ()
    return MessageKind.TEXT, body, ()


def _attachment(
    style: str, body: str, present: frozenset[str]
) -> tuple[MessageKind, str, tuple[Attachment, ...]] | None:
    if style == "ios":
        match = _IOS_ATTACHED.search(body)
        if match is None:
            return None
        caption = _caption(body[: match.start()] + body[match.end() :])
    else:
        first, _, following = body.partition("\n")
        match = _ANDROID_ATTACHED.fullmatch(first)
        if match is None:
            return None
        caption = _caption(following)
    name = match.group("name").translate(_STRIP_BIDI).strip()
    attachment = Attachment(name=name, present=name in present, media_type=media_type_of(name))
    kind = MessageKind.CONTACT if name.lower().endswith(".vcf") else MessageKind.MEDIA
    return kind, caption, (attachment,)


def _omitted(style: str, body: str) -> tuple[MessageKind, str, tuple[Attachment, ...]] | None:
    first, _, following = body.partition("\n")
    pattern = _ANDROID_OMITTED if style == "android" else _IOS_OMITTED
    match = pattern.search(first)
    if match is None:
        return None
    marker = match.group("marker")
    caption = _caption(first[: match.start()] + first[match.end() :] + ("\n" + following if following else ""))
    kind = MessageKind.CONTACT if re.match(r"contact|Kontakt|Карточка|visitekaartje", marker, re.I) else MessageKind.MEDIA
    return kind, caption, (Attachment(name=marker, present=False, media_type=None),)


def _caption(rest: str) -> str:
    """What the user wrote beside an attachment marker, direction marks and edge blanks removed."""
    return rest.translate(_STRIP_BIDI).strip()


def media_type_of(name: str) -> str | None:
    """The IANA media type guessed from a file name's extension (deterministic table), else None."""
    suffix = Path(name).suffix.lower()
    if suffix in _MEDIA_TYPE_OVERRIDES:
        return _MEDIA_TYPE_OVERRIDES[suffix]
    guessed, _ = _MEDIA_TYPES.guess_type(name, strict=False)
    return guessed


def infer_locale(app_written: list[str]) -> tuple[str | None, str]:
    """The phone's language as shown by the phrases the app wrote (non-text bodies), with its evidence."""
    counts: Counter[str] = Counter()
    for probe in app_written:
        for locale, pattern in _LOCALE_MARKERS.items():
            if pattern.search(probe):
                counts[locale] += 1
    if counts:
        locale, n = counts.most_common(1)[0]
        return locale, f"{n} app-written phrase(s) in {locale}; all counts {dict(counts)}"
    return None, "no app-written phrase recognised"
