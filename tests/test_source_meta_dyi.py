"""Messenger / Instagram "Download your information" JSON: the corpus file against its target, the
Latin-1 mojibake undone only when it is safe, newest-first files put in time order, media present or
not, and random bytes refused with the project's own error only."""
from __future__ import annotations

import json
import zipfile
from datetime import timezone
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.export import open_export
from ingest.sources import meta_dyi
from ingest.sources.base import ParseOptions
from ingest.sources.meta_dyi import judge_mojibake, undo_mojibake
from kernel.errors import InputError
from kernel.model import Conversation, MessageKind
from tests.conftest import shared_or_skip

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))


def parse(paths: list[Path]) -> list[Conversation]:
    export = open_export(paths)
    assert meta_dyi.FORMAT.score(export) == 1.0
    conversations = meta_dyi.FORMAT.parse_all(export, ParseOptions())
    for conversation in conversations:
        jsonschema.validate(conversation.to_dict(), SCHEMA)
        assert Conversation.from_dict(json.loads(conversation.to_json())) == conversation
    return conversations


def mojibake(text: str) -> str:
    """What Meta writes for `text`: each UTF-8 byte as the Latin-1 character of that value."""
    return text.encode("utf-8").decode("latin-1")


def test_instagram_corpus_file_matches_its_target() -> None:
    folder = shared_or_skip() / "corpus" / "meta-dyi-instagram-json-chat-miner"
    (conv,) = parse([folder / "test_export.json"])
    target = json.loads((folder / "target.json").read_text(encoding="utf-8"))
    # the file is newest first; the conversation is in time order (target.json keeps the file's order)
    expected = sorted(((t["timestamp"], t["author"], t["message"]) for t in target))
    got = [
        (m.timestamp.astimezone(timezone.utc).replace(tzinfo=None).isoformat(), m.sender, m.text) for m in conv.messages
    ]
    assert got == expected
    assert conv.messages[0].timestamp.isoformat() == "2019-12-24T12:23:00+01:00"
    assert conv.source.inferred["mojibake"] == {"repaired": False, "evidence": "all strings are ASCII"}


def _thread(folder: Path, files: dict[str, dict]) -> Path:
    for name, document in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        # ensure_ascii like Meta: every non-ASCII character escaped as \\u00XX
        path.write_text(json.dumps(document), encoding="utf-8")
    return folder


def _messenger_download(root: Path) -> Path:
    inbox = "your_facebook_activity/messages/inbox/raadsgriffie_123"
    newest = {
        "participants": [{"name": mojibake("Renée Smit")}, {"name": "Ik"}],
        "title": mojibake("Raadsgriffie – overleg"),
        "thread_path": "inbox/raadsgriffie_123",
        "messages": [
            {"sender_name": "Ik", "timestamp_ms": 1700000300000, "content": mojibake("Tot morgen 👋"),
             "reactions": [{"reaction": mojibake("👍"), "actor": mojibake("Renée Smit")}]},
            {"sender_name": mojibake("Renée Smit"), "timestamp_ms": 1700000200000,
             "photos": [{"uri": f"{inbox}/photos/agenda.jpg", "creation_timestamp": 1700000200}]},
            {"sender_name": mojibake("Renée Smit"), "timestamp_ms": 1700000200000, "content": "Hier de agenda"},
            {"sender_name": "Ik", "timestamp_ms": 1700000150000, "content": "weg", "is_unsent": True},
            {"sender_name": "Ik", "content": "geen tijd"},
        ],
    }
    older = {
        "participants": newest["participants"], "title": newest["title"], "thread_path": newest["thread_path"],
        "messages": [
            {"sender_name": "Ik", "timestamp_ms": 1700000100000, "type": "Call", "content": "", "call_duration": 42},
            {"sender_name": mojibake("Renée Smit"), "timestamp_ms": 1700000000000,
             "content": mojibake("Café om 9 uur?"), "share": {"link": "https://example.nl/zaal"},
             "files": [{"uri": f"{inbox}/files/notulen.pdf"}]},
        ],
    }
    _thread(root, {f"{inbox}/message_1.json": newest, f"{inbox}/message_2.json": older})
    photo = root / inbox / "photos" / "agenda.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8\xff")
    _thread(root, {"your_facebook_activity/messages/inbox/zz_tweede_9/message_1.json": {
        "participants": [{"name": "Piet"}], "title": "Piet", "thread_path": "inbox/zz_tweede_9",
        "messages": [{"sender_name": "Piet", "timestamp_ms": 1600000000000, "content": "hoi"}]}})
    return root


def test_messenger_download_folder(tmp_path: Path) -> None:
    conversations = parse([_messenger_download(tmp_path / "facebook-ik-2024")])
    assert [c.title for c in conversations] == ["Raadsgriffie – overleg", "Piet"]
    conv = conversations[0]
    assert conv.source.inferred["mojibake"]["repaired"] is True
    texts = [(m.sender, m.kind.value, m.text) for m in conv.messages]
    assert texts == [
        ("Renée Smit", "media", "Café om 9 uur?\nhttps://example.nl/zaal"),
        ("Ik", "call", "call (call_duration: 42 s)"),
        ("Ik", "deleted", "weg"),
        # equal times: the file lists newest first, so the one lower in the file was sent first
        ("Renée Smit", "text", "Hier de agenda"),
        ("Renée Smit", "media", ""),
        ("Ik", "text", "Tot morgen 👋"),
        (None, "unparsed", '{"sender_name": "Ik", "content": "geen tijd"}'),
    ]
    stamps = [m.timestamp.astimezone(timezone.utc) for m in conv.messages[:-1]]
    assert stamps == sorted(stamps)
    assert conv.messages[0].timestamp.isoformat() == "2023-11-14T23:13:20+01:00"
    assert [a.to_dict() for a in conv.messages[0].attachments] == [
        {"name": "your_facebook_activity/messages/inbox/raadsgriffie_123/files/notulen.pdf", "present": False,
         "media_type": "application/pdf"}
    ]
    assert conv.messages[4].attachments[0].present
    assert conv.source.inferred["reactions"] == {"6": ["Renée Smit: 👍"]}
    assert conv.source.inferred["unparsed_lines"] == [
        {"file": 1, "line": 5, "text": conv.messages[6].text, "reason": "no timestamp_ms", "seq": 7}
    ]
    assert conv.source.platform == "messenger"


def test_zip_with_a_top_folder_finds_media(tmp_path: Path) -> None:
    root = _messenger_download(tmp_path / "facebook-ik-2024")
    archive = tmp_path / "facebook.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                z.write(path, "facebook-ik-2024/" + path.relative_to(root).as_posix())
    conv = parse([archive])[0]
    assert conv.messages[4].attachments[0].present


def test_correct_text_is_never_corrupted(tmp_path: Path) -> None:
    # a file whose strings are already right (one would not survive the repair): nothing is changed
    document = {"participants": [], "messages": [
        {"sender_name": "Zoë", "timestamp_ms": 1, "content": "Ã©n dat is echt zo getypt"},
        {"sender_name": "Zoë", "timestamp_ms": 2, "content": "Café"},
    ]}
    path = tmp_path / "message_1.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    (conv,) = parse([path])
    assert [m.text for m in conv.messages] == ["Ã©n dat is echt zo getypt", "Café"]
    assert conv.source.inferred["mojibake"]["repaired"] is False


@given(st.text(min_size=1, max_size=40))
def test_mojibake_round_trip_is_exact(text: str) -> None:
    escaped = mojibake(text)
    assert undo_mojibake(escaped) == text
    verdict = judge_mojibake({"messages": [{"content": escaped}]})
    assert verdict.repair is (not text.isascii())


def test_truncated_file_is_one_input_error(tmp_path: Path) -> None:
    path = tmp_path / "message_1.json"
    path.write_text('{"participants": [], "messages": [{"sender_name": "A", "timestamp_ms": 1', encoding="utf-8")
    export = open_export([path])
    with pytest.raises(InputError, match="not valid JSON"):
        meta_dyi.FORMAT.parse_all(export, ParseOptions())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=300))
def test_random_bytes_raise_only_input_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "message_1.json"
    path.write_bytes(b'{"messages": [{"sender_name": "A", "timestamp_ms": ' + data)
    export = open_export([path])
    meta_dyi.FORMAT.score(export)
    try:
        conversations = meta_dyi.FORMAT.parse_all(export, ParseOptions())
    except InputError:
        return
    assert all(m.kind is not None for c in conversations for m in c.messages)


def test_kind_enum_has_unparsed() -> None:
    assert MessageKind("unparsed") is MessageKind.UNPARSED


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chat=st.lists(st.tuples(st.integers(min_value=0, max_value=4_000_000_000_000),
                               st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=15),
                               st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)),
                     min_size=1, max_size=15))
def test_random_chats_as_meta_writes_them_parse_back(tmp_path: Path, chat: list) -> None:
    # Meta writes newest first and every non-ASCII character as its UTF-8 bytes in Latin-1 escapes
    newest_first = sorted(enumerate(chat), key=lambda item: (-item[1][0], -item[0]))
    document = {"participants": [], "messages": [
        {"sender_name": mojibake(sender), "timestamp_ms": ms, "content": mojibake(text)}
        for _, (ms, sender, text) in newest_first
    ]}
    path = tmp_path / "message_1.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    (conv,) = meta_dyi.FORMAT.parse_all(open_export([path]), ParseOptions(tz="UTC"))
    expected = [(ms, sender, text) for _, (ms, sender, text) in sorted(enumerate(chat), key=lambda i: (i[1][0], i[0]))]
    assert [(round(m.timestamp.timestamp() * 1000), m.sender, m.text) for m in conv.messages] == expected
