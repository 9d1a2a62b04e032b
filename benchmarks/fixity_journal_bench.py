"""Benchmark: what the event journal costs a fixity run over many small AIPs.

Every catalogue transaction is first written to every storage location as a journal segment (an fsynced file and
its folder), so a nightly run over many small AIPs pays for each segment. The archive: `--aips` AIPs (default 500)
of three 4 KB files each, in two locations. `edepot fixity run --all` runs as a fresh process, once to warm the
cache, then `--runs` times; printed are the median seconds, milliseconds per AIP and journal segments written per
AIP (per location); with `--against`, the same for another checkout, run in turns with this one.

    .venv/bin/python benchmarks/fixity_journal_bench.py [--aips 500] [--runs 3] [--against ../other-checkout]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work" / "fixity-journal"
sys.path.insert(0, str(ROOT))


def build(data_dir: Path, aips: int) -> None:
    """The archive, made once and reused: each AIP stored in both locations and recorded as ingest records it."""
    marker = data_dir / f"built-{aips}"
    if marker.is_file():
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    from kernel.config import load_config
    from preservation.aip import AipBuilder
    from preservation.catalogue import AipRecord, AipState, FileRecord, ReplicaRecord, ReplicaStatus, open_catalogue
    from preservation.storage import configured_locations, register_locations

    config = load_config(data_dir)
    catalogue = open_catalogue(config.catalogue_url)
    locations = configured_locations(config, catalogue)
    register_locations(locations, catalogue, now=config.clock())
    for n in range(aips):
        aip_id = str(uuid.UUID(int=n + 1))
        builder = AipBuilder(config.staging_dir / f"bench-{aip_id}")
        for k in range(3):
            builder.add_bytes(f"data/original/{k}.bin", os.urandom(4096), "original")
        sealed = builder.seal(builder.digest_payload(), {"External-Identifier": aip_id}, config.clock().date())
        stored = [location.store_bag(builder.root, aip_id) for location in locations]
        shutil.rmtree(builder.root)
        now = config.clock()
        catalogue.record_ingest(
            AipRecord(aip_id, aip_id, f"BENCH-{n}", "fixity journal benchmark", now, AipState.STORED, 3 * 4096, 3),
            [ReplicaRecord(aip_id, loc.id, str(p), now, ReplicaStatus.INTACT) for loc, p in zip(locations, stored)],
            [FileRecord(aip_id, f.path, f.role, f.size, f.sha256, None, None, None) for f in sealed], [])
    catalogue.close()
    marker.write_text("")


def segments(data_dir: Path) -> int:
    """The journal segments of the first location."""
    return sum(1 for _ in (data_dir / "storage" / "location-1" / "journal").rglob("*.jsonl"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aips", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout of edepot, run in turns over the same archive")
    args = parser.parse_args()
    data_dir = WORK / "data"
    build(data_dir, args.aips)
    command = [sys.executable, "-m", "edepot", "--data-dir", str(data_dir), "--user", "Benchmark", "--json", "fixity",
               "run", "--all"]
    checkouts = [ROOT] + ([args.against.resolve()] if args.against else [])
    seconds: dict[Path, list[float]] = {c: [] for c in checkouts}
    written: dict[Path, list[int]] = {c: [] for c in checkouts}
    for run in range(args.runs + 1):  # the first round warms the cache
        for checkout in checkouts:
            before, start = segments(data_dir), time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=checkout,
                           env={**os.environ, "PYTHONPATH": str(checkout)})  # that checkout's edepot
            if run:
                seconds[checkout].append(time.perf_counter() - start)
                written[checkout].append(segments(data_dir) - before)
    print(f"fixity over {args.aips} AIPs of 3 × 4 KB in 2 locations, median of {args.runs} runs, warm cache")
    for checkout in checkouts:
        median = statistics.median(seconds[checkout])
        print(f"  {str(checkout):40} {median:7.2f} s  {1000 * median / args.aips:6.1f} ms per AIP  "
              f"{statistics.median(written[checkout]) / args.aips:4.1f} journal segment(s) per AIP per location")
    if args.against:
        print(f"  this checkout / the other: {statistics.median(seconds[ROOT]) / statistics.median(seconds[checkouts[1]]):.2f}")


if __name__ == "__main__":
    main()
