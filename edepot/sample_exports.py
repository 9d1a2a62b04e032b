"""The fictitious WhatsApp sample exports, written by code so that an installed edepot can make them too.

Implements: a Dutch iPhone export with media (`whatsapp-ios-nl/WhatsApp Chat - Herinrichting
Marktplein.zip`: `_chat.txt`, a JPEG, an Ogg Opus voice note and a PDF), which `edepot demo` runs on, and a
Dutch Android export without media (`whatsapp-android-nl/WhatsApp-chat met Petra de Vries.txt`). All people,
places and words are made up. Needs Pillow, typst and ffmpeg; the same tools give byte-identical files.
The copies in the repository's `samples/` folder are written by `samples/make_samples.py`.
"""
from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from PIL import Image, ImageDraw

from kernel.atomic import write_bytes_atomic
from preservation.normalise.outcome import require, run_tool

IOS_SAMPLE = Path("whatsapp-ios-nl") / "WhatsApp Chat - Herinrichting Marktplein.zip"
ANDROID_SAMPLE = Path("whatsapp-android-nl") / "WhatsApp-chat met Petra de Vries.txt"
LRM = "\u200e"
ZIP_TIME = (2024, 3, 15, 11, 20, 0)  # fixed, so the zip does not change between runs

IOS_CHAT_LINES = [
    f"[14-03-2024 09:58:12] Herinrichting Marktplein: {LRM}Berichten en oproepen worden end-to-end versleuteld."
    " Niemand buiten deze chat, zelfs WhatsApp niet, kan ze lezen of beluisteren.",
    f"[14-03-2024 09:58:12] Herinrichting Marktplein: {LRM}Wethouder Jansen heeft deze groep aangemaakt",
    f"[14-03-2024 09:58:40] Herinrichting Marktplein: {LRM}Wethouder Jansen heeft Petra de Vries toegevoegd",
    "[14-03-2024 10:02:15] Wethouder Jansen: Goedemorgen Petra! Dit is de groep voor de herinrichting van het"
    " Marktplein.",
    "[14-03-2024 10:05:48] Petra de Vries: Goedemorgen. Ik sta nu op het plein, ik maak even wat foto's.",
    f"{LRM}[14-03-2024 10:21:07] Petra de Vries: {LRM}<bijgevoegd: 00000005-PHOTO-2024-03-14-10-21-07.jpg>",
    "[14-03-2024 10:22:30] Petra de Vries: Zo ziet de noordkant er nu uit. De bestrating is op veel plekken"
    " verzakt.",
    "[14-03-2024 10:24:02] Wethouder Jansen: Dank je. Kun je in een spraakbericht toelichten wat de"
    " marktkooplieden zeiden?",
    f"{LRM}[14-03-2024 10:25:33] Petra de Vries: {LRM}<bijgevoegd: 00000008-AUDIO-2024-03-14-10-25-33.opus>",
    "[14-03-2024 10:31:10] Wethouder Jansen: Helder. Drie punten voor het overleg:",
    "1. Bestrating noordkant",
    "2. Stroompunten voor de kramen",
    "3. Fietsparkeren bij de kerk",
    "[14-03-2024 10:33:45] Petra de Vries: Akkoord 👍",
    f"[14-03-2024 10:40:02] Petra de Vries: {LRM}Dit bericht is verwijderd.",
    "[14-03-2024 10:41:19] Petra de Vries: Sorry, verkeerde chat.",
    f"{LRM}[14-03-2024 11:02:54] Wethouder Jansen: Schetsontwerp Marktplein.pdf • {LRM}1 pagina"
    f" {LRM}<bijgevoegd: 00000011-Schetsontwerp Marktplein.pdf>",
    "[14-03-2024 11:05:20] Wethouder Jansen: Hierbij het schetsontwerp van het bureau. Graag je reactie vóór"
    f" vrijdag. {LRM}<Dit bericht is bewerkt>",
    "[14-03-2024 11:30:00] Petra de Vries: Ik bekijk het vanmiddag.",
    "[14-03-2024 16:45:12] Petra de Vries: Eerste reactie: de bomen aan de oostkant blijven staan, dat is goed."
    " Maar waar komen de ondergrondse containers?",
    "[14-03-2024 16:50:37] Wethouder Jansen: Bij de ingang van de parkeergarage. Staat op blad 2.",
    "[15-03-2024 08:55:03] Wethouder Jansen: Goedemorgen. Om 9:30 overleg op locatie, hier:",
    f"[15-03-2024 08:55:41] Wethouder Jansen: {LRM}Locatie: https://maps.google.com/?q=52.090737,5.121420",
    "[15-03-2024 09:02:18] Petra de Vries: Ik ben er! 🚲",
    "[15-03-2024 10:47:29] Petra de Vries: Verslag van het overleg volgt. Kort:",
    "- marktkooplieden akkoord met nieuwe indeling",
    "14-03-2024 genoemd als peildatum voor de vergunningen",
    "- volgende overleg 22 maart",
    "[15-03-2024 10:49:05] Wethouder Jansen: Top, dank je wel Petra.",
    f"[15-03-2024 10:50:12] Wethouder Jansen: {LRM}Je hebt dit bericht verwijderd.",
    "[15-03-2024 10:51:40] Wethouder Jansen: Fijn weekend alvast! ☀️",
]

ANDROID_CHAT_LINES = [
    "14-03-2024 09:12 - Berichten en oproepen worden end-to-end versleuteld. Niemand buiten deze chat, zelfs"
    " WhatsApp niet, kan ze lezen of beluisteren. Tik voor meer informatie.",
    "14-03-2024 09:12 - Wethouder Jansen: Hoi Petra, heb je de stukken voor de commissie al ontvangen?",
    "14-03-2024 09:20 - Petra de Vries: Ja, gisteren per mail.",
    "14-03-2024 09:21 - Petra de Vries: <Media weggelaten>",
    "14-03-2024 09:21 - Petra de Vries: <Media weggelaten>",
    "De begroting, pagina 12",
    "14-03-2024 09:25 - Wethouder Jansen: Dank je. Twee vragen:",
    "Waarom is post 4.2 hoger dan vorig jaar?",
    "En wie is de contactpersoon bij de provincie?",
    "14-03-2024 09:40 - Petra de Vries: Dit bericht is verwijderd",
    "14-03-2024 09:41 - Petra de Vries: Post 4.2 is hoger door de indexering. Contactpersoon is mevrouw Bakker.",
    "14-03-2024 09:43 - Wethouder Jansen: Je hebt dit bericht verwijderd",
    "14-03-2024 09:44 - Wethouder Jansen: Helder, dank je 🙏",
    "14-03-2024 21:05 - Petra de Vries: locatie: https://maps.google.com/?q=52.090737,5.121420",
    "14-03-2024 21:06 - Petra de Vries: Hier is de inloopavond morgen:",
    "15-03-2024 19:30 inloopavond in het stadhuis",
    "15-03-2024 08:30 - Wethouder Jansen: Gemiste spraakoproep",
    "15-03-2024 08:31 - Petra de Vries: Ik bel je zo terug.",
    "15-03-2024 08:45 - Wethouder Jansen: Prima. Tot straks. <Dit bericht is bewerkt>",
    "15-03-2024 12:02 - Je beveiligingscode met Petra de Vries is gewijzigd. Tik voor meer informatie.",
]


def chat_text(lines: list[str]) -> bytes:
    """The chat text as the phone writes it: UTF-8 without BOM, LF line ends, a final newline."""
    return ("\n".join(lines) + "\n").encode("utf-8")


def photo_jpeg() -> bytes:
    """A small drawing of a market square with its name, as JPEG."""
    image = Image.new("RGB", (320, 200), (235, 225, 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 60, 300, 180), fill=(180, 170, 160), outline=(90, 80, 70), width=3)
    for x in range(40, 300, 50):
        draw.rectangle((x, 90, x + 30, 120), fill=(200, 60, 50))
    draw.ellipse((140, 130, 180, 170), fill=(60, 140, 70))
    draw.text((110, 20), "Marktplein", fill=(20, 20, 90))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def voice_note_opus() -> bytes:
    """Two seconds of a 440 Hz tone as Ogg Opus, made bit-exact by ffmpeg."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "note.opus"
        run_tool([require("ffmpeg", "ffmpeg"), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                  "sine=frequency=440:duration=2", "-c:a", "libopus", "-b:a", "24k", "-ac", "1", "-fflags",
                  "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1", "-y", str(target)], timeout=60)
        return target.read_bytes()


SKETCH_TYP = """#set document(title: "Schetsontwerp Marktplein", author: "Bureau Pleinwerk (fictief)", date: none)
#set page(paper: "a5")
= Schetsontwerp Marktplein
Fictief voorbeelddocument voor de edepot-tests.

- Bestrating noordkant vernieuwen
- Stroompunten voor de kramen
- Fietsparkeren bij de kerk
- Ondergrondse containers bij de ingang van de parkeergarage
"""


def sketch_pdf() -> bytes:
    """A one-page PDF of the (fictitious) sketch design, compiled with typst without a date."""
    import typst

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "schets.typ"
        source.write_text(SKETCH_TYP, encoding="utf-8")
        return typst.compile(str(source), ignore_system_fonts=True)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A zip with members in sorted order, fixed timestamps and permissions: the same bytes every run."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            archive.writestr(info, members[name], compresslevel=9)
    return buffer.getvalue()


def write_ios_sample(folder: Path) -> Path:
    """Write the iPhone export with media to `folder`/IOS_SAMPLE (atomically) and return its path."""
    target = folder / IOS_SAMPLE
    write_bytes_atomic(target, zip_bytes({
        "_chat.txt": chat_text(IOS_CHAT_LINES),
        "00000005-PHOTO-2024-03-14-10-21-07.jpg": photo_jpeg(),
        "00000008-AUDIO-2024-03-14-10-25-33.opus": voice_note_opus(),
        "00000011-Schetsontwerp Marktplein.pdf": sketch_pdf(),
    }))
    return target


def write_samples(folder: Path) -> list[Path]:
    """Write every sample export below `folder`; returns their paths."""
    android = folder / ANDROID_SAMPLE
    write_bytes_atomic(android, chat_text(ANDROID_CHAT_LINES))
    return [write_ios_sample(folder), android]
