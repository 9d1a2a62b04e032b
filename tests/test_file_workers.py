"""A SIP of many files is identified and validated in worker processes: the same answers, in order, and no worker
outlives an ingest that was killed (a worker holds the ingest's locks open too)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.file_workers import MANY_FILES, file_workers, run_action
from preservation.identify import shared_identifier
from preservation.validate_formats import validate_format
from tests.media_factory import make_media, pdf_of_objects

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: files are done in the ingest's process")


def test_workers_answer_as_this_process_would_in_the_order_asked(tmp_path: Path) -> None:
    media = make_media(tmp_path / "media")
    (tmp_path / "broken.pdf").write_bytes(pdf_of_objects([b"<< /Type /Catalog /Pages 2 0 R >>"])[:-40])
    paths = sorted([*media.values(), tmp_path / "broken.pdf"]) * 3
    here = [shared_identifier().identify(p) for p in paths]
    checks = [validate_format(p, found.puid, found.mime_type) for p, found in zip(paths, here)]
    with file_workers(MANY_FILES) as workers:
        assert workers._processes is not None
        assert list(workers.identify(paths)) == here
        assert list(workers.validate([(p, f.puid, f.mime_type) for p, f in zip(paths, here)])) == checks
    assert any(check is not None and not check.ok for check in checks)  # the broken PDF, found by a worker too


def test_workers_run_the_policys_actions_as_this_process_would(tmp_path: Path) -> None:
    pdf = tmp_path / "stuk.pdf"
    pdf.write_bytes(pdf_of_objects([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]))
    (tmp_path / "broken.pdf").write_bytes(pdf.read_bytes()[:-40])
    actions = [("pdf-keep", tmp_path / name, tmp_path / "derived" / name) for name in ("stuk.pdf", "broken.pdf")]
    with file_workers(MANY_FILES) as workers:
        assert workers._processes is not None
        assert list(workers.normalise(actions)) == [run_action(*action) for action in actions]


def test_a_killed_ingest_leaves_no_worker(tmp_path: Path) -> None:
    script = ("import os, sys, time\n"
              "from ingest.file_workers import MANY_FILES, file_workers\n"
              "with file_workers(MANY_FILES) as workers:\n"
              "    print(*workers._processes._processes, flush=True)\n"
              "    time.sleep(60)\n")
    ingest = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert ingest.stdout is not None
    workers = [int(pid) for pid in ingest.stdout.readline().split()]
    assert len(workers) == (os.cpu_count() or 1) and all(_alive(pid) for pid in workers)
    ingest.send_signal(signal.SIGKILL)
    ingest.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a worker the kernel ended stays a zombie until reaped, which is no worker
