"""The WhatsApp parser: corpus exports read in place, our own samples message by message, edge cases,
and property tests. Every parse result is validated against the canonical conversation schema."""
from __future__ import annotations

import json
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.export import open_export
from ingest.sources import FORMATS, parse_export
from ingest.sources.whatsapp import FORMAT, parse_chat_text, title_of
from kernel.errors import EdepotError, InputError
from kernel.model import Conversation, MessageKind
from tests.conftest import shared_or_skip

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))
SAMPLES = ROOT / "samples"
IOS_NL_ZIP = SAMPLES / "whatsapp-ios-nl" / "WhatsApp Chat - Herinrichting Marktplein.zip"
ANDROID_NL_TXT = SAMPLES / "whatsapp-android-nl" / "WhatsApp-chat met Petra de Vries.txt"
AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(scope="module")
def corpus() -> Path:
    return shared_or_skip() / "corpus"


def parsed(paths: list[Path], tz: str = "Europe/Amsterdam") -> Conversation:
    conversation = parse_export(paths, tz=tz)
    jsonschema.validate(conversation.to_dict(), SCHEMA)
    assert Conversation.from_dict(json.loads(conversation.to_json())) == conversation
    return conversation


def kinds(conversation: Conversation) -> dict[str, int]:
    return dict(Counter(m.kind.value for m in conversation.messages))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=AMS)


# --- corpus ----------------------------------------------------------------------------------------


def test_english_android_media(corpus: Path) -> None:
    conv = parsed([corpus / "whatsapp-android-en-whats_json" / "english_android_media.txt"])
    assert len(conv.messages) == 60
    # whats_json counts 31 system = our 1 system + 18 omitted media + 8 deleted + 2 calls + 2 view-once
    assert kinds(conv) == {
        "system": 1, "text": 15, "media": 29, "contact": 2, "location": 3, "deleted": 8, "call": 2,
    }
    assert (conv.source.platform, conv.source.locale) == ("android", "en")
    assert conv.source.inferred["date_order"] == "DMY"
    assert conv.source.inferred["evidence"] == "day value 23 > 12 on line 1"
    assert conv.source.inferred["view_once"]["seqs"] == [19, 50]
    first = conv.messages[0]
    assert (first.kind, first.sender, first.timestamp) == (MessageKind.SYSTEM, None, at("2022-03-23T13:31:00"))
    photo = conv.messages[8]  # line 11: IMG-20220323-WA0002.jpg (file attached)
    assert photo.sender == "Elon" and photo.kind is MessageKind.MEDIA and photo.text == ""
    assert [a.to_dict() for a in photo.attachments] == [
        {"name": "IMG-20220323-WA0002.jpg", "present": False, "media_type": "image/jpeg"}
    ]
    assert conv.messages[9].text == "Титл"  # caption on the following line
    omitted = conv.messages[4]  # line 6-7: <Media omitted> + caption
    assert omitted.text == "карточка компании"
    assert omitted.attachments[0].name == "<Media omitted>" and not omitted.attachments[0].present
    venue = conv.messages[38]  # lines 46-48: a place shared as three lines
    assert venue.kind is MessageKind.LOCATION
    assert venue.text == "Pimlico Gardens\nLondon, United Kingdom\nhttps://foursquare.com/v/4e89af95e5fa82ad4c0aa03b"
    last = conv.messages[-1]
    assert (last.kind, last.sender, last.text, last.timestamp) == (
        MessageKind.CALL, "Dmitry S", "Missed voice call", at("2023-01-07T23:32:00"),
    )
    assert [p.name for p in conv.participants] == ["Dmitry S", "Elon"]
    assert conv.source.files[0].sha256 == "3f64c66d6cac6260ac8529492a2d320aff0a7be8a38eedbbe2a897dda91d7ffb"
    assert conv.source.files[0].size == 3432


def test_english_ios_media(corpus: Path) -> None:
    conv = parsed([corpus / "whatsapp-ios-en-whats_json" / "english_ios_media.txt"])
    assert len(conv.messages) == 25
    # whats_json: 4 text, 3 image, 2 video, 1 audio, 1 gif, 2 sticker, 4 file (incl. the .vcf), 2 location,
    # 6 system (= our 3 system + 2 deleted + 1 "image omitted")
    assert kinds(conv) == {"system": 3, "text": 4, "media": 13, "contact": 1, "location": 2, "deleted": 2}
    assert (conv.source.platform, conv.source.locale) == ("ios", "en")
    assert conv.source.inferred["date_order"] == "MDY"
    assert conv.messages[0].sender is None and conv.messages[0].text.startswith("Messages and calls are end-to-end")
    assert conv.messages[0].timestamp == at("2022-03-18T14:56:01")
    doc = conv.messages[12]  # line 13
    assert doc.text == "Resume-Dmitry-Starkov.pdf • 2 pages"
    assert doc.attachments[0].name == "00000047-Resume-Dmitry-Starkov.pdf"
    assert doc.attachments[0].media_type == "application/pdf"
    assert doc.timestamp == at("2022-03-27T21:50:25")
    assert conv.messages[8].kind is MessageKind.CONTACT
    assert conv.messages[8].attachments[0].media_type == "text/vcard"
    assert conv.messages[15].attachments[0].name == "image omitted"
    assert (conv.messages[20].sender, conv.messages[20].kind) == ("Elon Musk", MessageKind.DELETED)
    assert conv.messages[22].text == "Location: https://maps.google.com/?q=51.5021456,-0.127397"
    assert conv.messages[24].text == "Your security code with Elon changed. Tap to learn more."
    assert conv.messages[24].timestamp == at("2023-01-07T23:32:30")
    assert [p.name for p in conv.participants] == ["Dmitry S", "Elon Musk"]


def test_dutch_android_media(corpus: Path) -> None:
    conv = parsed([corpus / "whatsapp-android-nl-whats_json" / "deutch_android_media.txt"])
    assert len(conv.messages) == 41
    assert kinds(conv) == {
        "system": 1, "text": 6, "media": 20, "contact": 2, "location": 3, "deleted": 7, "call": 2,
    }
    assert (conv.source.platform, conv.source.locale) == ("android", "nl")
    voice = conv.messages[5]  # U+200E before the name
    assert voice.attachments[0].to_dict() == {
        "name": "PTT-20220323-WA0000.opus", "present": False, "media_type": "audio/ogg",
    }
    assert conv.messages[17].text == "U hebt dit bericht verwijderd"
    assert conv.messages[17].sender == "Elon"
    assert conv.messages[6].kind is MessageKind.LOCATION
    assert conv.messages[-1].text == "Gemiste spraakoproep"


def test_german_ios_and_russian_zip(corpus: Path) -> None:
    german = parsed([corpus / "whatsapp-ios-de-whats_json" / "deutch_ios.txt"])
    assert kinds(german) == {"system": 1, "text": 4, "media": 13, "contact": 1, "location": 2, "deleted": 2}
    assert german.source.locale == "de"
    russian = parsed([corpus / "whatsapp-ios-ru-zip-whats_json" / "WhatsApp Chat - Elon Musk (RU).zip"])
    assert russian.title == "Elon Musk (RU)"
    assert len(russian.messages) == 25
    assert russian.source.files[0].sha256 == "5feb8b0de403cda9e546ec8156e26c2826ee7eb6ff2e80b574e854f30f8d6719"
    assert russian.messages[1].sender == "Dmitry Starkov"
    assert (russian.messages[24].sender, russian.messages[24].kind) == (None, MessageKind.SYSTEM)


def test_buddhist_calendar(corpus: Path) -> None:
    conv = parsed([corpus / "whatsapp-ios-en-buddhist-calendar-whats_json" / "Buddhist iOS.txt"])
    assert conv.messages[0].timestamp == at("2022-03-18T14:56:01")  # [3/18/2565 BE, 14:56:01]: 2565 BE = 2022
    assert conv.source.inferred["header_form"] == "[a/b/y BE, H:MM:SS] "
    assert conv.source.inferred["date_order"] == "MDY"
    assert len(conv.messages) == 28
    assert kinds(conv) == {"system": 3, "text": 4, "media": 15, "location": 2, "contact": 1, "deleted": 3}
    last = conv.messages[-1]  # [1/12/2566 BE, 15:35:15] Dmitry S: audio omitted
    assert (last.timestamp, last.sender, last.attachments[0].name) == (
        at("2023-01-12T15:35:15"), "Dmitry S", "audio omitted")
    assert conv.source.locale == "en"


@pytest.mark.parametrize(
    "name", ["test_mmddyyyy_12hrs.txt", "test_[mmddyy]_24hrs.txt", "test_ddmmyy_24hrs.txt"]
)
def test_chat_miner_synthetic(corpus: Path, name: str) -> None:
    folder = corpus / "whatsapp-synthetic-chat-miner"
    target = json.loads((folder / "target.json").read_text(encoding="utf-8"))
    conv = parsed([folder / name])
    # chat-miner drops system lines and the malformed "John Doe:." line (no ": "), which we read as
    # system; it joins continuation lines with a space where we keep the line break
    users = [m for m in conv.messages if m.sender is not None]
    got = sorted(
        ({"timestamp": m.timestamp.replace(tzinfo=None).isoformat(), "author": m.sender,
          "message": m.text.replace("\n", " ")}
         for m in users),
        key=lambda d: d["timestamp"], reverse=True,
    )
    assert got == target


def test_arabic_ios_with_arabic_indic_digits_and_rtl_marks(corpus: Path) -> None:
    conv = parsed([corpus / "whatsapp-ios-ar-whats_json" / "arabic_ios.txt"])
    assert len(conv.messages) == 23
    # whats_json: 4 text, 2 location, 17 system (= our 1 system + 13 omitted media + 1 contact card + 2 deleted)
    assert kinds(conv) == {"system": 1, "text": 4, "media": 13, "contact": 1, "location": 2, "deleted": 2}
    assert (conv.source.platform, conv.source.locale) == ("ios", "ar")
    assert conv.source.inferred["date_order"] == "DMY"
    # [١٨‏/٣‏/٢٠٢٢، ٢:٥٦:٠٠ م]: 18 March 2022, 2:56:00 PM; the English export of the same chat says 14:56:01
    assert conv.messages[0].timestamp == at("2022-03-18T14:56:00")
    assert conv.messages[0].sender is None and conv.messages[0].text.startswith("الرسائل والمكالمات مشفرة")
    assert (conv.messages[1].sender, conv.messages[1].text) == ("Dmitry S", "Hello World")
    assert conv.messages[1].timestamp == at("2022-03-27T21:41:35")
    assert conv.messages[2].attachments[0].name == "لم يتم إدراج الصورة"  # image omitted
    assert conv.messages[12].text == "Resume-Dmitry-Starkov.pdf • صفحتان ٢"  # digits in text kept as written
    assert conv.messages[20].sender == "+40\u00a0521\u00a0028\u00a061\u00a088"  # U+202A/U+202C dropped
    assert conv.messages[22].kind is MessageKind.LOCATION
    assert conv.messages[-1].timestamp == at("2022-03-27T21:56:45")


# --- our samples -----------------------------------------------------------------------------------

IOS_EXPECTED = [
    # seq, time, sender, kind, text
    (1, "2024-03-14T09:58:12", None, "system", "Berichten en oproepen worden end-to-end versleuteld. Niemand buiten deze chat, zelfs WhatsApp niet, kan ze lezen of beluisteren."),
    (2, "2024-03-14T09:58:12", None, "system", "Wethouder Jansen heeft deze groep aangemaakt"),
    (3, "2024-03-14T09:58:40", None, "system", "Wethouder Jansen heeft Petra de Vries toegevoegd"),
    (4, "2024-03-14T10:02:15", "Wethouder Jansen", "text", "Goedemorgen Petra! Dit is de groep voor de herinrichting van het Marktplein."),
    (5, "2024-03-14T10:05:48", "Petra de Vries", "text", "Goedemorgen. Ik sta nu op het plein, ik maak even wat foto's."),
    (6, "2024-03-14T10:21:07", "Petra de Vries", "media", ""),
    (7, "2024-03-14T10:22:30", "Petra de Vries", "text", "Zo ziet de noordkant er nu uit. De bestrating is op veel plekken verzakt."),
    (8, "2024-03-14T10:24:02", "Wethouder Jansen", "text", "Dank je. Kun je in een spraakbericht toelichten wat de marktkooplieden zeiden?"),
    (9, "2024-03-14T10:25:33", "Petra de Vries", "media", ""),
    (10, "2024-03-14T10:31:10", "Wethouder Jansen", "text", "Helder. Drie punten voor het overleg:\n1. Bestrating noordkant\n2. Stroompunten voor de kramen\n3. Fietsparkeren bij de kerk"),
    (11, "2024-03-14T10:33:45", "Petra de Vries", "text", "Akkoord 👍"),
    (12, "2024-03-14T10:40:02", "Petra de Vries", "deleted", "Dit bericht is verwijderd."),
    (13, "2024-03-14T10:41:19", "Petra de Vries", "text", "Sorry, verkeerde chat."),
    (14, "2024-03-14T11:02:54", "Wethouder Jansen", "media", "Schetsontwerp Marktplein.pdf • 1 pagina"),
    (15, "2024-03-14T11:05:20", "Wethouder Jansen", "text", "Hierbij het schetsontwerp van het bureau. Graag je reactie vóór vrijdag."),
    (16, "2024-03-14T11:30:00", "Petra de Vries", "text", "Ik bekijk het vanmiddag."),
    (17, "2024-03-14T16:45:12", "Petra de Vries", "text", "Eerste reactie: de bomen aan de oostkant blijven staan, dat is goed. Maar waar komen de ondergrondse containers?"),
    (18, "2024-03-14T16:50:37", "Wethouder Jansen", "text", "Bij de ingang van de parkeergarage. Staat op blad 2."),
    (19, "2024-03-15T08:55:03", "Wethouder Jansen", "text", "Goedemorgen. Om 9:30 overleg op locatie, hier:"),
    (20, "2024-03-15T08:55:41", "Wethouder Jansen", "location", "Locatie: https://maps.google.com/?q=52.090737,5.121420"),
    (21, "2024-03-15T09:02:18", "Petra de Vries", "text", "Ik ben er! 🚲"),
    (22, "2024-03-15T10:47:29", "Petra de Vries", "text", "Verslag van het overleg volgt. Kort:\n- marktkooplieden akkoord met nieuwe indeling\n14-03-2024 genoemd als peildatum voor de vergunningen\n- volgende overleg 22 maart"),
    (23, "2024-03-15T10:49:05", "Wethouder Jansen", "text", "Top, dank je wel Petra."),
    (24, "2024-03-15T10:50:12", "Wethouder Jansen", "deleted", "Je hebt dit bericht verwijderd."),
    (25, "2024-03-15T10:51:40", "Wethouder Jansen", "text", "Fijn weekend alvast! ☀️"),
]


def test_ios_nl_sample_message_by_message() -> None:
    conv = parsed([IOS_NL_ZIP])
    got = [(m.seq, m.timestamp.isoformat(), m.sender, m.kind.value, m.text) for m in conv.messages]
    assert got == [(s, at(t).isoformat(), who, kind, text) for s, t, who, kind, text in IOS_EXPECTED]
    assert conv.messages[5].timestamp.isoformat() == "2024-03-14T10:21:07+01:00"
    assert [m.seq for m in conv.messages if m.edited] == [15]
    attachments = {m.seq: [a.to_dict() for a in m.attachments] for m in conv.messages if m.attachments}
    assert attachments == {
        6: [{"name": "00000005-PHOTO-2024-03-14-10-21-07.jpg", "present": True, "media_type": "image/jpeg"}],
        9: [{"name": "00000008-AUDIO-2024-03-14-10-25-33.opus", "present": True, "media_type": "audio/ogg"}],
        14: [{"name": "00000011-Schetsontwerp Marktplein.pdf", "present": True, "media_type": "application/pdf"}],
    }
    assert conv.title == "Herinrichting Marktplein"
    assert (conv.source.format, conv.source.platform, conv.source.locale) == ("whatsapp", "ios", "nl")
    assert conv.source.timezone == "Europe/Amsterdam"
    assert [f.name for f in conv.source.files] == [IOS_NL_ZIP.name]
    assert conv.source.inferred["date_order"] == "DMY"
    assert conv.source.inferred["evidence"] == "day value 14 > 12 on line 1"
    assert [p.to_dict() for p in conv.participants] == [
        {"name": "Wethouder Jansen", "message_count": 11},
        {"name": "Petra de Vries", "message_count": 11},
    ]


ANDROID_EXPECTED = [
    (1, "2024-03-14T09:12", None, "system", "Berichten en oproepen worden end-to-end versleuteld. Niemand buiten deze chat, zelfs WhatsApp niet, kan ze lezen of beluisteren. Tik voor meer informatie."),
    (2, "2024-03-14T09:12", "Wethouder Jansen", "text", "Hoi Petra, heb je de stukken voor de commissie al ontvangen?"),
    (3, "2024-03-14T09:20", "Petra de Vries", "text", "Ja, gisteren per mail."),
    (4, "2024-03-14T09:21", "Petra de Vries", "media", ""),
    (5, "2024-03-14T09:21", "Petra de Vries", "media", "De begroting, pagina 12"),
    (6, "2024-03-14T09:25", "Wethouder Jansen", "text", "Dank je. Twee vragen:\nWaarom is post 4.2 hoger dan vorig jaar?\nEn wie is de contactpersoon bij de provincie?"),
    (7, "2024-03-14T09:40", "Petra de Vries", "deleted", "Dit bericht is verwijderd"),
    (8, "2024-03-14T09:41", "Petra de Vries", "text", "Post 4.2 is hoger door de indexering. Contactpersoon is mevrouw Bakker."),
    (9, "2024-03-14T09:43", "Wethouder Jansen", "deleted", "Je hebt dit bericht verwijderd"),
    (10, "2024-03-14T09:44", "Wethouder Jansen", "text", "Helder, dank je 🙏"),
    (11, "2024-03-14T21:05", "Petra de Vries", "location", "locatie: https://maps.google.com/?q=52.090737,5.121420"),
    (12, "2024-03-14T21:06", "Petra de Vries", "text", "Hier is de inloopavond morgen:\n15-03-2024 19:30 inloopavond in het stadhuis"),
    (13, "2024-03-15T08:30", "Wethouder Jansen", "call", "Gemiste spraakoproep"),
    (14, "2024-03-15T08:31", "Petra de Vries", "text", "Ik bel je zo terug."),
    (15, "2024-03-15T08:45", "Wethouder Jansen", "text", "Prima. Tot straks."),
    (16, "2024-03-15T12:02", None, "system", "Je beveiligingscode met Petra de Vries is gewijzigd. Tik voor meer informatie."),
]


def test_android_nl_sample_message_by_message() -> None:
    conv = parsed([ANDROID_NL_TXT])
    got = [(m.seq, m.timestamp.isoformat(), m.sender, m.kind.value, m.text) for m in conv.messages]
    assert got == [(s, at(t).isoformat(), who, kind, text) for s, t, who, kind, text in ANDROID_EXPECTED]
    assert [m.seq for m in conv.messages if m.edited] == [15]
    assert [a.to_dict() for a in conv.messages[3].attachments] == [
        {"name": "<Media weggelaten>", "present": False, "media_type": None, "omitted": True}
    ]
    assert conv.title == "Petra de Vries"
    assert (conv.source.platform, conv.source.locale) == ("android", "nl")


def test_loose_txt_plus_media_marks_present(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Team.txt"
    chat.write_text(
        "14/03/2024, 10:15 - Ann: \u200eIMG-20240314-WA0001.jpg (file attached)\nLook\n"
        "14/03/2024, 10:16 - Ann: \u200eIMG-20240314-WA0002.jpg (file attached)\n",
        encoding="utf-8",
    )
    photo = tmp_path / "IMG-20240314-WA0001.jpg"
    photo.write_bytes(b"\xff\xd8\xff")
    conv = parsed([chat, photo])
    assert [(a.name, a.present) for m in conv.messages for a in m.attachments] == [
        ("IMG-20240314-WA0001.jpg", True), ("IMG-20240314-WA0002.jpg", False),
    ]
    assert conv.messages[0].text == "Look"
    assert conv.title == "Team"
    assert [f.name for f in conv.source.files] == [chat.name, photo.name]


# --- header forms, encodings, DST ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "platform", "wall"),
    [
        ("[14-03-2024 10:15:01] Ann: hoi", "ios", "2024-03-14T10:15:01"),
        ("[14-03-2024, 10:15:01] Ann: hoi", "ios", "2024-03-14T10:15:01"),
        ("[14-03-24 10:15:01] Ann: hoi", "ios", "2024-03-14T10:15:01"),
        ("[3/14/24, 10:15:01] Ann: hoi", "ios", "2024-03-14T10:15:01"),
        ("[3/14/24, 10:15:01\u202fPM] Ann: hoi", "ios", "2024-03-14T22:15:01"),
        ("[3/14/24, 12:05:01\u00a0AM] Ann: hoi", "ios", "2024-03-14T00:05:01"),
        ("[3/14/24, 12:05:01 PM] Ann: hoi", "ios", "2024-03-14T12:05:01"),
        ("\u200e[14-03-2024 10:15:01] Ann: hoi", "ios", "2024-03-14T10:15:01"),
        ("14-03-2024 10:15 - Ann: hoi", "android", "2024-03-14T10:15:00"),
        ("14/03/2024, 10:15 - Ann: hoi", "android", "2024-03-14T10:15:00"),
        ("3/14/24, 10:15 AM - Ann: hoi", "android", "2024-03-14T10:15:00"),
        ("3/14/24, 10:15\u202fPM - Ann: hoi", "android", "2024-03-14T22:15:00"),
    ],
)
def test_header_forms(line: str, platform: str, wall: str) -> None:
    conv = parse_chat_text(line + "\n", "Europe/Amsterdam")
    jsonschema.validate(conv.to_dict(), SCHEMA)
    message = conv.messages[0]
    assert (message.sender, message.text, message.kind) == ("Ann", "hoi", MessageKind.TEXT)
    assert message.timestamp == at(wall)
    assert conv.source.platform == platform


def test_date_order_from_sequence_when_no_value_above_12() -> None:
    text = "01/02/2024, 10:00 - Ann: a\n01/03/2024, 10:00 - Ann: b\n02/03/2024, 10:00 - Ann: c\n"
    # read as MDY: Jan 2, Jan 3, Feb 3 (forward); as DMY: Feb 1, Mar 1, Mar 2 (also forward) → tie
    conv = parse_chat_text(text, "UTC")
    assert conv.source.inferred["date_order"] == "DMY"
    text = "05/01/2024, 10:00 - Ann: a\n04/02/2024, 10:00 - Ann: b\n"
    # DMY: 5 Jan then 4 Feb (forward); MDY: 1 May then 2 Apr (backward)
    conv = parse_chat_text(text, "UTC")
    assert conv.source.inferred["date_order"] == "DMY"
    assert "backward" in conv.source.inferred["evidence"]


def test_crlf_bom_and_impossible_date_kept_as_unparsed_line() -> None:
    text = ("\ufeff14-03-2024 10:15 - Ann: regel een\r\n31-02-2024 10:16 - dit is geen kop\r\nvervolg\r\n"
            "15-03-2024 09:00 - Bob: ja\r\n")
    conv = parse_chat_text(text.lstrip("\ufeff"), "Europe/Amsterdam")
    assert [(m.kind.value, m.sender, m.text) for m in conv.messages] == [
        ("text", "Ann", "regel een"), ("unparsed", None, "31-02-2024 10:16 - dit is geen kop\nvervolg"), ("text", "Bob", "ja"),
    ]
    assert conv.messages[1].timestamp == conv.messages[0].timestamp  # an unparsed line takes the time before it
    assert conv.source.inferred["unparsed_lines"] == [
        {"seq": 2, "line": 2, "text": "31-02-2024 10:16 - dit is geen kop\nvervolg"}]
    jsonschema.validate(conv.to_dict(), SCHEMA)
    data = text.encode("utf-8")
    from ingest.sources.whatsapp import decode_chat_text

    assert decode_chat_text(data).startswith("14-03-2024 10:15 - Ann")


def test_dst_gap_and_fold() -> None:
    text = (
        "31-03-2024 01:59 - Ann: voor\n31-03-2024 02:30 - Ann: in het gat\n"
        "27-10-2024 02:50 - Ann: eerste keer\n27-10-2024 02:10 - Ann: tweede keer\n"
    )
    conv = parse_chat_text(text, "Europe/Amsterdam")
    times = [m.timestamp.isoformat() for m in conv.messages]
    assert times == [
        "2024-03-31T01:59:00+01:00",
        "2024-03-31T03:30:00+02:00",
        "2024-10-27T02:50:00+02:00",
        "2024-10-27T02:10:00+01:00",
    ]
    cases = [(c["seq"], c["case"]) for c in conv.source.inferred["dst"]]
    assert cases == [(2, "dst_gap"), (3, "dst_fold"), (4, "dst_fold")]
    assert [c.get("chosen") for c in conv.source.inferred["dst"]] == [None, "earlier", "later"]


def test_bad_timezone_and_format_name(tmp_path: Path) -> None:
    chat = tmp_path / "chat.txt"
    chat.write_text("14-03-2024 10:15 - Ann: hoi\n", encoding="utf-8")
    with pytest.raises(InputError, match="time zone"):
        parse_export([chat], tz="Mars/Olympus")
    with pytest.raises(InputError, match="whatsapp"):
        parse_export([chat], format="no-such-format")
    assert parse_export([chat], format="whatsapp").messages[0].sender == "Ann"
    assert "whatsapp" in [f.name for f in FORMATS]


def test_iphone_group_event_needs_app_mark() -> None:
    text = "[14-03-2024 10:15:01] Ann: Tim left\n[14-03-2024 10:15:02] Groep: \u200eTim heeft de groep verlaten\n"
    conv = parse_chat_text(text, "UTC")
    assert [(m.sender, m.kind.value) for m in conv.messages] == [("Ann", "text"), (None, "system")]


def test_android_subject_with_colon_is_system() -> None:
    text = '14-03-2024 10:15 - Tim changed the subject from "Overleg" to "Agenda: mei"\n14-03-2024 10:16 - Ann: ok\n'
    conv = parse_chat_text(text, "UTC")
    assert [(m.sender, m.kind.value) for m in conv.messages] == [(None, "system"), ("Ann", "text")]


def test_titles() -> None:
    assert title_of([Path("WhatsApp Chat - Herinrichting Marktplein.zip")]) == "Herinrichting Marktplein"
    assert title_of([Path("WhatsApp-chat met Petra de Vries.txt")]) == "Petra de Vries"
    assert title_of([Path("WhatsApp Chat with Team.txt")]) == "Team"
    assert title_of([Path("_chat.txt")]) is None


def test_zip_without_chat_text_is_not_whatsapp(tmp_path: Path) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.jpg", b"\xff\xd8\xff")
    assert FORMAT.score(open_export([archive])) == 0.0
    with pytest.raises(InputError, match="no WhatsApp chat text"):
        parse_export([archive], format="whatsapp")


# --- properties ------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_random_text_raises_only_edepot_errors(text: str) -> None:
    try:
        conv = parse_chat_text(text, "Europe/Amsterdam")
    except EdepotError:
        return
    jsonschema.validate(conv.to_dict(), SCHEMA)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_random_bytes_file_raises_only_edepot_errors(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("rb") / "x.txt"
    path.write_bytes(data)
    try:
        parse_export([path])
    except EdepotError:
        pass


_NAMES = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=12).map(lambda s: "Ann " + s)
_WORDS = st.text(alphabet=st.characters(categories=["L", "N", "P", "Zs", "So"], exclude_characters="\u200e<>"),
                 min_size=1, max_size=40).map(lambda s: "x" + s.strip() + "y")
_TIMES = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(_TIMES, _NAMES, _WORDS), min_size=1, max_size=12),
    st.sampled_from(["ios-nl", "ios-en", "android-nl", "android-en"]),
)
def test_generated_exports_round_trip(rows: list[tuple[datetime, str, str]], form: str) -> None:
    rows = sorted(rows, key=lambda r: r[0])
    rows.append((datetime(2031, 12, 25, 13, 0, 0), rows[0][1], "xeindey"))  # a day > 12 fixes the order
    lines = []
    for when, who, text in rows:
        if form == "ios-nl":
            lines.append(f"[{when:%d-%m-%Y %H:%M:%S}] {who}: {text}")
        elif form == "ios-en":
            lines.append(f"[{when.month}/{when.day}/{when:%y, %H:%M:%S}] {who}: {text}")
        elif form == "android-nl":
            lines.append(f"{when:%d-%m-%Y %H:%M} - {who}: {text}")
        else:
            lines.append(f"{when:%d/%m/%Y, %H:%M} - {who}: {text}")
    conv = parse_chat_text("\n".join(lines) + "\n", "UTC")
    with_seconds = form.startswith("ios")
    expected = [
        ((when if with_seconds else when.replace(second=0)).replace(tzinfo=ZoneInfo("UTC")), who, text)
        for when, who, text in rows
    ]
    assert [(m.timestamp, m.sender, m.text) for m in conv.messages] == expected
