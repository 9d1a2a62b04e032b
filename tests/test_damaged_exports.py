"""Exports that lack something, with the real zip, XML, FIDO and file systems: a zip cut short or empty (refused at
ingest unless declared damaged when the SIP was made), media named but missing or left out by the export, an
attachment name longer than a file system allows, and an SMS backup cut off by a full phone."""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import bagit
import jsonschema
import pytest
from PIL import Image

from access.dip import create_dip
from ingest.bag_names import NAME_LIMIT, bag_name, bag_path
from ingest.pipeline import ingest
from ingest.selection import Criteria, parse_moment
from ingest.sip import SipOptions, create_sip
from ingest.sources import parse_all_exports
from kernel.config import Config
from kernel.errors import InvalidPackage
from preservation.metadata.premis import parse_premis_events
from tests.conftest import REPO, TEST_OPERATOR, store_of

EDEPOT = [sys.executable, "-m", "edepot.cli"]
SCHEMA = json.loads((REPO / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))
MDTO = "{https://www.nationaalarchief.nl/mdto}"


def edepot(*args: str | Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDEPOT_DATA": str(data_dir)}
    return subprocess.run([*EDEPOT, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def one_line_error(result: subprocess.CompletedProcess[str], code: int, ref: str) -> str:
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("  - ")]
    assert len(lines) == 1 and lines[0].startswith(f"edepot: error {ref}:"), result.stderr
    return lines[0]


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(out, "JPEG")
    return out.getvalue()


def chat_zip(path: Path, lines: list[str], members: dict[str, bytes]) -> Path:
    """An iPhone WhatsApp export (Dutch), the chat text first as the phone writes it, then the media."""
    head = ["[14-03-2024 09:58:12] Overleg: \u200eWethouder Jansen heeft deze groep aangemaakt",
            "[14-03-2024 10:02:15] Wethouder Jansen: Goedemorgen, de stukken komen eraan."]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_chat.txt", "\n".join(head + lines) + "\n")
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def attached(minute: int, name: str) -> str:
    return f"\u200e[14-03-2024 10:{minute:02d}:07] Petra de Vries: \u200e<bijgevoegd: {name}>"


def conversation_of(sip: Path) -> dict:
    document = json.loads((sip / "data" / "derived" / "conversation.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, SCHEMA)
    return document


def informatieobject(sip: Path) -> str:
    found = [p for p in (sip / "data" / "metadata").glob("*.mdto.xml")]
    assert len(found) == 1
    return found[0].read_text(encoding="utf-8")


# --- a zip cut short, or empty --------------------------------------------------------------------------


@pytest.fixture
def cut_zip(tmp_path: Path) -> tuple[Path, bytes]:
    """An export whose transfer broke off inside its second photo: the chat and the first photo are whole."""
    whole = chat_zip(tmp_path / "whole.zip", [attached(10, "00000003-PHOTO-1.jpg"), attached(11, "00000004-PHOTO-2.jpg")],
                     {"00000003-PHOTO-1.jpg": jpeg((200, 30, 30)), "00000004-PHOTO-2.jpg": jpeg((30, 200, 30))})
    data = whole.read_bytes()
    with zipfile.ZipFile(whole) as archive:
        second = archive.getinfo("00000004-PHOTO-2.jpg")
    cut = tmp_path / "WhatsApp Chat - Overleg.zip"
    cut.write_bytes(data[: second.header_offset + 60])  # inside the second photo's header and data
    return cut, jpeg((200, 30, 30))


def test_zip_cut_short_is_refused_at_sip_create_unless_declared_damaged(cut_zip: tuple[Path, bytes],
                                                                        tmp_path: Path) -> None:
    cut, _ = cut_zip
    refused = edepot("sip", "create", cut, "--out", tmp_path / "sip", data_dir=tmp_path / "data")
    assert "--damaged-export" in one_line_error(refused, 2, "E100")
    assert not (tmp_path / "sip").exists()

    made = edepot("sip", "create", cut, "--out", tmp_path / "sip", "--damaged-export", "overdracht afgebroken",
                  "--json", data_dir=tmp_path / "data")
    assert made.returncode == 0, made.stderr
    warnings = json.loads(made.stdout)["warnings"]
    assert any("cut short" in w and "00000004-PHOTO-2.jpg" in w for w in warnings), warnings
    assert any("overdracht afgebroken" in w for w in warnings)
    assert "edepot: warning:" in made.stderr
    sip = tmp_path / "sip"
    assert (sip / "data" / "original" / cut.name).read_bytes() == cut.read_bytes()  # the original as received
    damaged = conversation_of(sip)["source"]["damaged"]
    assert damaged["reason"] == "overdracht afgebroken"
    assert damaged["files"] == [{"name": cut.name, "problem": damaged["files"][0]["problem"], "complete": 2,
                                 "end": {"byte": cut.stat().st_size, "line": None},
                                 "unreadable": ["00000004-PHOTO-2.jpg"]}]
    mdto = informatieobject(sip)
    assert "Beschadigde export" in mdto and "overdracht afgebroken" in mdto


def test_declared_damaged_export_is_ingested_with_warnings_and_a_failed_unpacking_event(
        cut_zip: tuple[Path, bytes], config: Config, tmp_path: Path) -> None:
    cut, first_photo = cut_zip
    sip = create_sip([cut], tmp_path / "sip", config, options=SipOptions(damaged_export="telefoon vol"))
    result = ingest(sip.path, config)
    assert any("declared the export damaged: telefoon vol" in w and "00000004-PHOTO-2.jpg" in w
               for w in result.warnings), result.warnings
    bag = result.locations[0]
    assert (bag / "data" / "original" / cut.name).read_bytes() == cut.read_bytes()
    media = bag / "data" / "preservation" / "media"
    assert (media / "00000003-PHOTO-1.jpg").read_bytes() == first_photo  # what was whole is there
    assert not (media / "00000004-PHOTO-2.jpg").exists()
    events = parse_premis_events((bag / "data" / "metadata" / "premis.xml").read_bytes())
    failed = [e for e in events if e.type == "unpacking" and e.outcome == "failure"]
    assert len(failed) == 1 and "00000004-PHOTO-2.jpg" in failed[0].outcome_detail
    report = json.loads(result.report[0].read_text(encoding="utf-8"))
    assert any("telefoon vol" in w for w in report["warnings"])


def _replace_export_zip(sip: Path, data: bytes) -> None:
    """The SIP's export zip replaced by `data`, with its MDTO bestand and the bag's manifests made to match,
    as a producer's own tool (or an attacker) could."""
    original = next((sip / "data" / "original").glob("*.zip"))
    original.write_bytes(data)
    bestand = sip / "data" / "metadata" / "original" / f"{original.name}.bestand.mdto.xml"
    text = bestand.read_text(encoding="utf-8")
    text = re.sub(r"<checksumWaarde>[0-9a-f]+</checksumWaarde>",
                  f"<checksumWaarde>{hashlib.sha256(data).hexdigest()}</checksumWaarde>", text)
    bestand.write_text(re.sub(r"<omvang>\d+</omvang>", f"<omvang>{len(data)}</omvang>", text), encoding="utf-8")
    bagit.Bag(str(sip)).save(manifests=True)


EMPTY_ZIP = b"PK\x05\x06" + bytes(18)


@pytest.mark.parametrize("damage", ["cut", "empty"])
def test_sip_with_a_cut_or_empty_export_zip_is_refused_with_a_report(damage: str, cut_zip: tuple[Path, bytes],
                                                                    config: Config, tmp_path: Path) -> None:
    cut, _ = cut_zip
    whole = tmp_path / "whole.zip"
    sip = create_sip([whole], tmp_path / "sip", config).path
    _replace_export_zip(sip, cut.read_bytes() if damage == "cut" else EMPTY_ZIP)
    with pytest.raises(InvalidPackage) as refused:
        ingest(sip, config)
    assert refused.value.ref == "E300"
    assert refused.value.problems and "whole.zip" in refused.value.problems[0]
    assert refused.value.remedy == "declare-damaged" and "--" not in refused.value.hint
    reports = sorted((config.data_dir / "reports").glob("*rejected*.json"))
    report = json.loads(reports[-1].read_text(encoding="utf-8"))
    assert report["error"]["stage"] == "unpack export" and report["error"]["problems"] == refused.value.problems
    assert report["events"].get("unpacking") == 1
    assert not any((config.data_dir / "storage").rglob("*.zip"))  # nothing stored


# --- media named but missing, or left out by the export -------------------------------------------------


@pytest.fixture
def thin_export(tmp_path: Path) -> Path:
    """A chat naming three photos: one in the export, one lost, one the export says it left out."""
    lines = [attached(10, "00000003-PHOTO-1.jpg"), attached(11, "00000004-PHOTO-LOST.jpg"),
             "\u200e[14-03-2024 10:12:07] Petra de Vries: \u200eafbeelding weggelaten"]
    return chat_zip(tmp_path / "WhatsApp Chat - Overleg.zip", lines, {"00000003-PHOTO-1.jpg": jpeg((1, 2, 3))})


def test_missing_and_omitted_media_are_counted_apart_at_sip_create_and_ingest(thin_export: Path, config: Config,
                                                                             tmp_path: Path) -> None:
    made = edepot("sip", "create", thin_export, "--out", tmp_path / "sip", "--from", "2024-03-14", "--json",
                  data_dir=tmp_path / "data")
    assert made.returncode == 0, made.stderr
    warning = "1 of 3 attachments the conversation names are not in the export (00000004-PHOTO-LOST.jpg); " \
              "1 left out by the export itself (exported without media)"
    assert json.loads(made.stdout)["warnings"] == [warning]
    assert made.stderr.strip() == f"edepot: warning: {warning}"
    sip = tmp_path / "sip"
    statement = json.loads((sip / "data" / "metadata" / "selection.json").read_text(encoding="utf-8"))
    assert statement["export_findings"]["attachments"] == {"referenced": 3, "missing": ["00000004-PHOTO-LOST.jpg"],
                                                           "omitted_by_export": 1}
    assert "ontbreken er 1 in de export en zijn er 1 door de export zelf weggelaten" in informatieobject(sip)
    omitted = [a for m in conversation_of(sip)["messages"] for a in m["attachments"] if a.get("omitted")]
    assert [a["name"] for a in omitted] == ["afbeelding weggelaten"]
    result = ingest(sip, config)
    assert warning in result.warnings
    assert warning in json.loads(result.report[0].read_text(encoding="utf-8"))["warnings"]


def test_require_media_refuses_an_export_lacking_media_in_one_line(thin_export: Path, tmp_path: Path) -> None:
    refused = edepot("sip", "create", thin_export, "--out", tmp_path / "sip", "--require-media",
                     data_dir=tmp_path / "data")
    line = one_line_error(refused, 2, "E110")
    assert "1 of 3 attachments" in line and "1 left out by the export" in line
    assert not (tmp_path / "sip").exists()


# --- names longer than a file system allows -------------------------------------------------------------


def test_bag_name_rule_keeps_short_names_the_extension_and_utf8_and_tells_long_names_apart() -> None:
    assert bag_name("00000005-PHOTO.jpg") == "00000005-PHOTO.jpg"
    assert bag_name("a" * NAME_LIMIT) == "a" * NAME_LIMIT
    for long in ("x" * 296 + ".jpg", "é" * 150 + ".opus", "😀" * 80 + ".jpeg", "y" * 400, "z" * 250 + ".not an extension"):
        short = bag_name(long)
        assert len(short.encode("utf-8")) <= NAME_LIMIT
        assert short.endswith(f"~{hashlib.sha256(long.encode()).hexdigest()[:8]}" + (
            "." + long.rsplit(".", 1)[1] if "." in long and " " not in long.rsplit(".", 1)[1] else ""))
        assert long.startswith(short.rsplit("~", 1)[0])  # cut at a character, never inside one
    assert bag_name("x" * 296 + "1.jpg") != bag_name("x" * 296 + "2.jpg")
    assert bag_path("chats/" + "x" * 300 + ".jpg") == "chats/" + bag_name("x" * 300 + ".jpg")


def test_over_long_attachment_name_is_shortened_so_the_sip_ingests_and_the_dip_shows_it(config: Config,
                                                                                        tmp_path: Path) -> None:
    long = "00000003-" + "Verslag raadsvergadering herinrichting Marktplein " * 6 + ".jpg"
    assert len(long) > 300
    photo = jpeg((9, 99, 199))
    export = chat_zip(tmp_path / "WhatsApp Chat - Overleg.zip", [attached(10, long)], {long: photo})
    sip = create_sip([export], tmp_path / "sip", config)
    short = bag_name(long)
    document = conversation_of(sip.path)
    assert [a["name"] for m in document["messages"] for a in m["attachments"]] == [short]
    assert document["source"]["renamed"] == [{"name": short, "original": long}]
    assert long in informatieobject(sip.path)
    result = ingest(sip.path, config)
    assert (result.locations[0] / "data" / "preservation" / "media" / short).read_bytes() == photo
    premis = (result.locations[0] / "data" / "metadata" / "premis.xml").read_text(encoding="utf-8")
    assert f"originalName>{long}</" in premis  # the member's name as the export gave it
    dip = create_dip(result.aip_id, tmp_path / "dip", config, store=store_of(config), by=TEST_OPERATOR)
    assert (dip.path / "media" / short).read_bytes() == photo
    delivered = json.loads((dip.path / "conversation.json").read_text(encoding="utf-8"))
    assert [a["name"] for m in delivered["messages"] for a in m["attachments"]] == [short]
    assert (dip.path / "original" / export.name).read_bytes() == export.read_bytes()



def test_selected_media_with_an_over_long_name_keep_their_bytes_and_their_name_in_the_bestand(
        config: Config, tmp_path: Path) -> None:
    long = "00000003-" + "ë" * 140 + ".jpg"  # 289 bytes
    photo = jpeg((250, 250, 5))
    export = chat_zip(tmp_path / "WhatsApp Chat - Overleg.zip", [attached(10, long)], {long: photo})
    sip = create_sip([export], tmp_path / "sip", config,
                     options=SipOptions(criteria=Criteria(date_from=parse_moment("2024-03-14", "--from"))))
    short = bag_name(long)
    assert (sip.path / "data" / "original" / short).read_bytes() == photo
    bestand = (sip.path / "data" / "metadata" / "original" / f"{short}.bestand.mdto.xml").read_text(encoding="utf-8")
    assert f"<naam>{long}</naam>" in bestand
    result = ingest(sip.path, config)
    assert (result.locations[0] / "data" / "original" / short).read_bytes() == photo
    premis = (result.locations[0] / "data" / "metadata" / "premis.xml").read_text(encoding="utf-8")
    assert f"originalName>{long}</" in premis


# --- an SMS backup cut off by a full phone --------------------------------------------------------------


def sms_backup(path: Path, bodies: list[str]) -> Path:
    rows = "".join(f'  <sms protocol="0" address="+31612345678" date="{1710407700000 + n * 60000}" type="1" '
                   f'body="{body}" contact_name="Petra de Vries" />\n' for n, body in enumerate(bodies))
    path.write_text("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
                    f'<smses count="{len(bodies)}" backup_set="x" backup_date="1710500000000" type="full">\n'
                    + rows + "</smses>\n", encoding="utf-8")
    return path


def test_sms_backup_cut_short_keeps_every_whole_message_and_says_where_it_ends(config: Config,
                                                                              tmp_path: Path) -> None:
    whole = sms_backup(tmp_path / "whole.xml", ["Goedemorgen", "De stukken komen eraan", "Dank je", "Tot straks"])
    data = whole.read_bytes()
    cut = tmp_path / "sms-20240314.xml"
    cut.write_bytes(data[: data.index(b"Tot straks") + 3])  # the phone ran out of space inside the last message
    (conversation,) = parse_all_exports([cut])
    assert [m.text for m in conversation.messages] == ["Goedemorgen", "De stukken komen eraan", "Dank je"]
    (damaged,) = conversation.source.damaged.files
    assert (damaged.name, damaged.complete, damaged.end_byte, damaged.end_line) == (cut.name, 3, cut.stat().st_size, 6)
    jsonschema.validate(conversation.to_dict(), SCHEMA)

    made = edepot("sip", "create", cut, "--out", tmp_path / "sip", "--json", data_dir=tmp_path / "data")
    assert made.returncode == 0, made.stderr
    (warning,) = json.loads(made.stdout)["warnings"]
    assert f"ends at byte {cut.stat().st_size}, line 6" in warning and "3 whole elements" in warning
    sip = tmp_path / "sip"
    assert (sip / "data" / "original" / cut.name).read_bytes() == data[: data.index(b"Tot straks") + 3]
    assert conversation_of(sip)["source"]["damaged"]["files"][0]["complete"] == 3
    mdto = informatieobject(sip)
    assert "Beschadigde export" in mdto and f"eindigt bij byte {cut.stat().st_size}, regel 6" in mdto
    result = ingest(sip, config)
    assert warning in result.warnings


def test_sms_backup_cut_before_any_whole_message_is_refused_in_one_line(tmp_path: Path) -> None:
    whole = sms_backup(tmp_path / "whole.xml", ["Goedemorgen"])
    cut = tmp_path / "sms-20240314.xml"
    cut.write_bytes(whole.read_bytes()[:150])
    refused = edepot("sip", "create", cut, "--out", tmp_path / "sip", data_dir=tmp_path / "data")
    assert "cut short" in one_line_error(refused, 2, "E100")
