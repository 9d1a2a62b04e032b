"""Benchmark: ingest to an S3 location on loopback against ingest to a folder, and fixity over S3.

Targets (shared/BENCHMARKS.md): ingest to a folder and an S3 bucket ≤ 1.5× ingest to two folders; fixity over
S3 ≥ 300 MB/s. The S3 service is moto's server on 127.0.0.1, in this process's threads (the only S3 service
here); edepot reaches it over HTTP with boto3 as it would any other. The SIP is `ingest_bench`'s WhatsApp export
of photos, PDFs and voice notes; each ingest is `edepot ingest` in a fresh process and a fresh data directory,
with ClamAV reading a one-signature database (as in `ingest_bench`). Fixity is `edepot fixity run --all` on an
archive whose only location is the bucket, beside one whose only location is a folder.

    .venv/bin/python benchmarks/object_storage_bench.py [--megabytes 256] [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from ingest_bench import make_export, scan_database  # noqa: E402

REGION = "eu-west-1"


def edepot(data: Path, *args: str | Path) -> dict[str, object]:
    """`edepot ARGS --json` in a fresh process; its JSON."""
    done = subprocess.run([sys.executable, "-m", "edepot.cli", "--data-dir", str(data), "--json", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"edepot {' '.join(map(str, args))} failed: {done.stderr.strip()}")
    return dict(json.loads(done.stdout))


def timed(data: Path, *args: str | Path) -> float:
    started = time.perf_counter()
    edepot(data, *args)
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bucket_location(endpoint: str, client: object, name: str) -> str:
    """An edepot.toml location table for a new bucket `name`."""
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})  # type: ignore[attr-defined]
    return (f'[[storage.locations]]\nkind = "s3"\nid = "{name}"\nbucket = "{name}"\n'
            f'endpoint_url = "{endpoint}"\nregion = "{REGION}"\n')


def folder_location(root: Path, name: str) -> str:
    return f'[[storage.locations]]\nroot = "{root}"\nid = "{name}"\n'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import boto3
    from moto.server import ThreadedMotoServer

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", EDEPOT_USER="A. Rchivaris")
    port = free_port()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server's line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    work_root = ROOT / "benchmarks" / ".work"
    work_root.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix="object-storage-bench-", dir=work_root) as temp:
            folder = Path(temp)
            export = make_export(folder, args.megabytes)
            edepot(folder / "sip-data", "sip", "create", export, "--out", folder / "sip")
            scan = f'[scan]\ndatabase = "{scan_database(folder)}"\nrequired = true\n'

            def archive(name: str, locations: str) -> Path:
                data = folder / name
                data.mkdir()
                (data / "edepot.toml").write_text(scan + locations, encoding="utf-8")
                return data

            folders, buckets = [], []
            for run in range(args.runs):  # in turns, so both see the same machine
                data = archive(f"folders-{run}", folder_location(folder / f"a-{run}", "a")
                               + folder_location(folder / f"b-{run}", "b"))
                folders.append(timed(data, "ingest", folder / "sip"))
                shutil.rmtree(data)
                data = archive(f"bucket-{run}", folder_location(folder / f"c-{run}", "c")
                               + bucket_location(endpoint, client, f"ingest-{run}"))
                buckets.append(timed(data, "ingest", folder / "sip"))
                shutil.rmtree(data)
                print(f"run {run + 1}: two folders {folders[-1]:.1f} s, a folder and a bucket {buckets[-1]:.1f} s",
                      flush=True)

            rates = {}
            for name, location in (("folder", folder_location(folder / "fixity-folder", "f")),
                                   ("bucket", bucket_location(endpoint, client, "fixity"))):
                data = archive(f"fixity-{name}", location)
                edepot(data, "ingest", folder / "sip")
                runs = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    report = edepot(data, "fixity", "run", "--all")
                    seconds = time.perf_counter() - started
                    runs.append(int(report["bytes_checked"]) / seconds / 1e6)  # type: ignore[call-overload]
                rates[name] = statistics.median(runs)
    finally:
        server.stop()
    ingest_folders, ingest_bucket = statistics.median(folders), statistics.median(buckets)
    print(f"{args.megabytes} MiB SIP, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, medians of {args.runs}")
    print(f"ingest: two folders {ingest_folders:.1f} s; a folder and a bucket {ingest_bucket:.1f} s: "
          f"{ingest_bucket / ingest_folders:.2f}× (target ≤ 1.5×)")
    print(f"fixity run --all (a whole process, startup included): over a folder {rates['folder']:.0f} MB/s; "
          f"over the bucket {rates['bucket']:.0f} MB/s (target ≥ 300 MB/s)")


if __name__ == "__main__":
    main()
