"""SIPs from exports holding several conversations (an SMS backup's threads, a Telegram account's chats):
listing them, one SIP of one conversation, one SIP per conversation, batch rows, the errors; a SIP holds not
one byte of another conversation (every file searched, inside zips too); ingest and DIP end to end."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from ingest.batch import run_batch
from ingest.conversations import list_conversations
from ingest.sip import SELECTION_JSON, SipOptions, create_sip
from ingest.sip_validate import validate_sip
from ingest.sources import parse_all_exports
from ingest.split import split_export
from kernel.config import Config
from kernel.errors import InputError
from kernel.model import Conversation
from tests.conftest import TEST_OPERATOR, shared_or_skip, store_of
from tests.test_selection import all_bytes, needles

EDEPOT = [sys.executable, "-m", "edepot.cli"]
HEAD = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"


def png(colour: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


# --- exports made here ------------------------------------------------------------------------------

# thread address, contact name, messages (type 1 received / 2 sent, text), an MMS image (or None)
THREADS = [
    ("+31612345678", "Petra de Vries", [(1, "Vergunning Marktplein ligt klaar"), (2, "Dank, ik teken vanmiddag")],
     png((200, 30, 30))),
    ("+31687654321", "Karel Wouters", [(1, "Privé: etentje zaterdag bij Anneke?"), (2, "Gezellig, tot zaterdag!")],
     png((30, 200, 30))),
    ("+31611111111~+31622222222", "Raadsgriffie Noord, Lotte Smit", [(1, "Agenda commissie Ruimte donderdag"),
                                                                      (2, "Stukken volgen morgenochtend")], None),
]


def sms_backup(folder: Path) -> Path:
    """An SMS Backup & Restore file with three threads, two of them with an MMS photo."""
    body = []
    moment = 1_710_407_700_000
    for address, name, messages, image in THREADS:
        for kind, text in messages:
            moment += 60_000
            body.append(f'  <sms protocol="0" address="{address}" date="{moment}" type="{kind}" subject="null" '
                        f'body="{text}" toa="null" sc_toa="null" service_center="null" read="1" status="-1" '
                        f'locked="0" date_sent="0" sub_id="-1" readable_date="x" contact_name="{name}" />')
        if image is not None:
            moment += 60_000
            sender = address.split("~")[0]
            body.append(
                f'  <mms date="{moment}" msg_box="1" address="{address}" m_type="132" sub="null" '
                f'contact_name="{name}"><parts>'
                f'<part seq="0" ct="image/png" name="null" chset="null" cl="foto-{sender[-4:]}.png" '
                f'data="{base64.b64encode(image).decode()}" />'
                f'<part seq="0" ct="text/plain" name="null" chset="106" text="Foto voor {name}" /></parts>'
                f'<addrs><addr address="{sender}" type="137" charset="106" /></addrs></mms>')
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sms-20240314.xml"
    path.write_text(HEAD + f'<smses count="{len(body)}" backup_set="x" backup_date="1710500000000" type="full">\n'
                    + "\n".join(body) + "\n</smses>\n", encoding="utf-8")
    return path


# chat id, name, messages (sender, text), photo bytes: both chats' photo has the same file name in its own folder
CHATS = [
    (4101, "Wethouder Jansen", [("Jansen", "Het raadsvoorstel gaat dinsdag rond"), ("Ik", "Prima, ik lees mee")],
     png((10, 10, 220))),
    (4102, "Familie Bakker", [("Oma Bakker", "Verjaardag van opa op zondag"), ("Ik", "Wij komen met de kinderen")],
     png((220, 220, 10))),
    (4103, "Buurtapp Kerkstraat", [("Henk Visser", "Wie heeft de kat van nummer 7 gezien")], None),
]
PHOTO = "photos/photo_1@01-04-2024_10-00-00.jpg"


def telegram_export(folder: Path) -> Path:
    """A Telegram Desktop full-account export folder with three chats (the last one left)."""
    chats = []
    for n, (chat_id, name, messages, photo) in enumerate(CHATS, start=1):
        items = []
        for m, (sender, text) in enumerate(messages, start=1):
            items.append({"id": m, "type": "message", "date_unixtime": str(1711965600 + 600 * n + m),
                          "from": sender, "from_id": f"user{abs(hash(sender)) % 10_000}", "text": text})
        if photo is not None:
            relative = f"chats/chat_{n:03d}/{PHOTO}"
            items.append({"id": 99, "type": "message", "date_unixtime": str(1711965600 + 600 * n + 50),
                          "from": messages[0][0], "photo": relative, "width": 40, "height": 30, "text": ""})
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_bytes(photo)
        chats.append({"name": name, "type": "personal_chat", "id": chat_id, "messages": items})
    document = {"personal_information": {"first_name": "Ik"}, "chats": {"list": chats[:2]},
                "left_chats": {"list": chats[2:]}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "result.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return folder


def zipped(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    return archive


@pytest.fixture
def sms(tmp_path: Path) -> Path:
    return sms_backup(tmp_path / "export")


@pytest.fixture
def telegram(tmp_path: Path) -> Path:
    return telegram_export(tmp_path / "ChatExport_2024-04-01")


# --- what another conversation leaves behind ----------------------------------------------------------


def traces(conversation: Conversation, media: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """What of `conversation` could show up in a file: its texts (raw and escaped), title, senders (not the
    phone's owner), addresses, and its media's bytes, each with a label."""
    found: list[tuple[str, bytes]] = []
    for message in conversation.messages:
        found += [(f"text of {message.seq}", needle) for needle in needles(message.text)]
        if message.sender and message.sender != "Ik":
            found.append((f"sender {message.sender}", message.sender.encode()))
        found += [(f"bytes of {a.name}", media[a.name]) for a in message.attachments if a.name in media]
    if conversation.title:
        found.append(("title", conversation.title.encode()))
    thread = conversation.source.inferred.get("thread")
    if isinstance(thread, str):
        found += [(f"address {address}", address.encode()) for address in thread.split("~")]
    return found


def leaks(root: Path, others: list[Conversation], media: dict[str, bytes]) -> list[str]:
    contents = all_bytes(root)
    found = []
    for other in others:
        for label, needle in traces(other, media):
            found += [f"{other.title}: {label} in {name}" for name, data in contents.items() if needle in data]
    return found


def sms_media(path: Path) -> dict[str, bytes]:
    from ingest.sources import embedded_files

    return dict(embedded_files([path]))


def telegram_media(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.jpg")}


# --- listing ----------------------------------------------------------------------------------------


def test_the_listing_names_every_conversation_with_its_counts_and_dates(sms: Path, telegram: Path) -> None:
    parsed = parse_all_exports([sms])
    entries = list_conversations([sms])
    assert [e.id for e in entries] == ["thread-+31612345678", "thread-+31687654321",
                                       "thread-+31611111111~+31622222222"]
    assert [e.index for e in entries] == [1, 2, 3]
    assert [e.messages for e in entries] == [len(c.messages) for c in parsed] == [3, 3, 2]
    assert [(e.first, e.last) for e in entries] == [(c.first_timestamp, c.last_timestamp) for c in parsed]
    assert [e.title for e in entries] == [c.title for c in parsed]
    assert entries[0].participants == ("Petra de Vries", "Ik")
    chats = list_conversations([telegram])
    assert [(e.id, e.title, e.messages) for e in chats] == [
        ("chat-4101", "Wethouder Jansen", 3), ("chat-4102", "Familie Bakker", 3), ("chat-4103", "Buurtapp Kerkstraat", 1)]


def test_the_listing_on_the_command_line(sms: Path, tmp_path: Path) -> None:
    env = {**os.environ, "EDEPOT_DATA": str(tmp_path / "data")}
    human = subprocess.run([*EDEPOT, "sip", "conversations", str(sms)], capture_output=True, text=True, env=env,
                           timeout=120)
    assert human.returncode == 0, human.stderr
    assert human.stdout.startswith("3 conversations in sms-20240314.xml")
    assert "thread-+31687654321" in human.stdout and "Karel Wouters" in human.stdout
    assert "--conversation ID" in human.stdout and "--split OUTDIR" in human.stdout
    as_json = subprocess.run([*EDEPOT, "--json", "sip", "conversations", str(sms)], capture_output=True, text=True,
                             env=env, timeout=120)
    listed = json.loads(as_json.stdout)["conversations"]
    assert [c["messages"] for c in listed] == [3, 3, 2]
    assert listed[2]["participants"] == ["Raadsgriffie Noord, Lotte Smit", "Ik"]
    assert listed[0]["first"] == "2024-03-14T10:16:00+01:00"


# --- one SIP of one conversation -----------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1, 2])
def test_a_conversation_sip_holds_no_byte_of_the_other_conversations(sms: Path, index: int, config: Config,
                                                                     tmp_path: Path) -> None:
    parsed = parse_all_exports([sms])
    wanted = list_conversations([sms])[index].id
    made = create_sip([sms], tmp_path / "sip", config, options=SipOptions(conversation=wanted))
    conversation = json.loads((made.path / "data/derived/conversation.json").read_text(encoding="utf-8"))
    assert conversation["messages"] == json.loads(parsed[index].to_json())["messages"]
    others = [c for n, c in enumerate(parsed) if n != index]
    assert leaks(made.path, others, sms_media(sms)) == []
    assert not (made.path / "data/original" / sms.name).exists()  # the export holds the other conversations
    image = THREADS[index][3]
    originals = sorted(p for p in (made.path / "data/original").rglob("*") if p.is_file())
    assert [p.read_bytes() for p in originals] == ([image] if image else [])
    assert validate_sip(made.path, config).valid


def test_the_leak_search_finds_the_other_conversations_when_the_export_is_kept(sms: Path, config: Config,
                                                                              tmp_path: Path) -> None:
    made = create_sip([sms], tmp_path / "sip", config,
                      options=SipOptions(conversation="thread-+31612345678", keep_original=True))
    found = leaks(made.path, parse_all_exports([sms])[1:], sms_media(sms))
    assert any("Karel Wouters: text of 1 in data/original/sms-20240314.xml" in f for f in found)
    statement = json.loads((made.path / SELECTION_JSON).read_text(encoding="utf-8"))
    assert statement["original_export"]["included_in_sip"] is True


def test_the_statement_says_which_conversation_of_which_export(sms: Path, config: Config, tmp_path: Path) -> None:
    made = create_sip([sms], tmp_path / "sip", config, options=SipOptions(conversation="2"))  # by index
    statement = json.loads((made.path / SELECTION_JSON).read_text(encoding="utf-8"))
    digest = hashlib.sha256(sms.read_bytes()).hexdigest()
    assert statement["original_export"] == {
        "files": [{"name": sms.name, "size": sms.stat().st_size, "sha256": digest}],
        "messages": 3, "included_in_sip": False, "conversations": 3}
    assert statement["conversation"] == {"id": "thread-+31687654321", "index": 2, "of": 3, "title": "Karel Wouters",
                                         "messages": 3}
    assert statement["kept"]["messages"] == 3 and statement["excluded"]["messages"] == 0
    record = next((made.path / "data/metadata").glob("SMS-*.mdto.xml")).read_text(encoding="utf-8")
    assert "<begripLabel>Selectie</begripLabel>" in record and digest in record
    assert "Gesprek 2 van 3 uit een export met meerdere gesprekken (Karel Wouters, id thread-+31687654321)" in record
    # each conversation is a record of its own: its kenmerk is not the export's, nor another conversation's
    first = create_sip([sms], tmp_path / "sip1", config, options=SipOptions(conversation="1"))
    assert len({made.record_id, first.record_id, "SMS-BACKUP-" + digest[:12]}) == 3


def test_selection_flags_apply_within_the_conversation(sms: Path, config: Config, tmp_path: Path) -> None:
    from ingest.selection import Criteria

    made = create_sip([sms], tmp_path / "sip", config,
                      options=SipOptions(conversation="thread-+31612345678",
                                         criteria=Criteria(exclude_participants=("Ik",))))
    conversation = json.loads((made.path / "data/derived/conversation.json").read_text(encoding="utf-8"))
    assert [m["sender"] for m in conversation["messages"]] == ["Petra de Vries", "Petra de Vries"]
    statement = json.loads((made.path / SELECTION_JSON).read_text(encoding="utf-8"))
    assert statement["excluded"]["by_reason"]["participant"] == 1 and statement["conversation"]["index"] == 1
    assert leaks(made.path, parse_all_exports([sms])[1:], sms_media(sms)) == []


@pytest.mark.parametrize("as_zip", [False, True])
def test_telegram_chats_with_photos_of_the_same_name(telegram: Path, as_zip: bool, config: Config,
                                                     tmp_path: Path) -> None:
    export = zipped(telegram, tmp_path / "telegram.zip") if as_zip else telegram
    parsed = parse_all_exports([export])
    media = {(f"{telegram.name}/{k}" if as_zip else k): v for k, v in telegram_media(telegram).items()}
    for index, (chat_id, _name, _messages, photo) in enumerate(CHATS):
        made = create_sip([export], tmp_path / f"out{index}" / "sip", config,
                          options=SipOptions(conversation=f"chat-{chat_id}", package="zip" if as_zip else None))
        assert made.path.is_file() == as_zip
        root = made.path.parent  # the SIP, or its package (searched inside) with the .sha256
        assert leaks(root, [c for n, c in enumerate(parsed) if n != index], media) == []
        contents = all_bytes(root)
        photos = [name for name, data in contents.items() if data == photo]
        if photo is not None:
            assert photos and all(PHOTO in name for name in photos)
        else:
            assert not any(name.endswith(".jpg") for name in contents)


# --- errors ---------------------------------------------------------------------------------------


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDEPOT_DATA": str(tmp_path / "data")}
    return subprocess.run([*EDEPOT, *args], capture_output=True, text=True, env=env, timeout=300)


def test_several_conversations_without_a_choice_is_one_line_naming_the_way_out(sms: Path, tmp_path: Path) -> None:
    result = run(["sip", "create", str(sms), "--out", str(tmp_path / "sip")], tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "3 conversations" in result.stderr and "--conversation ID" in result.stderr
    assert "--split OUTDIR" in result.stderr and "sip conversations" in result.stderr
    assert not (tmp_path / "sip").exists()


def test_an_unknown_conversation_is_one_line_listing_the_known_ones(sms: Path, tmp_path: Path,
                                                                   config: Config) -> None:
    result = run(["sip", "create", str(sms), "--out", str(tmp_path / "sip"), "--conversation", "thread-+3100"],
                 tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "'thread-+3100'" in result.stderr and "thread-+31687654321" in result.stderr and "1 to 3" in result.stderr
    assert not (tmp_path / "sip").exists() and not list(tmp_path.glob(".*partial"))
    with pytest.raises(InputError, match="no conversation '4'"):
        create_sip([sms], tmp_path / "sip", config, options=SipOptions(conversation="4"))
    split = run(["sip", "create", str(sms), "--split", str(tmp_path / "out"), "--conversation", "nope"], tmp_path)
    assert split.returncode == 2 and "'nope'" in split.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("flags", [[], ["--out", "a", "--split", "b"], ["--out", "a", "--conversation", "1",
                                                                       "--conversation", "2"]])
def test_out_and_split_are_asked_for_clearly(sms: Path, tmp_path: Path, flags: list[str]) -> None:
    result = run(["sip", "create", str(sms), *flags], tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "--split OUTDIR" in result.stderr and "Traceback" not in result.stderr


def test_one_conversation_on_the_command_line(sms: Path, tmp_path: Path) -> None:
    result = run(["--json", "sip", "create", str(sms), "--out", str(tmp_path / "sip"),
                  "--conversation", "thread-+31611111111~+31622222222"], tmp_path)
    assert result.returncode == 0, result.stderr
    made = json.loads(result.stdout)
    assert made["messages"] == 2 and made["selection"] == {"kept": 2, "excluded": 0, "by_reason": {
        "private": 0, "excluded_seq": 0, "period": 0, "participant": 0, "query": 0}}


# --- one SIP per conversation --------------------------------------------------------------------------


def test_split_makes_one_valid_sip_per_conversation_with_the_metadata_per_conversation(
        telegram: Path, config: Config, tmp_path: Path) -> None:
    metadata = tmp_path / "meta.yaml"
    metadata.write_text("naam: Telegram telefoon wethouder\nidentificatie: {kenmerk: TG-2024-7, bron: Zaaksysteem}\n"
                        "waardering: V\nbewaartermijn: P10Y\n", encoding="utf-8")
    env = {**os.environ, "EDEPOT_DATA": str(tmp_path / "data")}
    result = subprocess.run([*EDEPOT, "--json", "sip", "create", str(telegram), "--split", str(tmp_path / "out"),
                             "--metadata", str(metadata)], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["conversations"], summary["made"], summary["failed"]) == (3, 3, 0)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["001-Wethouder_Jansen", "002-Familie_Bakker", "003-Buurtapp_Kerkstraat"]
    assert [s["record_id"] for s in summary["sips"]] == ["TG-2024-7-001", "TG-2024-7-002", "TG-2024-7-003"]
    assert [s["title"] for s in summary["sips"]] == [f"Telegram telefoon wethouder – {c[1]}" for c in CHATS]
    parsed = parse_all_exports([telegram])
    for index, name in enumerate(names):
        sip = tmp_path / "out" / name
        assert validate_sip(sip, config).valid
        assert leaks(sip, [c for n, c in enumerate(parsed) if n != index], telegram_media(telegram)) == []
        record = next((sip / "data/metadata").glob("TG-2024-7-*.mdto.xml")).read_text(encoding="utf-8")
        assert "<termijnLooptijd>P10Y</termijnLooptijd>" in record
    assert not list((tmp_path / "out").glob(".*"))  # no staging or spool left behind


def test_split_keeps_going_past_a_conversation_that_fails_and_exits_1(sms: Path, config: Config,
                                                                     tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "002-Karel_Wouters").mkdir(parents=True)
    (out / "002-Karel_Wouters" / "iets.txt").write_text("bestond al", encoding="utf-8")
    seen: list[tuple[int, int, str]] = []
    result = split_export([sms], out, config, on_start=lambda n, total, label: seen.append((n, total, label)))
    assert [r.ok for r in result.rows] == [True, False, True] and result.failed == 1
    assert "already exists" in str(result.rows[1].error)
    assert seen == [(1, 3, "Petra de Vries"), (2, 3, "Karel Wouters"), (3, 3, "Raadsgriffie Noord, Lotte Smit")]
    assert (out / "002-Karel_Wouters" / "iets.txt").read_text(encoding="utf-8") == "bestond al"
    assert not list(out.glob(".*"))
    cli = run(["sip", "create", str(sms), "--split", str(out)], tmp_path)
    assert cli.returncode == 1 and cli.stdout.count("FAIL") == 3  # all three exist now


def test_split_of_the_named_conversations_only(sms: Path, config: Config, tmp_path: Path) -> None:
    result = split_export([sms], tmp_path / "out", config, only=("3", "thread-+31612345678"))
    assert [(r.index, r.id) for r in result.rows] == [(1, "thread-+31612345678"),
                                                       (3, "thread-+31611111111~+31622222222")]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["001-Petra_de_Vries",
                                                                    "003-Raadsgriffie_Noord_Lotte_Smit"]


# --- batch and review -----------------------------------------------------------------------------------


def test_batch_rows_name_a_conversation(sms: Path, config: Config, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("export,out,conversation\n"
                        f"{sms},sips/petra,thread-+31612345678\n"
                        f"{sms},sips/karel,2\n"
                        f"{sms},sips/geen,\n"
                        f"{sms},sips/onbekend,thread-+999\n", encoding="utf-8")
    result = run_batch(manifest, config)
    assert [r.ok for r in result.rows] == [True, True, False, False]
    assert "name the conversation" in str(result.rows[2].error) and "'thread-+999'" in str(result.rows[3].error)
    assert "--" not in str(result.rows[2].error)  # a manifest row names it in its column, not with a flag
    karel = json.loads((tmp_path / "sips/karel/data/derived/conversation.json").read_text(encoding="utf-8"))
    assert karel["title"] == "Karel Wouters"


def test_review_sheet_of_one_conversation_applies_to_its_sip(sms: Path, config: Config, tmp_path: Path) -> None:
    unpicked = run(["sip", "review", str(sms), "--out", str(tmp_path / "sheet")], tmp_path)
    assert unpicked.returncode == 2 and "--conversation ID" in unpicked.stderr and "--split" not in unpicked.stderr
    result = run(["sip", "review", str(sms), "--conversation", "2", "--out", str(tmp_path / "sheet")], tmp_path)
    assert result.returncode == 0, result.stderr
    sheet = (tmp_path / "sheet.csv").read_text(encoding="utf-8")
    assert "etentje" in sheet and "Vergunning" not in sheet
    lines = sheet.splitlines()
    header = lines[0].split(",")
    decision = header.index("decision")
    marked = [lines[0]] + [",".join(f if i != decision else ("private" if "etentje" in line else f)
                                    for i, f in enumerate(line.split(","))) for line in lines[1:]]
    (tmp_path / "sheet.csv").write_text("\n".join(marked) + "\n", encoding="utf-8")
    made = create_sip([sms], tmp_path / "sip", config,
                      options=SipOptions(conversation="2", review=tmp_path / "sheet.csv"))
    conversation = json.loads((made.path / "data/derived/conversation.json").read_text(encoding="utf-8"))
    assert [m["text"] for m in conversation["messages"]] == ["Gezellig, tot zaterdag!", "Foto voor Karel Wouters"]


# --- ingest and DIP -------------------------------------------------------------------------------------


def test_a_conversation_sip_is_ingested_and_delivered_with_its_media(sms: Path, config: Config,
                                                                     tmp_path: Path) -> None:
    from access.dip import create_dip
    from ingest.pipeline import ingest

    parsed = parse_all_exports([sms])
    made = create_sip([sms], tmp_path / "sip", config, options=SipOptions(conversation="1"))
    result = ingest(made.path, config)
    stored = result.locations[0]
    assert leaks(stored, parsed[1:], sms_media(sms)) == []
    image = THREADS[0][3]
    assert image is not None
    assert any(p.read_bytes() == image for p in (stored / "data/original").rglob("*.png"))
    dip = create_dip(result.aip_id, tmp_path / "dip", config, store=store_of(config), by=TEST_OPERATOR).path
    delivered = json.loads(next(dip.rglob("conversation.json")).read_text(encoding="utf-8"))
    assert [m["text"] for m in delivered["messages"]] == [m.text for m in parsed[0].messages]
    assert any(p.read_bytes() == image for p in dip.rglob("*.png"))
    assert leaks(dip, parsed[1:], sms_media(sms)) == []
    # the DIP's own rendering and viewer find the photo by the name the export gives it (`….parts/…png`)
    from pypdf import PdfReader

    pages = PdfReader(dip / "conversation.pdf").pages
    assert sum(len(page.images) for page in pages) == 1
    assert "niet aanwezig" not in "".join(page.extract_text() for page in pages)
    assert "niet in deze levering" not in (dip / "viewer.html").read_text(encoding="utf-8")


def test_a_telegram_export_folder_of_one_chat_is_kept_whole(tmp_path: Path, config: Config) -> None:
    folder = telegram_export(tmp_path / "ChatExport_2024-04-02")
    document = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    (folder / "result.json").write_text(json.dumps(document["chats"]["list"][0]), encoding="utf-8")  # one chat
    made = create_sip([folder], tmp_path / "sip", config)
    kept = {p.relative_to(made.path / "data/original").as_posix(): p.read_bytes()
            for p in (made.path / "data/original").rglob("*") if p.is_file()}
    assert kept == {f"{folder.name}/{p.relative_to(folder).as_posix()}": p.read_bytes()
                    for p in folder.rglob("*") if p.is_file()}
    assert made.selection is None and validate_sip(made.path, config).valid


def test_the_rendering_shows_the_photo_of_the_conversation(sms: Path, config: Config, tmp_path: Path) -> None:
    """Media keep the export's path in the SIP (`sms-20240314.parts/…`); ingest finds them by that name."""
    from pypdf import PdfReader

    from ingest.pipeline import ingest

    made = create_sip([sms], tmp_path / "sip", config, options=SipOptions(conversation="2"))
    stored = ingest(made.path, config).locations[0]
    pages = PdfReader(stored / "data/preservation/conversation.pdf").pages
    text = "".join(page.extract_text() for page in pages)
    assert "Foto voor Karel Wouters" in text and "niet aanwezig" not in text
    assert sum(len(page.images) for page in pages) == 1  # the photo, inline


def test_the_corpus_backup_of_three_threads_splits_into_three_records(config: Config, tmp_path: Path) -> None:
    backup = shared_or_skip() / "corpus" / "sms-backup-restore-devadvance" / "sms_small.xml"  # 12 sms (SOURCES.md)
    result = split_export([backup], tmp_path / "out", config)
    assert [(r.id, r.sip.message_count if r.sip else None) for r in result.rows] == [
        ("thread-+15550000001", 4), ("thread-+15550000003", 1), ("thread-+15550000004", 7)]
    parsed = parse_all_exports([backup])
    for row, conversation in zip(result.rows, parsed):
        assert row.sip is not None and validate_sip(row.sip.path, config).valid
        written = json.loads((row.sip.path / "data/derived/conversation.json").read_text(encoding="utf-8"))
        assert written["messages"] == json.loads(conversation.to_json())["messages"]
        statement = json.loads((row.sip.path / SELECTION_JSON).read_text(encoding="utf-8"))
        assert statement["original_export"]["files"][0]["sha256"] == (
            "2ff9b02b6562a52ec48f75c6d94bb7d5a9dcc6ba2d3ef82f7b00867b3ef41abb")
        contents = all_bytes(row.sip.path)
        for other in parsed:  # the corpus bodies repeat ("Body text 1" in "Body text 10"): names and numbers
            if other is not conversation:
                for trace in (str(other.title), other.source.inferred["thread"]):
                    assert not [name for name, data in contents.items() if trace.encode() in data]


def test_split_of_an_export_of_one_conversation_is_the_whole_export(config: Config, tmp_path: Path) -> None:
    from tests.conftest import REPO

    sample = next((REPO / "samples" / "whatsapp-ios-nl").glob("*.zip"))
    metadata = {"naam": "Overleg Marktplein", "identificatie": {"kenmerk": "WA-1", "bron": "Zaaksysteem"}}
    result = split_export([sample], tmp_path / "out", config, metadata)
    (row,) = result.rows
    assert row.sip is not None and row.id == "conversation-1" and row.sip.selection is None
    assert (row.sip.path / "data/original" / sample.name).read_bytes() == sample.read_bytes()
    assert row.sip.path.name.startswith("001-")
    assert (row.sip.record_id, row.sip.title) == ("WA-1", "Overleg Marktplein")


def on_a_terminal(args: list[str], tmp_path: Path) -> tuple[int, str]:
    """Run edepot with stderr on a pseudo-terminal (as a person at a terminal would): exit code, what it showed."""
    import pty
    import threading

    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"EDEPOT_DATA": str(tmp_path / "data"),
                                                               "COLUMNS": "100"}
    master, slave = pty.openpty()
    seen = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    done = subprocess.run([*EDEPOT, *args], stdout=subprocess.PIPE, stderr=slave, env=env, timeout=300)
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    return done.returncode, seen.decode("utf-8", errors="replace")


def test_split_and_listing_show_progress_on_a_terminal_and_none_with_json(sms: Path, tmp_path: Path) -> None:
    code, shown = on_a_terminal(["sip", "create", str(sms), "--split", str(tmp_path / "a")], tmp_path)
    assert code == 0 and "3/3" in shown and "Raadsgriffie" in shown  # the bar names each conversation
    assert on_a_terminal(["--json", "sip", "create", str(sms), "--split", str(tmp_path / "b")], tmp_path) == (0, "")
    code, shown = on_a_terminal(["sip", "conversations", str(sms)], tmp_path)
    assert code == 0 and "reading sms-20240314.xml" in shown and "3/3" in shown


def test_a_call_log_is_listed_by_number_and_one_number_makes_a_record(config: Config, tmp_path: Path) -> None:
    from tests.test_sources_calls import T0, call, write_log

    log = write_log(tmp_path / "calls-20240314.xml",
                    call("+31612345678", str(T0), "1", "61") + call("+31687654321", str(T0 + 60_000), "2", "30",
                                                                  name="Karel Wouters")
                    + call("+31612345678", str(T0 + 120_000), "3"), count=3)
    entries = list_conversations([log])
    assert [(e.id, e.title, e.messages) for e in entries] == [("calls-+31612345678", "Petra de Vries", 2),
                                                              ("calls-+31687654321", "Karel Wouters", 1)]
    made = create_sip([log], tmp_path / "sip", config, options=SipOptions(conversation="calls-+31687654321"))
    contents = all_bytes(made.path)
    assert made.message_count == 1 and not [n for n, data in contents.items() if b"+31612345678" in data]
    assert validate_sip(made.path, config).valid


def test_a_messenger_download_zipped_with_a_top_folder(config: Config, tmp_path: Path) -> None:
    from tests.test_source_meta_dyi import _messenger_download

    root = _messenger_download(tmp_path / "facebook-ik-2024")
    archive = zipped(root, tmp_path / "facebook.zip")
    entries = list_conversations([archive])
    assert [e.id for e in entries] == ["thread-raadsgriffie_123", "thread-zz_tweede_9"]
    made = create_sip([archive], tmp_path / "sip", config, options=SipOptions(conversation="thread-raadsgriffie_123"))
    photo = "your_facebook_activity/messages/inbox/raadsgriffie_123/photos/agenda.jpg"
    assert (made.path / "data/original" / photo).read_bytes() == (root / photo).read_bytes()
    other = parse_all_exports([archive])[1]
    assert leaks(made.path, [other], {}) == [] and validate_sip(made.path, config).valid


def test_an_attachment_that_cannot_be_taken_out_stops_the_sip(config: Config, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import selected_media

    sms = sms_backup(tmp_path / "export")
    monkeypatch.setattr(selected_media, "embedded_files", lambda _paths, _format: iter(()))  # parts unreadable
    with pytest.raises(InputError, match="1 attachment.*could not be taken out.*foto-5678.png"):
        create_sip([sms], tmp_path / "sip", config, options=SipOptions(conversation="1"))
    assert not (tmp_path / "sip").exists() and not list(tmp_path.glob(".*"))


def test_ids_are_unique_and_safe_on_a_command_line() -> None:
    from ingest.conversations import conversation_ids
    from kernel.model import ConversationHead, Source

    def head(fmt: str, **inferred: object) -> ConversationHead:
        return ConversationHead(Source(fmt, "x", None, "UTC", (), dict(inferred)))

    heads = [head("telegram", chat={"id": 7}), head("telegram", chat={"id": 7}),  # a chat left and listed again
             head("sms-backup", thread="(no address)"), head("sms-backup", thread="+31 6 'x'; rm"),
             head("whatsapp"), head("telegram", chat={"type": "saved_messages"})]
    assert conversation_ids(heads) == ["chat-7", "chat-7-2", "thread-unknown", "thread-+31_6__x___rm",
                                       "conversation-5", "conversation-6"]


@pytest.mark.parametrize("as_zip", [False, True])
def test_a_whole_telegram_export_shows_its_photo_in_the_rendering(as_zip: bool, config: Config,
                                                                  tmp_path: Path) -> None:
    from pypdf import PdfReader

    from access.dip import create_dip
    from ingest.pipeline import ingest

    folder = telegram_export(tmp_path / "ChatExport_2024-04-02")
    document = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    (folder / "result.json").write_text(json.dumps(document["chats"]["list"][0]), encoding="utf-8")  # one chat
    shutil.rmtree(folder / "chats" / "chat_002")
    export = zipped(folder, tmp_path / "telegram.zip") if as_zip else folder
    made = create_sip([export], tmp_path / "sip", config)
    result = ingest(made.path, config)
    dip = create_dip(result.aip_id, tmp_path / "dip", config, store=store_of(config), by=TEST_OPERATOR).path
    for pdf in (result.locations[0] / "data/preservation/conversation.pdf", dip / "conversation.pdf"):
        pages = PdfReader(pdf).pages
        assert "niet aanwezig" not in "".join(page.extract_text() for page in pages)
        assert sum(len(page.images) for page in pages) == 1
