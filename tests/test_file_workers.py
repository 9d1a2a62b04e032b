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

from ingest import stages
from ingest.file_workers import MANY_FILES, FileWorkers, file_workers, run_action
from ingest.pipeline import ingest
from ingest.sip import create_sip
from kernel.config import Config
from kernel.errors import InvalidPackage
from preservation.identify import shared_identifier
from preservation.metadata.premis import PremisObject, premis_xml
from preservation.validate_formats import validate_format
from preservation.xsd import SchemaName
from tests.media_factory import make_media, pdf_of_objects, whatsapp_export

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


def test_the_premis_is_checked_against_its_schema_by_a_worker_as_here(shared: Path) -> None:
    """The ingest's PREMIS is validated in a worker while the manifests are written: the same problems as here."""
    objects = [PremisObject(identifier="data/original/a.txt", size=1, digests={"sha256": "0" * 64}, puid=None,
                            format_name=None, format_version=None, role="original", original_name="a.txt")]
    valid = premis_xml(objects, [], [])
    invalid = valid.replace(b"<size>1</size>", b"<size>een</size>")
    with file_workers(MANY_FILES) as workers:
        assert workers._processes is not None
        answers = [workers.check_xml(document, SchemaName.PREMIS, shared / "standards").result()
                   for document in (valid, invalid)]
    here = [FileWorkers(None).check_xml(document, SchemaName.PREMIS, shared / "standards").result()
            for document in (valid, invalid)]
    assert answers == here and answers[0] == [] and any("size" in problem for problem in answers[1])


def test_an_ingest_whose_premis_does_not_validate_is_refused_and_stores_nothing(
        config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: Path) -> None:
    export = whatsapp_export(tmp_path / "WhatsApp Chat - Schema.zip", {"00001-notitie.txt": b"notitie"}, "Schema")
    sip = create_sip([export], tmp_path / "sip", config).path
    written = stages.premis_xml
    monkeypatch.setattr(stages, "premis_xml", lambda *args: written(*args).replace(b"<size>", b"<size>x", 1))
    with pytest.raises(InvalidPackage, match="PREMIS edepot wrote does not validate"):
        ingest(sip, config)
    assert not [bag for bag in (config.data_dir / "storage").rglob("bagit.txt")]
