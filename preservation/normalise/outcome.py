"""The vocabulary every normaliser shares: what it did to one file, with which tool."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

from kernel.errors import RenderingFailed, ToolMissing


class Status(str, Enum):
    """What became of one file."""

    DERIVED = "derived"  # a new preservation or access copy was written
    KEPT = "kept"  # the original is fit for preservation as it is
    SKIPPED = "skipped"  # the tool for the action is not installed; the original is kept, the reason noted
    FAILED = "failed"  # the tool ran and failed; the original is kept, the error noted


@dataclass(frozen=True)
class NormaliseOutcome:
    """The result of one action on one file; `derived` are files written next to the target path."""

    action: str
    status: Status
    note: str
    derived: tuple[Path, ...] = ()
    tool: str | None = None  # e.g. "ffmpeg 5.1.9", the PREMIS agent of the event
    event_type: str = "normalization"  # PREMIS eventType: "normalization" or "migration"


# (source, target) → outcome. `target` is a path without the new suffix; the normaliser adds its own.
Normaliser = Callable[[Path, Path], NormaliseOutcome]


def run_tool(argv: Sequence[str], timeout: float = 3600) -> str:
    """Run an external tool; its stdout, or RenderingFailed with the last line it wrote to stderr."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RenderingFailed(f"{Path(argv[0]).name} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise RenderingFailed(f"{Path(argv[0]).name}: {lines[-1] if lines else f'exit code {done.returncode}'}")
    return done.stdout


def require(program: str, package: str) -> str:
    """The path of an installed program; ToolMissing naming the Debian package otherwise."""
    found = shutil.which(program)
    if found is None:
        raise ToolMissing(f"{program} is not installed", hint=f"Debian package {package}; run scripts/setup.sh")
    return found


@lru_cache(maxsize=None)
def ffmpeg_version() -> str:
    """"ffmpeg 5.1.9-0+deb12u1" of the installed ffmpeg."""
    first = run_tool([require("ffmpeg", "ffmpeg"), "-hide_banner", "-version"]).splitlines()[0]
    return " ".join(first.split()[:3]).replace(" version", "")


def with_suffix(target: Path, suffix: str) -> Path:
    """`target` with `suffix` appended (voice.opus → voice.opus.flac), so a derived file names its source."""
    return target.with_name(target.name + suffix)
