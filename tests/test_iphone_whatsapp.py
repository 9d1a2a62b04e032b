"""An alderman's iPhone backup as a whole phone: WhatsApp chats (ChatStorage.sqlite with its media) and the call
history beside the Messages app's chats; the three business chats (an iMessage group with photos, a WhatsApp chat with
voice notes and a deleted message, an SMS thread) each through SIP, ingest and DIP, the private ones never leaving."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader

from access.dip import OWN_USE, DipRequest, build_dip, create_dip
from access.redaction import ManualRedaction
from ingest.batch import run_batch
from ingest.conversations import list_conversations
from ingest.pipeline import ingest
from ingest.sip import SELECTION_JSON, SipOptions, create_sip
from ingest.sources import ParseOptions, parse_all_exports
from ingest.sources.iphone_whatsapp import protobuf_fields, quoted_stanza, reactions_in
from kernel.config import Config
from kernel.errors import UnknownBackupLayout
from tests.conftest import TEST_OPERATOR, store_of
from tests.iphone_backup_factory import (
    BackupSpec,
    CallSpec,
    ChatSpec,
    Msg,
    WaChat,
    WaMsg,
    make_backup,
    protobuf,
)
from tests.media_factory import ffmpeg
from tests.test_sip_multi_conversation import png

PASSWORD = "Wethouder-2024"
T = datetime(2024, 3, 14, 9, 0, tzinfo=timezone.utc)
PHOTO_1, PHOTO_2, WA_PHOTO = png((200, 30, 30)), png((30, 30, 200)), png((30, 200, 30))
PRIVATE = "verjaardag van oma"
GROUP_ID, WHATSAPP_ID, SMS_ID = "chat-iMessage_+_chat000001", "whatsapp-31655555555_s.whatsapp.net", \
    "chat-SMS_-_+31633333333"
NOTES = {GROUP_ID: ["antwoord op bericht 1", "reacties: Jan Jansen:", "eerdere versie (14-03-2024 10:03:00): Overleg om 9 uur"],
         WHATSAPP_ID: ["antwoord op bericht 1", "reacties: Sanne Bakker:"], SMS_ID: []}


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    folder = tmp_path_factory.mktemp("voice")
    for name, frequency in (("a.opus", 440), ("b.opus", 660)):
        ffmpeg("-f", "lavfi", "-i", f"sine=frequency={frequency}:duration=1", "-c:a", "libopus", str(folder / name))
    return (folder / "a.opus").read_bytes(), (folder / "b.opus").read_bytes()


def spec(voice: tuple[bytes, bytes]) -> BackupSpec:
    return BackupSpec(chats=[
        ChatSpec(("+31611111111", "+31622222222"), [
            Msg(at(0), "+31611111111", "De schetsen van het Marktplein", guid="G1",
                attachments=(("IMG_0001.PNG", PHOTO_1, "image/png"), ("IMG_0002.PNG", PHOTO_2, "image/png"))),
            Msg(at(1), "+31622222222", None, tapback=("G1", 2001)),
            Msg(at(2), "+31622222222", "Eens met de opzet", reply_to="G1"),
            Msg(at(3), None, "Overleg om 10 uur", edited=((at(3), "Overleg om 9 uur"), (at(4), "Overleg om 10 uur"))),
        ], name="Herinrichting Marktplein"),
        ChatSpec(("+31644444444",), [Msg(at(5), "+31644444444", f"Niet vergeten: {PRIVATE}", service="SMS")],
                 service="SMS"),
        ChatSpec(("+31633333333",), [Msg(at(6), "+31633333333", "Vergunning Marktplein ligt klaar", service="SMS"),
                                     Msg(at(7), None, "Dank, ik teken vanmiddag", service="SMS")], service="SMS"),
    ], whatsapp=[
        WaChat("31655555555", [
            WaMsg(at(10), None, "Kun je de raadsvragen inspreken?", stanza="3AQ1"),
            WaMsg(at(11), "31655555555", None, kind=3, media=("PTT-20240314-WA0001.opus", voice[0], "audio/ogg"),
                  stanza="3AV1", reply_to="3AQ1"),
            WaMsg(at(12), "31655555555", None, kind=14),
            WaMsg(at(13), None, None, kind=3, media=("PTT-20240314-WA0002.opus", voice[1], "audio/ogg"),
                  reactions=(("31655555555", "👍"),)),
            WaMsg(at(14), "31655555555", "Foto van de bouwplaats", kind=1,
                  media=("IMG-20240314-WA0003.jpg", WA_PHOTO, "image/jpeg")),
        ], name="Sanne Bakker (griffie)"),
        WaChat(None, [
            WaMsg(at(20), "31611111111", "Fractieoverleg", kind=6, event=12),
            WaMsg(at(21), "31677777777", "Wie neemt de koffie mee?"),
            WaMsg(at(22), None, "Ik", reactions=((None, "❤️"),)),
            WaMsg(at(23), "31677777777", "Dinsdag of woensdag?", kind=46),  # a type not read: text kept, counted
        ], name="Fractie", members={"31611111111": "Petra", "31677777777": "Ruud Smit"}),
        WaChat("31688888888", [WaMsg(at(30), "31688888888", f"Zaterdag {PRIVATE}!")], name="Mam"),
    ], calls=[
        CallSpec(at(40), "+31633333333", originated=True, duration=83.4),
        CallSpec(at(41), "06-33333333", originated=False, answered=False),
        CallSpec(at(42), "+31688888888", originated=False, duration=600, call_type=16, provider="com.apple.FaceTime"),
    ], contacts={"06 11111111": "Petra de Vries", "+31 6 22222222": "Jan Jansen", "06-33333333": "Karel Wouters",
                 "0655555555": "Sanne Bakker"})


@pytest.fixture(scope="module")
def backups(tmp_path_factory: pytest.TempPathFactory, voice: tuple[bytes, bytes]) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("alderman")
    return {"plain": make_backup(root / "plain", spec(voice)),
            "encrypted": make_backup(root / "encrypted", spec(voice), password=PASSWORD)}


def options(kind: str) -> ParseOptions:
    return ParseOptions(password=(lambda _name: PASSWORD) if kind == "encrypted" else None)


def by_id(backup: Path, kind: str) -> dict[str, object]:
    entries = list_conversations([backup], options(kind))
    conversations = parse_all_exports([backup], options(kind))
    return {entry.id: conversation for entry, conversation in zip(entries, conversations)}


# --- reading ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["plain", "encrypted"])
def test_whatsapp_chats_and_call_logs_are_conversations_of_the_backup(kind: str, backups: dict[str, Path],
                                                                     voice: tuple[bytes, bytes]) -> None:
    found = by_id(backups[kind], kind)
    assert list(found) == [GROUP_ID, "chat-SMS_-_+31644444444", SMS_ID, WHATSAPP_ID,
                           "whatsapp-120363000000000002_g.us", "whatsapp-31688888888_s.whatsapp.net",
                           "calls-+31633333333", "calls-+31688888888"]
    chat = found[WHATSAPP_ID]
    assert chat.title == "Sanne Bakker"  # the address book's name before WhatsApp's own  # type: ignore[attr-defined]
    messages = chat.messages  # type: ignore[attr-defined]
    assert [(m.seq, m.sender, m.kind.value, m.text) for m in messages] == [
        (1, "Ik", "text", "Kun je de raadsvragen inspreken?"),
        (2, "Sanne Bakker", "media", ""),
        (3, "Sanne Bakker", "deleted", ""),
        (4, "Ik", "media", ""),
        (5, "Sanne Bakker", "media", "Foto van de bouwplaats"),
    ]
    assert messages[0].timestamp.isoformat() == "2024-03-14T10:10:00+01:00"  # Core Data seconds, in the zone given
    voice_note = messages[1].attachments[0]
    assert voice_note.present and voice_note.media_type == "audio/ogg"
    assert voice_note.name.startswith("AppDomainGroup-group.net.whatsapp.WhatsApp.shared/Message/Media/")
    inferred = chat.source.inferred  # type: ignore[attr-defined]
    assert inferred["replies"] == {"2": 1} and inferred["reactions"] == {"4": ["Sanne Bakker: 👍"]}
    group = found["whatsapp-120363000000000002_g.us"]
    assert group.title == "Fractie"  # type: ignore[attr-defined]
    assert [(m.sender, m.kind.value, m.text) for m in group.messages] == [  # type: ignore[attr-defined]
        (None, "system", "Petra de Vries created the group “Fractieoverleg”"),
        ("Ruud Smit", "text", "Wie neemt de koffie mee?"),  # not in the address book: WhatsApp's name
        ("Ik", "text", "Ik"), ("Ruud Smit", "text", "Dinsdag of woensdag?")]
    assert group.source.inferred["reactions"] == {"3": ["Ik: ❤️"]}  # type: ignore[attr-defined]
    assert group.source.inferred["unknown_message_types"] == {"46": 1}  # type: ignore[attr-defined]
    calls = found["calls-+31633333333"]
    assert calls.title == "Karel Wouters"  # type: ignore[attr-defined]
    assert [(m.sender, m.kind.value, m.text) for m in calls.messages] == [  # type: ignore[attr-defined]
        ("Ik", "call", "outgoing call, 83 s, +31633333333"), ("Karel Wouters", "call", "missed call, 06-33333333")]
    facetime = found["calls-+31688888888"].messages[0]  # type: ignore[attr-defined]
    assert facetime.text == "incoming FaceTime audio call, 600 s, +31688888888"


def test_protobuf_fields_of_replies_and_reactions() -> None:
    metadata = protobuf((5, b"3AQ1"), (6, b"31655555555@s.whatsapp.net"))
    assert quoted_stanza(metadata) == "3AQ1" and quoted_stanza(None) is None
    receipt = protobuf((7, protobuf((1, protobuf((2, b"316@s.whatsapp.net"), (3, "😂".encode()), (4, 17))),
                                    (2, protobuf((2, "👍".encode()))))))
    assert reactions_in(receipt) == [("316@s.whatsapp.net", "😂"), (None, "👍")]
    assert protobuf_fields(b"\x2a\x50abc") == []  # a length past the end: nothing read, no error


def test_a_whatsapp_database_without_its_tables_is_an_ios_version_not_understood(tmp_path: Path) -> None:
    import sqlite3

    database = tmp_path / "ChatStorage.sqlite"
    db = sqlite3.connect(database)
    db.execute("CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, ZCONTACTJID VARCHAR)")
    db.commit()
    db.close()
    backup = make_backup(tmp_path / "odd", BackupSpec(chats=[]), extra_files={
        ("AppDomainGroup-group.net.whatsapp.WhatsApp.shared", "ChatStorage.sqlite"): database.read_bytes()})
    with pytest.raises(UnknownBackupLayout, match="ChatStorage.sqlite has no table ZWACHATSESSION"):
        parse_all_exports([backup])


# --- done when: the three business chats through SIP, ingest and DIP, nothing else of the backup --------------

def test_three_business_chats_of_one_encrypted_backup_go_through_sip_ingest_and_dip(
        backups: dict[str, Path], config: Config, tmp_path: Path, voice: tuple[bytes, bytes]) -> None:
    backup = backups["encrypted"]
    expected = {GROUP_ID: [PHOTO_1, PHOTO_2], WHATSAPP_ID: [voice[0], voice[1], WA_PHOTO], SMS_ID: []}
    extracts = {GROUP_ID: "sms.db.rows.jsonl", WHATSAPP_ID: "ChatStorage.sqlite.rows.jsonl",
                SMS_ID: "sms.db.rows.jsonl"}
    for chat_id, attachments in expected.items():
        made = create_sip([backup], tmp_path / chat_id, config, parse=options("encrypted"),
                          options=SipOptions(conversation=chat_id))
        original = made.path / "data" / "original"
        assert sorted(p.read_bytes() for p in original.rglob("*") if p.is_file()
                      and not p.name.endswith(".rows.jsonl")) == sorted(attachments)
        assert (original / extracts[chat_id]).is_file()
        everything = b"".join(p.read_bytes() for p in made.path.rglob("*") if p.is_file())
        assert PRIVATE.encode() not in everything  # the private chats never leave the backup
        assert not any(p.name in ("Manifest.db", "Manifest.plist", "Info.plist") for p in made.path.rglob("*"))
        statement = json.loads((made.path / SELECTION_JSON).read_text(encoding="utf-8"))
        assert statement["original_export"]["included_in_sip"] is False

        result = ingest(made.path, config)
        for bag in result.locations:
            stored = [p.read_bytes() for p in (bag / "data").rglob("*") if p.is_file()]
            assert all(data in stored for data in attachments)  # byte-identical in every copy of the AIP
        dip = create_dip(result.aip_id, tmp_path / f"dip-{chat_id}", config, store=store_of(config),
                         by=TEST_OPERATOR).path
        delivered = [p.read_bytes() for p in (dip / "media").rglob("*") if p.is_file()] \
            if (dip / "media").is_dir() else []
        assert all(data in delivered for data in attachments)  # and in the DIP
        conversation = json.loads((dip / "conversation.json").read_text(encoding="utf-8"))
        if chat_id == WHATSAPP_ID:
            assert [m["kind"] for m in conversation["messages"]] == ["text", "media", "deleted", "media", "media"]
        # replies, reactions and earlier versions shown alike in the PDF/A rendering and in the DIP's viewer
        pdf = next(p for p in (result.locations[0] / "data").rglob("*.pdf"))
        rendered = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages)
        viewer = (dip / "viewer.html").read_text(encoding="utf-8")
        for note in NOTES[chat_id]:
            assert note in rendered and note in viewer, note


def test_a_call_log_goes_into_its_own_sip_with_its_rows(backups: dict[str, Path], config: Config,
                                                        tmp_path: Path) -> None:
    made = create_sip([backups["plain"]], tmp_path / "calls", config,
                      options=SipOptions(conversation="calls-+31633333333"))
    rows = (made.path / "data" / "original" / "CallHistory.storedata.rows.jsonl").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in rows.splitlines()]
    assert lines[0]["database"]["path"] == "Library/CallHistoryDB/CallHistory.storedata"
    assert [(r["table"], r["values"]["ZADDRESS"]) for r in lines[1:]] == [
        ("ZCALLRECORD", "+31633333333"), ("ZCALLRECORD", "06-33333333")]


def test_sip_batch_of_an_encrypted_backup_asks_its_password_once(backups: dict[str, Path], tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("export,out,conversation\n" + "".join(
        f"{backups['encrypted']},{tmp_path / name},{chat_id}\n"
        for name, chat_id in (("group", GROUP_ID), ("whatsapp", WHATSAPP_ID), ("sms", SMS_ID))), encoding="utf-8")
    script = ("import sys, getpass\nasked = []\ngetpass.getpass = lambda prompt: asked.append(prompt) or "
              f"{PASSWORD!r}\nsys.stdin.isatty = lambda: True\nfrom edepot.cli import main\ncode = main(sys.argv[1:])\n"
              "print('ASKED', len(asked), file=sys.stderr)\nsys.exit(code)\n")
    env = {k: v for k, v in os.environ.items() if k != "EDEPOT_BACKUP_PASSWORD"}
    env["EDEPOT_DATA"] = str(tmp_path / "data")
    ran = subprocess.run([sys.executable, "-c", script, "sip", "batch", str(manifest), "--json"], env=env,
                         capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert "ASKED 1" in ran.stderr and PASSWORD not in ran.stdout + ran.stderr
    assert [row["ok"] for row in json.loads(ran.stdout)["results"]] == [True, True, True]


def test_run_batch_without_a_password_reports_each_row(backups: dict[str, Path], config: Config,
                                                       tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"export,out,conversation\n{backups['encrypted']},{tmp_path / 'x'},{SMS_ID}\n",
                        encoding="utf-8")
    (row,) = run_batch(manifest, config).rows
    assert not row.ok and "encrypted backup and no password" in str(row.error)


def test_a_redacted_message_loses_its_earlier_versions_in_the_dip(backups: dict[str, Path], config: Config,
                                                                  tmp_path: Path) -> None:
    made = create_sip([backups["plain"]], tmp_path / "sip", config, options=SipOptions(conversation=GROUP_ID))
    result = ingest(made.path, config)
    request = DipRequest(requester=OWN_USE, purpose=OWN_USE, own_use=True,
                         manual=(ManualRedaction.parse("3:11-17:5.1.2e"),))  # "10 uur" of "Overleg om 10 uur"
    dip = build_dip(tmp_path / "dip", request, config, store=store_of(config), by=TEST_OPERATOR,
                    aip_ids=(result.aip_id,)).path
    viewer = (dip / "viewer.html").read_text(encoding="utf-8")
    assert "antwoord op bericht 1" in viewer and "reacties: Jan Jansen:" in viewer
    assert "eerdere versie" not in viewer and "Overleg om 9 uur" not in viewer  # it could show what was redacted
    delivered = json.loads((dip / "conversation.json").read_text(encoding="utf-8"))
    assert "edits" not in delivered["source"]["inferred"]
