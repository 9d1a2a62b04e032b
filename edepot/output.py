"""What every command shares: printing its result (JSON or human text) and progress on a terminal."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable

Verbs = Any  # argparse's _SubParsersAction, which typeshed keeps private

def emit(args: argparse.Namespace, document: dict[str, Any], human: str) -> None:
    """Print the JSON document with --json, else the human text."""
    if args.json:
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(human)


class stage_display:
    """A spinner naming the running stage on a terminal; silent with --json or when not a terminal."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.live = not args.json and sys.stderr.isatty() and not os.environ.get("CI")
        self.status: Any = None

    def __enter__(self) -> Callable[[str], None]:
        if not self.live:
            return lambda _stage: None
        from rich.console import Console

        self.status = Console(stderr=True).status("starting")
        self.status.start()
        return lambda stage: self.status.update(f"ingest: {stage}")

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.stop()


class byte_progress:
    """A rich progress bar counting bytes on a terminal; silent with --json or when not a terminal."""

    def __init__(self, args: argparse.Namespace, label: str) -> None:
        self.live = not args.json and sys.stderr.isatty() and not os.environ.get("CI")
        self.label = label
        self.progress: Any = None

    def __enter__(self) -> Callable[[int], None] | None:
        if not self.live:
            return None
        from rich.console import Console
        from rich.progress import DownloadColumn, Progress, SpinnerColumn, TransferSpeedColumn

        self.progress = Progress(SpinnerColumn(), "{task.description}", DownloadColumn(), TransferSpeedColumn(),
                                 console=Console(stderr=True), transient=True)
        self.progress.start()
        task = self.progress.add_task(self.label, total=None)
        return lambda n: self.progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


