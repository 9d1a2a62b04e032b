"""Selection: every flag keeps what it should, media follow their messages, and a filtered SIP holds not one
byte of what was filtered out (every file of the bag searched, inside zips too)."""
from __future__ import annotations

import hashlib
import html
import json
import os
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest

from ingest.selection import Criteria, parse_moment, parse_seqs, select
from ingest.sip import SELECTION_JSON, SipOptions, create_sip
from ingest.sip_validate import validate_sip
from ingest.sources import parse_export
from kernel.config import Config
from kernel.errors import InputError
from kernel.model import Conversation
from tests.conftest import REPO

IOS_SAMPLE = next((REPO / "samples" / "whatsapp-ios-nl").glob("*.zip"))
EDEPOT = [sys.executable, "-m", "edepot.cli"]


@pytest.fixture(scope="module")
def chat() -> Conversation:
    return parse_export([IOS_SAMPLE])


def kept_seqs(chat: Conversation, criteria: Criteria) -> list[int]:
    return [m.seq for m in select(chat, criteria).conversation.messages]


def test_from_and_to_keep_the_days_between(chat: Conversation) -> None:
    kept = kept_seqs(chat, Criteria(date_from=date(2024, 3, 15)))
    assert kept and all(m.timestamp.date() >= date(2024, 3, 15) for m in chat.messages if m.seq in kept)
    assert len(kept) == sum(m.timestamp.date() == date(2024, 3, 15) for m in chat.messages)
    assert kept_seqs(chat, Criteria(date_to=date(2024, 3, 14))) == [m.seq for m in chat.messages
                                                                     if m.timestamp.date() == date(2024, 3, 14)]
    moment = parse_moment("2024-03-14T10:30:00+01:00", "--from")
    assert kept_seqs(chat, Criteria(date_from=moment, date_to=date(2024, 3, 14)))[0] == 10


def test_participant_keeps_only_that_sender_and_exclude_drops_them(chat: Conversation) -> None:
    only = select(chat, Criteria(participants=("Petra de Vries",)))
    assert {m.sender for m in only.conversation.messages} == {"Petra de Vries"}
    assert [p.name for p in only.conversation.participants] == ["Petra de Vries"]
    without = select(chat, Criteria(exclude_participants=("Petra de Vries",)))
    assert "Petra de Vries" not in {m.sender for m in without.conversation.messages}
    assert any(m.sender is None for m in without.conversation.messages)  # system lines stay
    assert without.excluded == {"participant": only.kept_messages}


def test_query_needs_every_word_of_one_query_case_and_accent_blind(chat: Conversation) -> None:
    assert kept_seqs(chat, Criteria(queries=("SCHETSONTWERP",))) == [14, 15]
    assert kept_seqs(chat, Criteria(queries=("schetsontwerp bureau",))) == [15]
    assert kept_seqs(chat, Criteria(queries=("schetsontwerp bureau", "fijn weekend"))) == [15, 25]
    assert kept_seqs(chat, Criteria(queries=("bûreau",))) == [15]


def test_exclude_seq_from_list_and_file_and_mark_private_counted_apart(chat: Conversation, tmp_path: Path) -> None:
    seq_file = tmp_path / "weg.txt"
    seq_file.write_text("# weg\n3\n5-6 # foto\n", encoding="utf-8")
    excluded = parse_seqs(["1,2", str(seq_file)], "--exclude-seq")
    assert excluded == {1, 2, 3, 5, 6}
    result = select(chat, Criteria(exclude_seqs=excluded, private_seqs=parse_seqs(["13"], "--mark-private")))
    assert [m.seq for m in result.conversation.messages][:3] == [4, 7, 8]
    assert result.excluded == {"excluded_seq": 5, "private": 1}
    assert "1 privé" in result.summary() and "5 handmatig uitgesloten" in result.summary()


@pytest.mark.parametrize("bad", ["x", "5-3", "1,,a"])
def test_bad_seq_lists_are_input_errors(bad: str) -> None:
    with pytest.raises(InputError):
        parse_seqs([bad], "--exclude-seq")


def test_unknown_participant_or_seq_is_refused(chat: Conversation) -> None:
    with pytest.raises(InputError, match="Petra de Vriess"):
        select(chat, Criteria(participants=("Petra de Vriess",)))
    with pytest.raises(InputError, match="seq 99"):
        select(chat, Criteria(exclude_seqs=frozenset({99})))
    with pytest.raises(InputError, match="offset"):
        parse_moment("2024-03-14T10:00", "--from")


def test_media_follow_their_messages(chat: Conversation) -> None:
    result = select(chat, Criteria(exclude_participants=("Petra de Vries",)))
    assert result.kept_attachments == ("00000011-Schetsontwerp Marktplein.pdf",)
    assert result.excluded_attachments == 2


# ---------------------------------------------------------------------------------------------------
# The SIP of a selection


def all_bytes(root: Path) -> dict[str, bytes]:
    """Every file below root, and every member of every zip among them, by name."""
    found: dict[str, bytes] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found[str(path.relative_to(root))] = data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    found[f"{path.relative_to(root)}!{name}"] = archive.read(name)
    return found


def needles(text: str) -> set[bytes]:
    """How a message line can appear in a file: raw, JSON-escaped, XML/HTML-escaped."""
    found = set()
    for line in text.splitlines():
        line = line.strip()
        if len(line) >= 8:
            found |= {line.encode(), json.dumps(line)[1:-1].encode(), html.escape(line, quote=False).encode()}
    return found


CRITERIA = {
    "exclude-participant": Criteria(exclude_participants=("Petra de Vries",)),
    "participant": Criteria(participants=("Wethouder Jansen",)),
    "period": Criteria(date_from=date(2024, 3, 15)),
    "query": Criteria(queries=("marktkooplieden",)),
    "exclude-seq + private": Criteria(exclude_seqs=frozenset(range(1, 10)), private_seqs=frozenset({13, 21, 22})),
}


def leaks(sip: Path, chat: Conversation, kept: set[int]) -> list[str]:
    """Where any text line or medium of a message not in `kept` appears in the SIP (inside zips too)."""
    kept_text = "\n".join(m.text for m in chat.messages if m.seq in kept)
    dropped = [m for m in chat.messages if m.seq not in kept]
    contents = all_bytes(sip)
    found = []
    for message in dropped:
        for needle in needles(message.text):
            if needle.decode() not in kept_text:  # words also said in a kept message may stay
                found += [f"text of {message.seq} in {f}" for f, data in contents.items() if needle in data]
    with zipfile.ZipFile(IOS_SAMPLE) as export:
        media = {Path(n).name: export.read(n) for n in export.namelist() if not n.endswith(".txt")}
    kept_media = {a.name for m in chat.messages if m.seq in kept for a in m.attachments}
    for medium in {a.name for m in dropped for a in m.attachments} - kept_media:
        digest = hashlib.sha256(media[medium]).hexdigest()
        for file_name, data in contents.items():
            if hashlib.sha256(data).hexdigest() == digest or media[medium][:4096] in data:
                found.append(f"bytes of {medium} in {file_name}")
            if medium.encode() in data:
                found.append(f"name of {medium} in {file_name}")
    return found


@pytest.mark.parametrize("name", sorted(CRITERIA))
def test_a_filtered_sip_holds_no_byte_of_what_was_filtered_out(name: str, chat: Conversation, config: Config,
                                                               tmp_path: Path) -> None:
    criteria = CRITERIA[name]
    made = create_sip([IOS_SAMPLE], tmp_path / "sip", config, options=SipOptions(criteria=criteria))
    kept = {m.seq for m in select(chat, criteria).conversation.messages}
    assert kept and len(kept) < len(chat.messages)
    assert leaks(made.path, chat, kept) == []
    with zipfile.ZipFile(IOS_SAMPLE) as export:
        media = {Path(n).name: export.read(n) for n in export.namelist() if not n.endswith(".txt")}
    for medium in {a.name for m in chat.messages if m.seq in kept for a in m.attachments}:
        assert (made.path / "data/original" / medium).read_bytes() == media[medium]
    assert validate_sip(made.path, config).valid


def test_the_leak_search_finds_what_keep_original_keeps(chat: Conversation, config: Config, tmp_path: Path) -> None:
    criteria = CRITERIA["exclude-participant"]
    made = create_sip([IOS_SAMPLE], tmp_path / "sip", config, options=SipOptions(criteria=criteria, keep_original=True))
    found = leaks(made.path, chat, {m.seq for m in select(chat, criteria).conversation.messages})
    assert any(f.startswith("text of 5 in data/original/") for f in found)
    assert any(f.startswith("bytes of 00000005-PHOTO") for f in found)


def test_the_selection_statement_is_provenance(config: Config, tmp_path: Path) -> None:
    made = create_sip([IOS_SAMPLE], tmp_path / "sip", config,
                      options=SipOptions(criteria=Criteria(exclude_participants=("Petra de Vries",))))
    statement = json.loads((made.path / SELECTION_JSON).read_text(encoding="utf-8"))
    export_digest = hashlib.sha256(IOS_SAMPLE.read_bytes()).hexdigest()
    assert statement["original_export"]["files"] == [
        {"name": IOS_SAMPLE.name, "size": IOS_SAMPLE.stat().st_size, "sha256": export_digest}]
    conversation = json.loads((made.path / "data/derived/conversation.json").read_text(encoding="utf-8"))
    assert statement["kept"]["messages"] == len(conversation["messages"])
    assert statement["kept"]["messages"] + statement["excluded"]["messages"] == statement["original_export"]["messages"]
    assert statement["criteria"]["exclude_participants"] == ["Petra de Vries"]
    record = next((made.path / "data/metadata").glob("WA-*.mdto.xml")).read_text(encoding="utf-8")
    assert "<begripLabel>Selectie</begripLabel>" in record and export_digest in record
    # a selection is a new record: not the kenmerk derived from the whole export
    assert made.record_id != "WA-" + export_digest[:12]


def test_keep_original_includes_the_whole_export(config: Config, tmp_path: Path) -> None:
    made = create_sip([IOS_SAMPLE], tmp_path / "sip", config,
                      options=SipOptions(criteria=Criteria(queries=("schetsontwerp",)), keep_original=True))
    assert (made.path / "data/original" / IOS_SAMPLE.name).read_bytes() == IOS_SAMPLE.read_bytes()
    statement = json.loads((made.path / SELECTION_JSON).read_text(encoding="utf-8"))
    assert statement["original_export"]["included_in_sip"] is True
    assert made.message_count == 2 and validate_sip(made.path, config).valid


def test_selection_flags_on_the_command_line(tmp_path: Path) -> None:
    seqs = tmp_path / "private.txt"
    seqs.write_text("21\n", encoding="utf-8")
    env = {**os.environ, "EDEPOT_DATA": str(tmp_path / "data")}
    result = subprocess.run(
        [*EDEPOT, "--json", "sip", "create", str(IOS_SAMPLE), "--out", str(tmp_path / "sip"),
         "--from", "2024-03-14", "--to", "2024-03-15", "--participant", "Petra de Vries",
         "--participant", "Wethouder Jansen", "--exclude-participant", "Wethouder Jansen",
         "--query", "ik", "--exclude-seq", "5", "--mark-private", str(seqs)],
        capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    made = json.loads(result.stdout)
    conversation = json.loads((tmp_path / "sip/data/derived/conversation.json").read_text(encoding="utf-8"))
    assert [m["seq"] for m in conversation["messages"]] == [16]  # 5 excluded, 21 private: Petra's other "ik"s
    assert made["selection"]["by_reason"]["private"] == 1 and made["selection"]["by_reason"]["excluded_seq"] == 1
    bad = subprocess.run([*EDEPOT, "sip", "create", str(IOS_SAMPLE), "--out", str(tmp_path / "sip2"),
                          "--exclude-seq", "1-x"], capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and not (tmp_path / "sip2").exists()


def test_a_selected_sip_is_ingested_with_its_media(config: Config, tmp_path: Path) -> None:
    from ingest.pipeline import ingest

    criteria = Criteria(exclude_participants=("Petra de Vries",))
    made = create_sip([IOS_SAMPLE], tmp_path / "sip", config, options=SipOptions(criteria=criteria))
    result = ingest(made.path, config)
    stored = result.locations[0]
    assert (stored / "data/original/00000011-Schetsontwerp Marktplein.pdf").is_file()
    assert any(p.name == "selection.json" for p in stored.rglob("*"))
    kept = {m.seq for m in select(parse_export([IOS_SAMPLE]), criteria).conversation.messages}
    assert leaks(stored, parse_export([IOS_SAMPLE]), kept) == []


def test_a_selection_that_keeps_nothing_is_refused(config: Config, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="keeps no message"):
        create_sip([IOS_SAMPLE], tmp_path / "sip", config, options=SipOptions(criteria=Criteria(queries=("zebra",))))
    assert not (tmp_path / "sip").exists() and not list(tmp_path.glob(".*partial"))
