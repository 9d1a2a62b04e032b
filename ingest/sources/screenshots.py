"""Screenshots of a conversation: e-mailed (`.eml` with image attachments) or handed over as image files.

Implements the `screenshots` export format of issue 4. iPhones cannot export SMS, so the VNG protocol
for chat records tells users to photograph the screen and mail the screenshots. The export is then one
or more `.eml` files (RFC 5322 / MIME), loose PNG/JPEG/HEIC images, a folder or a zip of them.

Decisions a records manager should know:
- One conversation for the whole export. Each screenshot is one message of kind media whose attachment
  is the image itself (the original); nobody typed its words, so `sender` is None.
- The words in the image are recognised with Tesseract (the real `tesseract` program, Dutch and English
  models, `-l nld+eng`) and stored as the message's `text`: derived, searchable, and marked as such in
  `source.inferred["ocr"]` (engine and version, languages, and the seqs whose text is OCR). An image
  Tesseract or Pillow cannot read keeps its message with text "" and is listed under `ocr_failed`.
- An e-mail's own text (what the sender wrote around the screenshots) is one message of kind text from
  the e-mail's `From`, before its screenshots.
- Times: an e-mail's `Date` header for the e-mail and each of its screenshots; for an image file the
  EXIF DateTimeOriginal (wall clock read in `--tz`, or with its OffsetTimeOriginal), else the file's
  modification time. Which basis each seq got is in `source.inferred["timestamps"]`: these times say
  when the screenshot was sent or made, not when the messages on it were written.
- Messages are in time order; within one e-mail, in the e-mail's order.
- Images inside an e-mail are attachments named `<eml stem>.parts/<n>-<file name>`; `iter_part_data`
  yields their decoded bytes under those names.
- HEIC images are read with pillow-heif.
"""
from __future__ import annotations

import email
import email.policy
import functools
import io
import mimetypes
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from PIL import Image, UnidentifiedImageError

from ingest.export import Export, FilesExport, FolderExport, ZipExport
from ingest.sources.base import ParseOptions
from ingest.sources.wall_clock import aware
from kernel.errors import InputError, ToolMissing
from kernel.model import Attachment, Conversation, Message, MessageKind, Source, participants_of

NAME = "screenshots"
OCR_LANGUAGES = "nld+eng"
OCR_TIMEOUT_SECONDS = 120
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".heic", ".heif")
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1")
_EML_HEADERS = re.compile(rb"^(?:From|Date|Subject|To|MIME-Version|Received|Return-Path|Message-ID):", re.I | re.M)
_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f/\\:*?"<>|]')
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_OFFSET_TIME_ORIGINAL = 36881
_DATETIME = 306


@dataclass(frozen=True)
class Shot:
    """One screenshot or e-mail text found in the export, before OCR: where it is and when it was."""

    order: tuple[Any, ...]  # sort key: time, then position in the export
    timestamp: datetime
    basis: str  # "email Date", "EXIF DateTimeOriginal", "file modification time", ...
    name: str  # attachment name (member, or <eml stem>.parts/<n>-<file>)
    media_type: str | None
    data: bytes | None  # the image bytes (None for an e-mail's text)
    sender: str | None = None
    text: str = ""


def is_image(head: bytes) -> bool:
    """Whether the first bytes are a PNG, JPEG or HEIF image."""
    if head.startswith(_MAGIC):
        return True
    return len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def looks_like_eml(head: bytes) -> bool:
    """Whether the first bytes are an e-mail with MIME parts, one of them an image."""
    headers = len(_EML_HEADERS.findall(head[:16384]))
    return headers >= 2 and b"multipart/" in head.lower() and b"image/" in head.lower()


class ScreenshotsFormat:
    """The registry entry for screenshots sent by e-mail or handed over as image files."""

    name = NAME

    def score(self, export: Export) -> float:
        """0.6 when every member is an e-mail with image parts or an image (nothing else writes those
        as a chat export), 0.0 otherwise."""
        members = export.members()
        if not members:
            return 0.0
        for member in members:
            head = export.read_head(member.name)
            if not (is_image(head) or (member.name.lower().endswith(".eml") and looks_like_eml(head))):
                return 0.0
        return 0.6

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """One conversation: the e-mails' texts and every screenshot, OCR text as each one's text."""
        engine = tesseract_version()
        shots: list[Shot] = []
        titles: list[str] = []
        for position, member in enumerate(export.members()):
            head = export.read_head(member.name)
            if member.name.lower().endswith(".eml") and not is_image(head):
                shots.extend(_email_shots(export.read(member.name), member.name, position, options, titles))
            elif is_image(head):
                shots.append(_image_shot(export, member.name, position, options))
            else:
                raise InputError(f"{member.name} is neither an e-mail nor a PNG, JPEG or HEIC image")
        if not shots:
            raise InputError("the export holds no screenshot")
        shots.sort(key=lambda s: s.order)
        messages: list[Message] = []
        ocr_seqs: list[int] = []
        failed: list[dict[str, Any]] = []
        bases: dict[str, str] = {}
        # one tesseract per core, each on one thread: faster than one tesseract spreading over the cores
        with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
            readings = [pool.submit(_read_or_fail, shot.data) if shot.data is not None else None for shot in shots]
            for seq, (shot, reading) in enumerate(zip(shots, readings), 1):
                bases[str(seq)] = shot.basis
                if reading is None:
                    messages.append(Message(seq, shot.timestamp, shot.sender, MessageKind.TEXT, shot.text))
                    continue
                attachment = Attachment(name=shot.name, present=True, media_type=shot.media_type)
                text, problem = reading.result()
                if problem is not None:
                    failed.append({"seq": seq, "name": shot.name, "reason": problem})
                else:
                    ocr_seqs.append(seq)
                messages.append(Message(seq, shot.timestamp, None, MessageKind.MEDIA, text, (attachment,)))
        inferred: dict[str, Any] = {
            "ocr": {
                "engine": engine,
                "languages": OCR_LANGUAGES,
                "seqs": ocr_seqs,
                "note": "the text of these messages was recognised in the image by OCR, not typed",
            },
            "timestamps": bases,
        }
        if failed:
            inferred["ocr_failed"] = failed
        source = Source(format=NAME, platform="screenshots", locale=None, timezone=options.tz,
                        files=export.source_files(), inferred=inferred)
        title = titles[0] if titles else None
        return [Conversation(source=source, participants=participants_of(messages), messages=tuple(messages), title=title)]

    def embedded_files(self, export: Export) -> Iterator[tuple[str, bytes]]:
        """The images inside the export's e-mails."""
        return iter_part_data(export)


FORMAT = ScreenshotsFormat()


# --- e-mails ----------------------------------------------------------------------------------------


def _parse_email(data: bytes, name: str) -> EmailMessage:
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
    except (ValueError, TypeError, IndexError, LookupError) as exc:
        raise InputError(f"{name} is not a readable e-mail: {exc}") from None
    assert isinstance(message, EmailMessage)
    return message


def _email_images(message: EmailMessage) -> Iterator[tuple[str | None, str, bytes]]:
    """(file name, media type, bytes) of each image part, in the e-mail's order."""
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "image":
            continue
        try:
            payload = part.get_payload(decode=True)
        except (ValueError, TypeError, AssertionError):
            payload = None
        if not isinstance(payload, bytes):
            payload = b""
        yield part.get_filename(), part.get_content_type(), payload


def _email_shots(data: bytes, member: str, position: int, options: ParseOptions, titles: list[str]) -> list[Shot]:
    message = _parse_email(data, member)
    sent, basis = _email_date(message, options)
    if sent is None:
        raise InputError(f"{member} has no readable Date header; cannot place its screenshots in time")
    sender = _header(message, "From")
    subject = _header(message, "Subject")
    if subject:
        titles.append(subject)
    shots: list[Shot] = []
    body = message.get_body(preferencelist=("plain",))
    text = ""
    if body is not None:
        try:
            text = str(body.get_content()).strip()
        except (LookupError, ValueError, AssertionError):
            text = ""
    if text:
        shots.append(Shot((sent.astimezone(timezone.utc), position, 0), sent, basis, member, None, None, sender, text))
    stem = PurePosixPath(member).stem
    for n, (filename, media_type, payload) in enumerate(_email_images(message), 1):
        name = _part_name(stem, n, filename, media_type)
        shots.append(Shot((sent.astimezone(timezone.utc), position, n), sent, basis, name, media_type, payload))
    return shots


def _email_date(message: EmailMessage, options: ParseOptions) -> tuple[datetime | None, str]:
    raw = message.get("Date")
    if raw is None:
        return None, ""
    try:
        when = parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError):
        return None, ""
    if when.tzinfo is None:  # "-0000": the sender's zone is unknown
        return when.replace(tzinfo=timezone.utc).astimezone(options.zone), "e-mail Date header (zone unknown, read as UTC)"
    return when.astimezone(options.zone), "e-mail Date header"


def _header(message: EmailMessage, name: str) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        return None
    return " ".join(str(value).split()) or None if value is not None else None


def iter_part_data(export: Export) -> Iterator[tuple[str, bytes]]:
    """(attachment name, bytes) of every image inside the export's e-mails, one e-mail at a time."""
    for member in export.members():
        if not member.name.lower().endswith(".eml"):
            continue
        message = _parse_email(export.read(member.name), member.name)
        stem = PurePosixPath(member.name).stem
        for n, (filename, media_type, payload) in enumerate(_email_images(message), 1):
            yield _part_name(stem, n, filename, media_type), payload


def _part_name(stem: str, n: int, filename: str | None, media_type: str) -> str:
    """`<eml stem>.parts/<n>-<file name>`: unique in the export, safe as a path."""
    base = filename or "image" + (mimetypes.guess_extension(media_type) or "")
    return f"{stem}.parts/{n}-{_UNSAFE_NAME_CHARS.sub('_', base).strip(' .') or 'image'}"


# --- image files ------------------------------------------------------------------------------------


def _image_shot(export: Export, member: str, position: int, options: ParseOptions) -> Shot:
    data = export.read(member)
    media_type = _media_type(member, data)
    when, basis = _exif_time(data, options)
    if when is None:
        when, basis = _file_time(export, member, options)
    return Shot((when.astimezone(timezone.utc), position, 0), when, basis, member, media_type, data)


def _media_type(name: str, data: bytes) -> str | None:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "image/heic"
    return mimetypes.guess_type(name, strict=False)[0]


def _exif_time(data: bytes, options: ParseOptions) -> tuple[datetime | None, str]:
    try:
        with _open_image(data) as image:
            exif = image.getexif()
            ifd = exif.get_ifd(_EXIF_IFD)
            raw = ifd.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
            offset = ifd.get(_OFFSET_TIME_ORIGINAL)
    except InputError:
        return None, ""
    if not isinstance(raw, str):
        return None, ""
    try:
        wall = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, ""
    if isinstance(offset, str) and re.fullmatch(r"[+-]\d{2}:\d{2}", offset.strip("\x00 ")):
        fixed = datetime.fromisoformat(wall.isoformat() + offset.strip("\x00 "))
        return fixed.astimezone(options.zone), "EXIF DateTimeOriginal with OffsetTimeOriginal"
    return aware(wall, options.zone, 0, []), f"EXIF DateTimeOriginal (wall clock, read in {options.tz})"


def _file_time(export: Export, member: str, options: ParseOptions) -> tuple[datetime, str]:
    if isinstance(export, (FilesExport, FolderExport)):
        path = export._by_name[member]  # the Export API gives no other way to a member's mtime
        stamp = os.stat(path).st_mtime
        return datetime.fromtimestamp(stamp, tz=timezone.utc).astimezone(options.zone), "file modification time"
    if isinstance(export, ZipExport):
        with zipfile.ZipFile(export.paths[0]) as archive:
            wall = datetime(*archive.getinfo(member).date_time)
        return aware(wall, options.zone, 0, []), f"zip entry time (wall clock, read in {options.tz})"
    raise InputError(f"cannot tell when {member} was made")


# --- OCR --------------------------------------------------------------------------------------------


def _open_image(data: bytes) -> Image.Image:
    """The image in `data` (PNG, JPEG, or HEIC through pillow-heif); InputError when it cannot be read."""
    if len(data) >= 12 and data[4:8] == b"ftyp":
        _register_heif()
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InputError(f"the image cannot be read: {exc}") from None
    return image


@functools.cache
def _register_heif() -> None:
    try:
        import pillow_heif
    except ImportError as exc:
        raise ToolMissing("pillow-heif is not installed; HEIC screenshots cannot be read",
                          hint="run scripts/setup.sh") from exc
    pillow_heif.register_heif_opener()


@functools.cache
def tesseract_version() -> str:
    """"tesseract 5.3.0" (the program's first version line); ToolMissing without it or its Dutch and
    English models."""
    program = shutil.which("tesseract")
    if program is None:
        raise ToolMissing("tesseract is not installed; screenshots need OCR", hint="run scripts/setup.sh")
    try:
        version = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30)
        langs = subprocess.run([program, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolMissing(f"tesseract does not run: {exc}", hint="run scripts/setup.sh") from None
    available = set((langs.stdout + langs.stderr).split())
    missing = [lang for lang in OCR_LANGUAGES.split("+") if lang not in available]
    if missing:
        raise ToolMissing(f"tesseract lacks the language data {', '.join(missing)}", hint="run scripts/setup.sh")
    first = (version.stdout or version.stderr).strip().splitlines()
    return first[0] if first else "tesseract"


def _read_or_fail(data: bytes) -> tuple[str, str | None]:
    """(text, None), or ("", why) when the image cannot be read; ToolMissing still ends the parse."""
    try:
        return recognise_text(data), None
    except InputError as exc:
        return "", exc.message


def recognise_text(data: bytes) -> str:
    """The text Tesseract reads in the image `data` (Dutch and English), line breaks kept, trailing
    blanks removed. InputError when the image cannot be read; ToolMissing without Tesseract."""
    tesseract_version()
    with _open_image(data) as image:
        converted = image.convert("L") if image.mode not in ("L", "RGB") else image.copy()
    with tempfile.TemporaryDirectory(prefix="edepot-ocr-") as folder:
        png = Path(folder) / "shot.png"
        converted.save(png, format="PNG")
        try:
            result = subprocess.run(
                [shutil.which("tesseract") or "tesseract", str(png), "stdout", "-l", OCR_LANGUAGES],
                capture_output=True, timeout=OCR_TIMEOUT_SECONDS, env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            )
        except subprocess.TimeoutExpired:
            raise InputError(f"tesseract took longer than {OCR_TIMEOUT_SECONDS} s on the image") from None
    if result.returncode != 0:
        raise InputError(f"tesseract failed: {result.stderr.decode('utf-8', 'replace').strip()[:200]}")
    text = result.stdout.decode("utf-8", errors="replace").replace("\f", "")
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(lines).strip("\n")

