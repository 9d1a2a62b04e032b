"""Threema chat export text: samples written here from the documented line forms (no real export is in
../shared/corpus), Android with media beside it and iOS with zone abbreviations, detection against
WhatsApp, and random bytes refused with the project's own error only."""
from __future__ import annotations

import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.export import open_export
from ingest.sources import threema, whatsapp
from ingest.sources.base import ParseOptions
from kernel.errors import InputError
from kernel.model import Conversation, MessageKind

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))

ANDROID = (
    "[14.03.2024, 09:15] Ich: Guten Morgen, ist die Vorlage fertig?\n"
    "[14.03.2024, 09:17] Anna Keller: Ja, kommt gleich.\n"
    "Zweite Zeile der Antwort.\n"
    "[14.03.2024, 09:18] Anna Keller: <3f2a9c1e-8d7b-4c1a-9e0f-2b6d5a4c3e21.jpg>\n"
    "[14.03.2024, 09:19] Anna Keller: <0a1b2c3d-4e5f-6789-abcd-ef0123456789.mp4>\n"
    "[31.02.2024, 09:20] Anna Keller: kaputtes Datum\n"
    "[31.03.2024, 02:30] Ich: Nachtschicht\n"
)
IOS = (
    ">>> 2. März 2019 um 14:05:12 MEZ: Hallo Karin\n"
    "<<< 2. März 2019 um 14:06:40 MEZ: Hallo!\nWie geht's?\n"
    "<<< 31. März 2019 um 03:10:00 MESZ: Bild (f8e7d6c5.jpg)\n"
    ">>> 1. Mai 2019 um 08:00:00 XYZ: Zone unbekannt\n"
)


def parse(paths: list[Path], minimum: float = 0.97, **options: str) -> Conversation:
    export = open_export(paths)
    assert threema.FORMAT.score(export) >= minimum
    (conversation,) = threema.FORMAT.parse_all(export, ParseOptions(**options))
    jsonschema.validate(conversation.to_dict(), SCHEMA)
    assert Conversation.from_dict(json.loads(conversation.to_json())) == conversation
    return conversation


def test_android_export_zip_with_media(tmp_path: Path) -> None:
    archive = tmp_path / "threema-export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("messages-Anna Keller.txt", ANDROID)
        z.writestr("3f2a9c1e-8d7b-4c1a-9e0f-2b6d5a4c3e21.jpg", b"\xff\xd8\xff")
    conv = parse([archive])
    assert conv.title == "Anna Keller"
    assert conv.source.platform == "android"
    assert [(m.sender, m.kind.value) for m in conv.messages] == [
        ("Ich", "text"), ("Anna Keller", "text"), ("Anna Keller", "media"), ("Anna Keller", "media"),
        (None, "unparsed"), ("Ich", "text"),
    ]
    assert conv.messages[0].timestamp.isoformat() == "2024-03-14T09:15:00+01:00"
    assert conv.messages[1].text == "Ja, kommt gleich.\nZweite Zeile der Antwort."
    assert [a.to_dict() for a in conv.messages[2].attachments] == [
        {"name": "3f2a9c1e-8d7b-4c1a-9e0f-2b6d5a4c3e21.jpg", "present": True, "media_type": "image/jpeg"}
    ]
    assert conv.messages[3].attachments[0].present is False
    assert conv.messages[4].text == "[31.02.2024, 09:20] Anna Keller: kaputtes Datum"
    assert conv.source.inferred["unparsed_lines"][0]["line"] == 6
    assert conv.source.inferred["date_order"] == {
        "order": "DMY", "evidence": "day value 14 > 12 in '[14.03.2024, 09:15] Ich:'"
    }
    assert conv.messages[5].timestamp.isoformat() == "2024-03-31T03:30:00+02:00"  # 02:30 does not exist
    assert conv.source.inferred["dst"][0]["case"] == "dst_gap"


def test_android_threema_beats_whatsapp_only_on_its_own_marks(tmp_path: Path) -> None:
    named = tmp_path / "messages-Anna Keller.txt"
    named.write_text(ANDROID, encoding="utf-8")
    export = open_export([named])
    assert threema.FORMAT.score(export) > whatsapp.FORMAT.score(export) > 0
    plain = tmp_path / "chat.txt"
    plain.write_text(ANDROID.split("[14.03.2024, 09:18]")[0], encoding="utf-8")  # no media line, no Threema name
    export = open_export([plain])
    assert threema.FORMAT.score(export) == 0.5 < whatsapp.FORMAT.score(export)


def test_ios_export_uses_the_zone_abbreviations(tmp_path: Path) -> None:
    path = tmp_path / "messages-Karin.txt"
    path.write_text(IOS, encoding="utf-8")
    conv = parse([path], tz="America/New_York")
    assert conv.source.platform == "ios"
    assert [(m.sender, m.kind.value, m.text) for m in conv.messages] == [
        ("Ik", "text", "Hallo Karin"),
        ("Karin", "text", "Hallo!\nWie geht's?"),
        ("Karin", "media", "Bild"),
        ("Ik", "text", "Zone unbekannt"),
    ]
    # MEZ is UTC+1 whatever --tz says; --tz only chooses how the instant is shown
    assert conv.messages[0].timestamp.astimezone(timezone.utc) == datetime(2019, 3, 2, 13, 5, 12, tzinfo=timezone.utc)
    assert conv.messages[0].timestamp.isoformat() == "2019-03-02T08:05:12-05:00"
    assert conv.messages[2].timestamp.astimezone(timezone.utc) == datetime(2019, 3, 31, 1, 10, tzinfo=timezone.utc)
    # an unknown abbreviation: the wall clock is read in --tz
    assert conv.messages[3].timestamp.isoformat() == "2019-05-01T08:00:00-04:00"
    assert "MESZ, MEZ" in conv.source.inferred["time_basis"]
    assert conv.messages[2].attachments[0].to_dict() == {"name": "f8e7d6c5.jpg", "present": False, "media_type": "image/jpeg"}


def test_date_order_override_and_us_clock(tmp_path: Path) -> None:
    path = tmp_path / "messages-Sam.txt"
    path.write_text("[3/4/24, 9:15 PM] Sam: hi\n[3/4/24, 9:16 PM] Me: <a1b2c3.jpg>\n", encoding="utf-8")
    conv = parse([path])
    assert conv.messages[0].timestamp.isoformat() == "2024-04-03T21:15:00+02:00"  # DMY assumed
    conv = parse([path], date_order="MDY")
    assert conv.messages[0].timestamp.isoformat() == "2024-03-04T21:15:00+01:00"
    assert conv.source.inferred["date_order"]["evidence"] == "given by the archivist"


def test_text_without_threema_lines_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "messages-x.txt"
    path.write_text("geen chat\n", encoding="utf-8")
    export = open_export([path])
    assert threema.FORMAT.score(export) == 0.0
    with pytest.raises(InputError, match="no Threema message line"):
        threema.FORMAT.parse_all(export, ParseOptions())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=300))
def test_random_bytes_raise_only_input_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "messages-x.txt"
    path.write_bytes(b"[14.03.2024, 09:15] A: " + data)
    export = open_export([path])
    threema.FORMAT.score(export)
    try:
        conv = threema.FORMAT.parse_all(export, ParseOptions())[0]
    except InputError:
        return
    assert conv.messages[0].kind in (MessageKind.TEXT, MessageKind.MEDIA, MessageKind.CONTACT)


_LINE = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters=" .,!?'äöüß😀"),
                min_size=1, max_size=30).map(str.strip).filter(bool)
_SENDER = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=20).map(
    str.strip).filter(bool)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chat=st.lists(st.tuples(st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1)),
                               _SENDER, st.lists(_LINE, min_size=1, max_size=3)), min_size=1, max_size=12),
       ios=st.booleans())
def test_random_chats_written_in_both_threema_forms_parse_back(tmp_path: Path, chat: list, ios: bool) -> None:
    months = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
              "November", "Dezember"]
    if ios:
        text = "".join(f"{'>>>' if sender < 'N' else '<<<'} {when.day}. {months[when.month - 1]} {when.year} um "
                       f"{when:%H:%M:%S} UTC: {chr(10).join(lines)}\n" for when, sender, lines in chat)
        expected = [(when.replace(microsecond=0), "Ik" if sender < "N" else "Partner", "\n".join(lines))
                    for when, sender, lines in chat]
    else:
        text = "".join(f"[{when:%d.%m.%Y, %H:%M}] {sender}: {chr(10).join(lines)}\n" for when, sender, lines in chat)
        expected = [(when.replace(second=0, microsecond=0), sender, "\n".join(lines)) for when, sender, lines in chat]
    path = tmp_path / "messages-Partner.txt"
    path.write_text(text, encoding="utf-8")
    options = {"date_order": "DMY"} if not ios else {}
    (conv,) = threema.FORMAT.parse_all(open_export([path]), ParseOptions(tz="UTC", **options))
    assert [(m.timestamp.replace(tzinfo=None), m.sender, m.text) for m in conv.messages] == expected
