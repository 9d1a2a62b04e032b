"""benchmarks/against_release.py: what it refuses before measuring anything, how it judges a figure, and its
guard that each side imports its own code. The measuring itself is a benchmark, run by hand, not here."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "against_release.py"


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setattr(sys, "path", list(sys.path))  # the script puts benchmarks/ on the path
    spec = importlib.util.spec_from_file_location("against_release", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def worktrees() -> set[str]:
    listed = subprocess.run(["git", "worktree", "list", "--porcelain"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout
    return {line for line in listed.splitlines() if line.startswith("worktree ")}


@pytest.mark.parametrize("arguments, message", [
    (["--release", "no-such-release-tag"], "no tag or commit 'no-such-release-tag' in this repository"),
    (["--release=--output=x"], "no tag or commit '--output=x' in this repository"),
    (["--only", "render"], "invalid choice: 'render'"),
    (["--rounds", "0"], "must be at least 1"),
])
def test_refuses_bad_arguments_in_one_line_before_checking_anything_out(arguments: list[str], message: str) -> None:
    before = worktrees()
    done = subprocess.run([sys.executable, str(SCRIPT), *arguments], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 2
    assert message in done.stderr.strip().splitlines()[-1]
    assert "Traceback" not in done.stderr
    assert worktrees() == before


def test_measures_every_work_against_0_2_0_unless_told(harness: ModuleType) -> None:
    defaults = harness.parse_arguments([])
    assert (defaults.release, defaults.only, defaults.json) == ("0.2.0", ["startup", "parse", "ingest", "fixity",
                                                                         "search"], False)
    chosen = harness.parse_arguments(["--release", "0.1.0", "--only", "parse", "search", "--json"])
    assert (chosen.release, chosen.only, chosen.json) == ("0.1.0", ["parse", "search"], True)


def test_judges_work_by_ratio_and_startup_by_milliseconds_added(harness: ModuleType) -> None:
    Figure, Run = harness.Figure, harness.Run

    def runs(*values: float) -> list:
        return [Run(value, value / 2) for value in values]

    parse = Figure("parse", "s", runs(9.0, 10.0, 50.0), runs(10.9, 11.0, 1.0))  # medians 10.0 and 10.9
    assert parse.passed and parse.cpu_ratio == 10.9 / 10.0
    assert not Figure("parse", "s", runs(10.0), runs(11.2)).passed
    assert Figure("search", "ms", [Run(10.0)], [Run(10.5)]).cpu_ratio is None
    assert Figure("--version", "ms", runs(250.0), runs(299.0), startup=True).passed
    slower = Figure("--version", "ms", runs(250.0), runs(301.0), startup=True)
    assert not slower.passed and slower.as_json()["added_ms"] == 51.0


def test_refuses_a_side_that_imports_code_from_another_tree(harness: ModuleType, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    python = REPO / ".venv" / "bin" / "python"
    if not python.exists():
        pytest.skip("no .venv in this checkout")
    harness.check_imports(harness.Version("current", REPO, python))
    with pytest.raises(SystemExit) as stopped:
        harness.check_imports(harness.Version("elsewhere", tmp_path, python))
    assert stopped.value.code == 2
    assert f"the elsewhere code imports edepot from {REPO}" in capsys.readouterr().err
