"""Ingest as a trusted digital repository does it, with the real ClamAV, FIDO, ffmpeg and media made here:
virus check and quarantine, format validation, normalisation by policy, updated MDTO, versions, reports."""
from __future__ import annotations

import dataclasses
import gc
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import bagit
import pytest
from lxml import etree
from pypdf import PdfReader

from ingest.pipeline import ingest
from ingest.selection import Criteria
from ingest.sip import SipOptions, create_sip
from kernel.config import Config, load_config
from kernel.errors import AlreadyIngested, InfectedPackage, InvalidPackage
from preservation import scan as scan_module
from preservation.catalogue import open_catalogue
from preservation.metadata.premis import parse_premis_events
from tests.conftest import FIXED_NOW, REPO, SHARED
from tests.media_factory import EICAR, eicar_database, make_media, whatsapp_export

IOS_SAMPLE = next((REPO / "samples" / "whatsapp-ios-nl").glob("*.zip"))
ANDROID_SAMPLE = next((REPO / "samples" / "whatsapp-android-nl").glob("*.txt"))
MDTO = "{https://www.nationaalarchief.nl/mdto}"


@pytest.fixture
def scanned(config: Config, tmp_path: Path) -> Config:
    """The test configuration with ClamAV reading a signature database made here (the EICAR pattern)."""
    return dataclasses.replace(config, scan_database=eicar_database(tmp_path / "clamav"))


@pytest.fixture(scope="module")
def media_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    made = make_media(folder / "made")
    attachments = {f"0000{n}-{name}": path.read_bytes() for n, (name, path) in enumerate(sorted(made.items()))}
    attachments["00099-damaged.jpg"] = made["photo.jpg"].read_bytes()[:200]  # cut short: fails validation
    return whatsapp_export(folder / "WhatsApp Chat - Media.zip", attachments, "Media")


@pytest.fixture(scope="module")
def media_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """One data directory for the module's media AIP (ingesting it, with transcoding, is the slow part)."""
    folder = tmp_path_factory.mktemp("media-aip")
    loaded = load_config(folder / "data", clock=lambda: FIXED_NOW)
    return dataclasses.replace(loaded, schema_dir=SHARED / "standards" if SHARED.is_dir() else None,
                               scan_database=eicar_database(folder / "clamav"))


@pytest.fixture(scope="module")
def media_aip(media_config: Config, media_export: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    sip = create_sip([media_export], tmp_path_factory.mktemp("media-sip") / "sip", media_config)
    result = ingest(sip.path, media_config)
    return result.locations[0], result


def premis_events(bag: Path) -> list:
    return parse_premis_events((bag / "data" / "metadata" / "premis.xml").read_bytes())


def test_media_are_normalised_by_policy_with_a_migration_event_each(media_aip: tuple[Path, object]) -> None:
    bag, _ = media_aip
    bagit.Bag(str(bag)).validate()
    media = bag / "data" / "preservation" / "media"
    derived = {p.name for p in media.iterdir()}
    for name in ("voice.opus.flac", "voice.m4a.flac", "sticker.webp.png", "photo.heic.png", "mpeg4.mp4.mp4",
                 "contact.vcf.json"):
        assert any(d.endswith(name) for d in derived), name
    assert not any(d.endswith("h264.mp4.mp4") for d in derived)  # MP4/H.264 is kept as it is
    manifest = (bag / "manifest-sha256.txt").read_text()
    events = premis_events(bag)
    migrations = [e for e in events if e.type == "migration" and e.outcome_objects]
    for event in migrations:
        assert len(event.source_objects) >= 1 and event.outcome == "success"
        for outcome in event.outcome_objects:
            assert outcome in manifest  # every derived file has its own checksum
    sources = {Path(e.source_objects[0]).name.split("-", 1)[1] for e in migrations if "media/" in e.source_objects[0]}
    assert {"voice.opus", "voice.m4a", "sticker.webp", "photo.heic", "mpeg4.mp4"} <= sources
    premis = (bag / "data" / "metadata" / "premis.xml").read_text()
    assert "<agentName>ffmpeg</agentName>" in premis and "<agentName>Pillow</agentName>" in premis
    # originals stay byte-identical
    original = next((bag / "data" / "original").iterdir())
    with zipfile.ZipFile(original) as archive:
        for info in archive.infolist():
            if info.filename != "_chat.txt":
                assert (media / info.filename).read_bytes() == archive.read(info)


def test_formats_are_validated_and_a_damaged_photo_is_reported_not_fatal(media_aip: tuple[Path, object]) -> None:
    bag, result = media_aip
    validations = [e for e in premis_events(bag) if e.type == "validation" and e.source_objects]
    by_source = {Path(e.source_objects[0]).name: e for e in validations}
    assert by_source["00099-damaged.jpg"].outcome == "failure"
    for name in ("00004-photo.jpg", "00007-voice.opus", "00000-contact.vcf.json"):
        if name in by_source:
            assert by_source[name].outcome == "success", name
    assert by_source["00004-photo.jpg"].outcome == "success"
    assert any("00099-damaged.jpg did not validate" in w for w in result.warnings)  # type: ignore[attr-defined]


def test_the_rendering_shows_stickers_and_heic_photos_inline(media_aip: tuple[Path, object]) -> None:
    bag, _ = media_aip
    reader = PdfReader(bag / "data" / "preservation" / "conversation.pdf")
    images = sum(len(page.images) for page in reader.pages)
    assert images >= 3  # the JPEG, and the PNG copies of the WebP sticker and the HEIC photo
    text = "".join(page.extract_text() for page in reader.pages)
    assert "00007-voice.opus" in text and "sha256" in text


def test_mdto_is_updated_with_the_ingest_and_the_preservation_copies(media_aip: tuple[Path, object],
                                                                       media_config: Config) -> None:
    config = media_config
    bag, result = media_aip
    metadata = bag / "data" / "metadata"
    (updated,) = [p for p in metadata.glob("*.mdto.xml")]
    received = metadata / "sip" / updated.name
    assert received.is_file() and received.read_bytes() != updated.read_bytes()
    info = etree.parse(str(updated)).getroot().find(f"{MDTO}informatieobject")
    labels = [e.findtext(f"{MDTO}eventType/{MDTO}begripLabel") for e in info.iterfind(f"{MDTO}event")]
    assert "Import" in labels and "Conversie" in labels
    representations = {r.findtext(f"{MDTO}verwijzingIdentificatie/{MDTO}identificatieKenmerk")
                       for r in info.iterfind(f"{MDTO}heeftRepresentatie")}
    assert "data/preservation/conversation.pdf" in representations
    assert any(r and r.endswith("voice.opus.flac") for r in representations)
    bestanden = list((metadata / "bestanden").glob("*.bestand.mdto.xml"))
    assert len(bestanden) == len([r for r in representations if r and r.startswith("data/preservation/")])
    if config.schema_dir is not None:
        from preservation.xsd import SchemaName, validate_xml

        for document in [updated, *bestanden]:
            assert validate_xml(document, SchemaName.MDTO, config.schema_dir) == [], document
            assert validate_xml(bag / "data" / "metadata" / "premis.xml", SchemaName.PREMIS, config.schema_dir) == []


def test_a_payload_hidden_after_the_export_zip_is_found(config: Config, tmp_path: Path) -> None:
    """The export's members are scanned unpacked; bytes outside them make ClamAV scan the zip as received."""
    database = tmp_path / "clamav"
    database.mkdir()
    (database / "edepot-test.ndb").write_text(f"Edepot.Test.EICAR.Body:0:*:{EICAR.hex()}\n", encoding="ascii")
    export = whatsapp_export(tmp_path / "WhatsApp Chat - Aanhangsel.zip", {"00001-foto.jpg": b"\xff\xd8 jpeg"},
                             "Aanhangsel")
    export.write_bytes(export.read_bytes() + EICAR)  # zip readers skip what follows the end record
    sip = create_sip([export], tmp_path / "sip", config).path
    with pytest.raises(InfectedPackage) as caught:
        ingest(sip, dataclasses.replace(config, scan_database=database))
    assert any(p.startswith("data/original/WhatsApp Chat - Aanhangsel.zip: Edepot.Test.EICAR.Body")
               for p in caught.value.problems), caught.value.problems


def test_an_infected_sip_is_quarantined_whole_and_nothing_is_stored(scanned: Config, tmp_path: Path) -> None:
    export = whatsapp_export(tmp_path / "WhatsApp Chat - Besmet.zip", {"00001-bijlage.com": EICAR}, "Besmet")
    sip = create_sip([export], tmp_path / "sip", scanned).path
    with pytest.raises(InfectedPackage) as caught:
        ingest(sip, scanned)
    assert any("Edepot.Test.EICAR" in p for p in caught.value.problems)
    # the member was scanned unpacked, and is named inside its container
    assert any("WhatsApp Chat - Besmet.zip → 00001-bijlage.com" in p for p in caught.value.problems)
    (quarantined,) = [p for p in scanned.quarantine_dir.iterdir() if not p.name.startswith(".")]
    report = json.loads((quarantined / "report.json").read_text())
    assert report["reason"] == "virus found" and report["scan"]["infections"]
    assert (quarantined / "package" / "sip" / "bagit.txt").is_file()
    assert not any(p.is_file() for loc in scanned.storage_locations if loc.exists() for p in loc.rglob("*"))
    catalogue = open_catalogue(scanned.catalogue_url)
    assert catalogue.aips() == []
    catalogue.close()
    assert "report: " in caught.value.hint
    rejection = json.loads(Path(caught.value.hint.split("report: ")[-1]).read_text())
    events = {e["type"]: e for e in rejection["premis_events"]}  # what was done before the refusal, each event
    assert events["validation"]["outcome"] == "success" and "2 files" in events["unpacking"]["outcome_detail"]
    page = Path(caught.value.hint.split("report: ")[-1]).with_suffix(".html").read_text(encoding="utf-8")
    assert "<td>validatie</td><td>geslaagd</td>" in page and "<td>uitpakken</td>" in page
    assert "virusdefinities" in page and "(stap: viruscontrole)" in page
    assert "handtekeningen" not in page and "none" not in page


def test_a_clean_sip_gets_a_virus_check_event_naming_clamav_and_its_signatures(config: Config, tmp_path: Path) -> None:
    database = tmp_path / "clamav" / "local.hdb"  # a database of the archive's own: not edepot's test one
    database.parent.mkdir()
    database.write_text(eicar_database(tmp_path / "test-db").read_text().replace("Edepot.Test.", "Gemeente.Eigen."))
    own = dataclasses.replace(config, scan_database=database)
    result = ingest(create_sip([IOS_SAMPLE], tmp_path / "sip", own).path, own)
    bag = result.locations[0]
    (event,) = [e for e in premis_events(bag) if e.type == "virus check"]
    assert event.outcome == "success" and "no virus found" in event.outcome_detail
    premis = (bag / "data" / "metadata" / "premis.xml").read_text()
    assert "<agentName>ClamAV</agentName>" in premis and "custom local.hdb sha256" in premis
    assert not any("test" in w.lower() for w in result.warnings)


def test_a_trial_with_the_test_database_says_it_was_no_virus_check(scanned: Config, tmp_path: Path) -> None:
    result = ingest(create_sip([IOS_SAMPLE], tmp_path / "sip", scanned).path, scanned)
    (event,) = [e for e in premis_events(result.locations[0]) if e.type == "virus check"]
    assert event.outcome == "warning"
    assert "TEST signature database" in event.detail and "not a real one" in event.detail
    assert "not checked for viruses" in event.outcome_detail
    report = json.loads(result.report[0].read_text())
    assert report["scan"]["test_database"] is True
    assert any("TEST signature database" in w for w in report["warnings"])
    assert "TEST signature database" in result.report[1].read_text()


def test_without_signatures_ingest_refuses_by_default(tmp_path: Path, no_scan_database: None) -> None:
    """The default (no [scan] section): a SIP that cannot be scanned is refused with one line, exit 2, a report."""
    data = tmp_path / "data"
    assert load_config(data).scan_required and load_config(data).scan_database is None
    made = edepot(data, "sip", "create", IOS_SAMPLE, "--out", tmp_path / "sip")
    assert made.returncode == 0, made.stderr
    sip = tmp_path / "sip"
    refused = run_cli_in_process(data, "ingest", sip)
    assert refused.code == 2 and refused.stdout == ""
    (line,) = refused.stderr.splitlines()
    assert line.startswith("edepot: error E200: not scanned for viruses") and "report: " in line
    (report,) = (data / "reports").glob("*-rejected-*.json")
    rejected = json.loads(report.read_text())
    assert rejected["status"] == "rejected" and rejected["error"]["ref"] == "E200"
    assert rejected["error"]["stage"] == "virus scan"
    assert not any((data / "storage").rglob("bagit.txt"))


def test_not_required_ingests_unscanned_and_says_not_scanned(config: Config, tmp_path: Path,
                                                             no_scan_database: None) -> None:
    unscanned = dataclasses.replace(config, scan_database=None, scan_required=False)
    result = ingest(create_sip([IOS_SAMPLE], tmp_path / "sip", unscanned).path, unscanned)
    assert any("NOT SCANNED for viruses" in w for w in result.warnings)
    (event,) = [e for e in premis_events(result.locations[0]) if e.type == "virus check"]
    assert event.outcome == "not scanned"
    assert event.detail.startswith("not scanned") and event.outcome_detail.startswith("not scanned")


def test_the_demo_runs_without_a_database_and_says_so_loudly(tmp_path: Path, no_scan_database: None,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDEPOT_USER")  # a fresh machine names nobody: the demo acts as its own person
    ran = run_cli_in_process(tmp_path / "data", "demo")
    assert ran.code == 0, ran.stderr
    assert ran.stderr.count("WARNING: NO VIRUS CHECK") == 2  # before and after
    assert "NOT SCANNED for viruses" in ran.stdout and "acting as: Demo Archivaris" in ran.stdout
    aip_id = ran.stdout.split("3. AIP:")[1].split(",")[0].strip()
    catalogue = open_catalogue(load_config(tmp_path / "data").catalogue_url)
    try:
        events = catalogue.events(aip_id)
        assert events and all("person:Demo Archivaris" in e.agents for e in events)
    finally:
        catalogue.close()


def test_a_trial_database_from_the_command_catches_eicar(tmp_path: Path, no_scan_database: None) -> None:
    """`edepot trial-database` writes the test database; pointed at it as told, ingest quarantines EICAR."""
    data = tmp_path / "data"
    made = edepot(data, "trial-database", "--json")
    assert made.returncode == 0, made.stderr
    database = Path(json.loads(made.stdout)["database"])
    assert scan_module.is_test_database(database) and database.is_relative_to(data)
    told = edepot(data, "trial-database").stdout
    assert "NOT a real one" in told and f'database = "{database}"' in told
    (data / "edepot.toml").write_text(f'[scan]\ndatabase = "{database}"\n', encoding="utf-8")
    export = whatsapp_export(tmp_path / "WhatsApp Chat - Proef.zip", {"00001-bijlage.com": EICAR}, "Proef")
    assert edepot(data, "sip", "create", export, "--out", tmp_path / "sip").returncode == 0
    refused = edepot(data, "ingest", tmp_path / "sip")
    assert refused.returncode == 1 and "E301" in refused.stderr and "Edepot.Test.EICAR" in refused.stderr


def run_cli_in_process(data: Path, *args: str | Path) -> SimpleNamespace:
    """`edepot --data-dir DATA ARGS` run in this process (so the test's view of ClamAV holds), with its exit
    code, stdout and stderr."""
    import contextlib
    import io

    from edepot.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--data-dir", str(data), *map(str, args)])
    return SimpleNamespace(code=code, stdout=out.getvalue(), stderr=err.getvalue())


def test_new_version_links_to_the_first_and_plain_reingest_is_refused(scanned: Config, tmp_path: Path) -> None:
    sip = create_sip([IOS_SAMPLE], tmp_path / "sip", scanned).path
    first = ingest(sip, scanned)
    with pytest.raises(AlreadyIngested) as caught:
        ingest(sip, scanned)
    assert caught.value.remedy == "new-version" and "--" not in caught.value.hint  # the engine names no flag
    refused = run_cli_in_process(scanned.data_dir, "ingest", sip)
    assert refused.code == 2 and "E106" in refused.stderr and "add --new-version" in refused.stderr
    second = ingest(sip, scanned, new_version=True)
    third = ingest(sip, scanned, new_version=True)
    assert len({first.aip_id, second.aip_id, third.aip_id}) == 3
    assert (second.version, second.previous_aip) == (2, first.aip_id)
    assert (third.version, third.previous_aip) == (3, second.aip_id)
    catalogue = open_catalogue(scanned.catalogue_url)
    versions = catalogue.versions("", first.record_id)
    catalogue.close()
    assert [(v.aip_id, v.version, v.first_aip) for v in versions] == [
        (first.aip_id, 1, first.aip_id), (second.aip_id, 2, first.aip_id), (third.aip_id, 3, first.aip_id)]
    (ingestion,) = [e for e in premis_events(third.locations[0]) if e.type == "ingestion"]
    assert f"previous AIP {second.aip_id}" in ingestion.outcome_detail


def test_siegfried_gives_a_second_opinion_and_disagreements_are_reported(scanned: Config, media_export: Path,
                                                                           tmp_path: Path) -> None:
    config = dataclasses.replace(scanned, siegfried=True)
    result = ingest(create_sip([media_export], tmp_path / "sip", config).path, config)
    events = [e for e in premis_events(result.locations[0]) if e.type == "format identification"
              and e.detail.startswith("second opinion")]
    assert events and all(e.source_objects for e in events)
    # FIDO's PRONOM v109 calls a vCard fmt/395 where siegfried's newer release says fmt/1880
    assert any("contact.vcf" in w and "siegfried says fmt/1880" in w for w in result.warnings)
    report = json.loads(result.report[0].read_text())
    row = next(f for f in report["files"] if f["path"].endswith("contact.vcf"))
    assert row["puid"] == "fmt/395" and row["siegfried"] == "fmt/1880"
    catalogue = open_catalogue(config.catalogue_url)
    rows = [i for i in catalogue.identifications(result.aip_id) if i.path.endswith("contact.vcf")]
    catalogue.close()
    assert {(i.tool.split()[0], i.puid) for i in rows} == {("fido", "fmt/395"), ("siegfried", "fmt/1880")}
    assert any("V1" in i.signature_release for i in rows if i.tool.startswith("siegfried"))  # DROID_SignatureFile_V125


def test_json_edepot_wrote_is_recorded_as_json_with_each_tools_verdict_beside_it(scanned: Config,
                                                                                 tmp_path: Path) -> None:
    """conversation.json and selection.json: fmt/817 recorded, FIDO's "Tweet JSON" kept beside it, and the
    report lists every file the tools disagree on with the verdict recorded and why."""
    config = dataclasses.replace(scanned, siegfried=True)
    options = SipOptions(criteria=Criteria(exclude_participants=("Petra de Vries",)))
    result = ingest(create_sip([IOS_SAMPLE], tmp_path / "sip", config, options=options).path, config)
    written = ("data/preservation/conversation.json", "data/metadata/sip/selection.json")
    catalogue = open_catalogue(config.catalogue_url)
    files = {f.path: f for f in catalogue.files(result.aip_id)}
    tools = {(i.path, i.tool.split()[0]): i for i in catalogue.identifications(result.aip_id)}
    catalogue.close()
    premis = (result.locations[0] / "data" / "metadata" / "premis.xml").read_text()
    events = {e.source_objects[0]: e for e in premis_events(result.locations[0])
              if e.type == "format identification" and e.detail.startswith("identified")}
    report = json.loads(result.report[0].read_text())
    disagreements = {d["path"]: d for d in report["identification_disagreements"]}
    for path in written:
        assert files[path].puid == "fmt/817"
        assert tools[(path, "edepot")].puid == "fmt/817" and tools[(path, "fido")].puid == "fmt/1311"
        assert "FIDO said fmt/1311 (Tweet JSON)" in events[path].outcome_detail
        assert f"<objectIdentifierValue>{path}</objectIdentifierValue>" in premis
        row = disagreements[path]
        assert (row["recorded"]["puid"], row["fido"]["puid"]) == ("fmt/817", "fmt/1311")
        assert row["siegfried"]["puid"] == "fmt/817" and row["why"].startswith("edepot wrote it as")
        assert next(f for f in report["files"] if f["path"] == path)["fido"] == "fmt/1311"
    assert "fmt/1311" not in premis.split("<event>")[0]  # no object is described as Tweet JSON
    others = [d for path, d in disagreements.items() if path not in written]
    assert all(d["recorded"] == d["fido"] and "FIDO's identification is the one of record" in d["why"]
               for d in others)
    assert "Identificatie: oordelen die verschillen" in result.report[1].read_text()


def test_the_catalogue_holds_each_files_format_version_mime_type_and_signature_release(
        media_aip: tuple[Path, object], media_config: Config) -> None:
    _, result = media_aip
    catalogue = open_catalogue(media_config.catalogue_url)
    rows = {Path(i.path).name: i for i in catalogue.identifications(result.aip_id)}  # type: ignore[attr-defined]
    files = {f.path for f in catalogue.files(result.aip_id)}  # type: ignore[attr-defined]
    catalogue.close()
    jpeg = rows["00004-photo.jpg"]
    assert (jpeg.puid, jpeg.format_version, jpeg.mime_type) == ("fmt/43", "1.01", "image/jpeg")
    assert jpeg.tool.startswith("fido ") and jpeg.signature_release.startswith("PRONOM v")
    assert rows["conversation.pdf"].puid == "fmt/477"  # PDF/A-2b
    assert {i.path for i in rows.values()} <= files


def test_the_report_says_per_file_what_was_checked_and_done(media_aip: tuple[Path, object],
                                                            media_config: Config) -> None:
    scanned = media_config
    _, result = media_aip
    json_path, html_path = result.report  # type: ignore[attr-defined]
    assert json_path.parent == scanned.data_dir / "reports" and html_path.suffix == ".html"
    report = json.loads(json_path.read_text())
    assert report["status"] == "accepted" and report["scan"]["clean"]
    assert all(check["ok"] for check in report["sip_checks"])
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    opus = next(f for n, f in by_name.items() if n.endswith("voice.opus"))
    assert opus["puid"] == "fmt/946" and opus["validation"]["verdict"] == "valid"
    assert opus["actions"][0]["action"] == "audio-flac" and opus["actions"][0]["status"] == "derived"
    damaged = by_name["00099-damaged.jpg"]
    assert damaged["validation"]["verdict"] == "invalid"
    page = html_path.read_text()
    assert "geaccepteerd" in page and "00099-damaged.jpg" in page and "<script" not in page
    stages = report["stage_seconds"]  # every stage timed, in the order they ran
    assert list(stages)[:5] == ["receive", "validate SIP", "keep originals", "unpack export", "virus scan"]
    assert "store in 2 locations" in stages and all(seconds >= 0 for seconds in stages.values())
    assert "Duur per stap" in page and "viruscontrole" in page and "opslaan in 2 locaties" in page


def edepot(data: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "EDEPOT_DATA"}
    return subprocess.run([sys.executable, "-m", "edepot.cli", "--data-dir", str(data), *map(str, args)],
                          capture_output=True, text=True, timeout=600, env=env)


def test_an_archivist_ingests_a_batch_with_one_infected_and_one_damaged_sip(tmp_path: Path,
                                                                           media_export: Path) -> None:
    """Five SIPs from different sources: two clear rejections (exit 1, one line each), the rest AIPs."""
    data = tmp_path / "data"
    data.mkdir()
    db = eicar_database(tmp_path / "clamav")
    (data / "edepot.toml").write_text(f'[scan]\ndatabase = "{db}"\nrequired = true\n')
    infected_export = whatsapp_export(tmp_path / "WhatsApp Chat - Besmet.zip", {"00001-factuur.pdf.exe": EICAR},
                                      "Besmet")
    exports = {"ios": IOS_SAMPLE, "android": ANDROID_SAMPLE, "media": media_export, "infected": infected_export,
               "damaged": whatsapp_export(tmp_path / "WhatsApp Chat - Beschadigd.zip", {}, "Beschadigd")}
    sips = {}
    for name, export in exports.items():
        made = edepot(data, "sip", "create", export, "--out", tmp_path / "sips" / name)
        assert made.returncode == 0, made.stderr
        sips[name] = tmp_path / "sips" / name
    original = next((sips["damaged"] / "data" / "original").iterdir())
    damaged = bytearray(original.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01  # one bit flipped in transit
    original.write_bytes(bytes(damaged))

    outcomes = {name: edepot(data, "ingest", "--json", sip) for name, sip in sips.items()}
    for name in ("ios", "android", "media"):
        assert outcomes[name].returncode == 0, (name, outcomes[name].stderr)
        assert len(json.loads(outcomes[name].stdout)["locations"]) == 2
    for name, ref in (("infected", "E301"), ("damaged", "E300")):
        result = outcomes[name]
        assert result.returncode == 1 and "Traceback" not in result.stderr
        first, *details = [line for line in result.stderr.splitlines() if line.strip()]
        assert first.startswith(f"edepot: error {ref}:") and "report: " in first
        assert all(line.startswith("  - ") for line in details) and details
    assert "quarantine" in outcomes["infected"].stderr and "Edepot.Test.EICAR" in outcomes["infected"].stderr
    assert "checksum" in outcomes["damaged"].stderr.lower() or "oxum" in outcomes["damaged"].stderr.lower()

    listed = json.loads(edepot(data, "aip", "list", "--json").stdout)
    aips = listed["aips"] if isinstance(listed, dict) else listed
    assert len(aips) == 3
    reports = sorted((data / "reports").glob("*.json"))
    statuses = sorted(json.loads(p.read_text())["status"] for p in reports)
    assert statuses == ["accepted"] * 3 + ["rejected"] * 2
    assert len([p for p in (data / "quarantine").iterdir() if not p.name.startswith(".")]) == 1


def test_a_sip_described_in_topx_is_ingested_and_its_topx_updated(scanned: Config, tmp_path: Path) -> None:
    from ingest.sip import SipOptions
    from preservation.xsd import SchemaName, validate_xml

    sip = create_sip([IOS_SAMPLE], tmp_path / "sip", scanned, options=SipOptions(metadata_standard="topx")).path
    assert not list((sip / "data" / "metadata").rglob("*.mdto.xml"))
    result = ingest(sip, scanned)
    metadata = result.locations[0] / "data" / "metadata"
    (updated,) = metadata.glob("*.topx.xml")
    received = metadata / "sip" / updated.name
    topx = "{http://www.nationaalarchief.nl/ToPX/v2.3}"
    before = etree.parse(str(received)).getroot().findall(f"{topx}aggregatie/{topx}eventGeschiedenis")
    after = etree.parse(str(updated)).getroot().findall(f"{topx}aggregatie/{topx}eventGeschiedenis")
    kinds = [e.findtext(f"{topx}type") for e in after[len(before):]]
    assert kinds == ["Opname in e-Depot", "Conversie"]
    assert result.aip_id in (after[len(before)].findtext(f"{topx}beschrijving") or "")
    if scanned.schema_dir is not None:
        assert validate_xml(updated, SchemaName.TOPX, scanned.schema_dir) == []


def test_originals_carry_the_sip_digests_and_a_bad_copy_is_caught(config: Config, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest does not hash the originals again: it takes the validated SIP manifest's digests, and every
    replica is verified against them, so a copy that went wrong on the way never becomes an AIP."""
    sip = create_sip([ANDROID_SAMPLE], tmp_path / "sip", config).path
    from preservation import aip as aip_module

    def copy_with_a_flipped_byte(source: Path, target: Path) -> None:
        data = bytearray(Path(source).read_bytes())
        if Path(source).suffix == ".txt":
            data[len(data) // 2] ^= 0x01
        Path(target).write_bytes(bytes(data))

    monkeypatch.setattr(aip_module, "shutil", SimpleNamespace(copyfile=copy_with_a_flipped_byte))
    with pytest.raises(InvalidPackage) as caught:
        ingest(sip, config)
    assert "does not verify" in caught.value.message
    assert caught.value.problems == [f"data/original/{ANDROID_SAMPLE.name}"]
    for location in config.storage_locations:  # the copies made in the background are gone, nothing is visible
        assert not [p for p in location.rglob("*") if p.is_file()]
    catalogue = open_catalogue(config.catalogue_url)
    assert catalogue.aips() == []
    catalogue.close()


def test_large_originals_are_staged_by_reference_and_stored_as_real_files(config: Config, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Large originals are not copied into staging: the replicas are copied from the SIP itself and verified
    against its manifest; what reaches storage is a plain file, never a link, and the SIP is left as it was."""
    from ingest import stages

    monkeypatch.setattr(stages, "LINK_ORIGINALS_FROM", 0)
    sip = create_sip([IOS_SAMPLE], tmp_path / "sip", config).path
    before = {p: p.read_bytes() for p in sip.rglob("*") if p.is_file()}
    result = ingest(sip, config)
    assert {p: p.read_bytes() for p in sip.rglob("*") if p.is_file()} == before
    for bag in result.locations:
        original = bag / "data" / "original" / IOS_SAMPLE.name
        assert original.is_file() and not original.is_symlink()
        assert original.read_bytes() == IOS_SAMPLE.read_bytes()
        assert not any(p.is_symlink() for p in bag.rglob("*"))
        bagit.Bag(str(bag)).validate()


def test_a_linked_original_is_still_scanned_and_named_as_in_the_sip(config: Config, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import stages

    monkeypatch.setattr(stages, "LINK_ORIGINALS_FROM", 0)
    database = tmp_path / "clamav"
    database.mkdir()
    (database / "edepot-test.ndb").write_text(f"Edepot.Test.EICAR.Body:0:*:{EICAR.hex()}\n", encoding="ascii")
    export = whatsapp_export(tmp_path / "WhatsApp Chat - Aanhangsel.zip", {"00001-foto.jpg": b"\xff\xd8 jpeg"},
                             "Aanhangsel")
    export.write_bytes(export.read_bytes() + EICAR)
    sip = create_sip([export], tmp_path / "sip", config).path
    with pytest.raises(InfectedPackage) as caught:
        ingest(sip, dataclasses.replace(config, scan_database=database))
    assert any(p.startswith("data/original/WhatsApp Chat - Aanhangsel.zip: ") for p in caught.value.problems), \
        caught.value.problems


def test_an_ingest_stopped_after_the_background_copies_began_leaves_nothing_in_storage(
        config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import stages

    sip = create_sip([IOS_SAMPLE], tmp_path / "sip", config).path

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise InvalidPackage("stopped on purpose after the originals went out to storage")

    monkeypatch.setattr(stages, "seal", refuse)
    with pytest.raises(InvalidPackage):
        ingest(sip, config)
    for location in config.storage_locations:
        assert location.is_dir() and not [p for p in location.rglob("*") if p.is_file()]


def test_an_ingest_runs_the_garbage_collector_seldom_and_restores_its_thresholds(config: Config,
                                                                                   tmp_path: Path) -> None:
    """The young generation is collected after 50,000 allocations during an ingest, not 700: the collector
    traversing the ingest's million living objects over and over cost seconds of a large ingest."""
    export = whatsapp_export(tmp_path / "WhatsApp Chat - Veel.zip",
                             {f"{n:05d}-notitie.txt": b"notitie %d" % n for n in range(400)}, "Veel")
    sip = create_sip([export], tmp_path / "sip", config).path
    collections: list[int] = []

    def counted(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 0:
            collections.append(1)

    before = gc.get_threshold()
    gc.callbacks.append(counted)
    try:
        ingest(sip, config)
    finally:
        gc.callbacks.remove(counted)
    assert gc.get_threshold() == before
    assert len(collections) < 20, f"{len(collections)} young collections"
