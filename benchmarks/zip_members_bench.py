"""Benchmark: `edepot ingest` of SIPs made from WhatsApp export zips of 2,500, 5,000, 10,000 and 20,000 members.

Target (hardening): ingest time grows linearly with the number of members in the export zip: doubling the members
at most 2.2× the time (10k/5k and 20k/10k), and a 10,000-member export ingests in at most 20 s. Each export is an
iOS WhatsApp zip of small real files (alternately a JPEG photo and a one-page PDF, each named in a message), so
the per-file stages (unpack, virus check, identification, validation, rendering, storage) dominate, not bytes.
The SIP is made once per size with `edepot sip create` (not timed); each ingest is the command a user runs, a
fresh process on a fresh data directory, with ClamAV's clamscan reading edepot's test database (one signature, as
benchmarks/ingest_bench.py does: every file is still read by ClamAV, but the ~10 s load of freshclam's full
database, nothing with a running clamd, is left out). The runs' data directories are removed only after the
last run, and a run starts at least six minutes after the last removal (the bench waits): when ext4 makes a file
it skips the inodes freed in the last minute, or six while their inode table block is being written to, so ten
thousand files deleted just before a run make each of its creates search past them, and its unpacking takes two
to three times as long. An e-Depot does not delete while it ingests: the staging folder's files live on as the first location's
links. Printed per size: the median wall time, seconds per 1,000
members, the processor seconds the ingest and its tools used (a shared machine stretches the wall time, less
so this), and the unpack stage's seconds (from the ingest report); then the ratios and the verdict.

    .venv/bin/python benchmarks/zip_members_bench.py [--sizes 2500 5000 10000 20000] [--runs 1]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work" / "zip-members"
sys.path.insert(0, str(ROOT))
from preservation.scan import write_test_database  # noqa: E402
from tests.media_factory import pdf_of_objects  # noqa: E402  (the project's maker of real media files)

MAX_RATIO = 2.2
TEN_THOUSAND_SECONDS = 20.0


def photo(n: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (n % 256, n // 256 % 256, 90)).save(out, "JPEG", quality=85)
    return out.getvalue()


def document(n: int) -> bytes:
    text = f"BT /F1 12 Tf 20 100 Td (Stuk {n}) Tj ET".encode()
    return pdf_of_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def make_export(path: Path, members: int) -> Path:
    """An iOS WhatsApp export (Dutch) of `members` files plus _chat.txt, one message per attachment."""
    lines = ["[14-03-2024 09:58:12] Benchmark: \u200eWethouder Jansen heeft deze groep aangemaakt"]
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        files = []
        for n in range(1, members + 1):
            name, data = (f"{n:08d}-PHOTO-2024-03-14.jpg", photo(n)) if n % 2 else (f"{n:08d}-Stuk {n}.pdf",
                                                                                   document(n))
            files.append((name, data))
            second = 10 * 3600 + n
            lines.append(f"\u200e[{14 + second // 86400:02d}-03-2024 {second // 3600 % 24:02d}:{second // 60 % 60:02d}:"
                         f"{second % 60:02d}] Petra de Vries: \u200e<bijgevoegd: {name}>")
        archive.writestr("_chat.txt", "\n".join(lines) + "\n")
        for name, data in files:
            archive.writestr(name, data)
    partial.rename(path)
    return path


def edepot(data: Path, *args: str | Path) -> None:
    subprocess.run([sys.executable, "-m", "edepot.cli", "--data-dir", str(data), "--json", *map(str, args)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def sip_of(members: int) -> Path:
    """The SIP of a `members`-member export, made once and kept under benchmarks/.work/."""
    sip = WORK / f"sip-{members}"
    if not (sip / "bagit.txt").is_file():
        shutil.rmtree(sip, ignore_errors=True)
        export = WORK / f"WhatsApp Chat - Benchmark {members}.zip"
        if not export.is_file():
            make_export(export, members)
        edepot(WORK / "sip-data", "sip", "create", export, "--out", sip)
    return sip


def ingest_once(sip: Path, database: Path, data: Path) -> tuple[float, float, dict[str, float]]:
    """Wall seconds and processor seconds (user + system, with the tools it ran) of one `edepot ingest` on the
    new data directory `data` (kept), and the report's seconds per stage."""
    data.mkdir(parents=True)
    (data / "edepot.toml").write_text(f'[scan]\ndatabase = "{database}"\n\n[operator]\nname = "Benchmark"\n',
                                      encoding="utf-8")
    started = time.perf_counter()
    with open(os.devnull, "wb") as null:
        process = subprocess.Popen([sys.executable, "-m", "edepot.cli", "--data-dir", str(data), "--json", "ingest",
                                    str(sip)], cwd=ROOT, stdout=null)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"edepot ingest {sip} exited with {os.waitstatus_to_exitcode(status)}")
    report = json.loads(next((data / "reports").glob("*.json")).read_text(encoding="utf-8"))
    return seconds, usage.ru_utime + usage.ru_stime, report.get("stage_seconds", {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2500, 5000, 10000, 20000])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    database = write_test_database(WORK / "clamav")
    runs_folder = WORK / "runs"
    if runs_folder.exists():  # an interrupted bench's
        remove(runs_folder)
    settle()
    medians: dict[int, float] = {}
    processors: dict[int, float] = {}
    for members in args.sizes:
        sip = sip_of(members)
        runs = [ingest_once(sip, database, runs_folder / f"{members}-{n}") for n in range(args.runs)]
        medians[members] = statistics.median(seconds for seconds, _, _ in runs)
        processor = processors[members] = statistics.median(cpu for _, cpu, _ in runs)
        stages = runs[-1][2]
        slowest = ", ".join(f"{name} {s:.1f}" for name, s in sorted(stages.items(), key=lambda i: -i[1])[:4])
        print(f"{members:>6} members: ingest {medians[members]:.1f} s ({processor:.1f} s of processor), "
              f"{medians[members] / members * 1000:.2f} s per 1,000 members; unpack export "
              f"{stages.get('unpack export', 0.0):.2f} s; slowest stages (s): {slowest}", flush=True)
    verdicts = []
    for small, large in zip(args.sizes, args.sizes[1:]):
        ratio = medians[large] / medians[small]
        ok = ratio <= MAX_RATIO * large / small / 2
        verdicts.append(ok)
        print(f"ratio {large / 1000:g}k/{small / 1000:g}k: {ratio:.2f} "
              f"({'meets' if ok else 'MISSES'} ≤ {MAX_RATIO * large / small / 2:.2f})")
    if 10000 in medians:
        ok = medians[10000] <= TEN_THOUSAND_SECONDS
        verdicts.append(ok)
        cores = os.cpu_count() or 1
        print(f"10,000 members in {medians[10000]:.1f} s ({'meets' if ok else 'MISSES'} ≤ {TEN_THOUSAND_SECONDS:.0f} s); "
              f"{processors[10000]:.1f} s of processor, where {TEN_THOUSAND_SECONDS:.0f} s on {cores} cores allows "
              f"at most {TEN_THOUSAND_SECONDS * cores:.0f}")
    print("verdict:", "meets every target" if all(verdicts) else "MISSES a target")
    remove(runs_folder)


REMOVED = WORK / "runs-removed-at"
FORGOTTEN_AFTER = 365.0  # seconds: ext4's RECENTCY_MIN + RECENTCY_DIRTY (60 + 300), and a little


def remove(folder: Path) -> None:
    """Remove the runs' data directories, write the freed inodes out and note when."""
    shutil.rmtree(folder)
    os.sync()
    REMOVED.write_text(str(time.time()), encoding="utf-8")


def settle() -> None:
    """Wait until ext4 no longer holds the inodes the last removal freed as recently deleted."""
    try:
        left = float(REMOVED.read_text(encoding="utf-8")) + FORGOTTEN_AFTER - time.time()
    except (OSError, ValueError):
        return
    if left > 0:
        print(f"waiting {left:.0f} s until the inodes of the last removal are no longer recent", flush=True)
        time.sleep(left)


if __name__ == "__main__":
    main()
