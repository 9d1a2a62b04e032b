"""Benchmark: `edepot sip create EXPORT --split OUTDIR` on SMS Backup & Restore XML: time and peak memory.

BENCHMARKS.md sets no target for splitting and there is no peer tool, so the yardstick is edepot's own floor,
measured in the same run on the same file: `edepot parse` (reading every thread once, which a split must do
too). Printed: the split's median time as a multiple of the parse's, and its peak RSS against the parse's for
a small and a large file (the split holds one conversation at a time, so a larger export must not raise it
much). The files are sms_bench.py's (benchmarks/.work/sms/, git-ignored): 200 threads, an MMS with a 60 KB
photo every 100 SMS. Each run is a fresh process; peak RSS is the child's own (wait4 ru_maxrss).

    .venv/bin/python benchmarks/split_bench.py [--runs 3] [--small-mb 20] [--large-mb 100]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sms_bench import EDEPOT, WORK, generate  # noqa: E402  (the same generated backups)


def measure(command: list[str]) -> tuple[float, int]:
    """(seconds, peak RSS in bytes) of one run of `command` in a fresh process, stdout discarded."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        process = subprocess.Popen(command, stdout=null, env={**os.environ, "EDEPOT_DATA": str(WORK / "data")})
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} exited with {os.waitstatus_to_exitcode(status)}")
    return seconds, usage.ru_maxrss * 1024


def split_once(path: Path) -> tuple[float, int, int]:
    """(seconds, peak RSS, SIPs made) of one split of `path` into a fresh folder."""
    out = WORK / f"split-{path.stem}"
    shutil.rmtree(out, ignore_errors=True)
    seconds, rss = measure([str(EDEPOT), "--json", "sip", "create", str(path), "--split", str(out)])
    made = sum(1 for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))
    shutil.rmtree(out, ignore_errors=True)
    return seconds, rss, made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small-mb", type=int, default=20)
    parser.add_argument("--large-mb", type=int, default=100)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    peaks = {}
    for megabytes in (args.small_mb, args.large_mb):
        path = WORK / f"sms-{megabytes}mb.xml"
        sms, mms = generate(path, megabytes)
        splits = [split_once(path) for _ in range(args.runs)]
        parses = [measure([str(EDEPOT), "parse", "--format", "sms-backup", str(path)]) for _ in range(args.runs)]
        split_s, split_rss = statistics.median(s[0] for s in splits), statistics.median(s[1] for s in splits)
        parse_s, parse_rss = statistics.median(p[0] for p in parses), statistics.median(p[1] for p in parses)
        peaks[megabytes] = split_rss
        print(f"{megabytes:>5} MB ({sms:,} sms, {mms:,} mms): split into {splits[0][2]} SIPs median {split_s:.1f} s, "
              f"peak RSS {split_rss / 2**20:.0f} MiB; parse median {parse_s:.1f} s, peak {parse_rss / 2**20:.0f} MiB; "
              f"split/parse {split_s / parse_s:.1f}x time, {split_rss / parse_rss:.2f}x memory")
    added = (peaks[args.large_mb] - peaks[args.small_mb]) / 2**20
    print(f"{args.large_mb / args.small_mb:.0f}x larger export adds {added:.0f} MiB to the split's peak RSS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
