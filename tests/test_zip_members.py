"""An export zip of thousands of members is unpacked whole, byte-identical, reading the zip once (its central
directory is not read again for every member, which made unpacking quadratic). The time it takes at 2,500 to
20,000 members is measured by benchmarks/zip_members_bench.py, not here."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from ingest import stages
from ingest.export import open_export
from ingest.job import IngestJob
from ingest.sources import parse_export
from kernel.config import Config
from preservation.aip import MEDIA, ORIGINAL, AipBuilder
from tests.media_factory import whatsapp_export

MEMBERS = 3000
_opened: list[str] = []  # every path opened while a test listens (audit events cannot be unsubscribed)
_listening: list[bool] = []


def _count_opens(event: str, args: tuple[object, ...]) -> None:
    if _listening and event == "open" and isinstance(args[0], (str, Path)):
        _opened.append(str(args[0]))


sys.addaudithook(_count_opens)


def test_a_zip_of_thousands_of_members_is_unpacked_whole_reading_the_zip_once(config: Config, tmp_path: Path) -> None:
    attachments = {f"{n:08d}-DOC-{n}.txt": f"bijlage {n}\n".encode() * (n % 7 + 1) for n in range(1, MEMBERS + 1)}
    export = whatsapp_export(tmp_path / "WhatsApp Chat - Veel.zip", attachments, "Veel")
    aip = AipBuilder(tmp_path / "aip")
    aip.add_copy(f"{ORIGINAL}/{export.name}", export, "original")
    conversation = parse_export([export])  # names the zip as the export's file: unpacked as the export
    job = IngestJob(config)
    _opened.clear()
    _listening.append(True)
    try:
        media = stages.unpack_export(aip, conversation, job)
    finally:
        _listening.clear()
    assert sum(1 for path in _opened if Path(path).name == export.name) <= 10  # a few times, not once per member
    for name, data in attachments.items():
        relative = f"{MEDIA}/{name}"
        assert aip.path(relative).read_bytes() == data and media[name] == aip.path(relative)
        assert aip.roles[relative] == "preservation" and job.unpacked_from[relative] == f"{ORIGINAL}/{export.name}"
        assert aip.digest(relative).sha256 == hashlib.sha256(data).hexdigest()
    (event,) = [e for e in job.events if e.type == "unpacking"]
    assert event.outcome_detail == f"{MEMBERS + 1} files" and len(event.outcome_objects) == MEMBERS + 1


def test_members_read_from_many_threads_and_after_closing_are_whole(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    attachments = {f"{n:05d}-bijlage.bin": hashlib.sha256(str(n).encode()).digest() * 4000 for n in range(64)}
    with open_export([whatsapp_export(tmp_path / "WhatsApp Chat - Draden.zip", attachments)]) as export:
        with ThreadPoolExecutor(max_workers=8) as pool:
            read = dict(zip(attachments, pool.map(export.read, attachments)))
    assert read == attachments
    assert export.read("00003-bijlage.bin") == attachments["00003-bijlage.bin"]  # reopened after close
