"""The command-line contract: bad input gets exit 2 (1 for an invalid SIP) and one line on stderr, never a
traceback, and nothing is stored."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

EDEPOT = [sys.executable, "-m", "edepot.cli"]


def run(*args: str | Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDEPOT_DATA": str(data_dir)}
    return subprocess.run([*EDEPOT, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("  - ")]
    assert len(lines) == 1 and lines[0].startswith("edepot:"), result.stderr


def nothing_stored(data_dir: Path) -> bool:
    storage = data_dir / "storage"
    return not storage.exists() or not any(p.is_file() for p in storage.rglob("*"))


@pytest.fixture
def bad_inputs(tmp_path: Path) -> dict[str, Path]:
    made: dict[str, Path] = {}
    made["random bytes"] = tmp_path / "random.bin"
    made["random bytes"].write_bytes(os.urandom(5000))
    made["empty zip"] = tmp_path / "empty.zip"
    zipfile.ZipFile(made["empty zip"], "w").close()
    made["zip slip"] = tmp_path / "slip.zip"
    with zipfile.ZipFile(made["zip slip"], "w") as z:
        z.writestr("_chat.txt", "[14-03-2024 10:15:01] A: hoi\n")
        z.writestr("../../evil.txt", "escape")
    made["zip bomb"] = tmp_path / "bomb.zip"
    with zipfile.ZipFile(made["zip bomb"], "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("_chat.txt", "[14-03-2024 10:15:01] A: hoi\n")
        z.writestr("zeros.bin", b"\0" * (60 << 20))
    made["missing file"] = tmp_path / "does-not-exist.zip"
    made["a folder that is not a bag"] = tmp_path / "folder"
    made["a folder that is not a bag"].mkdir()
    (made["a folder that is not a bag"] / "x.txt").write_text("x")
    return made


@pytest.mark.parametrize("name", ["random bytes", "empty zip", "zip slip", "zip bomb", "missing file"])
def test_parse_refuses_bad_exports_in_one_line(bad_inputs: dict[str, Path], name: str, tmp_path: Path) -> None:
    assert_one_line_error(run("parse", bad_inputs[name], data_dir=tmp_path / "d"), 2)


@pytest.mark.parametrize("name", ["random bytes", "empty zip", "zip slip", "zip bomb", "missing file"])
def test_sip_create_refuses_bad_exports_and_writes_nothing(bad_inputs: dict[str, Path], name: str,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "sip"
    assert_one_line_error(run("sip", "create", bad_inputs[name], "--out", out, data_dir=tmp_path / "d"), 2)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sip.")]


@pytest.mark.parametrize("name", ["random bytes", "empty zip", "zip slip", "zip bomb", "missing file",
                                  "a folder that is not a bag"])
def test_ingest_refuses_bad_packages_and_stores_nothing(bad_inputs: dict[str, Path], name: str,
                                                        tmp_path: Path) -> None:
    data = tmp_path / "d"
    assert_one_line_error(run("ingest", bad_inputs[name], data_dir=data), 2)
    assert nothing_stored(data)


def test_sip_validate_of_a_folder_that_is_not_a_bag(bad_inputs: dict[str, Path], tmp_path: Path) -> None:
    assert_one_line_error(run("sip", "validate", bad_inputs["a folder that is not a bag"], data_dir=tmp_path), 2)


def test_usage_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    result = run("dip", "create", "--aip", "x", data_dir=tmp_path)  # no --out
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("edepot: usage error")


def test_unknown_aip_is_an_input_error(tmp_path: Path) -> None:
    assert_one_line_error(run("dip", "create", "--aip", "nope", "--out", tmp_path / "x", data_dir=tmp_path), 2)


def test_bad_timezone_is_an_input_error(tmp_path: Path) -> None:
    export = tmp_path / "chat.txt"
    export.write_text("14-03-2024 10:15 - Jan: hoi\n", encoding="utf-8")
    assert_one_line_error(run("parse", export, "--tz", "Mars/Olympus", data_dir=tmp_path), 2)


def test_every_command_is_in_the_readme() -> None:
    """A verb a user cannot find in the README does not exist for them."""
    from edepot.cli import build_parser
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    verbs = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    commands = []
    for verb, sub in verbs.items():
        actions = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        commands += [f"edepot {verb} {action}" for a in actions for action in a.choices] or [f"edepot {verb}"]
    missing = [c for c in commands if c not in readme]
    assert not missing, f"not in the README: {missing}"


def test_every_error_reference_is_in_the_readme_with_its_exit_code() -> None:
    """A user who reads `error E109` on stderr finds it, and the exit code scripts see, in the README's table."""
    import re

    import kernel.errors as errors
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| (E\d{3}) \| (\d) \|", readme, flags=re.M))
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.EdepotError)]
    expected = {c.ref: str(c.exit_code) for c in classes if c is not errors.EdepotError}
    assert table == expected


def test_a_reader_that_stops_early_gets_no_error_from_edepot(tmp_path: Path) -> None:
    """`edepot parse EXPORT | head` is ordinary use: the closed pipe is not an input error, and no traceback."""
    chat = tmp_path / "WhatsApp-chat met Petra de Vries.txt"
    chat.write_text("".join(f"14-03-2024 09:{n % 60:02d} - Wethouder Jansen: bericht {n}\n" for n in range(20000)),
                    encoding="utf-8")
    edepot = Path(sys.executable).with_name("edepot")
    process = subprocess.Popen([str(edepot), "parse", str(chat)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(100)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert stderr == ""
