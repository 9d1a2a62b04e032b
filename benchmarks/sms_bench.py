"""Benchmark: `edepot parse` on SMS Backup & Restore XML of 100 MB and 1 GB, peak memory and throughput.

Target (BENCHMARKS.md): "peak RSS flat: a 10× larger file adds < 150 MB". BENCHMARKS.md names no peer
for this format, so the ratio printed is edepot against itself: the 1 GB file's peak RSS minus the
100 MB file's. Each file is generated once (benchmarks/.work/sms/, git-ignored) as a phone writes it:
threads with many SMS (bodies with `&#10;` and emoji as surrogate-pair references), and every 100 SMS an
MMS with a base64 photo of 60 KB. Each run is a fresh `edepot parse FILE > /dev/null` process; peak RSS is
the child's own (wait4 ru_maxrss). Medians of --runs runs.

    .venv/bin/python benchmarks/sms_bench.py [--runs 3] [--small-mb 100] [--large-mb 1000]
"""
from __future__ import annotations

import argparse
import base64
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work" / "sms"
EDEPOT = Path(sys.executable).with_name("edepot")
TARGET_ADDED_MB = 150


def generate(path: Path, megabytes: int, seed: int = 4) -> tuple[int, int]:
    """Write a backup of about `megabytes` MB to `path` (kept between runs); (sms, mms) written."""
    marker = path.with_suffix(".counts")
    if path.is_file() and marker.is_file():
        sms, mms = (int(v) for v in marker.read_text().split())
        return sms, mms
    rng = random.Random(seed)
    photo = base64.b64encode(rng.randbytes(60 * 1024)).decode()
    contacts = [(f"+3161{n:07d}", f"Contact {n}") for n in range(200)]
    words = "raad college wethouder besluit agenda vergadering morgen vandaag graag dank akkoord".split()
    target = megabytes * 1024 * 1024
    date = 1_600_000_000_000
    sms = mms = 0
    tmp = path.with_suffix(".partial")
    with open(tmp, "w", encoding="utf-8", newline="\n") as out:
        out.write("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n")
        out.write('<smses count="0" backup_set="bench" backup_date="1700000000000" type="full">\n')
        written = 0
        while written < target:
            block = []
            for _ in range(100):
                address, name = contacts[rng.randrange(len(contacts))]
                date += rng.randrange(1000, 600_000)
                body = " ".join(rng.choice(words) for _ in range(rng.randrange(3, 30)))
                if rng.random() < 0.2:
                    body += " &#55357;&#56832;"
                if rng.random() < 0.1:
                    body += "&#10;" + body
                block.append(
                    f'  <sms protocol="0" address="{address}" date="{date}" type="{rng.choice((1, 2))}" subject="null" '
                    f'body="{body}" toa="null" sc_toa="null" service_center="null" read="1" status="-1" locked="0" '
                    f'date_sent="0" sub_id="-1" readable_date="x" contact_name="{name}" />\n'
                )
                sms += 1
            address, name = contacts[rng.randrange(len(contacts))]
            block.append(
                f'  <mms date="{date}" ct_t="application/vnd.wap.multipart.related" msg_box="1" address="{address}" '
                f'contact_name="{name}" readable_date="x">\n    <parts>\n'
                f'      <part seq="0" ct="image/jpeg" name="IMG_{mms:06d}.jpg" cl="IMG_{mms:06d}.jpg" data="{photo}" />\n'
                f'      <part seq="0" ct="text/plain" name="null" text="foto" />\n    </parts>\n'
                f'    <addrs><addr address="{address}" type="137" charset="106" /></addrs>\n  </mms>\n'
            )
            mms += 1
            chunk = "".join(block)
            out.write(chunk)
            written += len(chunk)
        out.write("</smses>\n")
    tmp.replace(path)
    marker.write_text(f"{sms} {mms}")
    return sms, mms


def run_parse(path: Path) -> tuple[float, int]:
    """(seconds, peak RSS in bytes) of one `edepot parse` of `path` in a fresh process."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        process = subprocess.Popen([str(EDEPOT), "parse", "--format", "sms-backup", str(path)], stdout=null)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"edepot parse {path.name} exited with {process.returncode}")
    return seconds, usage.ru_maxrss * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small-mb", type=int, default=100)
    parser.add_argument("--large-mb", type=int, default=1000)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results = {}
    for megabytes in (args.small_mb, args.large_mb):
        path = WORK / f"sms-{megabytes}mb.xml"
        sms, mms = generate(path, megabytes)
        runs = [run_parse(path) for _ in range(args.runs)]
        seconds = statistics.median(r[0] for r in runs)
        rss = statistics.median(r[1] for r in runs)
        size = path.stat().st_size
        results[megabytes] = rss
        print(
            f"{megabytes:>5} MB file ({size / 1e6:,.0f} MB, {sms:,} sms, {mms:,} mms): "
            f"median {seconds:.1f} s ({size / 1e6 / seconds:.0f} MB/s, {(sms + mms) / seconds:,.0f} messages/s), "
            f"peak RSS {rss / 2**20:.0f} MiB"
        )
    added = (results[args.large_mb] - results[args.small_mb]) / 2**20
    factor = args.large_mb / args.small_mb
    verdict = "meets" if added < TARGET_ADDED_MB else "MISSES"
    print(f"{factor:.0f}x larger file adds {added:.0f} MiB peak RSS (target < {TARGET_ADDED_MB} MiB): {verdict} the target")
    return 0 if added < TARGET_ADDED_MB else 1


if __name__ == "__main__":
    sys.exit(main())
