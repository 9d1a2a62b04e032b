"""SIPs as a whole: both metadata standards in one bag, the edepot BagIt profile (checked offline), and transfer
packages (.zip, .7z) with the sha256sum file beside them."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import bagit
import pytest

from ingest.packaging import checksum_path
from ingest.sip import BAGIT_PROFILE_FILE, SipOptions, create_sip, edepot_profile
from ingest.sip_validate import validate_sip, validate_transfer
from ingest.unpack import unpack_transfer
from kernel.config import Config
from kernel.errors import InputError
from preservation.xsd import SchemaName, validate_xml
from tests.conftest import REPO
from tests.metadata_examples import EVERY_KEY_YAML

IOS_SAMPLE = next((REPO / "samples" / "whatsapp-ios-nl").glob("*.zip"))
ANDROID_SAMPLE = next((REPO / "samples" / "whatsapp-android-nl").glob("*.txt"))
EDEPOT = [sys.executable, "-m", "edepot.cli"]


def edepot(*args: str | Path, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDEPOT_DATA": str(data)}
    return subprocess.run([*EDEPOT, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def test_both_standards_in_one_sip_validate_against_the_official_xsds(config: Config, tmp_path: Path,
                                                                      shared: Path) -> None:
    metadata = tmp_path / "zaak.yaml"
    metadata.write_text(EVERY_KEY_YAML, encoding="utf-8")
    made = create_sip([IOS_SAMPLE], tmp_path / "sip", config, metadata, options=SipOptions(metadata_standard="both"))
    metadata_dir = made.path / "data/metadata"
    mdto, topx = sorted(metadata_dir.rglob("*.mdto.xml")), sorted(metadata_dir.rglob("*.topx.xml"))
    assert len(mdto) == len(topx) == 3
    for document in mdto:
        assert validate_xml(document, SchemaName.MDTO, shared / "standards") == [], document
    for document in topx:
        assert validate_xml(document, SchemaName.TOPX, shared / "standards") == [], document
    assert bagit.Bag(str(made.path)).info["Edepot-Metadata-Standard"] == "MDTO ToPX"
    report = validate_sip(made.path, config)
    assert report.valid, report.problems
    assert {c.name for c in report.checks} >= {"MDTO against the official XSD", "ToPX against the official XSD"}


def test_a_topx_sip_is_checked_by_its_topx_checksums(config: Config, tmp_path: Path) -> None:
    made = create_sip([ANDROID_SAMPLE], tmp_path / "sip", config, options=SipOptions(metadata_standard="topx"))
    assert not any((made.path / "data/metadata").rglob("*.mdto.xml"))
    assert validate_sip(made.path, config).valid
    bestand = made.path / f"data/metadata/original/{ANDROID_SAMPLE.name}.bestand.topx.xml"
    bestand.write_text(bestand.read_text(encoding="utf-8").replace("<omvang>", "<omvang>1"), encoding="utf-8")
    problems = validate_sip(made.path, config).problems
    assert any("checksum or omvang differs" in p for p in problems)


def test_selectielijst_flag_resolves_the_code(tmp_path: Path, shared: Path) -> None:
    metadata = tmp_path / "m.yaml"
    metadata.write_text('informatiecategorie: "21.1"\n', encoding="utf-8")
    result = edepot("--json", "sip", "create", ANDROID_SAMPLE, "--out", tmp_path / "sip", "--metadata", metadata,
                    "--selectielijst", shared / "standards/selectielijst/selectielijst_2020.json",
                    "--metadata-standard", "both", data=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    record = next((tmp_path / "sip/data/metadata").glob("*.mdto.xml")).read_text(encoding="utf-8")
    assert "<begripLabel>Adviseren - Verstrekt</begripLabel>" in record
    assert "<begripCode>V</begripCode>" in record and "<termijnLooptijd>P5Y</termijnLooptijd>" in record
    unresolved = edepot("sip", "create", ANDROID_SAMPLE, "--out", tmp_path / "sip2", "--metadata", metadata,
                        data=tmp_path / "data")
    assert unresolved.returncode == 2 and "informatiecategorie.label" in unresolved.stderr


# ---------------------------------------------------------------------------------------------------
# The BagIt profile


def test_profile_is_checked_offline(config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the profile must be read from the file, never fetched")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.setattr("bagit_profile.urlopen", no_network)
    made = create_sip([ANDROID_SAMPLE], tmp_path / "sip", config)
    report = validate_sip(made.path, config)
    profile_check = next(c for c in report.checks if c.name.startswith("BagIt profile"))
    assert profile_check.ok and BAGIT_PROFILE_FILE in profile_check.name
    assert bagit.Bag(str(made.path)).info["BagIt-Profile-Identifier"] == \
        edepot_profile()["BagIt-Profile-Info"]["BagIt-Profile-Identifier"]


@pytest.mark.parametrize("damage,finding", [
    ("fetch", "Fetch.txt is present but is not allowed"),
    ("md5", "Unexpected payload manifest type"),
    ("tagfile", "is not listed in Tag-Files-Allowed"),
    ("standard", "does not have an allowed value"),
])
def test_profile_violations_are_reported(damage: str, finding: str, config: Config, tmp_path: Path) -> None:
    made = create_sip([ANDROID_SAMPLE], tmp_path / "sip", config)
    bag = bagit.Bag(str(made.path))
    if damage == "fetch":
        (made.path / "fetch.txt").write_text("https://example.org/x 1 data/x\n", encoding="utf-8")
    elif damage == "md5":
        lines = [f"{hashlib.md5(p.read_bytes()).hexdigest()}  {p.relative_to(made.path).as_posix()}\n"
                 for p in sorted((made.path / "data").rglob("*")) if p.is_file()]
        (made.path / "manifest-md5.txt").write_text("".join(lines), encoding="utf-8")
    elif damage == "tagfile":
        (made.path / "notes.txt").write_text("extra", encoding="utf-8")
    else:
        bag.info["Edepot-Metadata-Standard"] = "Dublin Core"
        bag.save()
    profile_check = next(c for c in validate_sip(made.path, config).checks if c.name.startswith("BagIt profile"))
    assert not profile_check.ok and any(finding in d for d in profile_check.details), profile_check.details


# ---------------------------------------------------------------------------------------------------
# Transfer packages


@pytest.mark.parametrize("kind", ["zip", "7z"])
def test_package_with_its_checksum_beside_it(kind: str, config: Config, tmp_path: Path) -> None:
    made = create_sip([IOS_SAMPLE], tmp_path / "sip", config, options=SipOptions(package=kind))
    package = tmp_path / f"sip.{kind}"
    assert made.path == package and made.package is not None
    assert not (tmp_path / "sip").exists() and not list(tmp_path.glob(".*partial"))
    checksum = checksum_path(package)
    assert checksum.read_text(encoding="utf-8") == f"{made.package.sha256}  {package.name}\n"
    if shutil.which("sha256sum"):
        checked = subprocess.run(["sha256sum", "-c", checksum.name], cwd=tmp_path, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    bag = unpack_transfer(package, tmp_path / "unpacked")
    assert bag.name == "sip" and validate_sip(bag, config).valid
    assert validate_transfer(package, config).valid


def test_zip_packages_are_reproducible(config: Config, tmp_path: Path) -> None:
    first = create_sip([ANDROID_SAMPLE], tmp_path / "a" / "sip", config, options=SipOptions(package="zip"))
    second = create_sip([ANDROID_SAMPLE], tmp_path / "b" / "sip", config, options=SipOptions(package="zip"))
    assert first.package is not None and second.package is not None
    assert first.package.sha256 == second.package.sha256
    with zipfile.ZipFile(first.path) as archive:
        assert all(n.startswith("sip/") for n in archive.namelist())


def test_a_damaged_package_fails_its_checksum(tmp_path: Path) -> None:
    made = edepot("--json", "sip", "create", ANDROID_SAMPLE, "--out", tmp_path / "sip", "--package", "zip",
                  data=tmp_path / "data")
    assert made.returncode == 0, made.stderr
    package = Path(json.loads(made.stdout)["package"])
    assert edepot("sip", "validate", package, data=tmp_path / "data").returncode == 0
    with open(package, "ab") as handle:
        handle.write(b"\0")
    damaged = edepot("--json", "sip", "validate", package, data=tmp_path / "data")
    assert damaged.returncode == 1
    failed = [c for c in json.loads(damaged.stdout)["checks"] if not c["ok"]]
    assert [c["check"] for c in failed] == ["package checksum"]


def test_an_existing_package_is_not_overwritten(config: Config, tmp_path: Path) -> None:
    (tmp_path / "sip.zip").write_bytes(b"mine")
    with pytest.raises(InputError, match="already exists"):
        create_sip([ANDROID_SAMPLE], tmp_path / "sip", config, options=SipOptions(package="zip"))
    assert (tmp_path / "sip.zip").read_bytes() == b"mine"


def test_a_schema_folder_without_topx_skips_that_check(config: Config, tmp_path: Path, shared: Path) -> None:
    made = create_sip([ANDROID_SAMPLE], tmp_path / "sip", config, options=SipOptions(metadata_standard="both"))
    only_mdto = tmp_path / "schemas"
    only_mdto.mkdir()
    (only_mdto / "mdto").symlink_to(shared / "standards/mdto")  # read in place, not copied
    report = validate_sip(made.path, Config(**{**config.__dict__, "schema_dir": only_mdto}))
    topx = next(c for c in report.checks if c.name == "ToPX against the official XSD")
    assert report.valid and topx.skipped and "topx/ToPX-2.3_2.xsd" in topx.details[0]


def test_the_readme_metadata_example_makes_a_valid_sip(config: Config, tmp_path: Path, shared: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    metadata = tmp_path / "zaak.yaml"
    metadata.write_text(example, encoding="utf-8")
    lijst = shared / "standards/selectielijst/selectielijst_2020.json"
    made = create_sip([IOS_SAMPLE], tmp_path / "sip", config, metadata,
                      options=SipOptions(selectielijst=lijst, metadata_standard="both"))
    assert validate_sip(made.path, config).valid
    record = (made.path / "data/metadata/WA-2024-000123.mdto.xml").read_text(encoding="utf-8")
    assert "<begripLabel>Adviseren - Verstrekt</begripLabel>" in record and "<isOnderdeelVan>" in record
