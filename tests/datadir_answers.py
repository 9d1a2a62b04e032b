"""The answers an edepot data dir gives, captured so that a later edepot can be held to them after an upgrade in
place.

`tests/fixtures/datadir-0.2.0/data` is a data dir made by edepot 0.2.0 through its command line
(`tests/fixtures/make_datadir_0_2_0.py`); `expected.json` beside it holds what 0.2.0 answered on it: every
command asked (its argv, exit code, `--json` document or error line), the row count of every table of the
catalogue and every PREMIS event. `capture` asks the same on a copy of the data dir and `normalise` marks what
legitimately differs from one run to the next, so the generator and the test compare like with like.

It imports nothing of edepot (and no Django): it runs `python -m edepot`, or `edepot.cli.main` (what that runs)
in a process of its own for the commands that only read, with the interpreter that runs it and the edepot
installed there (started outside any checkout, so a checkout's own folders never shadow it).

Absolute paths: 0.2.0 stores them. The data dir was built at `BUILT_AT`, and paths under it are in the catalogue
columns `ABSOLUTE_PATH_COLUMNS` and the report files `ABSOLUTE_PATH_FILES`. 0.2.0 finds storage, reports and new
DIPs from the data dir it is given, so a copy elsewhere answers the same, normalised; but `dip purge` and
`retention destroy` delete DIP folders at the stored path (on a copy elsewhere: the original's folders, if they
are still there). A migration that relocates the data dir must rewrite those columns.
"""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "datadir-0.2.0"
FIXTURE_DATA = FIXTURE / "data"
EXPECTED = FIXTURE / "expected.json"
BUILT_AT = Path("/tmp/edepot-fixture-0.2.0/data")  # where the generator built the data dir: its stored paths
DATA_DIR_MARK = "<data-dir>"

# Catalogue columns holding absolute paths under the data dir (as 0.2.0 wrote them), "table.column". 0.2.0 acts
# on two of them: `dip purge` deletes the folder in access_dips.path, `retention destroy` the DIP folders in
# dips.path and access_dips.path; the rest it only shows.
ABSOLUTE_PATH_COLUMNS = (
    "access_dips.path",  # the folder a DIP was written to (--out, made absolute)
    "access_log.detail",  # "... N files at <path>" in the text of every dip-delivered entry
    "dips.path",  # the same folder, in the catalogue's own DIP table
    "events.detail",  # "AIP stored in location-1 (<bag>)", "DIP ... created at <path>", "removed <bag>"
    "replicas.path",  # each replica's bag root: <data-dir>/storage/location-N/<shard>/<aip>
    "tombstones.content",  # JSON: the bags and DIP folders a destroyed record had
)
# Files of the data dir holding absolute paths (written once, never read back by edepot 0.2.0).
ABSOLUTE_PATH_FILES = (
    "reports/*.json",  # ingest reports: the replicas' bag roots
    "reports/*.html",
    "reports/retention/*/verklaring-van-vernietiging-*.xml",  # the certificate: the bags and DIPs removed
)

_FIXITY_REPORT = re.compile(r"/\d{8}T\d{6}-[0-9a-f]+\.(json|html)$")  # reports/fixity/<started>-<random>
_LIST_ID = re.compile(r"VL-\d{8}-\d+")
RUN_TIME = "<run-time>"


def copy_data_dir(target: Path, source: Path = FIXTURE_DATA) -> Path:
    """A copy of a data dir (the fixture's) at `target` (absent before); returns `target`."""
    shutil.copytree(source, target, symlinks=True)
    return target


def edepot(data_dir: Path, argv: Sequence[str]) -> dict[str, Any]:
    """Run `edepot --data-dir DATA ARGV... --json` with this interpreter; its argv, exit code, JSON document
    (None when it printed none) and, when it failed, the error line."""
    done = subprocess.run([sys.executable, "-m", "edepot", "--data-dir", str(data_dir), *argv, "--json"],
                          capture_output=True, text=True, cwd=data_dir.parent)
    return {"argv": list(argv), "exit": done.returncode,
            "json": json.loads(done.stdout) if done.stdout.strip() else None,
            "error": done.stderr.strip() if done.returncode else ""}


_BATCH = """
import contextlib, io, json, sys
from edepot.cli import main
answers = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    answers.append([code, out.getvalue(), err.getvalue()])
json.dump(answers, sys.stdout)
"""


def edepot_batch(data_dir: Path, asked: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
    """`edepot` for each argv in turn, as `edepot()` answers, but in one process (`edepot.cli.main`, what
    `python -m edepot` runs): the commands that only read, without paying an interpreter's start for each."""
    argvs = [["--data-dir", str(data_dir), *argv, "--json"] for argv in asked]
    done = subprocess.run([sys.executable, "-c", _BATCH, json.dumps(argvs)], capture_output=True, text=True,
                          cwd=data_dir.parent)
    if done.returncode:
        raise RuntimeError(f"the batch of edepot commands failed: {done.stderr}")
    return [{"argv": list(argv), "exit": code, "json": json.loads(out) if out.strip() else None,
             "error": err.strip() if code else ""}
            for argv, (code, out, err) in zip(asked, json.loads(done.stdout))]


def catalogue_census(data_dir: Path) -> dict[str, Any]:
    """Every table of the catalogue with its row count, and every PREMIS event as {event id: [aip id, type,
    date_time]}. FTS5 virtual tables are counted through their shadow tables (the virtual table's own rows come
    from a view that needs edepot's SQL function); views are left out."""
    db = sqlite3.connect(data_dir / "catalogue.sqlite")
    try:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' "
            "ORDER BY name")]
        counts = {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
        events = {r[0]: [r[1], r[2], _utc(r[3])] for r in db.execute(
            "SELECT event_id, aip_id, type, date_time FROM events ORDER BY event_id")}
    finally:
        db.close()
    return {"tables": counts, "events": events}


def _utc(stored: str) -> str:
    """A stored time as ISO 8601 in UTC, however the catalogue wrote it ("…T…+00:00" or "… …", UTC)."""
    moment = datetime.fromisoformat(stored)
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()


def columns_holding(catalogue: Path, text: str) -> list[str]:
    """Every "table.column" of the catalogue with a value holding `text` (read without writing: the file may
    be the committed fixture)."""
    db = sqlite3.connect(f"file:{catalogue}?mode=ro&immutable=1", uri=True)
    try:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'")]
        return sorted(f"{t}.{c}" for t in tables for c in [r[1] for r in db.execute(f'PRAGMA table_info("{t}")')]
                      if db.execute(f'SELECT 1 FROM "{t}" WHERE instr("{c}", ?) LIMIT 1', (text,)).fetchone())
    finally:
        db.close()


def normalise(answer: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """The answer with what differs from run to run replaced by marks: the data dir's path (the one it ran on
    and the one 0.2.0 stored, `BUILT_AT`, so a relocation that rewrote the stored paths answers the same) by
    `<data-dir>`; for `fixity run` its start and duration and its report's name (the start and a random
    suffix); for `retention due` the new list's id (today's date and a count of today's lists) and its digest
    (which covers the id and the time of drawing up). Nothing else: every stored time, id and count stays."""
    text = json.dumps(answer, ensure_ascii=False)
    for root in sorted({str(data_dir), str(data_dir.resolve()), str(BUILT_AT)}, key=len, reverse=True):
        text = text.replace(json.dumps(root)[1:-1], DATA_DIR_MARK)
    found: dict[str, Any] = json.loads(text)
    document = found.get("json")
    verb = tuple(found["argv"][:2])
    if verb == ("fixity", "run") and document:
        document["started"] = document["seconds"] = RUN_TIME
        for key in ("report_json", "report_html"):
            document[key] = _FIXITY_REPORT.sub(rf"/{RUN_TIME}.\1", document[key])
    if verb == ("retention", "due") and document and document.get("list_id"):
        document["list_id"] = RUN_TIME
        document["digest"] = RUN_TIME
        document["files"] = [_LIST_ID.sub(RUN_TIME, f) for f in document["files"]]
    return found


def capture(source: Path, data: Path, *, read_only: Sequence[Sequence[str]],
            writing: Sequence[Sequence[str]], prepare: Sequence[str] = ()) -> dict[str, Any]:
    """What edepot answers on a copy of the data dir `source` at `data` (absent before): each command of
    `read_only`, the census of the catalogue after them, then each command of `writing` on a fresh copy of its
    own; normalised (`normalise`). `prepare` (e.g. `upgrade`) runs on every copy first and must succeed. The
    generator and the test both call this."""
    def fresh_copy() -> None:
        copy_data_dir(data, source)
        if prepare:
            prepared = edepot(data, prepare)
            if prepared["exit"]:
                raise RuntimeError(f"edepot {' '.join(prepare)} failed: {prepared['error']}")

    fresh_copy()
    answers = [normalise(answer, data) for answer in edepot_batch(data, read_only)]
    census = catalogue_census(data)  # after the read-only commands: they must not have changed a row
    for argv in writing:
        shutil.rmtree(data)
        fresh_copy()
        answers.append(normalise(edepot(data, argv), data))
    shutil.rmtree(data)
    return {**census, "answers": answers}


def read_expected() -> dict[str, Any]:
    """expected.json as the generator wrote it."""
    return dict(json.loads(EXPECTED.read_text(encoding="utf-8")))
