"""`edepot sip batch`: one SIP per manifest row; a bad row is reported and the others are still built."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.batch import read_manifest, run_batch
from ingest.sip_validate import validate_sip
from kernel.config import Config
from kernel.errors import InputError
from tests.conftest import REPO

IOS_SAMPLE = next((REPO / "samples" / "whatsapp-ios-nl").glob("*.zip"))
ANDROID_SAMPLE = next((REPO / "samples" / "whatsapp-android-nl").glob("*.txt"))
EDEPOT = [sys.executable, "-m", "edepot.cli"]


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    (tmp_path / "meta.yaml").write_text("naam: Overleg Marktplein\nwaardering: V\nbewaartermijn: P10Y\n",
                                        encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("naam: x\nwaardering: Bewaren\n", encoding="utf-8")
    path = tmp_path / "manifest.csv"
    path.write_text(
        "export,out,metadata,exclude_participant,package,metadata_standard,keep_original\n"
        f"{IOS_SAMPLE},sips/one,meta.yaml,Petra de Vries,,both,no\n"
        f"{ANDROID_SAMPLE},sips/two,,,zip,,\n"
        f"{ANDROID_SAMPLE},sips/three,broken.yaml,,,,\n"
        f"{tmp_path / 'absent.zip'},sips/four,,,,,\n"
        f"{IOS_SAMPLE},sips/five,,,,topx,ja\n",
        encoding="utf-8",
    )
    return path


def test_bad_rows_are_reported_and_the_rest_is_built(manifest: Path, config: Config) -> None:
    seen: list[int] = []
    result = run_batch(manifest, config, lambda row, total: seen.append(total))
    assert seen == [5] * 5
    assert [r.ok for r in result.rows] == [True, True, False, False, True]
    assert result.failed == 2
    assert "'waardering'" in str(result.rows[2].error) and "line 2" in str(result.rows[2].error)
    assert "absent.zip" in str(result.rows[3].error)
    base = manifest.parent / "sips"
    assert validate_sip(base / "one", config).valid
    assert (base / "one/data/metadata/selection.json").is_file()
    assert any((base / "one/data/metadata").glob("*.topx.xml"))
    assert (base / "two.zip").is_file() and (base / "two.zip.sha256").is_file()
    assert not (base / "three").exists() and not (base / "four").exists()
    assert not any((base / "five/data/metadata").glob("*.mdto.xml"))


def test_batch_command_exits_1_with_a_json_summary(manifest: Path, tmp_path: Path) -> None:
    env = {**os.environ, "EDEPOT_DATA": str(tmp_path / "data")}
    result = subprocess.run([*EDEPOT, "--json", "sip", "batch", str(manifest)], capture_output=True, text=True,
                            env=env, timeout=600)
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["made"], summary["failed"]) == (5, 3, 2)
    assert [r["row"] for r in summary["results"] if not r["ok"]] == [4, 5]
    human = subprocess.run([*EDEPOT, "sip", "batch", str(manifest)], capture_output=True, text=True, env=env,
                           timeout=600)
    assert human.returncode == 1 and "0 of 5 SIPs made, 5 failed" in human.stdout  # now every out exists


def test_manifest_with_unknown_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("export,uit\nx,y\n", encoding="utf-8")
    with pytest.raises(InputError, match="uit"):
        read_manifest(path)
