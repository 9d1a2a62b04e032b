"""Benchmark: `edepot parse` of SMS Backup & Restore call logs (`calls-*.xml`) of 50 MB and 500 MB, peak memory
and throughput.

Target (BENCHMARKS.md, "SMS Backup & Restore XML of any size"): peak RSS flat, a 10× larger file adds
< 150 MB. BENCHMARKS.md names no peer for this format, so the ratio printed is edepot against itself: the
large file's peak RSS minus the small file's. A call log is the hard case for memory: every ~250 bytes
are a message (2 million calls in 500 MB). Each file is generated once (benchmarks/.work/calls/,
git-ignored) as the app writes it: 300 numbers, every call type, contact names with emoji as
surrogate-pair references, "null" strings. Each run is a fresh `edepot parse FILE > /dev/null` process;
peak RSS is the child's own (wait4 ru_maxrss). Medians of --runs runs.

    .venv/bin/python benchmarks/calls_bench.py [--runs 3] [--small-mb 50] [--large-mb 500]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work" / "calls"
EDEPOT = Path(sys.executable).with_name("edepot")
TARGET_ADDED_MB = 150


def generate(path: Path, megabytes: int, seed: int = 7) -> int:
    """Write a call log of about `megabytes` MB to `path` (kept between runs); the number of calls."""
    marker = path.with_suffix(".count")
    if path.is_file() and marker.is_file():
        return int(marker.read_text())
    rng = random.Random(seed)
    numbers = [(f"+31 6 {n:04d} {n * 7 % 10000:04d}", f"Contact {n} &#55357;&#56832;" if n % 5 == 0 else f"Contact {n}")
               for n in range(300)]
    target = megabytes * 1024 * 1024
    date = 1_600_000_000_000
    calls = written = 0
    tmp = path.with_suffix(".partial")
    with open(tmp, "w", encoding="utf-8", newline="\n") as out:
        out.write("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n")
        out.write('<calls count="0" backup_set="bench" backup_date="1700000000000" type="full">\n')
        while written < target:
            block = []
            for _ in range(1000):
                number, name = numbers[rng.randrange(len(numbers))]
                date += rng.randrange(1000, 900_000)
                kind = rng.choice((1, 1, 2, 2, 3, 4, 5, 6))
                duration = rng.randrange(1, 3600) if kind in (1, 2, 4) else 0
                block.append(
                    f'  <call number="{number}" duration="{duration}" date="{date}" type="{kind}" presentation="1" '
                    f'subscription_id="null" post_dial_digits="" subscription_component_name="null" '
                    f'readable_date="x" contact_name="{name}" />\n'
                )
                calls += 1
            chunk = "".join(block)
            out.write(chunk)
            written += len(chunk)
        out.write("</calls>\n")
    tmp.replace(path)
    marker.write_text(str(calls))
    return calls


def run_parse(path: Path) -> tuple[float, int]:
    """(seconds, peak RSS in bytes) of one `edepot parse` of `path` in a fresh process."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        process = subprocess.Popen([str(EDEPOT), "parse", "--format", "sms-backup-calls", str(path)], stdout=null)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"edepot parse {path.name} exited with {os.waitstatus_to_exitcode(status)}")
    return seconds, usage.ru_maxrss * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small-mb", type=int, default=50)
    parser.add_argument("--large-mb", type=int, default=500)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results = {}
    for megabytes in (args.small_mb, args.large_mb):
        path = WORK / f"calls-{megabytes}mb.xml"
        calls = generate(path, megabytes)
        runs = [run_parse(path) for _ in range(args.runs)]
        seconds = statistics.median(r[0] for r in runs)
        rss = statistics.median(r[1] for r in runs)
        size = path.stat().st_size
        results[megabytes] = rss
        print(
            f"{megabytes:>5} MB file ({size / 1e6:,.0f} MB, {calls:,} calls): median {seconds:.1f} s "
            f"({size / 1e6 / seconds:.1f} MB/s, {calls / seconds:,.0f} calls/s), peak RSS {rss / 2**20:.0f} MiB"
        )
    added = (results[args.large_mb] - results[args.small_mb]) / 2**20
    factor = args.large_mb / args.small_mb
    verdict = "meets" if added < TARGET_ADDED_MB else "MISSES"
    print(f"{factor:.0f}x larger file adds {added:.0f} MiB peak RSS (target < {TARGET_ADDED_MB} MiB): {verdict} the target")
    return 0 if added < TARGET_ADDED_MB else 1


if __name__ == "__main__":
    sys.exit(main())
