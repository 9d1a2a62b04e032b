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

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from flat_memory import median_parse, size_arguments, verdict  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work" / "calls"


def generate(path: Path, megabytes: int, seed: int = 7, numbers: list[tuple[str, str]] | None = None) -> int:
    """Write a call log of about `megabytes` MB to `path` (kept between runs); the number of calls. `numbers`
    (number as written, contact name as escaped XML) default to 300 of this benchmark's own."""
    marker = path.with_suffix(".count")
    if path.is_file() and marker.is_file():
        return int(marker.read_text())
    rng = random.Random(seed)
    numbers = numbers or [
        (f"+31 6 {n:04d} {n * 7 % 10000:04d}", f"Contact {n} &#55357;&#56832;" if n % 5 == 0 else f"Contact {n}")
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


def main() -> int:
    args = size_arguments(__doc__ or "", 50, 500)
    WORK.mkdir(parents=True, exist_ok=True)
    results = {}
    for megabytes in (args.small_mb, args.large_mb):
        path = WORK / f"calls-{megabytes}mb.xml"
        calls = generate(path, megabytes)
        seconds, rss = median_parse([path], "sms-backup-calls", args.runs)
        size = path.stat().st_size
        results[megabytes] = rss
        print(
            f"{megabytes:>5} MB file ({size / 1e6:,.0f} MB, {calls:,} calls): median {seconds:.1f} s "
            f"({size / 1e6 / seconds:.1f} MB/s, {calls / seconds:,.0f} calls/s), peak RSS {rss / 2**20:.0f} MiB"
        )
    return verdict(results[args.small_mb], results[args.large_mb], args.large_mb / args.small_mb)


if __name__ == "__main__":
    sys.exit(main())
