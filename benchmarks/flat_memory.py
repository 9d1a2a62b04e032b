"""What the streaming-input benchmarks share (sms_bench, calls_bench, phone_bench): one `edepot parse` in a
fresh process with its time and peak RSS, medians of several runs, and the verdict on BENCHMARKS.md's target
for SMS Backup & Restore input, "peak RSS flat: a 10× larger file adds < 150 MB"."""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

EDEPOT = Path(sys.executable).with_name("edepot")
TARGET_ADDED_MB = 150


def run_parse(paths: Sequence[Path], export_format: str | None) -> tuple[float, int]:
    """(seconds, peak RSS in bytes) of one `edepot parse PATHS > /dev/null` in a fresh process (wait4's
    ru_maxrss: the child's own); SystemExit when it fails."""
    command = [str(EDEPOT), "parse", *(["--format", export_format] if export_format else []), *map(str, paths)]
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        process = subprocess.Popen(command, stdout=null)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"edepot parse {' '.join(p.name for p in paths)} exited with {os.waitstatus_to_exitcode(status)}")
    return seconds, usage.ru_maxrss * 1024


def median_parse(paths: Sequence[Path], export_format: str | None, runs: int) -> tuple[float, int]:
    """The median seconds and median peak RSS (bytes) of `runs` fresh `edepot parse` runs."""
    measured = [run_parse(paths, export_format) for _ in range(runs)]
    return statistics.median(r[0] for r in measured), int(statistics.median(r[1] for r in measured))


def verdict(small_rss: int, large_rss: int, factor: float, what: str = "file") -> int:
    """Print how much peak RSS the larger input added against the target; the exit code (0 when met)."""
    added = (large_rss - small_rss) / 2**20
    met = added < TARGET_ADDED_MB
    print(f"{factor:.0f}x larger {what} adds {added:.0f} MiB peak RSS (target < {TARGET_ADDED_MB} MiB): "
          f"{'meets' if met else 'MISSES'} the target")
    return 0 if met else 1


def size_arguments(doc: str, small_mb: int, large_mb: int) -> argparse.Namespace:
    """The command line every such benchmark takes: --runs, --small-mb and --large-mb (with these defaults)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small-mb", type=int, default=small_mb)
    parser.add_argument("--large-mb", type=int, default=large_mb)
    return parser.parse_args()
