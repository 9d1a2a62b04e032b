"""iPhone backups as an export: the typedstream reader on real blobs of the Messages app, Apple's epoch, every chat of
a backup (encrypted or not) as a conversation, business chats out of it as SIPs through ingest and DIP while the
backup itself never enters one, and the one-line errors."""
from __future__ import annotations

import base64
import json
import os
import plistlib
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from access.dip import create_dip
from ingest.conversations import list_conversations
from ingest.pipeline import ingest
from ingest.sip import SELECTION_JSON, SipOptions, create_sip
from ingest.sip_validate import validate_sip
from ingest.sources import ParseOptions, parse_all_exports, stream_export
from ingest.sources.iphone_messages import apple_time, edit_versions, is_unsent
from ingest.sources.typedstream import TypedStreamError, attributed_string_text
from ingest.split import split_export
from kernel.config import Config
from kernel.errors import DamagedBackupDatabase, InputError, UnknownBackupLayout, WrongBackupPassword
from tests.conftest import TEST_OPERATOR, shared_or_skip, store_of
from tests.iphone_backup_factory import BackupSpec, ChatSpec, Msg, make_backup
from tests.test_sip_multi_conversation import png

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
T = datetime(2024, 3, 14, 9, 0, tzinfo=timezone.utc)
PHOTO_1, PHOTO_2 = png((200, 30, 30)), png((30, 30, 200))
PRIVATE_WORDS = "etentje zaterdag bij Anneke"
EDEPOT = [sys.executable, "-m", "edepot.cli"]


def at(minutes: int) -> datetime:
    return T + timedelta(minutes=minutes)


SPEC = BackupSpec(chats=[
    ChatSpec(("+31611111111", "+31622222222"), [
        Msg(at(0), "+31611111111", "De schetsen van het Marktplein", guid="G1",
            attachments=(("IMG_0001.PNG", PHOTO_1, "image/png"), ("IMG_0002.PNG", PHOTO_2, "image/png"))),
        Msg(at(1), None, body="Dank, ik kijk ernaar", guid="G2"),
        Msg(at(2), "+31622222222", None, tapback=("G1", 2000)),
        Msg(at(3), "+31622222222", "Eens met de opzet", reply_to="G1", guid="G3"),
        Msg(at(4), None, "Overleg om 10 uur", edited=((at(4), "Overleg om 9 uur"), (at(5), "Overleg om 10 uur"))),
        Msg(at(6), "+31611111111", None, unsent=at(7)),
    ], name="Herinrichting Marktplein"),
    ChatSpec(("+31644444444",), [Msg(at(8), "+31644444444", f"Privé: {PRIVATE_WORDS}?", service="SMS"),
                                 Msg(at(9), None, "Gezellig!", service="SMS")], service="SMS"),
    ChatSpec(("+31633333333",), [Msg(at(10), "+31633333333", "Vergunning Marktplein ligt klaar", service="SMS"),
                                 Msg(at(11), None, "Dank, ik teken vanmiddag", service="SMS")], service="SMS"),
], contacts={"06 11111111": "Petra de Vries", "+31 6 22222222": "Jan Jansen", "06-33333333": "Karel Wouters"})


@pytest.fixture(scope="module")
def backups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("iphone")
    return {"plain": make_backup(root / "plain", SPEC), "encrypted": make_backup(root / "encrypted", SPEC,
                                                                                 password="Wethouder-2024")}


def options_for(kind: str, **more: object) -> ParseOptions:
    return ParseOptions(password=(lambda _name: "Wethouder-2024") if kind == "encrypted" else None, **more)  # type: ignore[arg-type]


# --- typedstream and times ------------------------------------------------------------------------------------

def test_typedstream_reader_gives_the_texts_imessage_exporter_expects() -> None:
    corpus = shared_or_skip() / "corpus" / "imessage-typedstream-imessage-exporter"
    blob = corpus / "streamtyped"
    assert attributed_string_text((blob / "AttributedBodyTextOnly").read_bytes()) == "Noter test"
    assert attributed_string_text((blob / "AttributedBodyTextOnly2").read_bytes()) == "Test 3"
    assert attributed_string_text((blob / "WeirdText").read_bytes()) == "𝖍𝖊𝖑𝖑𝖔 𝖜𝖔𝖗𝖑𝖉"
    assert attributed_string_text((blob / "URL").read_bytes()) == "https://github.com/ReagentX/Logria"
    assert attributed_string_text((blob / "MultiPart").read_bytes()) == "\ufffctest 1\ufffctest 2 \ufffctest 3"
    assert attributed_string_text((blob / "ExtraData").read_bytes()).startswith("This is parsing")
    with pytest.raises(TypedStreamError):
        attributed_string_text((blob / "Blank").read_bytes())

    edits = corpus / "edited_message"
    versions = edit_versions((edits / "Edited.plist").read_bytes(), timezone.utc)
    assert [v["text"] for v in versions] == ["First message", "Edit 1", "Edit 2", "Edited message"]
    assert [int(datetime.fromisoformat(v["time"]).timestamp()) - 978_307_200 for v in versions] == [
        690513474, 690513480, 690513485, 690513494]
    assert len(edit_versions((edits / "EditedToLink.plist").read_bytes(), timezone.utc)) == 2
    assert len(edit_versions((edits / "EditedToLinkAndBack.plist").read_bytes(), timezone.utc)) == 3
    deleted = (edits / "Deleted.plist").read_bytes()
    assert edit_versions(deleted, timezone.utc) == [] and is_unsent(deleted)


def test_apple_epoch_in_seconds_and_nanoseconds_gives_the_same_instant() -> None:
    seconds = apple_time(732_358_800, AMSTERDAM)
    nanoseconds = apple_time(732_358_800_123_456_789, AMSTERDAM)
    assert seconds == datetime(2024, 3, 17, 10, 0, tzinfo=AMSTERDAM)
    assert nanoseconds - seconds == timedelta(microseconds=123_456)
    assert nanoseconds.isoformat() == "2024-03-17T10:00:00.123456+01:00"


# --- reading ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["plain", "encrypted"])
def test_every_chat_of_a_backup_is_a_conversation(kind: str, backups: dict[str, Path]) -> None:
    group, private, sms = parse_all_exports([backups[kind]], options_for(kind))
    assert group.title == "Herinrichting Marktplein" and group.source.format == "iphone-backup"
    assert [(m.seq, m.sender, m.kind.value, m.text) for m in group.messages] == [
        (1, "Petra de Vries", "media", "De schetsen van het Marktplein"),
        (2, "Ik", "text", "Dank, ik kijk ernaar"),  # from attributedBody
        (3, "Jan Jansen", "text", "Eens met de opzet"),
        (4, "Ik", "text", "Overleg om 10 uur"),
        (5, "Petra de Vries", "deleted", ""),
    ]
    assert group.messages[0].timestamp.isoformat() == "2024-03-14T10:00:00+01:00"
    assert group.messages[3].edited
    inferred = group.source.inferred
    assert inferred["reactions"] == {"1": ["Jan Jansen: ❤️"]} and inferred["replies"] == {"3": 1}
    assert [v["text"] for v in inferred["edits"]["4"]] == ["Overleg om 9 uur", "Overleg om 10 uur"]
    assert inferred["unsent"] == {"5": "2024-03-14T10:07:00+01:00"}
    assert inferred["backup"]["encrypted"] is (kind == "encrypted")
    assert [a.present for a in group.messages[0].attachments] == [True, True]
    assert sms.title == "Karel Wouters" and sms.source.inferred["services"] == {"SMS": 2}
    assert private.title == "+31644444444"  # not in the address book: the handle stays


def test_listing_names_each_chat(backups: dict[str, Path]) -> None:
    entries = list_conversations([backups["plain"]])
    assert [(e.id, e.messages) for e in entries] == [
        ("chat-iMessage_+_chat000001", 5), ("chat-SMS_-_+31644444444", 2), ("chat-SMS_-_+31633333333", 2)]


def test_decrypted_material_stays_in_a_private_folder_removed_after(backups: dict[str, Path], tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    seen: list[int] = []

    def password(_name: str) -> str:
        return "Wethouder-2024"

    streams = stream_export([backups["encrypted"]], ParseOptions(password=password, scratch=scratch))
    private = list(scratch.iterdir())
    assert len(private) == 1 and private[0].stat().st_mode & 0o777 == 0o700
    seen += [1 for _ in private[0].iterdir()]
    assert seen  # Manifest.db and sms.db decrypted there, nowhere else
    for stream in streams:
        for _ in stream.messages:
            pass
    assert list(scratch.iterdir()) == []


# --- SIPs: only business chats leave the backup --------------------------------------------------------------

@pytest.mark.parametrize("kind", ["encrypted"])
def test_an_imessage_group_with_photos_goes_through_sip_ingest_and_dip(kind: str, backups: dict[str, Path],
                                                                      config: Config, tmp_path: Path) -> None:
    made = create_sip([backups[kind]], tmp_path / "sip", config, parse=options_for(kind),
                      options=SipOptions(conversation="chat-iMessage_+_chat000001"))
    assert validate_sip(made.path, config).valid
    original = made.path / "data" / "original"
    photos = sorted(original.rglob("IMG_*.PNG"))
    assert [p.read_bytes() for p in photos] == [PHOTO_1, PHOTO_2]
    rows = [json.loads(line) for line in (original / "sms.db.rows.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0]["database"]["path"] == "Library/SMS/sms.db"
    tables = [r["table"] for r in rows[1:]]
    assert tables.count("message") == 6 and tables.count("attachment") == 2  # 5 messages and the tapback
    body = next(r for r in rows[1:] if r["table"] == "message" and r["values"]["attributedBody"])
    assert attributed_string_text(base64.b64decode(body["values"]["attributedBody"]["base64"])) == \
        "Dank, ik kijk ernaar"
    statement = json.loads((made.path / SELECTION_JSON).read_text(encoding="utf-8"))
    assert statement["original_export"]["included_in_sip"] is False
    names = [f["name"] for f in statement["original_export"]["files"]]
    assert names[0] == "encrypted/Manifest.db" and any("Library/SMS/sms.db" in n for n in names)
    everything = b"".join(p.read_bytes() for p in made.path.rglob("*") if p.is_file())
    assert PRIVATE_WORDS.encode() not in everything and b"Vergunning" not in everything
    assert not any(p.name in ("Manifest.db", "Manifest.plist") for p in made.path.rglob("*"))

    result = ingest(made.path, config)
    dip = create_dip(result.aip_id, tmp_path / "dip", config, store=store_of(config), by=TEST_OPERATOR).path
    delivered = json.loads((dip / "conversation.json").read_text(encoding="utf-8"))
    assert [m["text"] for m in delivered["messages"]][:2] == ["De schetsen van het Marktplein", "Dank, ik kijk ernaar"]
    assert sorted(p.read_bytes() for p in (dip / "media").rglob("IMG_*.PNG")) == sorted([PHOTO_1, PHOTO_2])


def test_an_sms_thread_of_the_same_backup_goes_through_sip_ingest_and_dip(backups: dict[str, Path], config: Config,
                                                                         tmp_path: Path) -> None:
    split = split_export([backups["plain"]], tmp_path / "sips", config, parse_options=ParseOptions(),
                         only=["chat-SMS_-_+31633333333"])
    (row,) = split.rows
    assert row.ok and row.sip is not None
    assert sorted(p.name for p in (row.sip.path / "data" / "original").iterdir()) == ["sms.db.rows.jsonl"]
    everything = b"".join(p.read_bytes() for p in row.sip.path.rglob("*") if p.is_file())
    assert PRIVATE_WORDS.encode() not in everything and b"Marktplein\", \"" not in everything
    result = ingest(row.sip.path, config)
    dip = create_dip(result.aip_id, tmp_path / "dip", config, store=store_of(config), by=TEST_OPERATOR).path
    delivered = json.loads((dip / "conversation.json").read_text(encoding="utf-8"))
    assert [(m["sender"], m["text"]) for m in delivered["messages"]] == [
        ("Karel Wouters", "Vergunning Marktplein ligt klaar"), ("Ik", "Dank, ik teken vanmiddag")]


def test_the_backup_never_enters_a_sip(backups: dict[str, Path], config: Config, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="never enters a SIP"):
        create_sip([backups["plain"]], tmp_path / "sip", config,
                   options=SipOptions(conversation="3", keep_original=True))


# --- errors ---------------------------------------------------------------------------------------------------

def test_wrong_password_unknown_layout_and_damaged_database(backups: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(WrongBackupPassword):
        parse_all_exports([backups["encrypted"]], ParseOptions(password=lambda _name: "fout"))
    old = tmp_path / "old"
    old.mkdir()
    (old / "Manifest.plist").write_bytes(plistlib.dumps({"IsEncrypted": False}))
    (old / "Manifest.mbdb").write_bytes(b"mbdb\x05\x00")
    with pytest.raises(UnknownBackupLayout, match="iOS 9 or older"):
        parse_all_exports([old])
    damaged = make_backup(tmp_path / "damaged", BackupSpec(chats=SPEC.chats[:1]))
    sms = damaged / "3d" / "3d0d7e5fb2ce288813306e4d4636395e047a3d28"
    sms.write_bytes(sms.read_bytes()[:2048] + b"\x00" * 2048)
    with pytest.raises(DamagedBackupDatabase):
        parse_all_exports([damaged])


def test_the_command_line_asks_for_the_password_and_never_shows_it(backups: dict[str, Path], tmp_path: Path) -> None:
    env = {**os.environ, "EDEPOT_DATA": str(tmp_path / "data")}
    env.pop("EDEPOT_BACKUP_PASSWORD", None)
    listed = subprocess.run([*EDEPOT, "sip", "conversations", str(backups["encrypted"]), "--json"],
                            env={**env, "EDEPOT_BACKUP_PASSWORD": "Wethouder-2024"}, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL)
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["conversations"]) == 3
    assert "Wethouder-2024" not in listed.stdout + listed.stderr
    assert not any((tmp_path / "data" / "staging").iterdir())  # the private folder is gone
    wrong = subprocess.run([*EDEPOT, "sip", "conversations", str(backups["encrypted"])],
                           env={**env, "EDEPOT_BACKUP_PASSWORD": "fout"}, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
    assert wrong.returncode == 2 and wrong.stderr.startswith("edepot: error E120:")
    assert len(wrong.stderr.strip().splitlines()) == 1 and "fout" not in wrong.stderr
    none = subprocess.run([*EDEPOT, "sip", "conversations", str(backups["encrypted"])], env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert none.returncode == 2 and "EDEPOT_BACKUP_PASSWORD" in none.stderr


def test_one_sip_of_an_encrypted_backup_derives_its_key_and_asks_for_its_password_once(
        backups: dict[str, Path], config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from iphone_backup_decrypt import utils

    import edepot.commands as adapter
    from ingest.sources import iphone_layout

    monkeypatch.setattr(iphone_layout, "_UNLOCKED", iphone_layout.OrderedDict())
    derived: list[int] = []
    unlock = utils.BackupKeyBag.unlock_with_passphrase

    def counted(self: object, passphrase: bytes) -> object:  # the real derivation, counted
        derived.append(1)
        return unlock(self, passphrase)  # type: ignore[arg-type]

    monkeypatch.setattr(utils.BackupKeyBag, "unlock_with_passphrase", counted)
    create_sip([backups["encrypted"]], tmp_path / "sip", config, parse=options_for("encrypted"),
               options=SipOptions(conversation="chat-iMessage_+_chat000001"))
    assert len(derived) == 1
    with pytest.raises(WrongBackupPassword):  # another password is tried, never taken from the cache
        parse_all_exports([backups["encrypted"]], ParseOptions(password=lambda _name: "fout"))
    asked: list[str] = []
    monkeypatch.delenv(adapter.BACKUP_PASSWORD_VARIABLE, raising=False)
    monkeypatch.setattr(adapter, "_asked", {})
    monkeypatch.setattr(adapter.sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(adapter.getpass, "getpass", lambda prompt: asked.append(prompt) or "Wethouder-2024")
    assert adapter.backup_password("encrypted") == adapter.backup_password("encrypted") == "Wethouder-2024"
    assert len(asked) == 1
