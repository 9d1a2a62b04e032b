"""Benchmark: fixity throughput of `edepot fixity run` against sha256sum and bagit-python, in one run.

The AIP (BENCHMARKS.md): 200 files of 10 MB plus 20,000 files of 4 KB (about 2.08 GB), stored in two
replicas, so each run reads about 4.2 GB. Peers over the same replicas, each a fresh process:
  - sha256sum over every file, one process and two processes (xargs -P2),
  - bagit-python 1.9.0 `Bag.validate(processes=2)` on each replica (it hashes sha256 and sha512, as we do).
Targets: edepot ≥ 1.5× bagit-python's throughput (BENCHMARKS.md) and ≥ 0.9× sha256sum's per core
(issue 7). Peak memory of each is printed too. Warm cache: every command runs once before counting.

    .venv/bin/python benchmarks/fixity_bench.py [--big 200] [--small 20000] [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work" / "fixity"
sys.path.insert(0, str(ROOT))


def build(data_dir: Path, big: int, small: int) -> tuple[str, int]:
    """An AIP with the wanted files, stored in both locations and catalogued; reused between runs."""
    from kernel.config import load_config
    from preservation.catalogue import open_catalogue

    marker = data_dir / f"built-{big}-{small}"
    config = load_config(data_dir)
    if marker.is_file():
        aip_id = marker.read_text().strip()
        catalogue = open_catalogue(config.catalogue_url)
        size = sum(f.size for f in catalogue.files(aip_id))
        catalogue.close()
        return aip_id, size
    shutil.rmtree(data_dir, ignore_errors=True)
    from preservation.aip import AipBuilder
    from preservation.catalogue import AipRecord, AipState, FileRecord, ReplicaRecord, ReplicaStatus
    from preservation.storage import open_locations

    aip_id = "b0000000-0000-4000-8000-000000000001"
    builder = AipBuilder(config.staging_dir / "bench")
    for n in range(big):
        builder.add_bytes(f"data/original/big/{n:04}.bin", os.urandom(10 << 20), "original")
    for n in range(small):
        builder.add_bytes(f"data/preservation/small/{n // 1000:02}/{n:05}.bin", os.urandom(4096), "preservation")
    sealed = builder.seal(builder.digest_payload(), {"External-Identifier": aip_id}, config.clock().date())
    locations = open_locations(config.storage_locations)
    stored = [loc.store_bag(builder.root, aip_id) for loc in locations]
    shutil.rmtree(builder.root)
    now = config.clock()
    catalogue = open_catalogue(config.catalogue_url)
    catalogue.record_ingest(
        AipRecord(aip_id, "bench", "BENCH", "fixity benchmark", now, AipState.STORED, 0, big + small),
        [ReplicaRecord(aip_id, loc.name, str(p), now, ReplicaStatus.INTACT) for loc, p in zip(locations, stored)],
        [FileRecord(aip_id, f.path, f.role, f.size, f.sha256, None, None, None) for f in sealed],
        [],
    )
    catalogue.close()
    marker.write_text(aip_id)
    return aip_id, sum(f.size for f in sealed)


def timed(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB, by GNU time) of one run of a command in a fresh process."""
    with tempfile.NamedTemporaryFile("r") as peak:
        start = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak.name, *command], check=True,
                       stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        return seconds, int(peak.read().split()[-1]) // 1024


def bagit_python() -> str:
    """A Python that has bagit 1.9.0: a venv of the benchmark's own."""
    venv = WORK.parent / "bagit-venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "bagit==1.9.0"], check=True)
    return str(venv / "bin" / "python")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--big", type=int, default=200)
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data_dir = WORK / "data"
    aip_id, size = build(data_dir, args.big, args.small)
    replicas = [data_dir / "storage" / f"location-{n}" / aip_id[:2] / aip_id for n in (1, 2)]
    total = 2 * size
    file_list = WORK / "files.txt"
    file_list.write_bytes(b"\0".join(str(p).encode() for r in replicas for p in sorted(r.rglob("*")) if p.is_file()))
    bagit_py = bagit_python()
    validate = "import bagit, sys\nfor r in sys.argv[1:]: bagit.Bag(r).validate(processes=2)\n"
    commands = {
        "edepot fixity run": [str(ROOT / ".venv/bin/edepot"), "--data-dir", str(data_dir), "--json", "fixity", "run",
                              "--aip", aip_id],
        "sha256sum (1 process)": ["sh", "-c", f"xargs -0 -n 1000 sha256sum < {file_list}"],
        "sha256sum (2 processes)": ["sh", "-c", f"xargs -0 -n 1000 -P 2 sha256sum < {file_list}"],
        "bagit-python validate(processes=2)": [bagit_py, "-c", validate, *map(str, replicas)],
    }
    results: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for name, command in commands.items():
        timed(command)  # warm-up: the page cache holds the files, as on a nightly run's second replica
    for _ in range(args.runs):
        for name, command in commands.items():
            results[name].append(timed(command))
    print(f"fixity benchmark: {args.big} × 10 MB + {args.small} × 4 KB per replica, 2 replicas, "
          f"{total / 1e9:.2f} GB read per run, median of {args.runs} runs, warm cache")
    rates = {name: total / statistics.median(s for s, _ in runs) / 1e6 for name, runs in results.items()}
    for name, runs in results.items():
        print(f"  {name:38} {statistics.median(s for s, _ in runs):7.2f} s  {rates[name]:8.0f} MB/s  "
              f"peak {max(m for _, m in runs):5} MB")
    ours = rates["edepot fixity run"]
    print(f"  edepot / bagit-python validate(processes=2): {ours / rates['bagit-python validate(processes=2)']:.2f}× "
          "(target ≥ 1.5×)")
    print(f"  edepot / sha256sum one process, per core:    {ours / 2 / rates['sha256sum (1 process)']:.2f}× "
          "(target ≥ 0.9×; edepot also computes sha512)")


if __name__ == "__main__":
    main()
