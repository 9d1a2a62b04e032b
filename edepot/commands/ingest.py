"""`edepot ingest`: a SIP becomes an AIP (progress per stage on a terminal, a report per SIP); and
`edepot trial-database`, the test virus-signature database for a trial of ingest without a real one."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from edepot.commands import open_depot
from edepot.commands.jobs import emit_job
from edepot.output import Verbs, emit
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("ingest", parents=[common], help="SIP (folder, .zip, .7z, .tar) → AIP on every location")
    p.add_argument("path", type=Path)
    p.add_argument("--new-version", action="store_true",
                   help="keep a SIP ingested before (or another SIP of a record held) as a new version of its AIP")
    p.add_argument("--queue", action="store_true",
                   help="put the ingest in the job queue (a worker does it) and print the job's id")
    p.set_defaults(handler=cmd_ingest)
    p = verbs.add_parser("trial-database", parents=[common],
                         help="write edepot's TEST ClamAV database (EICAR only) for a trial without a real one")
    p.add_argument("--out", type=Path, help="folder to write it in (default: <data-dir>/trial-clamav)")
    p.set_defaults(handler=cmd_trial_database)


def cmd_trial_database(args: argparse.Namespace, config: Config) -> int:
    """Write the test database and say how to point ingest at it, and that it is no virus check."""
    with open_depot(args, config) as depot:
        database = depot.write_trial_database(args.out)
    emit(args, {"database": str(database), "test_database": True},
         f"wrote edepot's TEST signature database (it detects only the EICAR test file; it is NOT a real one):\n"
         f"  {database}\nfor a trial, add to {config.data_dir / 'edepot.toml'}:\n  [scan]\n  database = \"{database}\"\n"
         f"or set EDEPOT_SCAN_DATABASE={database}. Every scan with it is recorded as a trial, not a virus check.")
    return 0


class _StageProgress:
    """One rich progress bar per stage on a terminal (files done of total where a stage counts files)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.live = not args.json and sys.stderr.isatty() and not os.environ.get("CI")
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _StageProgress:
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TimeElapsedColumn

            self.progress = Progress(SpinnerColumn(), "{task.description}", BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=Console(stderr=True))
            self.progress.start()
        return self

    def stage(self, name: str) -> None:
        if self.progress is None:
            return
        for task in self.tasks.values():  # the stage before is done
            self.progress.update(task, total=self.progress.tasks[task].total or 1,
                                 completed=self.progress.tasks[task].total or 1)
        self.tasks[name] = self.progress.add_task(name, total=None)

    def advance(self, name: str, done: int, total: int) -> None:
        if self.progress is not None and name in self.tasks:
            self.progress.update(self.tasks[name], completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def cmd_ingest(args: argparse.Namespace, config: Config) -> int:
    if args.queue:
        with open_depot(args, config) as depot:
            job = depot.queue_ingest(args.path.resolve(), new_version=args.new_version)
        return emit_job(args, job, f"ingest of {args.path}")
    with open_depot(args, config) as depot, _StageProgress(args) as progress:
        result = depot.ingest(args.path.resolve(), new_version=args.new_version, on_stage=progress.stage,
                              on_progress=progress.advance)
    version = f" version {result.version} (previous {result.previous_aip})" if result.previous_aip else ""
    warnings = "".join(f"\n  warning: {w}" for w in result.warnings)
    emit(args, result.to_dict(), f"AIP {result.aip_id}{version} ({result.files} files, {result.bytes} bytes) stored in:\n"
         + "\n".join(f"  {p}" for p in result.locations) + warnings
         + "\nreport: " + "  ".join(str(p) for p in result.report))
    return 0
