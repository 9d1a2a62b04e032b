"""Ingest (OAIS): a SIP becomes an AIP on every storage location, recorded in the catalogue.

This function is the whole flow; each stage is in ingest/stages.py and leaves its PREMIS events.
A crash at any point leaves no AIP in the catalogue; a re-run of the same SIP finishes the job
(the AIP identifier is derived from the SIP, and stores replace leftovers of an interrupted run).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingest import stages
from ingest.job import IngestJob, StageListener
from kernel.config import Config
from preservation.catalogue import open_catalogue
from preservation.storage import open_locations


@dataclass(frozen=True)
class IngestResult:
    """The AIP an ingest made and where its replicas are."""

    aip_id: str
    record_id: str
    title: str
    locations: tuple[Path, ...]
    files: int
    bytes: int
    events: int

    def to_dict(self) -> dict[str, object]:
        return {
            "aip_id": self.aip_id,
            "record_id": self.record_id,
            "title": self.title,
            "locations": [str(p) for p in self.locations],
            "files": self.files,
            "bytes": self.bytes,
            "events": self.events,
        }


def ingest(source: Path, config: Config, on_stage: StageListener = lambda _stage: None) -> IngestResult:
    """Turn the SIP at `source` (folder, .zip, .7z or .tar) into an AIP; raises before storing on any problem."""
    job = IngestJob(config, on_stage=on_stage)
    catalogue = open_catalogue(config.catalogue_url)
    locations = open_locations(config.storage_locations)
    try:
        with job.staging() as staging:
            sip = stages.receive(source, staging, job)
            stages.refuse_duplicate(sip, catalogue, job)
            stages.validate(sip, job)
            aip = stages.AipBuilder(staging / "aip")
            conversation, record = stages.keep_originals(sip, aip, job)
            media = stages.unpack_export(aip, job)
            stages.identify(aip, job)
            stages.normalise(aip, conversation, media, record, job)
            sealed = stages.seal(aip, record, job)
            stored = stages.replicate(aip, sealed, locations, job)
            stages.record(catalogue, record, sealed, locations, stored, job)
    finally:
        catalogue.close()
    payload = [f for f in sealed if f.role != "tag"]
    return IngestResult(
        aip_id=job.aip_id,
        record_id=record.identifier,
        title=record.title,
        locations=tuple(stored),
        files=len(payload),
        bytes=sum(f.size for f in payload),
        events=len(job.events),
    )
