"""signal-export chats: the corpus chat.md against its target, our own chat folder written the way
signal-export's `Message.to_md`/`dict_str` write (attachments, quotes, reactions, deleted, calls), a
whole output folder with several chats, and random bytes refused with the project's own error only."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.export import open_export
from ingest.sources import signal
from ingest.sources.base import ParseOptions
from kernel.errors import InputError
from kernel.model import Conversation
from tests.conftest import shared_or_skip

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))


def parse(paths: list[Path], minimum: float = 0.96) -> list[Conversation]:
    export = open_export(paths)
    assert signal.FORMAT.score(export) >= minimum
    conversations = signal.FORMAT.parse_all(export, ParseOptions())
    for conversation in conversations:
        jsonschema.validate(conversation.to_dict(), SCHEMA)
        assert Conversation.from_dict(json.loads(conversation.to_json())) == conversation
    return conversations


def test_corpus_chat_md_matches_its_target() -> None:
    folder = shared_or_skip() / "corpus" / "signal-export-md-chat-miner"
    (conv,) = parse([folder / "test_export.txt"])
    target = json.loads((folder / "target.json").read_text(encoding="utf-8"))
    expected = sorted((t["timestamp"], t["author"]) for t in target)
    assert [(m.timestamp.replace(tzinfo=None).isoformat(), m.sender) for m in conv.messages] == expected
    assert conv.messages[0].timestamp.isoformat() == "2019-12-24T12:23:00+01:00"
    assert conv.messages[0].text == "Hello John!"
    # the target joins the two lines with a space; the export has a line break, which we keep
    assert conv.messages[1].text == "Hello\nJane!"


CHAT_MD = (
    "[2024-03-31 02:30:00] Me: \n\n> Kan het besluit\n> vandaag nog?\n\nJa, vanmiddag.  \n"
    "(- Anna de Boer: 👍, Bob: ❤️ -)\n\n"
    "[2024-03-31 12:00:05] Anna de Boer: Hier de stukken ![IMG 1.jpg](./media/IMG%201.jpg)  "
    "[notulen.pdf](./media/notulen.pdf)  \n\n"
    "[2024-04-01 09:00:00] Anna de Boer: (This message was deleted)\n\n"
    "[2024-04-01 09:01:00] Me: Outgoing voice call (accepted, 1m 5s)  \n\n"
    "[2024-02-30 09:02:00] Me: kapotte datum\n\n"
)


def _chat_folder(root: Path, name: str = "AnnadeBoer", data_json: bool = False) -> Path:
    folder = root / name
    (folder / "media").mkdir(parents=True)
    (folder / "media" / "IMG 1.jpg").write_bytes(b"\xff\xd8\xff")
    (folder / "chat.md").write_text(CHAT_MD, encoding="utf-8")
    if data_json:
        lines = [
            {"date": "2024-05-01T10:00:00", "sender": "Anna de Boer", "body": "Vergadering om 10 uur  ", "quote": "",
             "sticker": None, "reactions": [["Me", "👍"]], "attachments": [], "deleted": False, "call": False,
             "missed": False},
            {"date": "2024-05-01T10:05:00", "sender": "Me", "body": "", "quote": "\n\n> Vergadering\n\n",
             "sticker": None, "reactions": [], "attachments": [{"name": "IMG 1.jpg", "path": "media/IMG 1.jpg"}],
             "deleted": False, "call": False, "missed": False},
        ]
        text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n{kapot\n"
        (folder / "data.json").write_text(text, encoding="utf-8")
    return folder


def test_chat_md_every_construct(tmp_path: Path) -> None:
    (conv,) = parse([_chat_folder(tmp_path)])
    assert conv.title is None  # the folder itself was given: its name is the export's, not a chat's
    kinds = [m.kind.value for m in conv.messages]
    assert kinds == ["text", "media", "deleted", "call", "unparsed"]
    answer, files, deleted, call, damaged = conv.messages
    assert (answer.sender, answer.text) == ("Me", "Ja, vanmiddag.")
    # 02:30 does not exist on 31 March 2024 in Amsterdam: moved forward, and said so
    assert answer.timestamp.isoformat() == "2024-03-31T03:30:00+02:00"
    assert conv.source.inferred["dst"][0]["case"] == "dst_gap"
    assert conv.source.inferred["quotes"] == {"1": "Kan het besluit\nvandaag nog?"}
    assert conv.source.inferred["reactions"] == {"1": ["Anna de Boer: 👍", "Bob: ❤️"]}
    assert files.text == "Hier de stukken"
    assert [a.to_dict() for a in files.attachments] == [
        {"name": "media/IMG 1.jpg", "present": True, "media_type": "image/jpeg"},
        {"name": "media/notulen.pdf", "present": False, "media_type": "application/pdf"},
    ]
    assert deleted.text == "(This message was deleted)"
    assert call.text == "Outgoing voice call (accepted, 1m 5s)"
    assert damaged.text == "[2024-02-30 09:02:00] Me: kapotte datum"
    assert damaged.timestamp == call.timestamp
    assert conv.source.inferred["unparsed_lines"] == [
        {"seq": 5, "line": 15, "text": damaged.text, "reason": "not a calendar date"}
    ]


def test_output_folder_with_several_chats_prefers_data_json(tmp_path: Path) -> None:
    root = tmp_path / "signal-export"
    _chat_folder(root, "AnnadeBoer", data_json=True)
    _chat_folder(root, "Griffie")
    anna, griffie = parse([root])
    assert (anna.title, griffie.title) == ("AnnadeBoer", "Griffie")
    assert [m.kind.value for m in anna.messages] == ["text", "media", "unparsed"]
    assert anna.messages[0].text == "Vergadering om 10 uur"
    assert anna.messages[0].timestamp == datetime.fromisoformat("2024-05-01T10:00:00+02:00")
    assert anna.messages[1].attachments[0].to_dict() == {
        "name": "AnnadeBoer/media/IMG 1.jpg", "present": True, "media_type": "image/jpeg"
    }
    assert anna.source.inferred["quotes"] == {"2": "Vergadering"}
    assert anna.source.inferred["reactions"] == {"1": ["Me: 👍"]}
    assert anna.source.inferred["unparsed_lines"] == [
        {"seq": 3, "line": 3, "text": "{kapot", "reason": "not a JSON object"}
    ]
    assert len(griffie.messages) == 5


def test_text_without_headers_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chat.md"
    path.write_text("# mijn notities\nniets hier\n", encoding="utf-8")
    export = open_export([path])
    assert signal.FORMAT.score(export) == 0.0
    with pytest.raises(InputError, match="no signal-export message header"):
        signal.FORMAT.parse_all(export, ParseOptions())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=300))
def test_random_bytes_raise_only_input_errors(tmp_path: Path, data: bytes) -> None:
    for name, prefix in (("chat.md", b"[2024-01-01 10:00:00] A: "), ("data.json", b'{"date": "2024-01-01T10:00:00", ')):
        folder = tmp_path / name.replace(".", "_")
        folder.mkdir(exist_ok=True)
        (folder / name).write_bytes(prefix + data)
        export = open_export([folder / name])
        signal.FORMAT.score(export)
        try:
            signal.FORMAT.parse_all(export, ParseOptions())
        except InputError:
            pass


_LINE = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters=" .,!?'é€😀"),
                min_size=1, max_size=30).map(str.strip).filter(bool)
_SENDER = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=20).map(
    str.strip).filter(bool)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chat=st.lists(st.tuples(st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1)),
                               _SENDER, st.lists(_LINE, min_size=1, max_size=3)), min_size=1, max_size=12))
def test_random_chats_written_as_signal_export_parse_back(tmp_path: Path, chat: list) -> None:
    # written exactly as signal-export's Message.to_md plus print(): "[date] sender: body  \n" + "\n"
    text = "".join(f"[{when:%Y-%m-%d %H:%M:%S}] {sender}: {chr(10).join(lines)}  \n\n" for when, sender, lines in chat)
    path = tmp_path / "chat.md"
    path.write_text(text, encoding="utf-8")
    (conv,) = signal.FORMAT.parse_all(open_export([path]), ParseOptions(tz="UTC"))
    assert [(m.timestamp.replace(tzinfo=None), m.sender, m.text) for m in conv.messages] == [
        (when.replace(microsecond=0), sender, "\n".join(lines)) for when, sender, lines in chat
    ]
