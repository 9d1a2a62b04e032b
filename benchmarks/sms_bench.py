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

import base64
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from flat_memory import EDEPOT, median_parse, size_arguments, verdict  # noqa: E402,F401  (EDEPOT: split_bench imports it from here)

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work" / "sms"


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


def main() -> int:
    args = size_arguments(__doc__ or "", 100, 1000)
    WORK.mkdir(parents=True, exist_ok=True)
    results = {}
    for megabytes in (args.small_mb, args.large_mb):
        path = WORK / f"sms-{megabytes}mb.xml"
        sms, mms = generate(path, megabytes)
        seconds, rss = median_parse([path], "sms-backup", args.runs)
        size = path.stat().st_size
        results[megabytes] = rss
        print(
            f"{megabytes:>5} MB file ({size / 1e6:,.0f} MB, {sms:,} sms, {mms:,} mms): "
            f"median {seconds:.1f} s ({size / 1e6 / seconds:.0f} MB/s, {(sms + mms) / seconds:,.0f} messages/s), "
            f"peak RSS {rss / 2**20:.0f} MiB"
        )
    return verdict(results[args.small_mb], results[args.large_mb], args.large_mb / args.small_mb)


if __name__ == "__main__":
    sys.exit(main())
