"""Messenger's end-to-end encrypted chat download (camelCase thread files beside `media/`): files running
either way in time put in order with ties kept as sent, unsent and placeholder messages, media present,
missing and "Failed to download media", reactions, mojibake repaired only where safe, detection apart
from "Download your information", the command line, and random bytes refused with our own error only.
The files are written here in the shape other parsers of real downloads read (no sample is public)."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.export import open_export
from ingest.sip import SipOptions, create_sip
from ingest.sip_validate import validate_sip
from ingest.sources import detect, meta_e2ee, parse_all_exports
from ingest.sources.base import ParseOptions
from kernel.config import Config
from kernel.errors import InputError
from kernel.model import Conversation, MessageKind

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))
T0 = 1746073791906  # 2025-05-01 04:29:51.906 UTC


def parse(paths: list[Path], tz: str = "Europe/Amsterdam") -> list[Conversation]:
    export = open_export(paths)
    assert meta_e2ee.FORMAT.score(export) == 1.0
    assert detect(export).format.name == "meta-e2ee"
    conversations = meta_e2ee.FORMAT.parse_all(export, ParseOptions(tz=tz))
    for conversation in conversations:
        jsonschema.validate(conversation.to_dict(), SCHEMA)
        assert Conversation.from_dict(json.loads(conversation.to_json())) == conversation
    return conversations


def mojibake(text: str) -> str:
    """What "Download your information" writes for `text`: each UTF-8 byte as a Latin-1 character."""
    return text.encode("utf-8").decode("latin-1")


def message(sender: str, ms: int, text: str = "", kind: str = "text", **extra: object) -> dict:
    return {"senderName": sender, "timestamp": ms, "text": text, "type": kind, "isUnsent": False, "media": [],
            "reactions": [], **extra}


def download(root: Path) -> Path:
    """A download of two threads: one written newest first in correct UTF-8, one oldest first in mojibake."""
    root.mkdir(parents=True)
    (root / "media").mkdir()
    (root / "media" / "3f1c9a2e-aaaa-4bbb-8ccc-000000000001.jpeg").write_bytes(b"\xff\xd8\xff")
    renee = {
        "participants": ["Ik", "Renée Smit"],
        "threadName": "Renée Smit_40",
        "messages": [
            message("Ik", T0 + 9000, "Tot morgen 👋", reactions=[{"actor": "Renée Smit", "reaction": "❤"}]),
            message("Renée Smit", T0 + 5000, "", "media",
                    media=[{"uri": "./media/3f1c9a2e-aaaa-4bbb-8ccc-000000000001.jpeg"},
                           {"uri": "./media/3f1c9a2e-aaaa-4bbb-8ccc-000000000002.mp4"}]),
            message("Renée Smit", T0 + 5000, "Hier de foto's van de zaal"),  # same ms, sent before the media
            message("Ik", T0 + 3000, "weg", isUnsent=True),
            message("Renée Smit", T0 + 2000, "", "media", media=[{"uri": "Failed to download media"}]),
            message("Ik", T0 + 1000, "Dit bericht is niet beschikbaar", "placeholder"),
            message("Renée Smit", T0, "Café om 9 uur? https://example.nl/zaal", "link"),
            {"senderName": "Ik", "text": "geen tijd", "type": "text"},
        ],
    }
    piet = {
        "participants": ["Ik", mojibake("Piet Müller")],
        "threadName": mojibake("Piet Müller_7"),
        "messages": [
            message(mojibake("Piet Müller"), T0, mojibake("Goedemorgen, één vraag")),
            message("Ik", T0 + 60_000, "Zeg het maar"),
        ],
    }
    # Meta's encrypted-chat files are UTF-8; the second is written as the older download writes text
    (root / "Renée Smit_40.json").write_text(json.dumps(renee, ensure_ascii=False, indent=2), encoding="utf-8")
    (root / "Piet Müller_7.json").write_text(json.dumps(piet), encoding="utf-8")
    return root


def test_download_folder_every_construct(tmp_path: Path) -> None:
    piet, renee = parse([download(tmp_path / "messenger-e2ee")])
    assert (piet.title, renee.title) == ("Piet Müller", "Renée Smit")
    assert renee.source.inferred["thread_name"] == "Renée Smit_40"
    assert renee.source.inferred["participants_listed"] == ["Ik", "Renée Smit"]
    got = [(m.sender, m.kind, m.text) for m in renee.messages]
    assert got == [
        ("Renée Smit", MessageKind.TEXT, "Café om 9 uur? https://example.nl/zaal"),
        ("Ik", MessageKind.TEXT, "Dit bericht is niet beschikbaar"),
        ("Renée Smit", MessageKind.MEDIA, ""),
        ("Ik", MessageKind.DELETED, "weg"),
        ("Renée Smit", MessageKind.TEXT, "Hier de foto's van de zaal"),  # equal times: the lower line was first
        ("Renée Smit", MessageKind.MEDIA, ""),
        ("Ik", MessageKind.TEXT, "Tot morgen 👋"),
        (None, MessageKind.UNPARSED, '{"senderName": "Ik", "text": "geen tijd", "type": "text"}'),
    ]
    assert renee.messages[0].timestamp.isoformat() == "2025-05-01T06:29:51.906000+02:00"
    assert renee.messages[-1].timestamp == renee.messages[-2].timestamp
    assert [a.to_dict() for a in renee.messages[5].attachments] == [
        {"name": "media/3f1c9a2e-aaaa-4bbb-8ccc-000000000001.jpeg", "present": True, "media_type": "image/jpeg"},
        {"name": "media/3f1c9a2e-aaaa-4bbb-8ccc-000000000002.mp4", "present": False, "media_type": "video/mp4"},
    ]
    assert renee.messages[2].attachments[0].to_dict() == {
        "name": "Failed to download media", "present": False, "media_type": None}
    facts = renee.source.inferred
    assert facts["media_not_downloaded"] == [3]
    assert facts["placeholders"] == [2]
    assert facts["reactions"] == {"7": ["Renée Smit: ❤"]}
    assert facts["unparsed_lines"] == [
        {"seq": 8, "line": 8, "text": renee.messages[7].text, "reason": "no numeric timestamp"}]
    assert facts["order"].startswith("sorted by timestamp; the file runs newest first")
    assert facts["mojibake"]["repaired"] is False  # correct UTF-8 is never "repaired"
    assert renee.source.platform == "messenger" and renee.source.format == "meta-e2ee"

    assert piet.source.inferred["mojibake"]["repaired"] is True
    assert [(m.sender, m.text) for m in piet.messages] == [
        ("Piet Müller", "Goedemorgen, één vraag"), ("Ik", "Zeg het maar")]
    assert piet.source.inferred["order"].startswith("sorted by timestamp; the file runs oldest first")
    assert {p.name: p.message_count for p in renee.participants} == {"Renée Smit": 4, "Ik": 3}


def test_zip_with_a_top_folder_and_a_single_thread_file(tmp_path: Path) -> None:
    root = download(tmp_path / "messenger-e2ee")
    archive = tmp_path / "e2ee.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                z.write(path, "messenger-e2ee/" + path.relative_to(root).as_posix())
    renee = parse([archive])[1]
    assert [(a.name, a.present) for a in renee.messages[5].attachments] == [  # the member's path in the zip
        ("messenger-e2ee/media/3f1c9a2e-aaaa-4bbb-8ccc-000000000001.jpeg", True),
        ("messenger-e2ee/media/3f1c9a2e-aaaa-4bbb-8ccc-000000000002.mp4", False)]
    assert renee.messages[2].attachments[0].name == "Failed to download media"
    (alone,) = parse([root / "Piet Müller_7.json"])
    assert alone.title == "Piet Müller" and len(alone.messages) == 2


def test_a_sip_of_one_thread_of_a_zipped_download_holds_its_photo(tmp_path: Path, config: Config) -> None:
    root = download(tmp_path / "messenger-e2ee")
    archive = tmp_path / "e2ee.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                z.write(path, "messenger-e2ee/" + path.relative_to(root).as_posix())
    made = create_sip([archive], tmp_path / "sip", config, options=SipOptions(conversation="2"))
    originals = sorted(p.relative_to(made.path / "data/original").as_posix()
                       for p in (made.path / "data/original").rglob("*") if p.is_file())
    assert originals == ["messenger-e2ee/media/3f1c9a2e-aaaa-4bbb-8ccc-000000000001.jpeg"]  # the other is missing
    assert validate_sip(made.path, config).valid


def test_a_thread_file_whose_name_comes_after_its_messages_is_still_found(tmp_path: Path) -> None:
    late = tmp_path / "Late_2.json"
    messages = [message("Ik", T0 + n, f"bericht {n}") for n in range(60)]  # pushes threadName past the head
    late.write_text(json.dumps({"messages": messages, "participants": ["Ik"], "threadName": "Late_2"}),
                    encoding="utf-8")
    assert late.read_bytes().index(b'"threadName"') > 4096
    export = open_export([late])
    assert meta_e2ee.FORMAT.score(export) == 0.9
    assert detect(export).format.name == "meta-e2ee"
    (conv,) = meta_e2ee.FORMAT.parse_all(export, ParseOptions(tz="UTC"))
    assert conv.title == "Late" and [m.text for m in conv.messages] == [f"bericht {n}" for n in range(60)]


def test_download_your_information_is_not_taken_for_an_encrypted_chat(tmp_path: Path) -> None:
    old = tmp_path / "message_1.json"
    old.write_text(json.dumps({"participants": [{"name": "Ik"}], "title": "Ik", "thread_path": "inbox/ik_1",
                               "messages": [{"sender_name": "Ik", "timestamp_ms": T0, "content": "hoi"}]}))
    export = open_export([old])
    assert meta_e2ee.FORMAT.score(export) == 0.0
    assert detect(export).format.name == "meta-dyi"
    with pytest.raises(InputError, match="no Messenger encrypted-chat thread file"):
        parse_all_exports([old], format="meta-e2ee")


def test_command_line_prints_and_refuses_a_truncated_file_in_one_line(tmp_path: Path) -> None:
    root = download(tmp_path / "messenger-e2ee")
    done = subprocess.run([sys.executable, "-m", "edepot.cli", "parse", str(root / "Piet Müller_7.json"),
                           "--tz", "UTC"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    jsonschema.validate(document, SCHEMA)
    assert [(m["sender"], m["timestamp"]) for m in document["messages"]] == [
        ("Piet Müller", "2025-05-01T04:29:51.906000+00:00"), ("Ik", "2025-05-01T04:30:51.906000+00:00")]
    cut = tmp_path / "Cut_1.json"
    cut.write_bytes((root / "Renée Smit_40.json").read_bytes()[:300])
    bad = subprocess.run([sys.executable, "-m", "edepot.cli", "parse", str(cut), "--format", "meta-e2ee"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "not valid JSON" in bad.stderr and "Traceback" not in bad.stderr


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_random_bytes_raise_only_input_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "X_1.json"
    path.write_bytes(b'{"threadName": "X_1", "messages": [' + data)
    try:
        parse_all_exports([path], format="meta-e2ee")
    except InputError:
        pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["Ik", "Renée", "Ömer"]), st.integers(0, 10**6),
                               st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters=[
                                   chr(c) for c in range(0x80, 0x100)]), max_size=20), st.booleans()),
                     min_size=1, max_size=25),
       newest_first=st.booleans())
def test_random_threads_parse_back_in_time_order(tmp_path: Path, rows: list, newest_first: bool) -> None:
    rows = sorted(rows, key=lambda r: r[1], reverse=newest_first)  # the file as Meta would write it
    thread = {"participants": ["Ik"], "threadName": "T_1",
              "messages": [message(s, T0 + ms, text, isUnsent=gone) for s, ms, text, gone in rows]}
    path = tmp_path / "T_1.json"
    path.write_text(json.dumps(thread, ensure_ascii=False), encoding="utf-8")
    (conv,) = parse_all_exports([path], ParseOptions(tz="UTC"), format="meta-e2ee")
    jsonschema.validate(conv.to_dict(), SCHEMA)
    runs_back = len({ms for _, ms, _, _ in rows}) > 1 and newest_first  # a file showing no direction keeps its order
    assert ("newest first" in conv.source.inferred["order"]) is runs_back
    sent = [(s, T0 + ms, text, gone) for s, ms, text, gone in (reversed(rows) if runs_back else rows)]
    got = [(m.sender, round(m.timestamp.timestamp() * 1000), m.text, m.kind is MessageKind.DELETED)
           for m in conv.messages]
    assert got == sorted(sent, key=lambda r: r[1])  # stable: ties keep the order they were sent in
