"""Screenshots e-mailed or handed over as images: real screenshot-like images rendered here with Pillow
(black Dutch text on white, DejaVu), read back by the real Tesseract; e-mail text, Date and parts; EXIF
and file times; HEIC through pillow-heif; damaged images kept; random bytes refused with our errors."""
from __future__ import annotations

import io
import json
import os
import zipfile
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from ingest.export import open_export
from ingest.sources import screenshots
from ingest.sources.base import ParseOptions
from kernel.errors import InputError
from kernel.model import Conversation, MessageKind

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

LINES_1 = ["Burgemeester: vergadering morgen", "Wethouder: akkoord, stuur de agenda"]
LINES_2 = ["Griffier: notulen staan online", "Raadslid: bedankt voor het bericht"]


def render(lines: list[str], fmt: str = "PNG", exif: Image.Exif | None = None) -> bytes:
    """A screenshot-like image: large black DejaVu text on white, one line per chat line."""
    font = ImageFont.truetype(str(FONT), 44)
    image = Image.new("RGB", (1200, 120 + 110 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((50, 60 + i * 110), line, fill="black", font=font)
    out = io.BytesIO()
    if exif is not None:
        image.save(out, fmt, exif=exif)
    else:
        image.save(out, fmt)
    return out.getvalue()


def words(text: str) -> set[str]:
    return {w.strip(".,:;!?").lower() for w in text.split()}


def parse(paths: list[Path], tz: str = "Europe/Amsterdam") -> Conversation:
    export = open_export(paths)
    assert screenshots.FORMAT.score(export) == 0.6
    (conversation,) = screenshots.FORMAT.parse_all(export, ParseOptions(tz=tz))
    jsonschema.validate(conversation.to_dict(), SCHEMA)
    assert Conversation.from_dict(json.loads(conversation.to_json())) == conversation
    return conversation


def _eml(tmp_path: Path, images: list[tuple[str, bytes]], date: str = "Thu, 14 Mar 2024 09:30:00 +0100") -> Path:
    message = EmailMessage()
    message["From"] = "Petra de Vries <p.devries@voorbeeldstad.nl>"
    message["To"] = "dio@voorbeeldstad.nl"
    message["Subject"] = "Sms'jes burgemeester maart"
    message["Date"] = date
    message.set_content("Hierbij de screenshots van de sms'jes.\nGroet, Petra")
    for name, data in images:
        message.add_attachment(data, maintype="image", subtype="png", filename=name)
    path = tmp_path / "sms-burgemeester.eml"
    path.write_bytes(bytes(message))
    return path


@pytest.fixture(scope="module")
def shots() -> tuple[bytes, bytes]:
    if not FONT.is_file():
        pytest.skip("DejaVu (fonts-dejavu-core, installed by scripts/setup.sh) is missing")
    return render(LINES_1), render(LINES_2)


def test_emailed_screenshots_are_read_by_tesseract(tmp_path: Path, shots: tuple[bytes, bytes]) -> None:
    path = _eml(tmp_path, [("IMG_0001.PNG", shots[0]), ("IMG_0002.PNG", shots[1])])
    conv = parse([path])
    assert conv.title == "Sms'jes burgemeester maart"
    intro, first, second = conv.messages
    assert (intro.kind, intro.sender, intro.text) == (
        MessageKind.TEXT, "Petra de Vries <p.devries@voorbeeldstad.nl>", "Hierbij de screenshots van de sms'jes.\nGroet, Petra"
    )
    assert (first.kind, first.sender) == (MessageKind.MEDIA, None)
    assert [a.to_dict() for a in first.attachments] == [
        {"name": "sms-burgemeester.parts/1-IMG_0001.PNG", "present": True, "media_type": "image/png"}
    ]
    assert {"burgemeester", "vergadering", "morgen", "wethouder", "akkoord", "agenda"} <= words(first.text)
    assert {"griffier", "notulen", "online", "raadslid", "bedankt", "bericht"} <= words(second.text)
    assert "griffier" not in words(first.text)
    assert all(m.timestamp.isoformat() == "2024-03-14T09:30:00+01:00" for m in conv.messages)
    ocr = conv.source.inferred["ocr"]
    assert ocr["seqs"] == [2, 3] and ocr["languages"] == "nld+eng" and ocr["engine"].startswith("tesseract ")
    assert conv.source.inferred["timestamps"] == {"1": "e-mail Date header", "2": "e-mail Date header",
                                                  "3": "e-mail Date header"}
    export = open_export([path])
    parts = dict(screenshots.iter_part_data(export))
    assert parts == {"sms-burgemeester.parts/1-IMG_0001.PNG": shots[0], "sms-burgemeester.parts/2-IMG_0002.PNG": shots[1]}


def test_loose_images_exif_and_file_times_in_order(tmp_path: Path, shots: tuple[bytes, bytes]) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2024:03:14 18:05:00"
    later = tmp_path / "later.jpg"
    later.write_bytes(render(LINES_2, "JPEG", exif))
    earlier = tmp_path / "earlier.png"
    earlier.write_bytes(shots[0])
    stamp = datetime(2024, 3, 14, 8, 0, tzinfo=timezone.utc).timestamp()
    os.utime(earlier, (stamp, stamp))
    conv = parse([later, earlier])
    first, second = conv.messages
    assert first.attachments[0].name == "earlier.png" and second.attachments[0].name == "later.jpg"
    assert first.timestamp.isoformat() == "2024-03-14T09:00:00+01:00"
    assert second.timestamp.isoformat() == "2024-03-14T18:05:00+01:00"
    assert conv.source.inferred["timestamps"] == {
        "1": "file modification time", "2": "EXIF DateTimeOriginal (wall clock, read in Europe/Amsterdam)"
    }
    assert {"griffier", "notulen"} <= words(second.text)
    assert second.attachments[0].media_type == "image/jpeg"


def test_heic_screenshot_in_a_zip(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    if not FONT.is_file():
        pytest.skip("DejaVu is missing")
    image = Image.open(io.BytesIO(render(LINES_1)))
    out = io.BytesIO()
    image.save(out, "HEIF", quality=95)
    archive = tmp_path / "screenshots.zip"
    with zipfile.ZipFile(archive, "w") as z:
        info = zipfile.ZipInfo("IMG_0003.HEIC", date_time=(2024, 3, 14, 10, 0, 0))
        z.writestr(info, out.getvalue())
    conv = parse([archive])
    (shot,) = conv.messages
    assert shot.attachments[0].media_type == "image/heic"
    assert {"burgemeester", "vergadering"} <= words(shot.text)
    assert shot.timestamp.isoformat() == "2024-03-14T10:00:00+01:00"


def test_damaged_image_keeps_its_message(tmp_path: Path, shots: tuple[bytes, bytes]) -> None:
    broken = shots[0][:200]  # a PNG cut short: recognisable, not readable
    path = _eml(tmp_path, [("kapot.png", broken), ("heel.png", shots[1])])
    conv = parse([path])
    assert [m.kind.value for m in conv.messages] == ["text", "media", "media"]
    assert conv.messages[1].text == "" and conv.messages[1].attachments[0].present
    assert conv.source.inferred["ocr"]["seqs"] == [3]
    assert conv.source.inferred["ocr_failed"][0]["seq"] == 2


def test_email_without_date_and_other_files_are_refused(tmp_path: Path, shots: tuple[bytes, bytes]) -> None:
    path = _eml(tmp_path, [("a.png", shots[0])])
    path.write_bytes(path.read_bytes().replace(b"Date: ", b"X-Old-Date: "))
    with pytest.raises(InputError, match="no readable Date"):
        screenshots.FORMAT.parse_all(open_export([path]), ParseOptions())
    text = tmp_path / "notes.txt"
    text.write_text("geen screenshot", encoding="utf-8")
    assert screenshots.FORMAT.score(open_export([text])) == 0.0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=300))
def test_random_bytes_raise_only_input_errors(tmp_path: Path, data: bytes) -> None:
    for name, prefix in (("x.png", b"\x89PNG\r\n\x1a\n"), ("x.eml", b"From: a\nDate: b\nContent-Type: multipart/mixed\n")):
        path = tmp_path / name
        path.write_bytes(prefix + data)
        export = open_export([path])
        screenshots.FORMAT.score(export)
        try:
            screenshots.FORMAT.parse_all(export, ParseOptions())
        except InputError:
            pass
