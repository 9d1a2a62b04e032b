"""edepot as a user installs it: the wheel holds every file the commands read, `edepot demo` runs from the wheel in
a fresh virtual environment outside the checkout, and a distribution that installs one of edepot's top-level
import names too is found and named."""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Sequence

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from edepot.installation import TOP_LEVEL_NAMES
from edepot.sample_exports import ANDROID_SAMPLE, IOS_SAMPLE, write_samples
from tests.conftest import REPO

# Not part of what the wheel is built from: the checkout's own tools, tests and local state.
OUTSIDE_THE_BUILD = {".git", ".venv", "build", "dist", "tests", "benchmarks", "edepot-data", ".pytest_cache",
                     ".hypothesis", ".mypy_cache", ".ruff_cache", "node_modules"}


def run(argv: Sequence[str | Path], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the checkout (a stale build/ in the checkout must not leak into it)."""
    source = tmp_path_factory.mktemp("source") / "edepot"
    shutil.copytree(REPO, source, ignore=lambda folder, names: [
        n for n in names if (Path(folder) == REPO and n in OUTSIDE_THE_BUILD)
        or n == "__pycache__" or n.endswith((".pyc", ".egg-info"))])
    out = tmp_path_factory.mktemp("wheel")
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                 "--wheel-dir", out, source])
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = out.glob("edepot-*.whl")
    return found


def fresh_venv(path: Path) -> Path:
    """A virtual environment of the base interpreter, without pip or any package; its python."""
    made = run([sys.executable, "-m", "venv", "--without-pip", path])
    assert made.returncode == 0, made.stderr
    return path / "bin" / "python"


def pip_install(python: Path, *wheels: Path) -> None:
    """Install wheels (and nothing else) into the environment of `python`, with this environment's pip."""
    done = run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", *wheels])
    assert done.returncode == 0, done.stdout + done.stderr


def site_packages(python: Path) -> Path:
    return Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())


def dependency_closure(wheel: Path) -> list[importlib.metadata.Distribution]:
    """The installed distributions the wheel's Requires-Dist asks for, and theirs in turn (markers applied)."""
    with zipfile.ZipFile(wheel) as archive:
        metadata_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode("utf-8"))
    wanted = [(Requirement(raw), "") for raw in metadata.get_all("Requires-Dist") or []]
    found: dict[str, importlib.metadata.Distribution] = {}
    seen: set[tuple[str, str]] = set()
    while wanted:
        requirement, extra = wanted.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        for wanted_extra in requirement.extras or {""}:
            if (name, wanted_extra) in seen:
                continue
            seen.add((name, wanted_extra))
            dist = found.setdefault(name, importlib.metadata.distribution(name))
            wanted += [(Requirement(raw), wanted_extra) for raw in dist.requires or []]
    return list(found.values())


def provide_dependencies(python: Path, wheel: Path, folder: Path) -> None:
    """Make the wheel's dependencies, as installed here, importable in `python`'s environment, and nothing else.

    Installing them from an index takes about a minute; instead `folder` gets a link to each file and folder
    of each dependency (and not edepot's own editable install), and a .pth file makes it a site directory there.
    """
    folder.mkdir()
    for dist in dependency_closure(wheel):
        for top in {path.parts[0] for path in dist.files or () if path.parts[0] not in ("..", "__pycache__")}:
            (folder / top).symlink_to(Path(str(dist.locate_file(top))))
    (site_packages(python) / "edepot-test-dependencies.pth").write_text(
        f"import site; site.addsitedir({str(folder)!r})\n", encoding="utf-8")


def clean_env(venv_bin: Path, home: Path) -> dict[str, str]:
    """The environment of a user who activated the fresh venv: no settings of this checkout or this test run."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("EDEPOT_", "PYTHON", "VIRTUAL_ENV", "PYTEST"))}
    env["PATH"] = os.pathsep.join([str(venv_bin), env.get("PATH", "")])
    env["HOME"] = str(home)
    return env


def files_below(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*") if "__pycache__" not in p.parts}


def test_wheel_holds_every_data_file_of_the_packages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
    data_files = {p.relative_to(REPO).as_posix() for name in TOP_LEVEL_NAMES for p in (REPO / name).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".py", ".pyc")}
    assert {"schemas/format-policy.yaml", "schemas/bagit-profile-edepot-sip.json",
            "preservation/normalise/conversation.typ"} <= data_files
    assert data_files - in_wheel == set()
    assert {"edepot/__main__.py", "edepot/sample_exports.py", "edepot/installation.py"} <= in_wheel
    # fetched or compiled by scripts/setup.sh, never committed, and still in the wheel
    assert {"edepot/web/static/vendor/htmx/htmx.min.js", "edepot/web/locale/en/LC_MESSAGES/django.mo"} <= in_wheel


def test_demo_runs_from_the_wheel_in_a_fresh_environment(wheel: Path, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    pip_install(python, wheel)
    provide_dependencies(python, wheel, tmp_path / "dependencies")
    installed = site_packages(python)
    before = files_below(tmp_path / "venv")
    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    env = clean_env(python.parent, tmp_path / "home")

    where = run([python, "-c", "import edepot, kernel, schemas; print(edepot.__file__, kernel.__file__, "
                 "schemas.schema_path('format-policy.yaml'))"], cwd=cwd, env=env)
    assert where.returncode == 0, where.stderr
    assert all(Path(p).is_relative_to(installed) for p in where.stdout.split()), where.stdout

    demo = run([python.parent / "edepot", "demo"], cwd=cwd, env=env, timeout=600)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    dip_lines = [line for line in demo.stdout.splitlines() if line.startswith("5. DIP:")]
    assert len(dip_lines) == 1, demo.stdout
    dip = Path(dip_lines[0].split(":", 1)[1].strip())
    assert dip.is_relative_to(cwd / "edepot-data") and (dip / "conversation.pdf").is_file()
    assert (cwd / "edepot-data" / "demo" / IOS_SAMPLE).is_file()
    if not any(Path("/var/lib/clamav").glob("*.c[lv]d")):
        said = (demo.stdout + demo.stderr).lower()
        assert "virus" in said or "clamav" in said, "the demo must say it ran without a virus check"
    assert files_below(tmp_path / "venv") == before, "the demo wrote into the environment"

    version = importlib.metadata.version("edepot")
    for command in ([python.parent / "edepot", "--version"], [python, "-m", "edepot", "--version"]):
        shown = run(command, cwd=cwd, env=env)
        assert (shown.returncode, shown.stdout.strip()) == (0, f"edepot {version}"), command
    assert wheel.name.startswith(f"edepot-{version}-")

    check = run([python, "-c", "from edepot.installation import shadowed_top_level_names as s; print(s())"],
                cwd=cwd, env=env)
    assert (check.returncode, check.stdout.strip()) == (0, "[]"), check.stderr


def fake_wheel(folder: Path, name: str, files: dict[str, str], *, top_level: str | None = None) -> Path:
    """A minimal wheel of another distribution `name` 1.0 holding `files` (and top_level.txt when given)."""
    info = f"{name.replace('-', '_')}-1.0.dist-info"
    members = dict(files)
    members[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    members[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: edepot-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if top_level is not None:
        members[f"{info}/top_level.txt"] = top_level
    record = [f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()},"
              f"{len(text.encode())}" for path, text in members.items()]
    members[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    target = folder / f"{name.replace('-', '_')}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as archive:
        for path, text in members.items():
            archive.writestr(path, text)
    return target


def test_another_distribution_providing_a_top_level_name_is_named(wheel: Path, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    kernel = fake_wheel(tmp_path, "other-kernel", {"kernel/__init__.py": "", "kernel/clock.py": ""})
    schemas = fake_wheel(tmp_path, "Other_Schemas", {"other_schemas/__init__.py": ""}, top_level="schemas\n")
    unrelated = fake_wheel(tmp_path, "unrelated", {"unrelated.py": "", "kernelish/__init__.py": ""})
    pip_install(python, wheel, kernel, schemas, unrelated)

    check = run([python, "-c", "import json; from edepot.installation import shadowed_top_level_names as s; "
                 "print(json.dumps([x.to_dict() for x in s()])); print(s()[0].message())"], cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    found, message = check.stdout.splitlines()
    assert json.loads(found) == [{"name": "kernel", "distributions": ["other-kernel 1.0"]},
                                 {"name": "schemas", "distributions": ["Other_Schemas 1.0"]}]
    assert message == "the import name 'kernel' is also provided by other-kernel 1.0"


def test_python_dash_m_edepot_is_the_edepot_command() -> None:
    version = f"edepot {importlib.metadata.version('edepot')}"
    for argv in (["--version"], []):
        by_module = run([sys.executable, "-m", "edepot", *argv], cwd=REPO)
        by_function = run([sys.executable, "-c", "import sys; from edepot.cli import main; sys.exit(main())",
                           *argv], cwd=REPO)
        assert (by_module.returncode, by_module.stdout) == (by_function.returncode, by_function.stdout)
    assert by_module.returncode == 2 and "usage: edepot" in by_module.stderr
    assert run([sys.executable, "-m", "edepot", "--version"], cwd=REPO).stdout.strip() == version


def test_the_installed_code_writes_the_samples_of_the_checkout(tmp_path: Path) -> None:
    write_samples(tmp_path)
    assert (tmp_path / ANDROID_SAMPLE).read_bytes() == (REPO / "samples" / ANDROID_SAMPLE).read_bytes()
    with zipfile.ZipFile(tmp_path / IOS_SAMPLE) as made, zipfile.ZipFile(REPO / "samples" / IOS_SAMPLE) as kept:
        assert made.namelist() == kept.namelist()
        assert made.read("_chat.txt") == kept.read("_chat.txt")
        for name in made.namelist():
            assert made.read(name)[:4] == kept.read(name)[:4], name


def test_doctor_names_an_import_name_taken_from_another_folder(tmp_path: Path) -> None:
    """A package folder called `schemas` in the working directory comes first on `python -m edepot`'s path."""
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "__init__.py").write_text("")
    done = run([sys.executable, "-m", "edepot", "--data-dir", tmp_path / "data", "--json", "doctor", "--dry-run"],
               cwd=tmp_path)
    report = json.loads(done.stdout)
    [problem] = [f for f in report["findings"] if f["check"] == "installation"]
    assert problem["status"] == "problem" and problem["subject"] == "schemas"
    assert str(tmp_path) in problem["detail"]
    (tmp_path / "elsewhere").mkdir()
    clean = run([sys.executable, "-m", "edepot", "--data-dir", tmp_path / "data", "--json", "doctor", "--dry-run"],
                cwd=tmp_path / "elsewhere")
    assert [f["status"] for f in json.loads(clean.stdout)["findings"] if f["check"] == "installation"] == ["ok"]
