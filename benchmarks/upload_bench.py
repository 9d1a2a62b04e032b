"""A resumable upload of a 2 GB SIP through `edepot serve` keeps the server's memory flat.

One command: it serves a fresh data directory, signs a records manager in, uploads a generated zip (one stored
member of zeros, the zip's own framing around it) over the transfers endpoint (tus 1.0, 8 MiB chunks, as the
screen's client sends them), samples the server process's RSS every 20 ms meanwhile, and prints the peak RSS
growth over the RSS before the upload and its ratio to the file's size; then the upload's MB/s beside a plain
local copy of the same file (shutil.copyfile) in the same run. The last chunk is checked and queued as an
ingest job (no worker runs: the job stays queued). Generated data is kept under benchmarks/.work/upload/.

    .venv/bin/python benchmarks/upload_bench.py [--megabytes 2048] [--chunk-mib 8]
"""
from __future__ import annotations

import argparse
import base64
import shutil
import sys
import threading
import time
import zipfile
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.web_server import http_session, register, register_admin, served  # noqa: E402

WORK = REPO / "benchmarks" / ".work" / "upload"
BLOCK = 8 * 1024 * 1024


def make_sip(path: Path, size: int) -> Path:
    """A zip of about `size` bytes: one stored member of zeros (kept and reused when it is there)."""
    if path.is_file() and abs(path.stat().st_size - size) < 1024 * 1024:
        return path
    zeros = bytes(BLOCK)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive, \
            archive.open("sip/data/original/zeros.bin", "w", force_zip64=True) as member:
        for start in range(0, size, BLOCK):
            member.write(zeros[:min(BLOCK, size - start)])
    return path


class RssSampler(threading.Thread):
    """The peak RSS of a process, sampled every 20 ms until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.stopped = psutil.Process(pid), 0, threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)


def upload(session: object, url: str, sip: Path, chunk: int) -> tuple[float, str]:
    """Seconds to upload `sip` in chunks of `chunk` bytes, and the job it was queued as."""
    headers = {"Tus-Resumable": "1.0.0"}
    metadata = f"filename {base64.b64encode(sip.name.encode()).decode()}"
    start = time.perf_counter()
    created = session.post(f"{url}/transfers/uploads/", timeout=60,  # type: ignore[attr-defined]
                           headers={**headers, "Upload-Length": str(sip.stat().st_size), "Upload-Metadata": metadata})
    assert created.status_code == 201, created.text
    location, offset, job = created.headers["Location"], 0, ""
    with sip.open("rb") as source:
        while offset < sip.stat().st_size:
            answer = session.patch(location, data=source.read(chunk), timeout=600,  # type: ignore[attr-defined]
                                   headers={**headers, "Upload-Offset": str(offset),
                                            "Content-Type": "application/offset+octet-stream"})
            assert answer.status_code == 204, answer.text
            offset, job = int(answer.headers["Upload-Offset"]), answer.headers.get("Edepot-Job", "")
    return time.perf_counter() - start, job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=2048)
    parser.add_argument("--chunk-mib", type=int, default=8)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    size = args.megabytes * 1024 * 1024
    sip = make_sip(WORK / f"sip-{args.megabytes}mb.zip", size)
    data = WORK / "data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    (data / "edepot.toml").write_text(f"[scan]\nrequired = false\n[transfers]\nmax_bytes = {size * 2}\n",
                                      encoding="utf-8")
    people = register_admin(data)
    register(data, people, "R. Upload", "records-manager")
    with served(data) as server:
        session = http_session(server, "R. Upload")
        session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
        warm = WORK / "warm.zip"
        make_sip(warm, 1024 * 1024)
        upload(session, server.url, warm, args.chunk_mib * 1024 * 1024)  # every module the upload needs loaded
        before = psutil.Process(server.process.pid).memory_info().rss
        sampler = RssSampler(server.process.pid)
        sampler.start()
        seconds, job = upload(session, server.url, sip, args.chunk_mib * 1024 * 1024)
        sampler.stopped.set()
        sampler.join()
    copy = WORK / "copy.zip"
    start = time.perf_counter()
    shutil.copyfile(sip, copy)
    copy_seconds = time.perf_counter() - start
    copy.unlink()
    shutil.rmtree(data, ignore_errors=True)
    mb = sip.stat().st_size / 1e6
    growth = max(0, sampler.peak - before)
    print(f"upload of {mb:,.0f} MB in {args.chunk_mib} MiB chunks: {seconds:.1f} s, {mb / seconds:,.0f} MB/s "
          f"(queued as {job or 'nothing!'})")
    print(f"plain local copy of the same file: {copy_seconds:.1f} s, {mb / copy_seconds:,.0f} MB/s; "
          f"upload/copy throughput ratio {copy_seconds / seconds:.2f}")
    print(f"server RSS before {before / 1e6:.1f} MB, peak during {sampler.peak / 1e6:.1f} MB: growth "
          f"{growth / 1e6:.1f} MB, {growth / sip.stat().st_size:.4f} of the file's size")


if __name__ == "__main__":
    main()
