"""Benchmark: `edepot parse` of an SMS Backup & Restore folder holding both files the app writes (`sms-*.xml`
and `calls-*.xml`, read together: each number's calls merged into its SMS thread), 100 MB and 1 GB in all;
peak memory and throughput.

Target (BENCHMARKS.md, "SMS Backup & Restore XML of any size"): peak RSS flat, a 10× larger input adds
< 150 MB. No peer reads this folder, so the figure printed is edepot against itself: the large folder's
peak RSS minus the small one's. Each folder is generated once (benchmarks/.work/phone/, git-ignored): half
its bytes an SMS backup as sms_bench.py writes it (200 contacts, an MMS with a 60 KB photo every 100 SMS),
half a call log as calls_bench.py writes it, whose numbers are the same 200 contacts (written with spaces,
as a call log does) and 100 numbers only called. Each run is a fresh `edepot parse FOLDER > /dev/null`
process; peak RSS is the child's own (wait4 ru_maxrss). Medians of --runs runs.

    .venv/bin/python benchmarks/phone_bench.py [--runs 3] [--small-mb 100] [--large-mb 1000]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import calls_bench  # noqa: E402
import sms_bench  # noqa: E402
from flat_memory import median_parse, size_arguments, verdict  # noqa: E402

WORK = Path(__file__).resolve().parent / ".work" / "phone"
CALLED = [(f"+31 61 {n:07d}", f"Contact {n}") for n in range(200)]  # sms_bench's contacts, as a call log writes them
CALLED += [(f"+31 20 {n:07d}", f"Loket {n} &#55357;&#56832;") for n in range(100)]  # numbers only called


def generate(megabytes: int) -> tuple[Path, int, int, int]:
    """The folder of about `megabytes` MB (kept between runs) and its (sms, mms, calls)."""
    folder = WORK / f"phone-{megabytes}mb"
    folder.mkdir(parents=True, exist_ok=True)
    sms, mms = sms_bench.generate(folder / f"sms-{megabytes}mb.xml", megabytes // 2)
    calls = calls_bench.generate(folder / f"calls-{megabytes}mb.xml", megabytes - megabytes // 2, numbers=CALLED)
    return folder, sms, mms, calls


def main() -> int:
    args = size_arguments(__doc__ or "", 100, 1000)
    results = {}
    for megabytes in (args.small_mb, args.large_mb):
        folder, sms, mms, calls = generate(megabytes)
        seconds, rss = median_parse([folder], None, args.runs)  # detected: sms-backup, reading both files
        size = sum(p.stat().st_size for p in folder.glob("*.xml"))
        messages = sms + mms + calls
        results[megabytes] = rss
        print(
            f"{megabytes:>5} MB folder ({size / 1e6:,.0f} MB: {sms:,} sms, {mms:,} mms, {calls:,} calls): "
            f"median {seconds:.1f} s ({size / 1e6 / seconds:.1f} MB/s, {messages / seconds:,.0f} messages/s), "
            f"peak RSS {rss / 2**20:.0f} MiB"
        )
    return verdict(results[args.small_mb], results[args.large_mb], args.large_mb / args.small_mb, "folder")


if __name__ == "__main__":
    sys.exit(main())
