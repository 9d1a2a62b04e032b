"""SMS Backup & Restore call logs (`calls-*.xml`): every call type, "null" strings, a wrong count, emoji as
surrogate-pair references in contact names, withheld numbers, damaged elements, spilled runs merged in time
order, detection beside the SMS backup, the command line, and random bytes refused with our own error.
The corpus (../shared/corpus/sms-backup-restore-devadvance) holds no call log; its SMS files must not be
taken for one."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.export import open_export
from ingest.sources import detect, parse_all_exports, sms_backup, sms_backup_calls
from ingest.sources.base import ParseOptions
from kernel.errors import InputError, UnsafeXml
from kernel.model import Conversation, MessageKind
from tests.conftest import shared_or_skip

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))
HEAD = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n<?xml-stylesheet type=\"text/xsl\" href=\"calls.xsl\"?>\n"
T0 = 1710407700000  # 2024-03-14 09:15:00 UTC


def call(number: str, date: str, kind: str, duration: str = "0", name: str = "Petra de Vries",
         presentation: str = "1") -> str:
    """A <call> as the app writes it (attribute order and the "null" strings as in its backups)."""
    return (
        f'  <call number="{number}" duration="{duration}" date="{date}" type="{kind}" presentation="{presentation}" '
        f'subscription_id="null" post_dial_digits="" subscription_component_name="null" '
        f'readable_date="14 mrt. 2024 10:15:00" contact_name="{name}" />\n'
    )


def write_log(path: Path, calls: str, count: int) -> Path:
    path.write_text(HEAD + f'<calls count="{count}" backup_set="x" backup_date="{T0 + 10**7}" type="full">\n'
                    + calls + "</calls>\n", encoding="utf-8")
    return path


def parse(path: Path, tz: str = "Europe/Amsterdam") -> list[Conversation]:
    export = open_export([path])
    assert sms_backup_calls.FORMAT.score(export) == 1.0
    conversations = sms_backup_calls.FORMAT.parse_all(export, ParseOptions(tz=tz))
    for conversation in conversations:
        jsonschema.validate(conversation.to_dict(), SCHEMA)
        assert Conversation.from_dict(json.loads(conversation.to_json())) == conversation
    return conversations


def at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def test_every_call_type_null_strings_wrong_count_and_emoji(tmp_path: Path) -> None:
    minute = 60_000
    calls = (
        call("+31 6 1234 5678", str(T0 + 5 * minute), "2", "12")  # written later in the file, earlier in time below
        + call("+31612345678", str(T0), "1", "83", name="Petra &#55357;&#56832; de Vries")
        + call("+31612345678", str(T0 + 10 * minute), "3", "0")
        + call("+31612345678", str(T0 + 11 * minute), "4", "21")
        + call("+31612345678", str(T0 + 12 * minute), "5", "null")
        + call("+31612345678", str(T0 + 13 * minute), "6", "0")
        + call("+31612345678", str(T0 + 14 * minute), "7", "40")
        + call("+31612345678", str(T0 + 15 * minute), "9", "5")  # a type the app may add one day
        + call("", str(T0 + minute), "3", "0", name="null", presentation="2")  # withheld number
        + call("0800-1234", str(T0 + 2 * minute), "1", "300", name="(Unknown)")
        + call("0800-1234", "kapot", "1", "1", name="(Unknown)")  # a damaged element
    )
    petra, withheld, helpdesk = parse(write_log(tmp_path / "calls-20240314.xml", calls, count=99))

    assert petra.title == "Petra de Vries"  # the name of the number's first call in the file
    assert [(m.sender, m.kind, m.text) for m in petra.messages] == [
        ("Petra 😀 de Vries", MessageKind.CALL, "incoming call, 83 s, +31612345678"),  # the surrogate pair joined
        ("Ik", MessageKind.CALL, "outgoing call, 12 s, +31 6 1234 5678"),  # the number as written in that call
        ("Petra de Vries", MessageKind.CALL, "missed call, +31612345678"),
        ("Petra de Vries", MessageKind.CALL, "voicemail, 21 s, +31612345678"),
        ("Petra de Vries", MessageKind.CALL, "rejected call, +31612345678"),  # duration "null"
        ("Petra de Vries", MessageKind.CALL, "blocked call (refused list), +31612345678"),
        ("Petra de Vries", MessageKind.CALL, "call answered on another device, 40 s, +31612345678"),
        ("Petra de Vries", MessageKind.CALL, "type 9 call, 5 s, +31612345678"),
    ]
    assert [m.timestamp for m in petra.messages][:2] == [at_ms(T0), at_ms(T0 + 5 * 60_000)]
    assert petra.messages[0].timestamp.isoformat() == "2024-03-14T10:15:00+01:00"
    assert petra.source.inferred["calls"] == {
        "outgoing": 1, "incoming": 1, "missed": 1, "voicemail": 1, "rejected": 1, "refused list": 1,
        "answered externally": 1, "type 9": 1}
    assert petra.source.inferred["unknown_call_types"] == {"8": {"type": 9}}
    assert petra.source.inferred["number"] == "+31612345678"
    assert petra.source.inferred["count_attribute"] == {
        "declared": 99, "read": 11, "evidence": "the root's count attribute differs from the elements in the file"}
    assert petra.source.inferred["xml_repairs"]["surrogate_pairs_joined"] == 1
    assert {p.name: p.message_count for p in petra.participants} == {
        "Petra 😀 de Vries": 1, "Ik": 1, "Petra de Vries": 6}

    assert withheld.title is None and withheld.source.inferred["number"] == "(no number)"
    assert [(m.sender, m.text) for m in withheld.messages] == [("(number withheld)", "missed call, (number withheld)")]
    assert withheld.source.inferred["calls"] == {"missed": 1}

    assert helpdesk.title == "08001234"  # no contact name ("(Unknown)"): the number as keyed
    assert [(m.sender, m.kind.value) for m in helpdesk.messages] == [("0800-1234", "call"), (None, "unparsed")]
    assert helpdesk.messages[0].text == "incoming call, 300 s, 0800-1234"
    assert helpdesk.messages[1].timestamp == helpdesk.messages[0].timestamp  # timed like the call before it
    (damaged,) = helpdesk.source.inferred["unparsed_lines"]
    assert damaged["seq"] == 2 and damaged["line"] == 14 and "'kapot' is not a number" in damaged["reason"]
    assert damaged["text"].startswith("<call ") and 'date="kapot"' in damaged["text"]


def test_calls_spilled_in_runs_come_back_in_time_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sms_backup, "RUN_SIZE", 7)
    numbers = ["+31600000001", "+31600000002", "+31600000003"]
    calls = "".join(call(numbers[i % 3], str(T0 + (500 - i) * 1000), str(1 + i % 3), str(i)) for i in range(500))
    conversations = parse(write_log(tmp_path / "calls.xml", calls, count=500))
    assert [c.title for c in conversations] == ["Petra de Vries"] * 3
    assert [c.source.inferred["number"] for c in conversations] == numbers
    assert sum(len(c.messages) for c in conversations) == 500
    for conversation in conversations:
        times = [m.timestamp for m in conversation.messages]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert [m.seq for m in conversation.messages] == list(range(1, len(times) + 1))
    assert "count_attribute" not in conversations[0].source.inferred


def test_detected_beside_the_sms_backup_and_never_confused_with_it(tmp_path: Path) -> None:
    log = write_log(tmp_path / "calls-1.xml", call("+31612345678", str(T0), "1", "5"), count=1)
    assert detect(open_export([log])).format.name == "sms-backup-calls"
    sms = tmp_path / "sms-1.xml"
    sms.write_text(HEAD + '<smses count="1"><sms address="+31612345678" date="1" type="1" body="hoi" /></smses>\n')
    assert sms_backup_calls.FORMAT.score(open_export([sms])) == 0.0
    assert sms_backup.FORMAT.score(open_export([log])) == 0.0
    with pytest.raises(InputError, match="no SMS Backup & Restore call log"):
        parse_all_exports([sms], format="sms-backup-calls")


def test_sms_and_calls_backup_in_one_folder_are_read_together_not_half(tmp_path: Path) -> None:
    folder = tmp_path / "SMSBackupRestore"
    folder.mkdir()
    write_log(folder / "calls-1.xml", call("+31612345678", str(T0), "1", "5"), count=1)
    (folder / "sms-1.xml").write_text(HEAD + '<smses count="1"><sms address="+31612345678" date="1" type="1" body="hoi" /></smses>\n')
    assert detect(open_export([folder])).format.name == "sms-backup"  # which reads the call log beside it
    (thread,) = parse_all_exports([folder])
    assert [(m.kind, m.text) for m in thread.messages] == [
        (MessageKind.TEXT, "hoi"), (MessageKind.CALL, "incoming call, 5 s, +31612345678")]
    (calls,) = parse_all_exports([folder / "calls-1.xml"])  # each file on its own is read
    assert calls.messages[0].text == "incoming call, 5 s, +31612345678"


def test_corpus_sms_backups_are_not_call_logs() -> None:
    folder = shared_or_skip() / "corpus" / "sms-backup-restore-devadvance"
    files = sorted(folder.glob("*.xml"))
    assert [f.name for f in files] == ["corrupt_attachments.xml", "sample_mms.xml", "sms_small.xml"]
    assert not [f for f in files if f.name.startswith("calls")]  # no real call log to assert facts of
    for path in files:
        export = open_export([path])
        assert sms_backup_calls.FORMAT.score(export) == 0.0
        assert detect(export).format.name == "sms-backup"


def test_command_line_prints_the_log_and_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    log = write_log(tmp_path / "calls.xml", call("+31612345678", str(T0), "2", "61"), count=1)
    done = subprocess.run([sys.executable, "-m", "edepot.cli", "parse", str(log), "--tz", "UTC"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["source"]["format"] == "sms-backup-calls"
    assert [(m["sender"], m["kind"], m["text"], m["timestamp"]) for m in document["messages"]] == [
        ("Ik", "call", "outgoing call, 61 s, +31612345678", "2024-03-14T09:15:00+00:00")]
    truncated = tmp_path / "calls-cut.xml"
    truncated.write_bytes(log.read_bytes()[:-40])
    bad = subprocess.run([sys.executable, "-m", "edepot.cli", "parse", str(truncated)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "cut short" in bad.stderr and "Traceback" not in bad.stderr


def test_dtd_is_refused_and_empty_log_is_an_input_error(tmp_path: Path) -> None:
    evil = tmp_path / "calls-evil.xml"
    evil.write_text('<?xml version="1.0"?>\n<!DOCTYPE calls [<!ENTITY x "boom">]>\n<calls count="1">'
                    '<call number="&x;" date="1" type="1" /></calls>\n')
    with pytest.raises(UnsafeXml):
        parse_all_exports([evil], format="sms-backup-calls")
    empty = write_log(tmp_path / "calls-empty.xml", "", count=0)
    with pytest.raises(InputError, match="holds no <call> element"):
        parse_all_exports([empty], format="sms-backup-calls")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_random_bytes_raise_only_input_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "calls-random.xml"
    path.write_bytes(b"<calls>" + data)
    try:
        parse_all_exports([path], format="sms-backup-calls")
    except InputError:
        pass


WORDS = {1: "incoming call", 2: "outgoing call", 3: "missed call", 4: "voicemail", 5: "rejected call",
         6: "blocked call (refused list)", 7: "call answered on another device"}
_NAMES = st.text(st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters='<>&"'), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["+31611111111", "+31622222222", "0800-1234"]),
                               st.integers(0, 10**9), st.sampled_from([1, 2, 3, 4, 5, 6, 7]),
                               st.integers(0, 10**5), _NAMES.filter(lambda n: n.strip() not in ("", "null", "(Unknown)"))),
                     min_size=1, max_size=30))
def test_random_logs_written_as_the_app_writes_parse_back(tmp_path: Path, rows: list) -> None:
    calls = "".join(call(number, str(T0 + at), str(kind), str(duration), name=name)
                    for number, at, kind, duration, name in rows)
    conversations = parse(write_log(tmp_path / "calls-random.xml", calls, count=len(rows)))
    by_number: dict[str, list] = {}
    for number, at, kind, duration, name in rows:
        by_number.setdefault(number.replace("-", ""), []).append((number, at, kind, duration, name))
    assert [c.source.inferred["number"] for c in conversations] == list(by_number)
    for conversation in conversations:
        expected = sorted(by_number[conversation.source.inferred["number"]], key=lambda r: r[1])  # stable
        got = [(m.timestamp, m.sender, m.text) for m in conversation.messages]
        assert got == [
            (at_ms(T0 + at), "Ik" if kind == 2 else name.strip(),
             ", ".join([WORDS[kind]] + ([f"{duration} s"] if duration or kind in (1, 2) else []) + [number]))
            for number, at, kind, duration, name in expected]
