"""The conversation's reading copy: a PDF/A-2b (ISO 19005-2, conformance level B) rendering.

This is the copy people will read in fifty years, so it depends on nothing but itself: every font is
embedded, images are inside the file, and there is no JavaScript, no attachment and no encryption.

How it is made:
  1. The messages are prepared in Python (grouped into days, labels in Dutch, images checked) and
     written as JSON next to the static template `conversation.typ`. Chat text only ever reaches
     typst as JSON strings, which typst sets as plain text: `#`, `*`, `$`, `@`, `\\` stay literal.
  2. The images are staged first (opened once, reduced when large), so that each weighs by the pixels it
     shows; the days are cut into chunks of bounded weight; each chunk is compiled by typst in its own short
     lived process (typst keeps every layout it made in a process-wide cache, so one process per chunk
     keeps memory bounded for 100,000 messages; two chunks compile at once).
  3. The chunks are joined with pikepdf; the outline (one bookmark per day) is rebuilt for the whole
     document and "pagina X van Y" is laid over each page from a small typst document of footers.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Mapping, NamedTuple, Sequence

from kernel.errors import RenderingFailed, ToolMissing
from kernel.model import Attachment, Conversation, Message, MessageKind
from preservation.normalise.message_notes import message_notes

TEMPLATE = Path(__file__).with_name("conversation.typ")
FONT_ROOT = Path("/usr/share/fonts")
TEXT_FONT_FILE = "DejaVuSans.ttf"
EMOJI_FONT_FILE = "NotoColorEmoji.ttf"
SETUP_HINT = "run scripts/setup.sh"

CHUNK_WEIGHT = 4000  # message weight per typst process; bounds the memory of one compile
MIN_CHUNK_WEIGHT = 500  # below this a second typst process costs more (start, fonts) than it saves
IMAGE_WEIGHT = 25  # an image of FULL_IMAGE_PIXELS or more costs about as much to lay out and embed as this many
FULL_IMAGE_PIXELS = 640 * 480  # text messages; a smaller one (an icon, a sticker) costs less, by its pixels
PARALLEL_COMPILES = max(1, min(2, os.cpu_count() or 1))
MAX_IMAGE_CM = 8.0  # longest side of an inline image
# Photos are shown at most this many pixels on their longest side (about 500 dpi at 8 cm): a 12-megapixel
# photo is not copied whole into the rendering, whose job is reading; the original stays in the AIP.
MAX_INLINE_PIXELS = 1600
LONG_WORD = 60  # longer words (URLs, hashes) get break opportunities; shorter ones always fit a line
LONGEST_UNBROKEN = 40  # characters after which a line may break inside a long word
INLINE_IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif"}
PLAIN_IMAGE_MODES = {"1", "L", "LA", "P", "RGB", "RGBA"}  # others (CMYK, 16-bit) are converted to RGB

ZERO_WIDTH_SPACE = "\u200b"
_GLUE = {"\u200d", "\u200c", "\u2060"}  # joiners: never break next to them
_BREAK_AFTER = set("/?&=-_.,;:")
_LONG_TOKEN = re.compile(r"\S{%d,}" % (LONG_WORD + 1))
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

DAY_NAMES = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTH_NAMES = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
               "september", "oktober", "november", "december")


@dataclass(frozen=True)
class RenderContext:
    """What the PDF says about the record besides the conversation itself."""

    title: str  # the record's naam
    identifier: str  # the record's identificatie kenmerk
    archiefvormer: str
    description_rows: tuple[tuple[str, str], ...] = ()  # extra title-page rows (label, value)
    created: datetime | None = None  # fixed creation date for the PDF (so output is reproducible)
    export_messages: int | None = None  # the number of the export's last message, when known: a gap at the end shows


@dataclass(frozen=True)
class DayGroup:
    """A run of consecutive messages (in export order) that share one local calendar day."""

    day: date
    offset: str  # UTC offset of the first message of the run, e.g. "UTC+01:00"
    messages: tuple[Message, ...]


@dataclass(frozen=True)
class DayPiece:
    """The part of a day that falls into one chunk; `continued` when the day began in an earlier one."""

    group: DayGroup
    messages: tuple[Message, ...]
    continued: bool


class _Staged(NamedTuple):
    """An image shown inline: its path under the typst root, its width on the page, a note, its pixels shown."""

    path: str
    width_cm: float
    note: str
    pixels: int


@dataclass
class _Stage:
    """The temporary typst root: images staged under it, counted so file names stay unique."""

    root: Path
    covered: frozenset[int] | None = None  # code points the fonts can show
    images: int = 0
    staged: dict[Path, _Staged] = field(default_factory=dict)  # source → how it is shown
    image_formats: dict[Path, str | None] = field(default_factory=dict)  # source → Pillow's format, None: no image
    linked_folders: dict[Path, Path | None] = field(default_factory=dict)  # see _linked_folder_path()
    sources: dict[Path, Path | None] = field(default_factory=dict)  # see _source()
    known_sha256: dict[Path, str] = field(default_factory=dict)  # digests the caller knows already
    known_formats: dict[Path, str] = field(default_factory=dict)  # MIME types the caller identified already
    time_format: str = "%H:%M:%S"  # see time_format()
    gaps: dict[int, int] = field(default_factory=dict)  # see gaps_before()
    notes: dict[int, list[str]] = field(default_factory=dict)  # replies, reactions, earlier versions (message_notes)


# ---------------------------------------------------------------------------------------------------
# Data preparation (pure functions)


def dutch_date(day: date) -> str:
    """The day written out in Dutch, e.g. "donderdag 14 maart 2024"."""
    return f"{DAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def utc_offset_label(moment: datetime) -> str:
    """The UTC offset of an aware datetime as "UTC+01:00" (or "UTC" for zero, "onbekend" if naive)."""
    offset = moment.utcoffset()
    if offset is None:
        return "onbekend"
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def group_by_day(messages: Iterable[Message]) -> list[DayGroup]:
    """Consecutive messages grouped by their local calendar day (in each message's own offset).

    Export order is kept: if the export jumps back to an earlier day, that day gets a second group.
    """
    groups: list[DayGroup] = []
    current: list[Message] = []
    for message in messages:
        if current and message.timestamp.date() != current[0].timestamp.date():
            groups.append(_day_group(current))
            current = []
        current.append(message)
    if current:
        groups.append(_day_group(current))
    return groups


def _day_group(messages: list[Message]) -> DayGroup:
    first = messages[0].timestamp
    return DayGroup(first.date(), utc_offset_label(first), tuple(messages))


def add_break_opportunities(text: str) -> str:
    """Text with zero-width spaces inside words longer than LONG_WORD characters.

    Typst never breaks a line inside a word, so a long URL would run off the page. Breaks go after URL
    punctuation where possible, otherwise every LONGEST_UNBROKEN characters, never inside a
    combining sequence or an emoji joined with ZWJ. Shorter words are left exactly as they were.
    """
    return _LONG_TOKEN.sub(lambda match: _break_token(match.group(0)), text)


def _break_token(token: str) -> str:
    pieces: list[str] = []
    run = 0
    for index, char in enumerate(token):
        pieces.append(char)
        run += 1
        following = token[index + 1] if index + 1 < len(token) else ""
        if not following or not _may_break_between(char, following):
            continue
        if char in _BREAK_AFTER or run >= LONGEST_UNBROKEN:
            pieces.append(ZERO_WIDTH_SPACE)
            run = 0
    return "".join(pieces)


def _may_break_between(before: str, after: str) -> bool:
    if before in _GLUE or after in _GLUE:
        return False
    if unicodedata.category(after).startswith("M"):
        return False
    return not ("\ufe00" <= after <= "\ufe0f" or "\U0001f3fb" <= after <= "\U0001f3ff")


def is_right_to_left(text: str) -> bool:
    """Whether the first strongly directional character of the text is Arabic or Hebrew (R or AL)."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def clean_text(text: str, covered: Collection[int] | None = None) -> str:
    """Text safe to set: line ends as LF, other control characters as U+FFFD, lone surrogates replaced,
    and, when `covered` is given, each character no font covers written as "[U+4E2D]".

    PDF/A forbids showing a glyph a font does not have, so typst refuses such text; writing the code
    point keeps the information visible (the canonical JSON keeps the character itself).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("\ufffd", text.replace("\t", "    "))
    text = text.encode("utf-8", "replace").decode("utf-8")
    if covered is None:
        return text
    missing = {char for char in set(text) if ord(char) not in covered and char != "\n"}
    if not missing:
        return text
    return "".join(f"[U+{ord(char):04X}]" if char in missing else char for char in text)


def human_size(size: int) -> str:
    """A byte count for people, with the exact number kept: "1,2 MB (1234567 bytes)"."""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:.1f} {unit} ({size} bytes)".replace(".", ",", 1)


def sender_indexes(conversation: Conversation) -> dict[str, int]:
    """Each sender's index (stable colour): the participants' order, then senders not listed there."""
    indexes: dict[str, int] = {}
    for participant in conversation.participants:
        indexes.setdefault(participant.name, len(indexes))
    for message in conversation.messages:
        if message.sender is not None:
            indexes.setdefault(message.sender, len(indexes))
    return indexes


def berichten(count: int) -> str:
    """"1 bericht", "2 berichten"."""
    return f"{count} bericht" if count == 1 else f"{count} berichten"


def time_format(messages: Iterable[Message]) -> str:
    """"%H:%M:%S" when the export gives seconds (some message has them), else "%H:%M": an export that
    gives the minute (WhatsApp, most phones) is not shown with invented ":00"."""
    return "%H:%M:%S" if any(m.timestamp.second or m.timestamp.microsecond for m in messages) else "%H:%M"


def gaps_before(messages: Iterable[Message]) -> dict[int, int]:
    """seq → how many messages of the export lie between the message before (or the start) and this one,
    for each message with such a gap: the messages a selection or delivery left out."""
    gaps: dict[int, int] = {}
    previous = 0
    for message in messages:
        if message.seq > previous + 1:
            gaps[message.seq] = message.seq - previous - 1
        previous = max(previous, message.seq)
    return gaps


def title_page_rows(conversation: Conversation, context: RenderContext,
                    covered: Collection[int] | None = None) -> list[tuple[str, str]]:
    """The (label, value) rows of the title page, in Dutch, cleaned with `clean_text`."""
    counts = Counter(m.sender for m in conversation.messages if m.sender is not None)
    participants = "\n".join(f"{name} ({berichten(counts.get(name, 0))})" for name in sender_indexes(conversation))
    first, last = conversation.first_timestamp, conversation.last_timestamp
    shown = time_format(conversation.messages)
    period = f"{_moment_label(first, shown)} – {_moment_label(last, shown)}" if first and last else "geen berichten"
    source = conversation.source
    count = str(len(conversation.messages))
    if context.export_messages is not None and context.export_messages != len(conversation.messages):
        count += f" (genummerd zoals in de export, tot en met {context.export_messages})"
    rows = [
        ("Naam", context.title),
        ("Kenmerk", context.identifier),
        ("Archiefvormer", context.archiefvormer),
        ("Periode", period),
        ("Aantal berichten", count),
        ("Deelnemers", participants or "geen"),
        ("Bronformaat", f"{source.format} ({source.platform})"),
        ("Tijdzone", source.timezone),
    ]
    if source.locale:
        rows.append(("Taal van de export", source.locale))
    if conversation.title:
        rows.append(("Naam van het gesprek", conversation.title))
    if conversation.custodian is not None:
        custodian = conversation.custodian
        named = f" (in de export: {custodian.export_name})" if custodian.export_name else ""
        rows.append(("Houder toestel of account", custodian.label() + named))
    rows.extend(context.description_rows)
    return [(clean_text(label, covered), clean_text(value, covered)) for label, value in rows]


def _moment_label(moment: datetime, shown: str) -> str:
    return f"{dutch_date(moment.date())} {moment.strftime(shown)} ({utc_offset_label(moment)})"


def message_weight(message: Message, shown: Mapping[str, int] | None = None) -> int:
    """Roughly how much a message costs to lay out, in text messages. With `shown` (attachment name → pixels of
    the images shown inline) each image weighs by its pixels; without it, every attachment of an image type
    weighs as a full image."""
    if shown is None:
        return 1 + IMAGE_WEIGHT * sum(1 for a in message.attachments if (a.media_type or "").startswith("image/"))
    return 1 + sum(image_weight(shown[a.name]) for a in message.attachments if a.name in shown)


def image_weight(pixels: int) -> int:
    """The weight of an image shown with `pixels` pixels: IMAGE_WEIGHT from FULL_IMAGE_PIXELS on, at least 1."""
    return max(1, -(-IMAGE_WEIGHT * min(pixels, FULL_IMAGE_PIXELS) // FULL_IMAGE_PIXELS))


def chunk_limit(total_weight: int) -> int:
    """The weight per typst process: CHUNK_WEIGHT for big chats, less for middling ones so that every
    core gets a share, one process for small ones."""
    return max(MIN_CHUNK_WEIGHT, min(CHUNK_WEIGHT, -(-total_weight // PARALLEL_COMPILES)))


def plan_chunks(days: Sequence[DayGroup], limit: int = CHUNK_WEIGHT,
                weigh: Callable[[Message], int] = message_weight) -> list[list[DayPiece]]:
    """The days cut into chunks of at most `limit` weight (each message's by `weigh`; a single heavy message may
    exceed it).

    A chunk ends at a day boundary when the next day fits in a fresh chunk; a day larger than a chunk
    is split, and its later pieces are marked `continued`.
    """
    chunks: list[list[DayPiece]] = []
    current: list[DayPiece] = []
    weight = 0
    for group in days:
        weights = [weigh(m) for m in group.messages]
        start, continued = 0, False
        while start < len(group.messages):
            remaining = sum(weights[start:])
            if weight + remaining <= limit:
                current.append(DayPiece(group, group.messages[start:], continued))
                weight += remaining
                break
            if current and remaining <= limit:
                chunks.append(current)
                current, weight = [], 0
                continue
            end, taken = start, 0
            while end < len(weights) and (end == start or weight + taken + weights[end] <= limit):
                taken += weights[end]
                end += 1
            current.append(DayPiece(group, group.messages[start:end], continued))
            chunks.append(current)
            current, weight = [], 0
            start, continued = end, True
    if current:
        chunks.append(current)
    return chunks


# ---------------------------------------------------------------------------------------------------
# Attachments and images


_FILE_NAME = re.compile(r"^[^<>\n]*[^\s<>]\.[A-Za-z0-9]{1,5}$")


def is_file_name(name: str) -> bool:
    """Whether an attachment's name is a file name ("IMG_0001.jpg"), not the words an export writes in place
    of a file it left out ("image omitted", "<Media weggelaten>", "لم يتم إدراج المستند")."""
    return bool(_FILE_NAME.match(name.strip("\u200e\u200f\u202a\u202c ")))


def _stage_images(messages: Iterable[Message], media: Mapping[str, Path], stage: _Stage) -> dict[str, int]:
    """Stage every image the messages show inline; returns attachment name → pixels shown, for the weights."""
    shown: dict[str, int] = {}
    for message in messages:
        if message.kind is MessageKind.DELETED:
            continue
        for attachment in message.attachments:
            path = media.get(attachment.name)
            source = None if attachment.name in shown else _source(path, stage)
            staged = None if source is None or path is None else _stage_image(source, stage,
                                                                              stage.known_formats.get(path))
            if staged is not None:
                shown[attachment.name] = staged.pixels
    return shown


def _attachment_entry(attachment: Attachment, media: Mapping[str, Path], stage: _Stage) -> dict[str, Any]:
    name = add_break_opportunities(clean_text(attachment.name, stage.covered))
    path = media.get(attachment.name)
    source = _source(path, stage)
    if path is None or source is None:
        return {"k": "absent", "n": name} if is_file_name(attachment.name) else {"k": "placeholder"}
    staged = _stage_image(source, stage, stage.known_formats.get(path))
    if staged is not None:
        entry = {"k": "image", "n": name, "p": staged.path, "w": staged.width_cm}
        if staged.note:
            entry["note"] = staged.note
        return entry
    digest = stage.known_sha256.get(path) or _sha256(source)
    entry = {"k": "file", "n": name, "z": human_size(source.stat().st_size), "h": digest}
    image_format = stage.image_formats.get(source)
    if image_format is not None:
        entry["note"] = f"Afbeelding in formaat {image_format}: wordt in deze weergave niet getoond."
    return entry


def _source(path: Path | None, stage: _Stage) -> Path | None:
    """The file a media path names, links resolved; None when there is no such file. Looked up once a path."""
    if path is None:
        return None
    if path not in stage.sources:
        # only a link is resolved: realpath would look up every folder of every path (thousands of media)
        source = Path(os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path))
        stage.sources[path] = source if source.is_file() else None
    return stage.sources[path]


def _stage_image(source: Path, stage: _Stage, known_format: str | None = None) -> _Staged | None:
    """How the image at `source` (a resolved path) is shown: its path under the typst root, its width in cm, a
    note when it is shown reduced, its pixels; None when it is not shown inline. Pillow's format of every file it
    opens is kept in `stage.image_formats`. A file whose `known_format` (MIME type) is no image is not opened."""
    from PIL import Image

    if source in stage.image_formats:  # opened before
        return stage.staged.get(source)
    note = ""
    stage.image_formats[source] = None
    if known_format and not known_format.startswith("image/"):  # a chat's thousands of PDFs, voice notes…
        return None
    try:
        if _is_pdf(source):  # no Pillow reader takes a PDF: spare trying each of them (chats carry many)
            return None
        with Image.open(source) as image:
            stage.image_formats[source] = image.format
            extension = INLINE_IMAGE_FORMATS.get(image.format or "")
            if extension is None:
                return None
            width_px, height_px = image.size
            stage.images += 1
            target = stage.root / "media" / f"{stage.images}.{extension}"
            if stage.images == 1:
                target.parent.mkdir(exist_ok=True)
            if max(width_px, height_px) > MAX_INLINE_PIXELS:
                note = f"verkleind weergegeven; origineel {width_px}×{height_px} pixels"
                image.thumbnail((MAX_INLINE_PIXELS, MAX_INLINE_PIXELS))  # JPEG: decoded at 1/2, 1/4… when it can
                shown = _normalised_image(image)
                if shown.mode == "RGB":
                    target = target.with_suffix(".jpg")
                    shown.save(target, "JPEG", quality=88)
                else:
                    target = target.with_suffix(".png")
                    shown.save(target, "PNG")
                width_px, height_px = shown.size
            elif image.mode in PLAIN_IMAGE_MODES and not _has_exif_rotation(image):
                linked = _linked_folder_path(source, extension, stage)
                if linked is None:
                    _link_or_copy(source, target)
                else:
                    target = linked
            else:
                target = target.with_suffix(".png")
                _normalised_image(image).save(target, "PNG")
                width_px, height_px = Image.open(target).size
    except Exception:
        return None
    if width_px <= 0 or height_px <= 0:
        return None
    width_cm = min(MAX_IMAGE_CM, MAX_IMAGE_CM * width_px / height_px)
    staged = _Staged(target.relative_to(stage.root).as_posix(), round(width_cm, 3), note, width_px * height_px)
    stage.staged[source] = staged
    return staged


def _is_pdf(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(5) == b"%PDF-"


def _linked_folder_path(source: Path, extension: str, stage: _Stage) -> Path | None:
    """The image `source` under the typst root through one link to its folder (`media/folders/N/<name>`), so
    that a chat of thousands of photos makes a link per folder, not per photo; None when its name does not end
    in `extension` (typst reads the format from the name) or the folder cannot be linked."""
    if source.suffix != f".{extension}":
        return None
    folder = source.parent
    if folder not in stage.linked_folders:
        stage.linked_folders[folder] = _link_folder(folder, stage.root / "media" / "folders" /
                                                    str(len(stage.linked_folders)))
    linked = stage.linked_folders[folder]
    return None if linked is None else linked / source.name


def _link_folder(folder: Path, link: Path) -> Path | None:
    link.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.symlink(folder, link, target_is_directory=True)
    except OSError:
        return None
    return link


def _has_exif_rotation(image: Any) -> bool:
    try:
        return image.getexif().get(0x0112, 1) not in (1, None)
    except Exception:
        return False


def _normalised_image(image: Any) -> Any:
    """An RGB(A) copy, upright: PDF/A with an sRGB output intent wants no CMYK or 16-bit surprises."""
    from PIL import ImageOps

    image = ImageOps.exif_transpose(image)
    return image.convert("RGBA" if "A" in image.getbands() else "RGB")


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.symlink(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------------
# JSON for the template


def _message_data(message: Message, senders: Mapping[str, int], media: Mapping[str, Path],
                  stage: _Stage) -> dict[str, Any]:
    text = clean_text(message.text, stage.covered)
    data: dict[str, Any] = {"k": message.kind.value, "t": message.timestamp.strftime(stage.time_format),
                            "n": message.seq}
    if message.seq in stage.gaps:
        data["g"] = stage.gaps[message.seq]
    if message.kind is MessageKind.SYSTEM or message.sender is None:
        data["k"] = "system"
    else:
        data["s"] = senders[message.sender]
    data["x"] = add_break_opportunities(text)
    if message.edited:
        data["e"] = 1
    if message.seq in stage.notes:
        data["o"] = [add_break_opportunities(clean_text(line, stage.covered)) for line in stage.notes[message.seq]]
    if is_right_to_left(text):
        data["r"] = 1
    if message.attachments and message.kind is not MessageKind.DELETED:
        data["a"] = [_attachment_entry(a, media, stage) for a in message.attachments]
    return data


def _piece_data(piece: DayPiece, senders: Mapping[str, int], media: Mapping[str, Path],
                stage: _Stage) -> dict[str, Any]:
    day_offset = piece.group.offset
    messages = []
    for message in piece.messages:
        data = _message_data(message, senders, media, stage)
        offset = utc_offset_label(message.timestamp)
        if offset != day_offset:  # e.g. the switch to summer time within a day
            data["t"] += f" ({offset})"
        messages.append(data)
    return {"label": dutch_date(piece.group.day), "offset": day_offset, "cont": piece.continued,
            "messages": messages}


def _document_data(context: RenderContext, covered: Collection[int]) -> dict[str, Any]:
    """The document metadata (exact text) and the title as shown (with only characters the fonts have)."""
    title = clean_text(context.title) or "Chatgesprek"
    return {"title": title, "shown_title": clean_text(title, covered),
            "author": clean_text(context.archiefvormer), "identifier": clean_text(context.identifier),
            "shown_identifier": clean_text(context.identifier, covered)}


# ---------------------------------------------------------------------------------------------------
# Fonts and compiling


def find_font_dirs(font_root: Path = FONT_ROOT) -> list[Path]:
    """The directories holding DejaVu Sans and Noto Color Emoji; ToolMissing when either is absent."""
    known = [font_root / "truetype" / "dejavu" / TEXT_FONT_FILE, font_root / "truetype" / "noto" / EMOJI_FONT_FILE]
    dirs: list[Path] = []
    for expected in known:
        found = expected if expected.is_file() else next(font_root.rglob(expected.name), None)
        if found is None:
            raise ToolMissing(f"font {expected.name} is not installed", hint=SETUP_HINT)
        if found.parent not in dirs:
            dirs.append(found.parent)
    return dirs


def covered_code_points(font_dirs: Sequence[Path]) -> frozenset[int]:
    """Every code point some TrueType/OpenType font in `font_dirs` maps to a glyph."""
    return _covered_code_points(tuple(sorted(str(d) for d in font_dirs)))


@lru_cache(maxsize=4)
def _covered_code_points(font_dirs: tuple[str, ...]) -> frozenset[int]:
    points: set[int] = set()
    for directory in font_dirs:
        for font in sorted(Path(directory).iterdir()):
            if font.suffix.lower() in (".ttf", ".otf"):
                try:
                    points |= _cmap_code_points(font.read_bytes())
                except (struct.error, KeyError, ValueError):
                    continue  # a font we cannot read adds nothing; typst will skip it too
    return frozenset(points)


def _cmap_code_points(font: bytes) -> set[int]:
    """The code points of a font's cmap subtables of format 4 (BMP) and 12 (all planes)."""
    tables = {font[12 + 16 * i:16 + 16 * i]: struct.unpack_from(">I", font, 12 + 16 * i + 8)[0]
              for i in range(struct.unpack_from(">H", font, 4)[0])}
    cmap = tables[b"cmap"]
    points: set[int] = set()
    for i in range(struct.unpack_from(">H", font, cmap + 2)[0]):
        start = cmap + struct.unpack_from(">I", font, cmap + 4 + 8 * i + 4)[0]
        subtable_format = struct.unpack_from(">H", font, start)[0]
        if subtable_format == 4:
            points |= _cmap_format4(font, start)
        elif subtable_format == 12:
            for group in range(struct.unpack_from(">I", font, start + 12)[0]):
                first, last = struct.unpack_from(">II", font, start + 16 + 12 * group)
                points.update(range(first, last + 1))
    return points


def _cmap_format4(font: bytes, start: int) -> set[int]:
    doubled = struct.unpack_from(">H", font, start + 6)[0]
    count = doubled // 2
    ends = struct.unpack_from(f">{count}H", font, start + 14)
    starts = struct.unpack_from(f">{count}H", font, start + 16 + doubled)
    deltas = struct.unpack_from(f">{count}h", font, start + 16 + 2 * doubled)
    offsets_at = start + 16 + 3 * doubled
    offsets = struct.unpack_from(f">{count}H", font, offsets_at)
    points: set[int] = set()
    for k, (first, last) in enumerate(zip(starts, ends)):
        for code in range(first, min(last, 0xFFFE) + 1):
            glyph = (code + deltas[k]) & 0xFFFF
            if offsets[k]:
                glyph = struct.unpack_from(">H", font, offsets_at + 2 * k + offsets[k] + 2 * (code - first))[0]
                glyph = (glyph + deltas[k]) & 0xFFFF if glyph else 0
            if glyph:
                points.add(code)
    return points


@dataclass(frozen=True)
class _Job:
    """One typst compile: a root holding data.json and conversation.typ, and where the PDF goes."""

    root: Path
    output: Path
    font_dirs: tuple[Path, ...]
    created: datetime | None

    def argv(self) -> list[str]:
        spec = {"root": str(self.root), "output": str(self.output),
                "fonts": [str(d) for d in self.font_dirs],
                "created": self.created.isoformat() if self.created else None}
        return [sys.executable, "-m", "preservation.normalise.conversation_pdf", json.dumps(spec)]


def _prepare_job(root: Path, data: dict[str, Any], output: Path, font_dirs: Sequence[Path],
                 created: datetime | None) -> _Job:
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    shutil.copyfile(TEMPLATE, root / "conversation.typ")
    return _Job(root, output, tuple(font_dirs), created)


def _run_job(job: _Job) -> None:
    """Compile one job in a fresh process; RenderingFailed with typst's message when it fails."""
    env = dict(os.environ)
    project_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (project_root, env.get("PYTHONPATH")) if p)
    done = subprocess.run(job.argv(), capture_output=True, text=True, env=env)
    if done.returncode != 0 or not job.output.is_file():
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise RenderingFailed("typst could not render the conversation: "
                              + (lines[-1] if lines else f"exit code {done.returncode}"))


def compile_typst(root: Path, output: Path, font_dirs: Sequence[Path], created: datetime | None) -> None:
    """Compile root/conversation.typ to a PDF/A-2b file at `output`, or raise RenderingFailed."""
    import typst

    try:
        pdf = typst.compile(str(root / "conversation.typ"), root=str(root),
                            font_paths=[str(d) for d in font_dirs], ignore_system_fonts=True,
                            pdf_standards="a-2b", timestamp=created, pdf_tags=False)
    except Exception as error:  # typst.TypstError, or a panic surfacing as another exception
        message = " ".join(str(getattr(error, "message", error) or error).split())
        raise RenderingFailed(f"typst: {message}") from error
    output.write_bytes(pdf)


def _worker_main(argv: Sequence[str]) -> int:
    spec = json.loads(argv[0])
    created = datetime.fromisoformat(spec["created"]) if spec["created"] else None
    try:
        compile_typst(Path(spec["root"]), Path(spec["output"]), [Path(d) for d in spec["fonts"]], created)
    except RenderingFailed as error:
        sys.stderr.write(error.message + "\n")
        return 3
    return 0


# ---------------------------------------------------------------------------------------------------
# Joining the chunks


def _outline_entries(pdf: Any, page_offset: int) -> list[tuple[str, int, float | None]]:
    """(title, page index in the joined document, top) for each top-level bookmark of a chunk."""
    index_of = {page.objgen: i for i, page in enumerate(pdf.pages)}
    entries = []
    with pdf.open_outline() as outline:
        for item in outline.root:
            destination = item.destination
            if destination is None and item.action is not None:
                destination = item.action.get("/D")
            if destination is None or len(destination) < 1:
                continue
            page_index = index_of.get(destination[0].objgen)
            if page_index is None:
                continue
            top = float(destination[3]) if len(destination) > 3 and destination[1] == "/XYZ" else None
            entries.append((item.title, page_offset + page_index, top))
    return entries


def _join_when_compiled(
    compiling: Sequence[tuple[_Job, Future[None]]],
) -> tuple[Any, list[tuple[str, int, float | None]]]:
    """The chunks as one pikepdf document (metadata and output intent of the first) and its bookmarks,
    each chunk joined as soon as its compile is done (raises what a failed compile raised)."""
    import pikepdf

    first_job, first = compiling[0]
    first.result()
    joined = pikepdf.open(first_job.output)
    entries = _outline_entries(joined, 0)
    for job, done in compiling[1:]:
        done.result()
        with pikepdf.open(job.output) as chunk:
            entries.extend(_outline_entries(chunk, len(joined.pages)))
            joined.pages.extend(chunk.pages)
    return joined, entries


def _write_outline(pdf: Any, entries: Sequence[tuple[str, int, float | None]]) -> None:
    import pikepdf
    from pikepdf import OutlineItem, PageLocation

    if "/Outlines" in pdf.Root:
        del pdf.Root["/Outlines"]
    with pdf.open_outline() as outline:
        for title, page_index, top in entries:
            if top is None:
                outline.root.append(OutlineItem(title, page_index))
            else:
                outline.root.append(OutlineItem(title, page_index, PageLocation.XYZ, top=top))
    if entries:
        pdf.Root.PageMode = pikepdf.Name.UseOutlines


def _stamp_footers(pdf: Any, footers_file: Path) -> None:
    import pikepdf

    # The footer pages have the same size as the chunk pages, so each is drawn as a form XObject at
    # identity. pikepdf's add_overlay would pick a random resource name, which breaks reproducibility.
    with pikepdf.open(footers_file) as footers:
        for page, footer in zip(pdf.pages, footers.pages):
            form = pdf.copy_foreign(footer.as_form_xobject())
            name = page.add_resource(form, pikepdf.Name.XObject, name=pikepdf.Name("/EdepotFooter"))
            page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
            page.contents_add(pdf.make_stream(b"\nQ\nq " + bytes(name.unparse()) + b" Do Q\n"))


# ---------------------------------------------------------------------------------------------------
# The public function


def render_conversation_pdf(conversation: Conversation, media: Mapping[str, Path],
                            context: RenderContext, known_sha256: Mapping[Path, str] | None = None, *,
                            known_formats: Mapping[Path, str] | None = None) -> bytes:
    """The conversation as a PDF/A-2b document (bytes), ready to be stored as its preservation copy.

    Promises: a title page with the record's metadata; every message in export order under a heading
    per day (one bookmark per day), sender, time (HH:MM, or HH:MM:SS when the export gives seconds) and
    "bericht N" (its number in the export) on each, the name never alone at the foot of a page, text set
    literally; where numbers are missing a line "N berichten niet opgenomen"; images from `media` (JPEG,
    PNG, GIF) shown inline, other attachments listed with size and sha256, absent ones marked "niet
    meegeëxporteerd" (by name when the export names a file); the kenmerk at the top and "pagina X van Y"
    at the foot of every page; all fonts embedded. The
    output depends only on the arguments when `context.created` is given. `known_sha256` (path → digest)
    spares hashing attachments whose digest the caller has already; `known_formats` (path → MIME type, as
    identified) spares opening attachments that are no image.
    Raises ToolMissing when the fonts are not installed, RenderingFailed when typst fails.
    """
    import pikepdf

    font_dirs = find_font_dirs()
    covered = covered_code_points(font_dirs)
    senders = sender_indexes(conversation)
    days = group_by_day(conversation.messages)
    with tempfile.TemporaryDirectory(prefix="edepot-pdf-") as tmp:
        work = Path(tmp)
        stage = _Stage(work / "root", covered, known_sha256=dict(known_sha256 or {}),
                       known_formats=dict(known_formats or {}),
                       time_format=time_format(conversation.messages), gaps=gaps_before(conversation.messages),
                       notes=message_notes(conversation.source.inferred))
        last_seq = max((m.seq for m in conversation.messages), default=0)
        stage.root.mkdir()
        shown = _stage_images(conversation.messages, media, stage)

        def weigh(message: Message) -> int:
            return message_weight(message, shown)

        total = sum(weigh(m) for m in conversation.messages)
        chunks = plan_chunks(days, chunk_limit(total), weigh) or [[]]
        names = {v: k for k, v in senders.items()}
        shown_names = [clean_text(names[i], covered) for i in range(len(names))]
        base = _document_data(context, covered) | {"mode": "chunk", "senders": shown_names}
        # Each chunk is compiled as soon as its data is written, while the next one's is prepared, and
        # joined as soon as it is done, while later ones compile: the processor is never left waiting.
        with ThreadPoolExecutor(max_workers=PARALLEL_COMPILES) as pool:
            compiling = []
            try:
                for number, chunk in enumerate(chunks):
                    data = base | {"days": [_piece_data(p, senders, media, stage) for p in chunk]}
                    if number == 0:
                        rows = title_page_rows(conversation, context, covered)
                        data["title_page"] = {"rows": rows, "note": _TITLE_NOTE}
                    if number == len(chunks) - 1 and context.export_messages and context.export_messages > last_seq:
                        data["end_gap"] = context.export_messages - last_seq
                    job = _prepare_job(work / f"chunk{number}", data, work / f"chunk{number}.pdf",
                                       font_dirs, context.created)
                    _share_media(stage.root, work / f"chunk{number}")
                    compiling.append((job, pool.submit(_run_job, job)))
                joined, entries = _join_when_compiled(compiling)
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise
        with joined:
            footers = _prepare_job(work / "footers", _document_data(context, covered) | {"mode": "footers",
                                   "pages": len(joined.pages)}, work / "footers.pdf", font_dirs, context.created)
            _run_job(footers)
            _write_outline(joined, entries)
            _stamp_footers(joined, footers.output)
            output = work / "conversation.pdf"
            joined.save(output, deterministic_id=True,
                        object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return output.read_bytes()


_TITLE_NOTE = ("Deze weergave is door het e-Depot gemaakt uit de export van het gesprek. Tijden staan "
               "zoals de export ze geeft, in de tijdzone hierboven; de UTC-afwijking staat bij elke dag. "
               "Elk bericht draagt zijn nummer in de export; waar nummers ontbreken staat hoeveel berichten "
               "niet zijn opgenomen. Lange woorden en adressen kunnen over regels zijn afgebroken.")


def _share_media(media_root: Path, chunk_root: Path) -> None:
    """Make the staged images visible under a chunk's typst root (typst reads only below its root)."""
    target = chunk_root / "media"
    if (media_root / "media").is_dir() and not target.exists():
        os.symlink(media_root / "media", target)


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
