"""Real media files made at test time (ffmpeg lavfi, Pillow), and WhatsApp iOS exports that carry them."""
from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

from PIL import Image

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def eicar_database(folder: Path) -> Path:
    """edepot's test ClamAV database (.hdb, one signature: the EICAR test file), as users may write it too."""
    from preservation.scan import write_test_database

    return write_test_database(folder)


def pdf_of_objects(objects: list[bytes], version: str = "1.7") -> bytes:
    """A PDF written by hand: header, the numbered `objects` (1 is the catalogue), cross-reference table and
    trailer, with every offset exact, so PDF readers and format identification take it as it is."""
    out = bytearray(b"%PDF-" + version.encode() + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_media(folder: Path) -> dict[str, Path]:
    """voice.opus, voice.m4a, h264.mp4, mpeg4.mp4, sticker.webp, photo.heic, photo.jpg, contact.vcf."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {name: folder / name for name in ("voice.opus", "voice.m4a", "h264.mp4", "mpeg4.mp4", "sticker.webp",
                                             "photo.heic", "photo.jpg", "contact.vcf")}
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "libopus", str(made["voice.opus"]))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:duration=1", "-c:a", "aac", str(made["voice.m4a"]))
    ffmpeg("-f", "lavfi", "-i", "testsrc=duration=1:size=160x120:rate=10", "-c:v", "libx264", "-pix_fmt", "yuv420p",
           str(made["h264.mp4"]))
    ffmpeg("-f", "lavfi", "-i", "testsrc=duration=1:size=160x120:rate=10", "-c:v", "mpeg4", str(made["mpeg4.mp4"]))
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    image.save(made["sticker.webp"], "WEBP")
    image.save(made["photo.jpg"], "JPEG")
    import pillow_heif

    pillow_heif.register_heif_opener()
    image.save(made["photo.heic"], "HEIF")
    made["contact.vcf"].write_bytes(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Petra de Vries\r\nN:de Vries;Petra;;;\r\n"
                                    b"TEL;TYPE=CELL:+31 6 1234\r\n 5678\r\nEND:VCARD\r\n")
    return made


def whatsapp_export(path: Path, attachments: dict[str, bytes], title: str = "Overleg") -> Path:
    """An iOS WhatsApp export zip (Dutch) with one message per attachment."""
    lines = [f"[14-03-2024 09:58:12] {title}: \u200eWethouder Jansen heeft deze groep aangemaakt",
             "[14-03-2024 10:02:15] Wethouder Jansen: Goedemorgen, de stukken komen eraan."]
    for n, name in enumerate(attachments, start=1):
        lines.append(f"\u200e[14-03-2024 10:{10 + n:02d}:07] Petra de Vries: \u200e<bijgevoegd: {name}>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("_chat.txt", "\n".join(lines) + "\n")
        for name, data in attachments.items():
            archive.writestr(name, data)
    return path
