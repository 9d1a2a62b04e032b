"""Hostile SIPs: each ends in a one-line error with its documented exit code and a rejection report (JSON and
HTML, names escaped), never a traceback, and nothing stored. File names with control characters, undecodable
bytes or line separators; canonical JSON nested 200,000 deep; bagit.txt in UTF-16 or with a BOM; a 30 MiB
bag-info value and over-long tag lines; manifest paths outside the bag; control characters in bag-info values."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import bagit
import pytest

from edepot.cli import main
from ingest.sip import create_sip
from ingest.sip_validate import validate_sip
from kernel.config import Config, load_config
from kernel.errors import InputError
from kernel.model import Conversation
from preservation.metadata.premis import PremisAgent, PremisEvent, PremisObject, parse_premis_events, premis_xml
from tests.conftest import FIXED_NOW, REPO, SHARED
from tests.media_factory import whatsapp_export

IOS_SAMPLE = next((REPO / "samples" / "whatsapp-ios-nl").glob("*.zip"))
ANDROID_SAMPLE = next((REPO / "samples" / "whatsapp-android-nl").glob("*.txt"))
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@pytest.fixture(scope="module")
def base_sip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid edepot SIP of the bundled sample, made once; each test changes a copy."""
    folder = tmp_path_factory.mktemp("base")
    config = dataclasses.replace(load_config(folder / "data", clock=lambda: FIXED_NOW),
                                 schema_dir=SHARED / "standards" if SHARED.is_dir() else None)
    return create_sip([IOS_SAMPLE], folder / "sip", config).path


def variant(base: Path, target: Path, change: Callable[[Path], None], *, resave: bool = True) -> Path:
    """A copy of `base` changed by `change`; with `resave` its manifests are made again, so the bag is valid
    BagIt and only what edepot asks beyond BagIt can refuse it."""
    shutil.copytree(base, target)
    change(target)
    if resave:
        bagit.Bag(str(target)).save(manifests=True)
    return target


def ingest_refused(capsys: pytest.CaptureFixture[str], data: Path, sip: Path, *, ref: str, exit_code: int,
                   shows: str) -> dict:
    """Ingest through the command line; asserts the one-line error and the report, which it returns."""
    code = main(["--data-dir", str(data), "ingest", str(sip)])
    err = capsys.readouterr().err
    assert code == exit_code, err
    assert shows in err
    document = json.loads(report_named(err, ref).read_text(encoding="utf-8"))
    assert document["status"] == "rejected" and document["error"]["ref"] == ref
    assert shows in " ".join(strings(document))
    page = report_named(err, ref).with_suffix(".html").read_text(encoding="utf-8")
    assert shows in page and not RAW_CONTROL.search(page)
    storage = data / "storage"
    assert not storage.exists() or not any(p.is_file() for p in storage.rglob("*"))
    return document


def report_named(err: str, ref: str) -> Path:
    """The JSON report the error names, after asserting the error is one line (problems apart, indented)."""
    assert "Traceback" not in err and not RAW_CONTROL.search(err)
    first, *problems = [line for line in err.splitlines() if line.strip()]
    assert first.startswith(f"edepot: error {ref}:") and "report: " in first, err
    assert all(line.startswith("  - ") for line in problems), err
    match = re.search(r"report: (\S+\.json)", first)
    assert match is not None
    return Path(match.group(1))


def strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


# --- file names -------------------------------------------------------------------------------------------

def test_a_file_name_with_control_characters_is_refused_at_ingest_with_the_name_escaped(
        base_sip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def add_files(sip: Path) -> None:
        for name in ("a\tb.txt", "bel\x07.txt", "esc\x1b[31m.txt"):
            (sip / "data" / "original" / name).write_text("x")

    sip = variant(base_sip, tmp_path / "sip", add_files)
    document = ingest_refused(capsys, tmp_path / "data", sip, ref="E300", exit_code=1,
                              shows="data/original/a\\tb.txt: the file name holds the control character \\t")
    problems = "\n".join(document["error"]["problems"])
    assert "bel\\x07.txt" in problems and "esc\\x1b[31m.txt" in problems


def test_a_file_name_that_is_not_utf8_gets_a_report_with_the_byte_escaped(
        base_sip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def add_file(sip: Path) -> None:
        with open(os.path.join(os.fsencode(sip / "data" / "original"), b"\xff.txt"), "wb") as file:
            file.write(b"x")

    sip = variant(base_sip, tmp_path / "sip", add_file, resave=False)  # no manifest can list it
    ingest_refused(capsys, tmp_path / "data", sip, ref="E300", exit_code=1,
                   shows="data/original/\\xff.txt: the file name is not valid UTF-8")


def test_a_line_separator_in_a_file_name_is_named_as_such(base_sip: Path, tmp_path: Path, config: Config) -> None:
    """bagit-python writes U+2028 into a manifest as it is, and reads it back as a line break."""
    sip = variant(base_sip, tmp_path / "sip", lambda s: (s / "data" / "original" / "a\u2028b.txt").write_text("x"))
    report = validate_sip(sip, config)
    assert "file names: data/original/a\\u2028b.txt: the file name holds the line separator \\u2028" in report.problems


def test_archive_member_names_that_are_not_utf8_are_refused_with_a_report(
        base_sip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package = tmp_path / "sip.tar"
    with tarfile.open(package, "w", format=tarfile.GNU_FORMAT) as archive:
        archive.add(base_sip, "sip")
        member = tarfile.TarInfo("sip/data/original/\udcff.txt")  # the byte 0xff, as tarfile reads it
        member.size = 1
        archive.addfile(member, io.BytesIO(b"x"))
    ingest_refused(capsys, tmp_path / "data", package, ref="E102", exit_code=2, shows="sip/data/original/\\xff.txt")

    flagged = tmp_path / "flagged.zip"  # a name flagged UTF-8 (bit 11) that is not
    with zipfile.ZipFile(flagged, "w") as archive:
        archive.writestr("sip/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        archive.writestr("sip/data/\u00e9.txt", "x")
    flagged.write_bytes(flagged.read_bytes().replace("\u00e9.txt".encode(), b"\xff\xfe.txt"))
    ingest_refused(capsys, tmp_path / "data-zip", flagged, ref="E100", exit_code=2, shows="flagged.zip")


def test_sip_create_refuses_file_names_with_control_characters(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    for n, (name, shown) in enumerate((("foto\t1.jpg", "foto\\t1.jpg"), ("foto\x072.jpg", "foto\\x072.jpg"))):
        media = tmp_path / f"media{n}" / name
        media.parent.mkdir()
        media.write_bytes(b"\xff\xd8 jpeg")
        code = main(["--data-dir", str(tmp_path / "data"), "sip", "create", str(ANDROID_SAMPLE), str(media),
                     "--out", str(tmp_path / f"sip{n}")])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("edepot: error E100:") and len(err.strip().splitlines()) == 1, err
        assert f"the file {shown} of the export cannot be kept in a SIP" in err
        assert not (tmp_path / f"sip{n}").exists()
    export = whatsapp_export(tmp_path / "WhatsApp Chat - Bel.zip", {"foto\x1b.jpg": b"\xff\xd8 jpeg"}, "Bel")
    code = main(["--data-dir", str(tmp_path / "data"), "sip", "create", str(export), "--out", str(tmp_path / "z")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("edepot: error E102:") and "foto\\x1b.jpg" in err, err
    assert not (tmp_path / "z").exists()


def test_an_export_member_with_a_control_character_inside_a_valid_sip_is_refused_at_unpacking(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A SIP made elsewhere: its export zip names a member with BEL, which ingest would unpack into the AIP."""
    export = whatsapp_export(tmp_path / "WhatsApp Chat - Bel.zip", {"foto-X.jpg": b"\xff\xd8 jpeg"}, "Bel")
    config = dataclasses.replace(load_config(tmp_path / "made", clock=lambda: FIXED_NOW), schema_dir=None)
    sip = create_sip([export], tmp_path / "sip", config).path
    original = sip / "data" / "original" / export.name
    original.write_bytes(original.read_bytes().replace(b"foto-X.jpg", b"foto\x07X.jpg"))  # same length
    digest = hashlib.sha256(original.read_bytes()).hexdigest()
    for bestand in (sip / "data" / "metadata").rglob("*.zip.bestand.mdto.xml"):
        bestand.write_text(re.sub(r"<checksumWaarde>\w+<", f"<checksumWaarde>{digest}<", bestand.read_text()))
    bagit.Bag(str(sip)).save(manifests=True)
    document = ingest_refused(capsys, tmp_path / "data", sip, ref="E102", exit_code=2, shows="foto\\x07X.jpg")
    assert document["error"]["stage"] == "unpack export"


# --- deep JSON ------------------------------------------------------------------------------------------

def test_a_conversation_json_nested_200000_deep_is_refused_with_a_report(
        base_sip: Path, tmp_path: Path) -> None:
    def nest(sip: Path) -> None:
        (sip / "data" / "derived" / "conversation.json").write_text("[" * 200_000 + "]" * 200_000)

    sip = variant(base_sip, tmp_path / "sip", nest)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "edepot.cli", "--data-dir", str(tmp_path / "data"), "ingest",
                           str(sip)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr
    report = report_named(done.stderr, "E300")
    assert "data/derived/conversation.json nests deeper than 64 levels" in done.stderr
    assert any("nests deeper" in p for p in json.loads(report.read_text())["error"]["problems"])
    assert "nests deeper than 64 levels" in report.with_suffix(".html").read_text()


def test_every_reader_of_the_canonical_json_refuses_deep_nesting_in_one_line() -> None:
    """Ingest, DIP and reindex read conversation.json through Conversation.from_json."""
    with pytest.raises(InputError, match="nests deeper than 64 levels"):
        Conversation.from_json(b'{"source": {"inferred": ' + b"[" * 65 + b"]" * 65 + b"}}")
    with pytest.raises(InputError, match="nests deeper than 64 levels"):
        Conversation.from_json("[" * 200_000 + "]" * 200_000)
    with pytest.raises(InputError, match="is not JSON"):
        Conversation.from_json(b"\xff\xfe\xfd")


def test_a_timestamp_of_the_right_pattern_but_no_real_date_is_a_finding(base_sip: Path, tmp_path: Path,
                                                                       config: Config) -> None:
    """The schema's pattern lets month 13 through; reading the conversation at ingest would raise."""
    def month_13(sip: Path) -> None:
        path = sip / "data" / "derived" / "conversation.json"
        document = json.loads(path.read_text(encoding="utf-8"))
        document["messages"][0]["timestamp"] = "2024-13-45T10:00:00+01:00"
        path.write_text(json.dumps(document), encoding="utf-8")

    report = validate_sip(variant(base_sip, tmp_path / "sip", month_13), config)
    assert ("canonical conversation JSON: not a conversation edepot can read: ValueError('month must be in 1..12')"
            in report.problems)
    with pytest.raises(InputError, match="is not a conversation"):
        Conversation.from_json((tmp_path / "sip" / "data" / "derived" / "conversation.json").read_bytes())


def test_a_selection_statement_of_the_wrong_shape_is_a_finding(base_sip: Path, tmp_path: Path,
                                                               config: Config) -> None:
    def statement(sip: Path) -> None:
        (sip / "data" / "metadata" / "selection.json").write_text(
            '{"kept": {"messages": 1}, "original_export": {"files": 5}}')

    report = validate_sip(variant(base_sip, tmp_path / "sip", statement), config)
    assert "selection statement: does not give the original export's sha256" in report.problems


# --- tag files ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("declaration, says", [
    ("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".encode("utf-16"), "bagit.txt is not UTF-8"),
    (b"\xef\xbb\xbfBagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
     "bagit.txt starts with a byte-order mark, which RFC 8493 §2.1.1 forbids"),
])
def test_a_bagit_txt_that_is_not_plain_utf8_is_refused_with_a_report(
        base_sip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], declaration: bytes, says: str) -> None:
    sip = variant(base_sip, tmp_path / "sip", lambda s: (s / "bagit.txt").write_bytes(declaration), resave=False)
    ingest_refused(capsys, tmp_path / "data", sip, ref="E300", exit_code=1, shows=says)


def test_a_30_mib_bag_info_value_is_refused_unread(base_sip: Path, tmp_path: Path) -> None:
    """bagit-python's line reader takes minutes on it (time in the square of the line's length); the cap is
    checked first. The timeout only catches that quadratic case; it is no speed target."""
    def grow(sip: Path) -> None:
        with open(sip / "bag-info.txt", "a", encoding="utf-8") as info:
            info.write("External-Description: " + "x" * (30 << 20) + "\n")

    sip = variant(base_sip, tmp_path / "sip", grow, resave=False)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "edepot.cli", "--data-dir", str(tmp_path / "data"), "ingest",
                           str(sip)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1, done.stderr
    report = report_named(done.stderr, "E300")
    assert "bag-info.txt is 31457" in done.stderr and "over the limit of 1048576 ([sip] max_bag_info_bytes)" in done.stderr
    assert "max_bag_info_bytes" in report.read_text() and "max_bag_info_bytes" in report.with_suffix(".html").read_text()


def test_tag_line_and_bag_info_caps_are_read_from_edepot_toml(base_sip: Path, tmp_path: Path) -> None:
    def long_line(sip: Path) -> None:
        with open(sip / "bag-info.txt", "a", encoding="utf-8") as info:
            info.write("Internal-Sender-Description: " + "y" * (100 << 10) + "\n")

    sip = variant(base_sip, tmp_path / "sip", long_line)
    data = tmp_path / "data"
    data.mkdir()
    default = validate_sip(sip, load_config(data))
    assert not default.valid
    assert re.search(r"bag-info.txt line \d+ is longer than 65536 bytes \(\[sip\] max_tag_line_bytes\)$",
                     default.problems[0])
    (data / "edepot.toml").write_text("[sip]\nmax_tag_line_bytes = 200000\nmax_bag_info_bytes = 150000\n")
    raised = load_config(data)
    assert not any("max_tag_line_bytes" in p for p in validate_sip(sip, raised).problems)
    (data / "edepot.toml").write_text("[sip]\nmax_bag_info_bytes = 1000\n")
    assert "over the limit of 1000 ([sip] max_bag_info_bytes)" in validate_sip(sip, load_config(data)).problems[0]
    (data / "edepot.toml").write_text("[sip]\nmax_tag_line_bytes = \"lots\"\n")
    with pytest.raises(InputError, match=r"\[sip\] max_tag_line_bytes must be a positive number of bytes"):
        load_config(data)


def test_a_manifest_line_of_20_mib_is_refused_unread(base_sip: Path, tmp_path: Path, config: Config) -> None:
    def huge_line(sip: Path) -> None:
        with open(sip / "manifest-sha256.txt", "a", encoding="utf-8") as manifest:
            manifest.write("0" * 64 + "  data/" + "x" * (20 << 20) + "\n")

    report = validate_sip(variant(base_sip, tmp_path / "sip", huge_line, resave=False), config)
    assert [c.name for c in report.checks] == ["BagIt structure, completeness and checksums"]
    assert re.search(r"manifest-sha256.txt line \d+ is longer than 65536 bytes", report.problems[0])


@pytest.mark.parametrize("line_end", [b"\r\n", b"\r"])
def test_tag_files_with_crlf_or_cr_line_ends_are_valid(base_sip: Path, tmp_path: Path, config: Config,
                                                       line_end: bytes) -> None:
    """RFC 8493 §2 allows CR, LF and CRLF; the tag manifests are made again for the changed tag files."""
    def line_ends(sip: Path) -> None:
        for name in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sha512.txt"):
            (sip / name).write_bytes((sip / name).read_bytes().replace(b"\n", line_end))
        bag = bagit.Bag(str(sip))
        bag.save(manifests=False)  # the tag manifests only

    sip = variant(base_sip, tmp_path / "sip", line_ends, resave=False)
    assert line_end in (sip / "manifest-sha256.txt").read_bytes()
    report = validate_sip(sip, config)
    assert report.valid, report.problems


def test_control_characters_in_bag_info_values_are_refused(base_sip: Path, tmp_path: Path, config: Config) -> None:
    def add(sip: Path) -> None:
        with open(sip / "bag-info.txt", "ab") as info:
            info.write(b"Contact-Name: Jan\x00\x1b[2J de Vries\n")
        bagit.Bag(str(sip)).save(manifests=False)

    report = validate_sip(variant(base_sip, tmp_path / "sip", add, resave=False), config)
    assert "bag-info and manifests: bag-info.txt Contact-Name: holds the control character \\x00" in report.problems


def test_a_manifest_path_into_a_folder_beside_the_bag_is_refused_before_hashing(tmp_path: Path,
                                                                                 config: Config) -> None:
    """bagit-python compares resolved paths as strings: `/in/bag-secret` starts with `/in/bag`."""
    bag = tmp_path / "bag"
    (bag / "data").mkdir(parents=True)
    (bag / "data" / "a.txt").write_text("a")
    bagit.make_bag(str(bag), checksums=["sha256"])
    (tmp_path / "bag-secret").mkdir()
    (tmp_path / "bag-secret" / "key").write_text("secret\n")
    manifest = bag / "manifest-sha256.txt"
    secret = hashlib.sha256(b"secret\n").hexdigest()  # right: the bag would be valid, the file read
    manifest.write_text(manifest.read_text() + f"{secret}  data/../../bag-secret/key\n")
    bagit.Bag(str(bag)).save(manifests=False)
    report = validate_sip(bag, config, bagit_only=True)
    assert report.problems == ['BagIt structure, completeness and checksums: Path "../bag-secret/key" in a manifest '
                               "is outside the bag"]


# --- PREMIS ---------------------------------------------------------------------------------------------

def test_premis_writes_a_tools_message_with_control_characters_escaped() -> None:
    """A media file's metadata can put ESC or NUL into ffprobe's message, which lands in an event's outcome."""
    when = datetime(2026, 1, 2, tzinfo=timezone.utc)
    xml = premis_xml(
        [PremisObject("data/original/a.mp4", 1, {"sha256": "0" * 64}, None, None, None, None, "original")],
        [PremisEvent("e1", "validation", when, "probed", "failure", "bad tag \x1b[2J\x00 here", ("tool",),
                     ("data/original/a.mp4",), ())],
        [PremisAgent("tool", "ffprobe", "software", "6.1\x07")])
    (event,) = parse_premis_events(xml)
    assert event.outcome_detail == "bad tag \\x1b[2J\\x00 here"
    assert b"<agentVersion>6.1\\x07</agentVersion>" in xml
