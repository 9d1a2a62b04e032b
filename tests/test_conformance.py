"""`edepot sip validate` against the Library of Congress BagIt conformance suite (../shared/standards/bagit-conformance):
every valid bag valid, every invalid bag invalid (the linux-only and windows-only ones too, so the verdict does
not depend on the machine), every warning bag valid with a warning — save the two bags
SOURCES.md names as quirks of the copied data — and for these foreign bags the edepot verdict kept apart."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.sip_validate import NOT_AN_EDEPOT_SIP, validate_sip
from kernel.config import Config
from kernel.errors import InputError
from tests.conftest import SHARED

SUITE = SHARED / "standards" / "bagit-conformance"
EDEPOT = [sys.executable, "-m", "edepot.cli"]
# SOURCES.md, "Known quirks": a manifest entry whose file upstream git never held (.DS_Store), and a bag meant
# for case-insensitive file systems (HELLO.txt and hello.txt). On Linux both lack a listed file: invalid.
QUIRKS = {"special-system-files": "data/.DS_Store", "duplicate-file-with-different-case": "data/HELLO.txt"}


def bags(kind: str) -> list[Path]:
    return sorted(SUITE.glob(f"v*/{kind}/*")) if SUITE.is_dir() else []


def ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.parent.name}/{p.name}" for p in paths]


@pytest.fixture(autouse=True)
def _suite(shared: Path) -> None:
    assert SUITE.is_dir()


@pytest.mark.parametrize("bag", bags("valid"), ids=ids(bags("valid")))
def test_valid_bags_are_valid(bag: Path, config: Config) -> None:
    report = validate_sip(bag, config, bagit_only=True)
    assert report.valid and report.bagit_valid, report.problems


INVALID = bags("invalid") + bags("linux-only") + bags("windows-only")  # out of scope on Windows: out of scope here too


@pytest.mark.parametrize("bag", INVALID, ids=ids(INVALID))
def test_invalid_bags_are_invalid(bag: Path, config: Config) -> None:
    if not (bag / "bagit.txt").exists():
        with pytest.raises(InputError, match="not a BagIt bag"):
            validate_sip(bag, config, bagit_only=True)
        return
    report = validate_sip(bag, config, bagit_only=True)
    assert not report.bagit_valid and report.problems


@pytest.mark.parametrize("bag", bags("warning"), ids=ids(bags("warning")))
def test_warning_bags_are_valid_with_a_warning(bag: Path, config: Config) -> None:
    report = validate_sip(bag, config, bagit_only=True)
    assert report.warnings, "a warning bag must produce a warning"
    if bag.name in QUIRKS:
        assert not report.bagit_valid and any(QUIRKS[bag.name] in p for p in report.problems)
    else:
        assert report.bagit_valid, report.problems


def test_the_suite_is_all_there() -> None:
    found = [len(bags(kind)) for kind in ("valid", "invalid", "warning", "linux-only", "windows-only")]
    assert found == [27, 15, 6, 6, 6]


def test_a_foreign_bag_is_not_an_edepot_sip_apart_from_its_bagit_verdict(config: Config, tmp_path: Path) -> None:
    bag = SUITE / "v1.0" / "valid" / "basicBag"
    report = validate_sip(bag, config)
    assert report.bagit_valid and not report.valid and report.edepot_sip is False
    assert [c.name for c in report.checks if not c.ok] == [NOT_AN_EDEPOT_SIP]
    env = {**os.environ, "EDEPOT_DATA": str(tmp_path)}
    full = subprocess.run([*EDEPOT, "sip", "validate", str(bag)], capture_output=True, text=True, env=env, timeout=120)
    assert full.returncode == 1 and "BagIt: valid" in full.stdout and f"edepot SIP: {NOT_AN_EDEPOT_SIP}" in full.stdout
    only = subprocess.run([*EDEPOT, "--json", "sip", "validate", "--bagit-only", str(bag)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert only.returncode == 0 and json.loads(only.stdout)["bagit_valid"] is True
    warned = subprocess.run([*EDEPOT, "--json", "sip", "validate", "--bagit-only",
                             str(SUITE / "v0.97/warning/made-with-md5sum-tools")], capture_output=True, text=True,
                            env=env, timeout=120)
    assert warned.returncode == 0 and json.loads(warned.stdout)["warnings"]


@pytest.mark.parametrize("split_from", [0, 1 << 40])  # every file hashed per algorithm, or all at once
def test_each_damaged_file_and_algorithm_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  split_from: int) -> None:
    import bagit

    from ingest import bagit_check

    monkeypatch.setattr(bagit_check, "SPLIT_ALGORITHMS_FROM", split_from)
    (tmp_path / "bag").mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / "bag" / name).write_text(f"inhoud van {name}\n")
    bagit.make_bag(str(tmp_path / "bag"), checksums=["sha256", "sha512"])
    (tmp_path / "bag" / "data" / "b.txt").write_text("INHOUD VAN b.txt\n")  # same length: only the digests tell
    findings = bagit_check.check_bagit(tmp_path / "bag")
    assert not findings.valid
    named = sorted(e.split(" validation failed")[0] for e in findings.errors if "validation failed" in e)
    assert named == ["data/b.txt sha256", "data/b.txt sha512"], findings.errors
