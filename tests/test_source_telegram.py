"""Telegram Desktop JSON: the corpus exports read in place (counts, kinds, senders and times verified by
reading the files), a folder export with media present and missing, damaged entries kept, and random
bytes refused with the project's own error only."""
from __future__ import annotations

import json
import zipfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.export import open_export
from ingest.sources import telegram
from ingest.sources.base import ParseOptions
from kernel.errors import InputError
from kernel.model import Conversation, MessageKind
from tests.conftest import shared_or_skip

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus() -> Path:
    return shared_or_skip() / "corpus"


def parse(paths: list[Path], tz: str = "Europe/Amsterdam") -> list[Conversation]:
    export = open_export(paths)
    assert telegram.FORMAT.score(export) >= 0.9
    conversations = telegram.FORMAT.parse_all(export, ParseOptions(tz=tz))
    for conversation in conversations:
        jsonschema.validate(conversation.to_dict(), SCHEMA)
        assert Conversation.from_dict(json.loads(conversation.to_json())) == conversation
    return conversations


def kinds(conversation: Conversation) -> dict[str, int]:
    return dict(Counter(m.kind.value for m in conversation.messages))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# --- corpus -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["test_single_export.json", "test_batch_export.json"])
def test_chat_miner_exports_match_their_target(corpus: Path, name: str) -> None:
    folder = corpus / "telegram-json-chat-miner"
    (conv,) = parse([folder / name])
    target = json.loads((folder / "target.json").read_text(encoding="utf-8"))
    # target.json gives UTC wall clocks (date_unixtime read as UTC); we show them in Amsterdam time
    assert [(m.timestamp.astimezone(timezone.utc).replace(tzinfo=None).isoformat(), m.sender) for m in conv.messages] == [
        (t["timestamp"], t["author"]) for t in target
    ]
    assert conv.messages[0].timestamp.isoformat() == "2018-12-05T11:39:10+01:00"
    assert conv.messages[0].text == target[0]["message"]
    # Telegram's text arrays are the message cut into entities: joined as they are, with no space added
    # (chat-miner's target adds one; the export has none between "Link:" and the link)
    assert conv.messages[1].text == "Link:https://telegram.org/"
    assert conv.title == ("Chatname" if "batch" in name else None)
    assert conv.source.inferred["time_basis"].startswith("date_unixtime")


def test_supergroup_2021_without_unixtime_is_read_in_the_zone(corpus: Path) -> None:
    (conv,) = parse([corpus / "telegram-desktop-json-frozenspider" / "telegram_2021-06_supergroup" / "result.json"])
    assert conv.title == "My Supergroup"
    assert kinds(conv) == {"system": 1, "text": 2, "contact": 1}
    assert [m.sender for m in conv.messages] == [None, "Tttttt Yyyyyyy", "Vvvvvvvv Bbbbbbb", "Aaaaa Aaaaaaaaaaa"]
    assert conv.messages[0].text == "Sssss Pppppp heeft Vvvvvvvv Bbbbbbb toegevoegd"
    assert conv.messages[1].text == "Message text with emoji 🙂"
    assert conv.messages[3].text == "Aaaaa, +998 91 1234567"
    # "date" only (exported before Telegram wrote date_unixtime): wall clock read in --tz
    assert conv.messages[1].timestamp.isoformat() == "2020-12-22T23:12:09+01:00"
    assert "read in Europe/Amsterdam" in conv.source.inferred["time_basis"]
    (again,) = parse(
        [corpus / "telegram-desktop-json-frozenspider" / "telegram_2021-06_supergroup" / "result.json"], tz="Asia/Tashkent"
    )
    assert again.messages[1].timestamp.isoformat() == "2020-12-22T23:12:09+05:00"


def test_full_export_2023_prefers_unixtime(corpus: Path) -> None:
    (conv,) = parse([corpus / "telegram-desktop-json-frozenspider" / "telegram_2023-01"])  # the folder itself
    assert conv.title == "My Group"
    assert kinds(conv) == {"system": 5, "text": 1}
    # date "2016-11-17T17:57:40" was the exporter's clock (UTC+5); date_unixtime 1479387460 is the instant
    assert conv.messages[2].timestamp == utc("2016-11-17T12:57:40")
    assert conv.messages[2].timestamp.isoformat() == "2016-11-17T13:57:40+01:00"
    assert conv.messages[2].sender == "Eeeee Eeeeeeeeee"
    assert conv.messages[2].text == "this contains a lot of stuff: 😁http://mylink.org/HIDE ME"
    assert conv.messages[3].text == "Aaaaa Aaaaaaaaaaa heeft (onbekend) toegevoegd"
    photo = conv.messages[5]
    assert photo.kind is MessageKind.SYSTEM
    assert [a.to_dict() for a in photo.attachments] == [
        {"name": "(File not included. Change data exporting settings to download.)", "present": False, "media_type": None,
         "omitted": True}
    ]
    assert conv.source.files[0].name == "telegram_2023-01/result.json"
    assert conv.source.inferred["chat"] == {"type": "private_group", "id": 123123123}


def test_audio_video_2023_deleted_account_and_missing_files(corpus: Path) -> None:
    (conv,) = parse([corpus / "telegram-desktop-json-frozenspider" / "telegram_2023-10_audio-video"])
    assert kinds(conv) == {"media": 4}
    assert {m.sender for m in conv.messages} == {"user5555555555"}  # "from": null: a deleted account
    assert conv.source.inferred["sender_from_id"] == [1, 2, 3, 4]
    assert [a.to_dict() for a in conv.messages[0].attachments] == [
        {"name": "audio_file.mp3", "present": False, "media_type": "audio/mpeg"}
    ]
    assert conv.messages[2].attachments[0].media_type == "video/mp4"
    assert conv.messages[3].timestamp == utc("2022-10-11T14:49:16")
    assert [m.text for m in conv.messages][:2] == ["Audio file (incomplete) message", "Audio file (full) message"]


# --- our own exports --------------------------------------------------------------------------------


def _full_export(folder: Path, with_photo: bool = True) -> Path:
    chats = {
        "about": "x",
        "list": [
            {
                "name": "Wethouder Jansen",
                "type": "personal_chat",
                "id": 42,
                "messages": [
                    {"id": 1, "type": "message", "date": "2024-03-31T01:59:00", "date_unixtime": "1711846740",
                     "from": "Jansen", "from_id": "user1", "text": "Nachtelijke vraag"},
                    {"id": 2, "type": "message", "date": "2024-03-31T03:01:00", "date_unixtime": "1711846860",
                     "edited": "2024-03-31T03:05:00", "edited_unixtime": "1711847100",
                     "from": "Ik", "from_id": "user2", "reply_to_message_id": 1,
                     "photo": "chats/chat_001/photos/photo_1@31-03-2024_03-01-00.jpg", "width": 10, "height": 10,
                     "text": ["Zie ", {"type": "text_link", "text": "raadsbesluit", "href": "https://example.nl/b"}]},
                    {"id": 3, "type": "message", "date_unixtime": "1711850000", "from": "Jansen", "from_id": "user1",
                     "file": "(File not included. Change data exporting settings to download.)",
                     "file_name": "begroting.pdf", "mime_type": "application/pdf", "text": ""},
                    {"id": 4, "type": "service", "date_unixtime": "1711850100", "actor": "Jansen",
                     "actor_id": "user1", "action": "phone_call", "duration_seconds": 65, "text": ""},
                    {"id": 5, "type": "message", "from": "Jansen", "text": "kapot: geen datum"},
                    {"id": 6, "type": "message", "date_unixtime": "1711850200", "from": "Jansen",
                     "forwarded_from": "Griffie", "location_information": {"latitude": 52.1, "longitude": 5.1},
                     "text": ""},
                ],
            },
            {"name": "Tweede chat", "type": "private_group", "id": 43, "messages": [
                {"id": 1, "type": "message", "date_unixtime": "1711850300", "from": "Piet", "text": "hoi"}]},
        ],
    }
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(
        json.dumps({"personal_information": {"first_name": "Ik"}, "chats": chats}, ensure_ascii=False), encoding="utf-8"
    )
    if with_photo:
        photo = folder / "chats" / "chat_001" / "photos" / "photo_1@31-03-2024_03-01-00.jpg"
        photo.parent.mkdir(parents=True)
        photo.write_bytes(b"\xff\xd8\xff\xe0 not a real jpeg")
    return folder


def test_folder_export_with_several_chats(tmp_path: Path) -> None:
    conversations = parse([_full_export(tmp_path / "ChatExport_2024-04-01")])
    assert [c.title for c in conversations] == ["Wethouder Jansen", "Tweede chat"]
    conv = conversations[0]
    assert [m.kind.value for m in conv.messages] == ["text", "media", "media", "call", "unparsed", "location"]
    first, photo, pdf, call, damaged, place = conv.messages
    # across the DST change of 31 March 2024: 01:59 CET and 03:01 CEST are two minutes apart
    assert first.timestamp.isoformat() == "2024-03-31T01:59:00+01:00"
    assert photo.timestamp.isoformat() == "2024-03-31T03:01:00+02:00"
    assert (photo.timestamp.astimezone(timezone.utc) - first.timestamp.astimezone(timezone.utc)).total_seconds() == 120
    assert photo.edited and not first.edited
    assert photo.text == "Zie raadsbesluit"
    assert photo.attachments[0].to_dict() == {
        "name": "chats/chat_001/photos/photo_1@31-03-2024_03-01-00.jpg", "present": True, "media_type": "image/jpeg"
    }
    assert pdf.attachments[0].to_dict() == {"name": "begroting.pdf", "present": False, "media_type": "application/pdf",
                                              "omitted": True}
    assert (call.sender, call.text) == ("Jansen", "phone_call; duration_seconds: 65")
    assert damaged.sender is None and json.loads(damaged.text)["text"] == "kapot: geen datum"
    assert damaged.timestamp == call.timestamp
    assert place.text == "52.1, 5.1"
    inferred = conv.source.inferred
    assert inferred["replies"] == {"2": 1}
    assert inferred["links"] == {"2": ["https://example.nl/b"]}
    assert inferred["forwarded"] == {"6": "Griffie"}
    assert inferred["unparsed_lines"] == [{"seq": 5, "line": 5, "text": damaged.text, "reason": "no date"}]
    assert [p.to_dict() for p in conv.participants] == [
        {"name": "Jansen", "message_count": 4}, {"name": "Ik", "message_count": 1}
    ]


def test_zip_of_the_folder_and_result_json_alone(tmp_path: Path) -> None:
    folder = _full_export(tmp_path / "ChatExport_2024-04-01")
    archive = tmp_path / "telegram.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, "ChatExport_2024-04-01/" + path.relative_to(folder).as_posix())
    zipped = parse([archive])[0]
    assert zipped.messages[1].attachments[0].name == "ChatExport_2024-04-01/chats/chat_001/photos/photo_1@31-03-2024_03-01-00.jpg"
    assert zipped.messages[1].attachments[0].present
    alone = parse([folder / "result.json"])[0]
    assert not alone.messages[1].attachments[0].present  # the photo was not handed over


def test_truncated_json_is_one_input_error(tmp_path: Path) -> None:
    folder = _full_export(tmp_path / "export", with_photo=False)
    data = (folder / "result.json").read_bytes()
    (folder / "result.json").write_bytes(data[: len(data) // 2])
    export = open_export([folder / "result.json"])
    assert telegram.FORMAT.score(export) == 1.0
    with pytest.raises(InputError, match="not valid JSON"):
        telegram.FORMAT.parse_all(export, ParseOptions())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=400))
def test_random_bytes_raise_only_input_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(b'{"messages": [' + data)
    export = open_export([path])
    telegram.FORMAT.score(export)
    try:
        telegram.FORMAT.parse_all(export, ParseOptions())
    except InputError:
        pass


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chat=st.lists(st.tuples(st.integers(min_value=0, max_value=2_000_000_000), st.text(min_size=1, max_size=15),
                               st.lists(_TEXT, min_size=1, max_size=4), st.booleans()), min_size=1, max_size=15))
def test_random_chats_as_telegram_json_parse_back(tmp_path: Path, chat: list) -> None:
    messages = []
    for n, (unix, sender, pieces, as_entities) in enumerate(chat, 1):
        text = [{"type": "plain", "text": p} if i % 2 else p for i, p in enumerate(pieces)] if as_entities else "".join(pieces)
        messages.append({"id": n, "type": "message", "date_unixtime": str(unix), "from": sender, "text": text})
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "x", "type": "personal_chat", "id": 1, "messages": messages}), encoding="utf-8")
    (conv,) = telegram.FORMAT.parse_all(open_export([path]), ParseOptions(tz="Europe/Amsterdam"))
    assert [(m.timestamp, m.sender, m.text) for m in conv.messages] == [
        (datetime.fromtimestamp(unix, timezone.utc), sender, "".join(pieces)) for unix, sender, pieces, _ in chat
    ]


def test_replies_map_to_seqs_whatever_the_ids(tmp_path: Path) -> None:
    def chat(ids: list) -> Path:
        messages = [{"id": i, "type": "message", "date_unixtime": str(1700000000 + n), "from": "A", "text": f"m{n}"}
                    for n, i in enumerate(ids)]
        messages.append({"id": "last", "type": "message", "date_unixtime": "1700000100", "from": "B", "text": "re",
                         "reply_to_message_id": ids[1]})
        messages.append({"id": "x", "type": "message", "date_unixtime": "1700000101", "from": "B", "text": "re",
                         "reply_to_message_id": 999})
        path = tmp_path / f"{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps({"name": "c", "type": "personal_chat", "id": 1, "messages": messages}), encoding="utf-8")
        return path

    for ids in ([10, 20, 30], [30, 20, 10], ["a", "b", "c"]):
        (conv,) = parse([chat(ids)])
        assert conv.source.inferred["replies"] == {"4": 2, "5": "message id 999 (not in this chat)"}
