"""The whole chain, as a records manager and a researcher meet it: export → SIP → AIP → fixity → DIP."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import bagit
import py7zr
import pytest
from pypdf import PdfReader

from access.dip import create_dip
from ingest.pipeline import ingest
from ingest.sip import create_sip
from ingest.sip_validate import validate_sip
from ingest.sources import parse_export
from kernel.config import Config
from kernel.errors import AlreadyIngested
from preservation.catalogue import open_catalogue
from preservation.fixity import run_fixity
from preservation.pdfa_check import check_pdfa
from preservation.storage import LocalDirectoryLocation, open_locations
from tests.conftest import REPO, TEST_OPERATOR, shared_or_skip, store_of

SAMPLE = next((REPO / "samples" / "whatsapp-ios-nl").glob("*.zip"))


def fixity(config: Config):  # noqa: ANN201
    catalogue = open_catalogue(config.catalogue_url)
    try:
        return run_fixity(config, catalogue, open_locations(config.storage_locations))
    finally:
        catalogue.close()


def test_sample_goes_from_export_to_dip(config: Config, tmp_path: Path) -> None:
    sip = create_sip([SAMPLE], tmp_path / "sip", config)
    report = validate_sip(sip.path, config)
    assert report.valid, report.problems
    assert (sip.path / "data" / "original" / SAMPLE.name).read_bytes() == SAMPLE.read_bytes()

    result = ingest(sip.path, config)
    assert len(result.locations) == 2 and len(set(result.locations)) == 2
    for bag in result.locations:
        bagit.Bag(str(bag)).validate()
        assert (bag / "data" / "original" / SAMPLE.name).read_bytes() == SAMPLE.read_bytes()
        premis = (bag / "data" / "metadata" / "premis.xml").read_text(encoding="utf-8")
        for event in ("ingestion", "format identification", "validation", "migration",
                      "message digest calculation"):
            assert f">{event}<" in premis, event
    assert fixity(config).findings == []

    dip = create_dip(result.aip_id, tmp_path / "dip", config, store=store_of(config), by=TEST_OPERATOR)
    pdf = dip.path / "conversation.pdf"
    assert check_pdfa(pdf).ok
    assert (dip.path / "original" / SAMPLE.name).read_bytes() == SAMPLE.read_bytes()
    names = {p.name for p in (dip.path / "media").rglob("*") if p.is_file()}
    assert any(n.endswith(".jpg") for n in names) and any(n.endswith(".opus") for n in names)
    assert any(n.endswith(".pdf") for n in names)
    check = subprocess.run(["sha256sum", "--quiet", "-c", "manifest-sha256.txt"], cwd=dip.path,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    conversation = json.loads((dip.path / "conversation.json").read_text(encoding="utf-8"))
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    for participant in conversation["participants"]:
        assert participant["name"] in text


def test_flip_delete_and_stray_in_an_ingested_aip_are_repaired(config: Config, tmp_path: Path) -> None:
    result = ingest(create_sip([SAMPLE], tmp_path / "sip", config).path, config)
    first, second = result.locations
    pdf = first / "data" / "preservation" / "conversation.pdf"
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pdf.write_bytes(bytes(data))
    (second / "data" / "original" / SAMPLE.name).unlink()
    (second / "data" / "preservation" / "stray.txt").write_text("stray")

    report = fixity(config)
    assert {(f.kind.value, f.path) for f in report.findings} == {
        ("modified", "data/preservation/conversation.pdf"),
        ("missing", f"data/original/{SAMPLE.name}"),
        ("extra", "data/preservation/stray.txt"),
    }
    assert report.intact
    assert fixity(config).findings == []
    for bag in result.locations:
        bagit.Bag(str(bag)).validate()


def test_the_same_sip_is_not_ingested_twice(config: Config, tmp_path: Path) -> None:
    sip = create_sip([SAMPLE], tmp_path / "sip", config)
    ingest(sip.path, config)
    with pytest.raises(AlreadyIngested):
        ingest(sip.path, config)


def test_sip_as_zip_and_7z_transfer_packages(config: Config, tmp_path: Path) -> None:
    create_sip([SAMPLE], tmp_path / "sip", config)
    as_zip = Path(shutil.make_archive(str(tmp_path / "sip-transfer"), "zip", tmp_path, "sip"))
    assert len(ingest(as_zip, config).locations) == 2
    sip2 = create_sip([SAMPLE], tmp_path / "sip2", Config(**{**config.__dict__, "clock": lambda: config.clock()
                                                               .replace(year=2027)}))
    as_7z = tmp_path / "sip2.7z"
    with py7zr.SevenZipFile(as_7z, "w") as archive:
        archive.writeall(sip2.path, "sip2")
    second = ingest(as_7z, config, new_version=True)  # another SIP of the same record: only as its next version
    assert len(second.locations) == 2 and second.version == 2


def test_a_crash_between_replicas_leaves_no_aip_and_a_rerun_finishes(config: Config, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sip = create_sip([SAMPLE], tmp_path / "sip", config)
    real_publish = LocalDirectoryLocation.publish_bag
    published: list[str] = []

    def crash_after_first(self, incoming, aip_id):  # noqa: ANN001, ANN202
        if published:
            raise KeyboardInterrupt("power cut")
        published.append(self.name)
        return real_publish(self, incoming, aip_id)

    monkeypatch.setattr(LocalDirectoryLocation, "publish_bag", crash_after_first)
    with pytest.raises(KeyboardInterrupt):
        ingest(sip.path, config)
    assert published == ["location-1"]
    catalogue = open_catalogue(config.catalogue_url)
    assert catalogue.aips() == []
    catalogue.close()
    assert not list(config.staging_dir.iterdir())

    monkeypatch.setattr(LocalDirectoryLocation, "publish_bag", real_publish)
    result = ingest(sip.path, config)
    for bag in result.locations:
        bagit.Bag(str(bag)).validate()
    assert fixity(config).findings == []


CORPUS_EXPORTS = [
    "whatsapp-android-nl-whats_json/deutch_android_media.txt",
    "whatsapp-android-en-whats_json/english_android_media.txt",
    "whatsapp-ios-en-whats_json/english_ios_media.txt",
    "whatsapp-ios-ru-zip-whats_json/WhatsApp Chat - Elon Musk (RU).zip",
]


@pytest.mark.parametrize("relative", CORPUS_EXPORTS)
def test_exports_never_seen_go_through_the_command_line_chain(relative: str, tmp_path: Path) -> None:
    """Dutch and English exports of both platforms: every message keeps its time, sender, kind and text."""
    export = shared_or_skip() / "corpus" / relative
    data = tmp_path / "data"

    def edepot(*args: str | Path) -> dict:
        result = subprocess.run([sys.executable, "-m", "edepot.cli", "--data-dir", str(data), "--json",
                                 *map(str, args)], capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    parsed = parse_export([export])
    edepot("sip", "create", export, "--out", tmp_path / "sip")
    aip = edepot("ingest", tmp_path / "sip")
    assert len(aip["locations"]) == 2
    assert edepot("fixity", "run")["intact"] is True
    dip = edepot("dip", "create", "--aip", aip["aip_id"], "--out", tmp_path / "dip")
    delivered = json.loads((Path(dip["path"]) / "conversation.json").read_text(encoding="utf-8"))
    expected = [(m.timestamp.isoformat(), m.sender, m.kind.value, m.text) for m in parsed.messages]
    got = [(m["timestamp"], m["sender"], m["kind"], m["text"]) for m in delivered["messages"]]
    assert got == expected and len(got) > 0
    assert (Path(dip["path"]) / "original" / export.name).read_bytes() == export.read_bytes()
    assert check_pdfa(Path(dip["path"]) / "conversation.pdf").ok
    if zipfile.is_zipfile(export):
        assert (Path(dip["path"]) / "media").is_dir()


def test_an_ingested_record_is_searchable_and_scheduled_without_further_steps(tmp_path: Path,
                                                                             catalogue_url: str) -> None:
    """Ingest alone makes the messages findable and gives the record its retention schedule (on either backend)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "edepot.toml").write_text(f'[catalogue]\nurl = "{catalogue_url}"\n', encoding="utf-8")

    def edepot(*args: str | Path) -> dict:
        result = subprocess.run([sys.executable, "-m", "edepot.cli", "--data-dir", str(data), "--json",
                                 *map(str, args)], capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    sip = edepot("sip", "create", SAMPLE, "--out", tmp_path / "sip")
    aip = edepot("ingest", tmp_path / "sip")
    hits = edepot("search", "Marktplein", "--as", "archivist")
    assert hits["hits"] and {h["aip_id"] for h in hits["hits"]} == {aip["aip_id"]}
    schedule = edepot("retention", "show", "--record", sip["record_id"])
    assert aip["aip_id"] in json.dumps(schedule)


def test_mms_images_inside_an_sms_backup_reach_the_aip_and_the_dip(config: Config, tmp_path: Path) -> None:
    """Binary parts are base64 inside the XML: ingest writes them out, the PDF shows them, the DIP holds them."""
    from ingest.sources.sms_backup import iter_part_data

    export = shared_or_skip() / "corpus" / "sms-backup-restore-devadvance" / "sample_mms.xml"
    with open(export, "rb") as raw:
        parts = dict(iter_part_data(raw, export.name))
    assert parts
    result = ingest(create_sip([export], tmp_path / "sip", config).path, config)
    for bag in result.locations:
        for name, data in parts.items():
            assert (bag / "data" / "preservation" / "media" / name).read_bytes() == data
        assert (bag / "data" / "original" / export.name).read_bytes() == export.read_bytes()
    dip = create_dip(result.aip_id, tmp_path / "dip", config, store=store_of(config), by=TEST_OPERATOR)
    delivered = {p.relative_to(dip.path / "media").as_posix(): p.read_bytes()
                 for p in (dip.path / "media").rglob("*") if p.is_file()}
    assert all(delivered.get(name) == data for name, data in parts.items())
