"""Benchmark: this checkout against a released version (the tag 0.2.0 unless told), both measured in the same run.

Targets: the parse, ingest, fixity and search work of the current code takes at most 10% longer than the
release's (current / release median ≤ 1.10); `edepot --version` and `edepot parse` of a small export start at
most 50 ms slower than the release's.

The release is checked out into a temporary git worktree (removed afterwards) and installed there the way
scripts/setup.sh installs this checkout, editable, into a virtual environment of its own that reuses this
checkout's .venv for every third-party package: same versions on both sides, unless the release asks for
others, which are then installed into the release's environment alone. Before measuring, each side is checked
to import its own edepot. Then, one fresh process per measurement, the two versions take turns (release,
current, current, release, ...) on the same inputs:

- startup: `edepot --version`, and `edepot parse` of samples/whatsapp-android-nl (the median of --startup-runs);
- parse: `edepot parse` of a generated WhatsApp Android export (parse_bench.py's, --parse-messages messages);
- ingest: `edepot ingest` of one SIP (made by the release from ingest_bench.py's export of --ingest-megabytes
  MiB) into a fresh data directory, ClamAV on with a one-signature database as in ingest_bench.py; the data
  directory's catalogue is created before the clock starts (once per data directory, not per ingest);
- fixity: `edepot fixity run` over an AIP of --fixity-big × 10 MB + --fixity-small × 4 KB in two replicas,
  built by each version's own fixity_bench.py, warm cache;
- search: the queries of each version's own search_bench.py over an index of --search-messages messages
  built by that version: the median query time as a researcher, as an archivist and sorted by relevance.

Generated exports are kept in benchmarks/.work/ and reused; whatever a version builds is built again each run.
The defaults take about 5 minutes on an idle machine of 2 cores. Figures are medians; on a shared machine they
stay noisy while other work runs (the load average is printed with them).

    .venv/bin/python benchmarks/against_release.py [--release 0.2.0] [--rounds 5] [--only parse ...] [--json]

Exit code 0 when every target is met, 1 when one is missed, 2 when it cannot measure (an unknown release, no
.venv, a version that fails to install or to run a work), with one line on stderr.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"
SAMPLE = ROOT / "samples" / "whatsapp-android-nl" / "WhatsApp-chat met Petra de Vries.txt"
WORKS = ("startup", "parse", "ingest", "fixity", "search")
PACKAGES = ("edepot", "kernel", "ingest", "preservation", "access")
RATIO_LIMIT = 1.10
STARTUP_LIMIT_MS = 50.0
# Children must import the version they are run for: nothing from the caller's PYTHONPATH.
sys.path.insert(0, str(ROOT / "benchmarks"))  # the other benchmarks' generators of inputs
CHILD_ENV = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "VIRTUAL_ENV")}
CHILD_ENV.setdefault("EDEPOT_USER", "Benchmark")  # the person acting (a release before 0.3 ignores it)


@dataclass(frozen=True)
class Version:
    """One side of the comparison: its source tree and the Python that imports edepot from it."""

    label: str
    root: Path
    python: Path

    @property
    def edepot(self) -> Path:
        return self.python.with_name("edepot")

    @property
    def benchmarks(self) -> Path:
        return self.root / "benchmarks"


@dataclass(frozen=True)
class Run:
    """One measurement: the figure, and the processor time the process tree spent on it (same unit), when
    the figure is a whole process's time. On a busy machine the processor time is the steadier of the two."""

    value: float
    cpu: float | None = None


@dataclass(frozen=True)
class Figure:
    """The runs of one work on both versions, in `unit`; startup is judged in ms added, the rest by ratio."""

    work: str
    unit: str
    release: list[Run]
    current: list[Run]
    startup: bool = False

    @property
    def medians(self) -> tuple[float, float]:
        return statistics.median(r.value for r in self.release), statistics.median(r.value for r in self.current)

    @property
    def ratio(self) -> float:
        release, current = self.medians
        return current / release

    @property
    def cpu_medians(self) -> tuple[float, float] | None:
        """The median processor time of release and current, when both sides have it."""
        release = [r.cpu for r in self.release if r.cpu is not None]
        current = [r.cpu for r in self.current if r.cpu is not None]
        if len(release) < len(self.release) or len(current) < len(self.current):
            return None
        return statistics.median(release), statistics.median(current)

    @property
    def cpu_ratio(self) -> float | None:
        return None if self.cpu_medians is None else self.cpu_medians[1] / self.cpu_medians[0]

    @property
    def added_ms(self) -> float:
        release, current = self.medians
        return current - release

    @property
    def passed(self) -> bool:
        return self.added_ms <= STARTUP_LIMIT_MS if self.startup else self.ratio <= RATIO_LIMIT

    def as_json(self) -> dict[str, Any]:
        release, current = self.medians
        cpu_ratio = self.cpu_ratio
        return {"work": self.work, "unit": self.unit, "release_median": release, "current_median": current,
                "ratio": round(self.ratio, 4), "added_ms": round(self.added_ms, 1) if self.startup else None,
                "target": f"at most {STARTUP_LIMIT_MS:.0f} ms slower" if self.startup
                else f"ratio at most {RATIO_LIMIT:.2f}", "passed": self.passed,
                "cpu_ratio": None if cpu_ratio is None else round(cpu_ratio, 4),
                "release_runs": [r.value for r in self.release], "current_runs": [r.value for r in self.current],
                "release_cpu": [r.cpu for r in self.release], "current_cpu": [r.cpu for r in self.current]}


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: which release, which works, how many runs and how big."""
    parser = argparse.ArgumentParser(prog="against_release.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", default="0.2.0", help="the git tag (or other revision) to measure against")
    parser.add_argument("--only", nargs="+", choices=WORKS, default=list(WORKS), metavar="WORK",
                        help=f"measure only these works ({', '.join(WORKS)})")
    parser.add_argument("--rounds", type=_positive, default=5, help="runs of each version per work")
    parser.add_argument("--startup-runs", type=_positive, default=20)
    parser.add_argument("--parse-messages", type=_positive, default=300_000)
    parser.add_argument("--ingest-megabytes", type=_positive, default=100)
    parser.add_argument("--fixity-big", type=_positive, default=200)
    parser.add_argument("--fixity-small", type=_positive, default=20_000)
    parser.add_argument("--search-messages", type=_positive, default=200_000)
    parser.add_argument("--search-queries", type=_positive, default=80,
                        help="queries per role and round (a quarter of that sorted by relevance)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON document")
    return parser.parse_args(argv)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def resolve(revision: str) -> str:
    """The commit `revision` names in this repository; `refuse` when it names none."""
    found = None if revision.startswith("-") else subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], cwd=ROOT, capture_output=True, text=True)
    if found is None or found.returncode != 0:
        refuse(f"no tag or commit {revision!r} in this repository")
    return found.stdout.strip()


def refuse(message: str) -> NoReturn:
    """Stop with one line on stderr and exit code 2: nothing was measured, or not all of it."""
    print(f"against_release.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def run(command: Sequence[str | Path], *, cwd: Path = ROOT) -> str:
    """The output of a step of setting up; `refuse` with its last line of stderr when it fails."""
    done = subprocess.run(list(map(str, command)), cwd=cwd, capture_output=True, text=True, env=CHILD_ENV)
    if done.returncode != 0:
        refuse(f"{' '.join(map(str, command[:4]))} ... failed: {_last_line(done.stderr)}")
    return done.stdout


def current_version() -> Version:
    """This checkout, as scripts/setup.sh installed it."""
    python = ROOT / ".venv" / "bin" / "python"
    if not python.exists():
        refuse("no .venv in this checkout (run scripts/setup.sh)")
    return Version("current", ROOT, python)


def install_release(source: Path, label: str) -> Version:
    """An editable install of the release in `source`/.venv, third-party packages reused from this .venv."""
    venv = source / ".venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    version = Version(label, source, venv / "bin" / "python")
    (site_packages(version.python) / "_current_dependencies.pth").write_text(
        f"{site_packages(ROOT / '.venv' / 'bin' / 'python')}\n", encoding="utf-8")
    missing = child_json(version, _MISSING_REQUIREMENTS)
    if missing:
        print(f"installing what the release pins differently: {' '.join(missing)}", file=sys.stderr)
        pip(version, *missing)
    pip(version, "--no-deps", "--no-build-isolation", "-e", str(source))
    return version


def site_packages(python: Path) -> Path:
    """The site-packages folder of the virtual environment of `python`."""
    return Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())


def pip(version: Version, *arguments: str) -> None:
    """This checkout's pip installing into `version`'s environment (which has no pip of its own)."""
    run([ROOT / ".venv" / "bin" / "python", "-m", "pip", "--python", version.python, "install", "-q",
         "--disable-pip-version-check", *arguments])


# The release's requirements that this .venv does not satisfy (run with the release's Python in its tree).
_MISSING_REQUIREMENTS = """
import json, tomllib
from importlib.metadata import PackageNotFoundError, version
from packaging.requirements import Requirement

def satisfied(text):
    requirement = Requirement(text)
    try:
        return requirement.specifier.contains(version(requirement.name), prereleases=True)
    except PackageNotFoundError:
        return False

with open("pyproject.toml", "rb") as f:
    wanted = tomllib.load(f)["project"]["dependencies"]
print(json.dumps([text for text in wanted if not satisfied(text)]))
"""


def check_imports(version: Version) -> None:
    """`refuse` unless `version`'s Python imports each edepot package from `version`'s own tree."""
    where = child_json(version, f"import importlib, json; print(json.dumps("
                                f"{{m: importlib.import_module(m).__file__ for m in {PACKAGES!r}}}))")
    strays = {module: path for module, path in where.items() if not Path(path).is_relative_to(version.root)}
    if strays:
        refuse(f"the {version.label} code imports {', '.join(f'{m} from {p}' for m, p in strays.items())}, "
               f"not from {version.root}")


def child_json(version: Version, code: str, *arguments: str | Path | int) -> Any:
    """What the Python snippet `code` prints as JSON, run by `version`'s Python in its own tree."""
    done = subprocess.run([str(version.python), "-c", code, *map(str, arguments)], cwd=version.root,
                          capture_output=True, text=True, env=CHILD_ENV)
    if done.returncode != 0:
        refuse(f"the {version.label} code failed: {_last_line(done.stderr)}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def timed(version: Version, command: Sequence[str | Path], *, scale: float = 1.0) -> Run:
    """Wall and processor seconds (times `scale`) of one fresh process of `command` and whatever it waited for;
    `refuse` with its last line of stderr when it fails."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(list(map(str, command)), stdout=subprocess.DEVNULL, stderr=errors,
                                   cwd=version.root, env=CHILD_ENV)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            errors.seek(0)
            refuse(f"{version.label}: {Path(command[0]).name} {' '.join(map(str, command[1:3]))} ... exited with "
                   f"{code}: {_last_line(errors.read().decode(errors='replace'))}")
    return Run(seconds * scale, (usage.ru_utime + usage.ru_stime) * scale)


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else "(nothing on stderr)"


def alternate(versions: tuple[Version, Version], measure: Callable[[Version], dict[str, Run]], *,
              rounds: int) -> dict[str, dict[str, list[Run]]]:
    """{figure: {version label: values}} of `rounds` turns of each version, after one uncounted turn each;
    the order flips every round (release, current, current, release, ...) so a drifting machine hits both."""
    for version in versions:
        measure(version)
    values: dict[str, dict[str, list[Run]]] = {}
    for round_ in range(rounds):
        for version in versions if round_ % 2 == 0 else versions[::-1]:
            for name, value in measure(version).items():
                values.setdefault(name, {}).setdefault(version.label, []).append(value)
    return values


def figures(values: dict[str, dict[str, list[Run]]], versions: tuple[Version, Version], *, unit: str,
            startup: bool = False) -> list[Figure]:
    """One Figure per figure `alternate` measured."""
    release, current = versions
    return [Figure(work, unit, runs[release.label], runs[current.label], startup) for work, runs in values.items()]


def measure_startup(versions: tuple[Version, Version], args: argparse.Namespace, folder: Path) -> list[Figure]:
    """ms of `edepot --version` and of `edepot parse` of the bundled Android sample."""
    def startup(version: Version) -> dict[str, Run]:
        return {"edepot --version": timed(version, [version.edepot, "--version"], scale=1000),
                "edepot parse (small export)": timed(version, [version.edepot, "parse", SAMPLE], scale=1000)}

    return figures(alternate(versions, startup, rounds=args.startup_runs), versions, unit="ms", startup=True)


def measure_parse(versions: tuple[Version, Version], args: argparse.Namespace, folder: Path) -> list[Figure]:
    """Seconds of `edepot parse` of parse_bench.py's export (kept in benchmarks/.work/)."""
    import parse_bench

    export = WORK / f"whatsapp-android-en-{args.parse_messages}.txt"  # the name parse_bench.py keeps it by
    if not export.exists():
        print(f"generating {export.name} ...", file=sys.stderr, flush=True)
        parse_bench.generate(export, args.parse_messages)

    def parse(version: Version) -> dict[str, Run]:
        command: list[str | Path] = [version.edepot, "parse", export, "--tz", "Europe/Amsterdam"]
        return {f"parse {args.parse_messages:,} messages": timed(version, command)}

    return figures(alternate(versions, parse, rounds=args.rounds), versions, unit="s")


def measure_ingest(versions: tuple[Version, Version], args: argparse.Namespace, folder: Path) -> list[Figure]:
    """Seconds of `edepot ingest` of one SIP, made by the release, into a fresh data directory each time."""
    import ingest_bench

    release = versions[0]
    export = ingest_bench.make_export(folder, args.ingest_megabytes)
    database = folder / "clamav" / "bench.hdb"
    database.parent.mkdir()
    database.write_text(f"{hashlib.md5(ingest_bench.EICAR).hexdigest()}:{len(ingest_bench.EICAR)}:"
                        "Edepot.Bench.EICAR\n")
    sip = folder / "sip"
    timed(release, [release.edepot, "--data-dir", folder / "sip-data", "--json", "sip", "create", export,
                    "--out", sip])
    runs = itertools.count()

    def ingest(version: Version) -> dict[str, Run]:
        data = folder / f"data-{next(runs)}"
        data.mkdir()
        (data / "edepot.toml").write_text(f'[scan]\ndatabase = "{database}"\nrequired = true\n')
        timed(version, [version.edepot, "--data-dir", data, "--json", "aip", "list"])
        run = timed(version, [version.edepot, "--data-dir", data, "--json", "ingest", sip])
        shutil.rmtree(data)
        return {f"ingest a {args.ingest_megabytes} MiB SIP": run}

    return figures(alternate(versions, ingest, rounds=args.rounds), versions, unit="s")


_BUILD_FIXITY = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import fixity_bench
print(json.dumps(fixity_bench.build(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))[0]))
"""


def measure_fixity(versions: tuple[Version, Version], args: argparse.Namespace, folder: Path) -> list[Figure]:
    """Seconds of `edepot fixity run` over an AIP each version stored in two replicas itself."""
    aips = {}
    for version in versions:
        data = folder / f"fixity-{version.label}"
        aips[version.label] = data, child_json(version, _BUILD_FIXITY, version.benchmarks, data, args.fixity_big,
                                               args.fixity_small)

    def fixity(version: Version) -> dict[str, Run]:
        data, aip = aips[version.label]
        command = [version.edepot, "--data-dir", data, "--json", "fixity", "run", "--aip", aip]
        return {f"fixity over 2 x {args.fixity_big} x 10 MB + {args.fixity_small:,} x 4 KB": timed(version, command)}

    return figures(alternate(versions, fixity, rounds=args.rounds), versions, unit="s")


_BUILD_SEARCH = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import search_bench
messages = int(sys.argv[3])
print(json.dumps(search_bench.build(Path(sys.argv[2]), messages, max(1, messages // 5000))))
"""
_QUERY_SEARCH = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import search_bench
print(json.dumps(search_bench.measure(Path(sys.argv[2]), int(sys.argv[3]), seed=int(sys.argv[4]))))
"""


def measure_search(versions: tuple[Version, Version], args: argparse.Namespace, folder: Path) -> list[Figure]:
    """Median ms of a query per role and order, over an index each version built itself."""
    indexes = {}
    for version in versions:
        # build() empties the index's folder first: one folder each
        index = folder / f"search-{version.label}" / f"index-{args.search_messages}.sqlite"
        child_json(version, _BUILD_SEARCH, version.benchmarks, index, args.search_messages)
        indexes[version.label] = index
    seeds = itertools.count()

    def search(version: Version) -> dict[str, Run]:
        measured = child_json(version, _QUERY_SEARCH, version.benchmarks, indexes[version.label],
                              args.search_queries, next(seeds) // 2)  # both versions of a round: same queries
        return {f"search {args.search_messages:,} messages, median query: {_ROLES[name]}": Run(value)
                for name, value in measured.items() if name in _ROLES}

    return figures(alternate(versions, search, rounds=args.rounds), versions, unit="ms")


_ROLES = {"researcher median ms": "researcher", "archivist median ms": "archivist",
          "researcher, --sort relevance median ms": "researcher by relevance"}
MEASURES: dict[str, Callable[[tuple[Version, Version], argparse.Namespace, Path], list[Figure]]] = {
    "startup": measure_startup, "parse": measure_parse, "ingest": measure_ingest, "fixity": measure_fixity,
    "search": measure_search}


def report(results: list[Figure], header: str) -> str:
    """The table a person reads: per work both medians, the ratio (or ms added), the verdict, and beside it
    the ratio of processor time."""
    width = max((len(figure.work) for figure in results), default=4)
    lines = [header, f"{'work':{width}} {'release':>10} {'current':>10} {'current/release':>16}  {'verdict':20} "
                     "cpu current/release"]
    for figure in results:
        release, current = figure.medians
        precision = 0 if figure.unit == "ms" and release >= 100 else 2 if figure.unit == "s" else 1
        change = (f"{figure.ratio:.3f} ({figure.added_ms:+.0f} ms)" if figure.startup else f"{figure.ratio:.3f}")
        target = f"<= +{STARTUP_LIMIT_MS:.0f} ms" if figure.startup else f"<= {RATIO_LIMIT:.2f}"
        verdict = f"{'PASS' if figure.passed else 'FAIL'} ({target})"
        cpu = "" if figure.cpu_ratio is None else f"{figure.cpu_ratio:.3f}"
        if figure.startup and figure.cpu_medians:
            cpu += f" ({figure.cpu_medians[1] - figure.cpu_medians[0]:+.0f} ms)"
        lines.append(f"{figure.work:{width}} {release:>7.{precision}f} {figure.unit:2} {current:>7.{precision}f} "
                     f"{figure.unit:2} {change:>16}  {verdict:20} {cpu:>19}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the verdicts, remove the release's worktree; the exit code (0 when every target is met)."""
    args = parse_arguments(argv)
    commit = resolve(args.release)
    current = current_version()
    WORK.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    results: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="against-release-", dir=WORK) as temp:
        source = Path(temp) / "release"
        run(["git", "worktree", "add", "--detach", "--quiet", source, commit])
        try:
            release = install_release(source, f"release {args.release}")
            versions = (release, current)
            for version in versions:
                check_imports(version)
            for work in args.only:
                print(f"measuring {work} ...", file=sys.stderr, flush=True)
                folder = Path(temp) / work
                folder.mkdir()
                results += MEASURES[work](versions, args, folder)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(source)], cwd=ROOT, check=False)
            subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False)
    load_after = os.getloadavg()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip())
    passed = all(figure.passed for figure in results)
    if args.json:
        print(json.dumps({"release": args.release, "release_commit": commit, "current_commit": head,
                          "current_has_uncommitted_changes": dirty, "rounds": args.rounds,
                          "startup_runs": args.startup_runs, "load_average_before": load_before[0],
                          "load_average_after": load_after[0], "passed": passed,
                          "works": [figure.as_json() for figure in results]}, indent=2))
    else:
        print(report(results, f"release {args.release} ({commit[:10]}) against this checkout ({head[:10]}"
                              f"{', with uncommitted changes' if dirty else ''}); medians of {args.rounds} runs "
                              f"each ({args.startup_runs} for startup), taken in turns"))
        print(f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after: on a shared machine the "
              "figures are noisy while other work runs; processor time (the process and all it waited for) is "
              "the steadier figure then")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
