"""Format validation where a validator exists (OAIS Ingest, "Quality Assurance"; PREMIS eventType "validation").

Validators by what FIDO identified (MIME type, or the PUID when FIDO gives no MIME type):
  * JPEG, PNG, GIF, WebP, HEIC: Pillow decodes the whole image (verify, then load);
  * PDF: pikepdf (QPDF) opens it and reads every page object;
  * audio and video: ffprobe reads the container and finds at least one stream with a known codec.

Policy: a file that fails validation is reported (a PREMIS "validation" event with outcome "failure", and a
row in the ingest report) but does not stop the ingest. The SIP's own checksums already prove the bytes are
those the producer sent; a damaged photo is still the record as it was created, and refusing it would lose
the rest of the conversation. Files without a validator get no event (nothing was checked).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Callable

IMAGE_PUIDS = {"fmt/566", "fmt/567", "fmt/568", "fmt/1101"}  # WebP and HEIC, which FIDO gives no MIME type


class Verdict(str, Enum):
    VALID = "valid"
    INVALID = "invalid"


@dataclass(frozen=True)
class FormatCheck:
    """The outcome of validating one file with one validator."""

    validator: str  # e.g. "Pillow 13.0.0", "pikepdf 10.18.0 (qpdf 12.2.0)", "ffprobe 5.1.9"
    verdict: Verdict
    detail: str

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.VALID


def validate_format(path: Path, puid: str | None, mime_type: str | None) -> FormatCheck | None:
    """Validate one file by its identified format; None when edepot has no validator for it. Never raises."""
    validator = _validator_for(puid, mime_type or "")
    if validator is None:
        return None
    try:
        return validator(path)
    except Exception as error:  # noqa: BLE001 - a validator that trips over a file is a failed validation
        return FormatCheck(_name_of(validator), Verdict.INVALID, f"{type(error).__name__}: {error}")


def _validator_for(puid: str | None, mime: str) -> Callable[[Path], FormatCheck] | None:
    if mime.startswith("image/") and mime not in ("image/svg+xml",) or puid in IMAGE_PUIDS:
        return _image
    if mime == "application/pdf":
        return _pdf
    if mime.startswith(("audio/", "video/")) or mime in ("application/mp4", "application/ogg"):
        return _media
    return None


def _name_of(validator: Callable[[Path], FormatCheck]) -> str:
    names: dict[Callable[[Path], FormatCheck], Callable[[], str]] = {
        _image: _pillow_name, _pdf: _pikepdf_name, _media: _ffprobe_name}
    return names[validator]()


def _pillow_name() -> str:
    from PIL import __version__

    return f"Pillow {__version__}"


def _image(path: Path) -> FormatCheck:
    from PIL import Image

    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:
        pass
    with Image.open(path) as image:
        image.verify()  # structure and checksums (PNG CRCs); the image is unusable afterwards
    with Image.open(path) as image:
        image.load()  # decodes every pixel: a truncated JPEG fails here
        detail = f"{image.format} {image.size[0]}×{image.size[1]} {image.mode} decoded"
    return FormatCheck(_pillow_name(), Verdict.VALID, detail)


def _pikepdf_name() -> str:
    import pikepdf

    return f"pikepdf {pikepdf.__version__} (qpdf {pikepdf.__libqpdf_version__})"


def _pdf(path: Path) -> FormatCheck:
    import pikepdf

    with pikepdf.open(path) as pdf:
        pages = len(pdf.pages)
        problems = pdf.check_pdf_syntax()  # QPDF's structural check: xref, streams, page tree
    if problems:
        return FormatCheck(_pikepdf_name(), Verdict.INVALID, "; ".join(str(p) for p in problems[:3]))
    return FormatCheck(_pikepdf_name(), Verdict.VALID, f"PDF structure read, {pages} pages")


@lru_cache(maxsize=None)
def _ffprobe_name() -> str:
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return "ffprobe (not installed)"
    first = subprocess.run([ffprobe, "-version"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
    return " ".join(first.split()[:3]).replace(" version", "")


def _media(path: Path) -> FormatCheck:
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return FormatCheck(_ffprobe_name(), Verdict.INVALID, "ffprobe is not installed (Debian package ffmpeg)")
    done = subprocess.run([ffprobe, "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)],
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return FormatCheck(_ffprobe_name(), Verdict.INVALID, lines[-1] if lines else f"exit {done.returncode}")
    info = json.loads(done.stdout or "{}")
    streams = [s for s in info.get("streams", []) if s.get("codec_name")]
    if not streams:
        return FormatCheck(_ffprobe_name(), Verdict.INVALID, "no audio or video stream with a known codec")
    duration = info.get("format", {}).get("duration")
    codecs = ", ".join(f"{s.get('codec_type')} {s.get('codec_name')}" for s in streams)
    return FormatCheck(_ffprobe_name(), Verdict.VALID, f"{codecs}" + (f", {float(duration):.1f} s" if duration else ""))
