"""An SMS Backup & Restore folder (or zip) holding `sms-<date>.xml` and `calls-<date>.xml` is read as the
phone's whole record (ingest/sources/sms_stream.py, sms_backup.py): each number's SMS and calls in one
conversation in time order, numbers only called as their own; dated backups side by side give each message
once; the corpus folder read in place; `edepot parse`, `sip conversations`, `sip create --conversation`,
`--split` and ingest end to end."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource

from ingest.conversations import list_conversations
from ingest.export import open_export
from ingest.sip import SipOptions, create_sip
from ingest.sip_validate import validate_sip
from ingest.sources import detect, embedded_files, parse_all_exports, sms_backup, sms_backup_calls
from kernel.config import Config
from kernel.model import Conversation, MessageKind
from tests.conftest import REPO, shared_or_skip
from tests.test_selection import all_bytes
from tests.test_sip_multi_conversation import HEAD, THREADS, zipped
from tests.test_sip_multi_conversation import sms_backup as write_sms_backup
from tests.test_sources_calls import T0, at_ms, call, write_log

SCHEMA = json.loads((REPO / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))
MANY = jsonschema.Draft202012Validator(
    json.loads((REPO / "schemas" / "conversations.schema.json").read_text(encoding="utf-8")),
    registry=Registry().with_resource(SCHEMA["$id"], Resource.from_contents(SCHEMA)))
EDEPOT = [sys.executable, "-m", "edepot.cli"]
PETRA = "+31612345678"  # the SMS backup's first thread: sms at T0+1, +2 min, an MMS photo at +3 min
ONLY_CALLED = "+31699999999"


def phone_folder(folder: Path) -> Path:
    """The app's backup folder: the SMS backup of test_sip_multi_conversation and a call log beside it."""
    write_sms_backup(folder)
    minute = 60_000
    write_log(folder / "calls-20240314.xml",
              call("+31 6 1234 5678", str(T0 + minute + minute // 2), "1", "83")  # between Petra's two sms
              + call(ONLY_CALLED, str(T0), "3", name="Gemeentewinkel")
              + call(PETRA, str(T0 + 2 * minute + minute // 2), "2", "40"), count=3)
    return folder


def checked(conversations: list[Conversation]) -> list[Conversation]:
    for conversation in conversations:
        jsonschema.validate(conversation.to_dict(), SCHEMA)
        assert Conversation.from_dict(json.loads(conversation.to_json())) == conversation
    return conversations


def test_sms_and_calls_of_a_number_are_one_conversation_in_time_order(tmp_path: Path) -> None:
    folder = phone_folder(tmp_path / "SMSBackupRestore")
    export = open_export([folder])
    assert (sms_backup.FORMAT.score(export), sms_backup_calls.FORMAT.score(export)) == (1.0, 0.5)
    assert detect(export).format.name == "sms-backup"
    petra, karel, group, only_called = checked(parse_all_exports([folder]))

    assert [(m.sender, m.kind, m.text) for m in petra.messages] == [
        ("Petra de Vries", MessageKind.TEXT, "Vergunning Marktplein ligt klaar"),
        ("Petra de Vries", MessageKind.CALL, "incoming call, 83 s, +31 6 1234 5678"),
        ("Ik", MessageKind.TEXT, "Dank, ik teken vanmiddag"),
        ("Ik", MessageKind.CALL, "outgoing call, 40 s, +31612345678"),
        ("Petra de Vries", MessageKind.MEDIA, "Foto voor Petra de Vries"),
    ]
    times = [m.timestamp for m in petra.messages]
    assert times == sorted(times) and times[1] == at_ms(T0 + 90_000)
    assert [m.seq for m in petra.messages] == [1, 2, 3, 4, 5]
    assert petra.source.format == "sms-backup" and petra.title == "Petra de Vries"
    inferred = petra.source.inferred
    assert inferred["thread"] == PETRA and inferred["calls"] == {"incoming": 1, "outgoing": 1}
    assert inferred["backup_files"] == {
        "sms-20240314.xml": {"kind": "sms", "elements": 8}, "calls-20240314.xml": {"kind": "calls", "elements": 3}}
    assert [f.name for f in petra.source.files] == ["SMSBackupRestore/calls-20240314.xml",
                                                    "SMSBackupRestore/sms-20240314.xml"]
    assert karel.source.inferred["calls"] == {} and [m.kind for m in karel.messages].count(MessageKind.CALL) == 0
    assert group.source.inferred["thread"] == "+31611111111~+31622222222"
    assert only_called.title == "Gemeentewinkel" and only_called.source.inferred["thread"] == ONLY_CALLED
    assert [(m.sender, m.text) for m in only_called.messages] == [("Gemeentewinkel", f"missed call, {ONLY_CALLED}")]
    assert [e.id for e in list_conversations([folder])] == [
        f"thread-{PETRA}", "thread-+31687654321", "thread-+31611111111~+31622222222", f"thread-{ONLY_CALLED}"]

    as_zip = checked(parse_all_exports([zipped(folder, tmp_path / "SMSBackupRestore.zip")]))
    assert [[m.to_dict() for m in c.messages] for c in as_zip] == [
        [m.to_dict() for m in c.messages] for c in (petra, karel, group, only_called)]
    assert dict(embedded_files([folder])) == dict(embedded_files([folder / "sms-20240314.xml"]))  # the call log has none


def test_the_call_log_alone_when_the_archivist_chooses_it(tmp_path: Path) -> None:
    folder = phone_folder(tmp_path / "SMSBackupRestore")
    calls = checked(parse_all_exports([folder], format="sms-backup-calls"))
    assert [c.source.inferred["number"] for c in calls] == [PETRA, ONLY_CALLED]
    assert all(m.kind is MessageKind.CALL for c in calls for m in c.messages)
    assert [e.id for e in list_conversations([folder], export_format="sms-backup-calls")] == [
        f"calls-{PETRA}", f"calls-{ONLY_CALLED}"]


def test_spilled_runs_of_both_files_merge_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = phone_folder(tmp_path / "SMSBackupRestore")
    whole = [c.to_dict() for c in parse_all_exports([folder])]
    monkeypatch.setattr(sms_backup, "RUN_SIZE", 2)
    assert [c.to_dict() for c in parse_all_exports([folder])] == whole


def test_dated_backups_side_by_side_give_each_message_once(tmp_path: Path) -> None:
    folder = tmp_path / "SMSBackupRestore"
    folder.mkdir()
    lines = [f'<sms address="{PETRA}" date="{T0 + n * 60_000}" type="{1 + n % 2}" body="bericht {n}" '
             f'contact_name="Petra de Vries" />' for n in range(5)]
    for name, rows in (("sms-20240301.xml", lines[:3]), ("sms-20240401.xml", lines)):
        (folder / name).write_text(HEAD + f'<smses count="{len(rows)}">\n' + "\n".join(rows) + "\n</smses>\n",
                                   encoding="utf-8")
    (thread,) = checked(parse_all_exports([folder]))
    assert [m.text for m in thread.messages] == [f"bericht {n}" for n in range(5)]
    assert thread.source.inferred["duplicates_across_files"] == 3
    assert {k: v["elements"] for k, v in thread.source.inferred["backup_files"].items()} == {
        "sms-20240301.xml": 3, "sms-20240401.xml": 5}


def test_the_corpus_folder_is_read_whole_and_beside_a_call_log(tmp_path: Path) -> None:
    folder = shared_or_skip() / "corpus" / "sms-backup-restore-devadvance"
    conversations = checked(parse_all_exports([folder]))
    files = conversations[0].source.inferred["backup_files"]
    # SOURCES.md: 12 <sms> in sms_small.xml, 4 <mms> in sample_mms.xml, 2 <mms> in corrupt_attachments.xml
    assert {name.rsplit("/", 1)[-1]: facts["elements"] for name, facts in files.items()} == {
        "corrupt_attachments.xml": 2, "sample_mms.xml": 4, "sms_small.xml": 12}
    assert sum(len(c.messages) for c in conversations) == 18
    assert len({c.source.inferred["thread"] for c in conversations}) == len(conversations)
    (small,) = [c for c in parse_all_exports([folder / "sms_small.xml"]) if c.source.inferred["thread"] == "+15550000001"]

    log = write_log(tmp_path / "calls-1.xml", call("+1 555-000-0001", str(T0), "1", "7", name="null"), count=1)
    merged = checked(parse_all_exports([folder / "sms_small.xml", log]))
    (thread,) = [c for c in merged if c.source.inferred["thread"] == "+15550000001"]
    assert len(thread.messages) == len(small.messages) + 1
    assert [m for m in thread.messages if m.kind is MessageKind.CALL][0].text == "incoming call, 7 s, +1 555-000-0001"
    stamps = [m.timestamp for m in thread.messages]
    assert stamps == sorted(stamps)
    assert [m.text for m in thread.messages if m.kind is not MessageKind.CALL] == [m.text for m in small.messages]


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDEPOT_DATA": str(tmp_path / "data")}
    return subprocess.run([*EDEPOT, *args], capture_output=True, text=True, env=env, timeout=300)


def test_parse_list_sip_split_and_ingest_of_the_folder(config: Config, tmp_path: Path) -> None:
    from ingest.pipeline import ingest

    folder = phone_folder(tmp_path / "SMSBackupRestore")
    parsed = run(["parse", str(folder), "--tz", "UTC"], tmp_path)
    assert parsed.returncode == 0, parsed.stderr
    document = json.loads(parsed.stdout)
    MANY.validate(document)
    petra = document["conversations"][0]
    jsonschema.validate(petra, SCHEMA)
    assert [m["kind"] for m in petra["messages"]] == ["text", "call", "text", "call", "media"]
    assert petra["messages"][1]["timestamp"] == "2024-03-14T09:16:30+00:00"

    listed = run(["--json", "sip", "conversations", str(folder)], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [(c["id"], c["messages"]) for c in json.loads(listed.stdout)["conversations"]] == [
        (f"thread-{PETRA}", 5), ("thread-+31687654321", 3), ("thread-+31611111111~+31622222222", 2),
        (f"thread-{ONLY_CALLED}", 1)]

    made = run(["--json", "sip", "create", str(folder), "--out", str(tmp_path / "sip"),
                "--conversation", f"thread-{PETRA}"], tmp_path)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["messages"] == 5
    sip = tmp_path / "sip"
    assert validate_sip(sip, config).valid
    contents = all_bytes(sip)
    for other in ("Karel Wouters", ONLY_CALLED, "Gemeentewinkel", "+31687654321"):  # no byte of another number
        assert not [name for name, data in contents.items() if other.encode() in data], other
    written = json.loads((sip / "data/derived/conversation.json").read_text(encoding="utf-8"))
    assert [m["text"] for m in written["messages"]][1] == "incoming call, 83 s, +31 6 1234 5678"

    split = run(["--json", "sip", "create", str(folder), "--split", str(tmp_path / "out")], tmp_path)
    assert split.returncode == 0, split.stderr
    summary = json.loads(split.stdout)
    assert (summary["conversations"], summary["made"], summary["failed"]) == (4, 4, 0)
    for path in sorted((tmp_path / "out").iterdir()):
        assert validate_sip(path, config).valid

    result = ingest(sip, config)
    stored = result.locations[0]
    kept = json.loads(next(stored.rglob("conversation.json")).read_text(encoding="utf-8"))
    assert [m["kind"] for m in kept["messages"]] == ["text", "call", "text", "call", "media"]
    image = THREADS[0][3]
    assert image is not None and any(p.read_bytes() == image for p in (stored / "data/original").rglob("*.png"))


def test_sip_create_of_a_single_conversation_from_a_direct_api(config: Config, tmp_path: Path) -> None:
    folder = phone_folder(tmp_path / "SMSBackupRestore")
    made = create_sip([folder], tmp_path / "sip", config, options=SipOptions(conversation=f"thread-{ONLY_CALLED}"))
    assert made.message_count == 1 and validate_sip(made.path, config).valid


NUMBERS = ["+31611111111", "+31622222222", "+31633333333"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(st.tuples(st.sampled_from(range(len(NUMBERS))), st.booleans(), st.integers(0, 5 * 60_000),
                                 st.sampled_from([1, 2])), min_size=1, max_size=30),
       run_size=st.sampled_from([2, 5, 20_000]))
def test_random_sms_and_calls_merge_per_number_in_time_order(tmp_path_factory: pytest.TempPathFactory,
                                                            events: list[tuple[int, bool, int, int]],
                                                            run_size: int) -> None:
    folder = tmp_path_factory.mktemp("SMSBackupRestore")
    sms = [f'<sms address="{NUMBERS[n]}" date="{T0 + at}" type="{kind}" body="sms {i}" contact_name="null" />'
           for i, (n, is_call, at, kind) in enumerate(events) if not is_call]
    (folder / "sms-1.xml").write_text(HEAD + f'<smses count="{len(sms)}">\n' + "\n".join(sms) + "\n</smses>\n",
                                      encoding="utf-8")
    write_log(folder / "calls-1.xml", "".join(call(NUMBERS[n], str(T0 + at), str(kind), str(i), name="null")
                                              for i, (n, is_call, at, kind) in enumerate(events) if is_call),
              count=sum(1 for e in events if e[1]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sms_backup, "RUN_SIZE", run_size)
        conversations = checked(parse_all_exports([folder])) if sms else checked(
            parse_all_exports([folder], format="sms-backup-calls"))
    keys = [c.source.inferred["thread" if sms else "number"] for c in conversations]
    sms_first = [NUMBERS[n] for n, is_call, _, _ in events if not is_call]
    calls_first = [NUMBERS[n] for n, is_call, _, _ in events if is_call]
    assert keys == list(dict.fromkeys(sms_first + calls_first))  # SMS threads in file order, then numbers only called
    for key, conversation in zip(keys, conversations):
        mine = [(at, not is_call, i) for i, (n, is_call, at, _) in enumerate(events) if NUMBERS[n] == key]
        # time order; at equal times the SMS file's messages first (it is read first), each file in its own order
        expected = [f"sms {i}" if is_sms else f"call {i}" for at, is_sms, i in sorted(mine, key=lambda e: (e[0], not e[1]))]
        got = [m.text if m.kind is MessageKind.TEXT else f"call {m.text.split(', ')[1].split()[0]}"
               for m in conversation.messages]
        assert got == expected
        assert [m.seq for m in conversation.messages] == list(range(1, len(mine) + 1))
        assert sum(conversation.source.inferred["calls"].values()) == sum(1 for _, is_sms, _ in mine if not is_sms)


def test_the_corpus_folder_splits_into_valid_records_in_place(config: Config, tmp_path: Path) -> None:
    from ingest.split import split_export

    folder = shared_or_skip() / "corpus" / "sms-backup-restore-devadvance"
    threads = parse_all_exports([folder])
    result = split_export([folder], tmp_path / "out", config)
    assert [r.id for r in result.rows] == [f"thread-{c.source.inferred['thread']}" for c in threads]
    assert result.failed == 0
    for row, conversation in zip(result.rows, threads):
        assert row.sip is not None and row.sip.message_count == len(conversation.messages)
        assert validate_sip(row.sip.path, config).valid
