"""Access (OAIS): a DIP of one AIP, for a researcher or Woo officer to open without edepot.

    <out>/conversation.pdf        the PDF/A-2b rendering
    <out>/conversation.json       the canonical conversation
    <out>/media/<files>           photos, voice notes, documents from the export
    <out>/original/<files>        the export exactly as received (byte-identical to SIP and AIP)
    <out>/INVENTARIS.txt          what each file is, its size and sha256, and the record it belongs to
    <out>/manifest-sha256.txt     sha256sum-compatible checksum list (`sha256sum -c manifest-sha256.txt`)

Every file is copied from a replica whose copy verifies against the catalogue's sha256; a damaged
replica is passed over, never delivered.
"""
from __future__ import annotations

import hashlib
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kernel.atomic import publish_directory
from kernel.config import Config
from kernel.errors import InputError, InvalidPackage
from kernel.version import EDEPOT_AGENT_ID
from preservation import aip as layout
from preservation.catalogue import FileRecord, open_catalogue
from preservation.metadata.premis import PremisEvent
from preservation.storage import open_locations

DIP_PLACES = {  # AIP folder or file → where it goes in the DIP
    layout.RENDERING_PDF: "conversation.pdf",
    layout.CONVERSATION_JSON: "conversation.json",
    layout.MEDIA + "/": "media/",
    layout.ORIGINAL + "/": "original/",
}


@dataclass(frozen=True)
class DipFile:
    path: str
    size: int
    sha256: str
    source: str  # the AIP file it was copied from


@dataclass(frozen=True)
class DipResult:
    dip_id: str
    aip_id: str
    path: Path
    files: tuple[DipFile, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "dip_id": self.dip_id,
            "aip_id": self.aip_id,
            "path": str(self.path),
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }


def dip_path_for(aip_file: str) -> str | None:
    """Where a file of the AIP goes in a DIP, or None when it is not delivered (metadata, tag files)."""
    for prefix, place in DIP_PLACES.items():
        if prefix.endswith("/") and aip_file.startswith(prefix):
            return place + aip_file[len(prefix):]
        if aip_file == prefix:
            return place
    return None


def create_dip(aip_id: str, out: Path, config: Config) -> DipResult:
    """Build the DIP of one AIP at `out` (which must not exist or be empty); it appears whole or not at all."""
    out = out.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} already exists and is not an empty folder")
    catalogue = open_catalogue(config.catalogue_url)
    try:
        record = catalogue.aip(aip_id)
        wanted = [(f, place) for f in catalogue.files(aip_id) if (place := dip_path_for(f.path))]
        staging = out.parent / f".{out.name}.{uuid.uuid4().hex}.partial"
        staging.mkdir(parents=True)
        try:
            files = [_copy_verified(f, staging / place, place, aip_id, config) for f, place in wanted]
            _write_inventory(staging, record.record_id, record.title, aip_id, files, config.clock())
            if out.exists():
                out.rmdir()
            publish_directory(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        dip_id = str(uuid.uuid4())
        catalogue.record_dip(dip_id, aip_id, out, config.clock())
        catalogue.add_events(aip_id, [_dissemination_event(dip_id, out, len(files), config)])
    finally:
        catalogue.close()
    return DipResult(dip_id, aip_id, out, tuple(files))


def _copy_verified(record: FileRecord, target: Path, place: str, aip_id: str, config: Config) -> DipFile:
    """Copy one AIP file from the first replica whose copy has the catalogued sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for location in open_locations(config.storage_locations):
        source = location.bag_path(aip_id) / record.path
        if not source.is_file():
            continue
        digest = hashlib.sha256()
        with open(source, "rb") as src, open(target, "wb") as dst:
            while block := src.read(1 << 20):
                digest.update(block)
                dst.write(block)
        if digest.hexdigest() == record.sha256:
            return DipFile(place, record.size, record.sha256, record.path)
    raise InvalidPackage(f"no replica holds an intact copy of {record.path} of AIP {aip_id}",
                         hint="run 'edepot fixity run' to see and repair the damage")


def _write_inventory(root: Path, record_id: str, title: str, aip_id: str, files: list[DipFile],
                     created: datetime) -> None:
    width = max((len(f.path) for f in files), default=10)
    lines = [
        "INVENTARIS",
        "",
        f"Record (identificatie): {record_id}",
        f"Titel:                  {title}",
        f"AIP:                    {aip_id}",
        f"Samengesteld op:        {created.isoformat()}",
        "",
        "conversation.pdf is de leesbare weergave (PDF/A-2b); conversation.json het gesprek als gegevens;",
        "original/ bevat de export precies zoals ontvangen; media/ de bestanden uit de export.",
        "Controleer de bestanden met: sha256sum -c manifest-sha256.txt",
        "",
        f"{'bestand'.ljust(width)}  {'bytes':>12}  sha256",
        *(f"{f.path.ljust(width)}  {f.size:>12}  {f.sha256}" for f in files),
        "",
    ]
    (root / "INVENTARIS.txt").write_text("\n".join(lines), encoding="utf-8")
    (root / "manifest-sha256.txt").write_text("".join(f"{f.sha256}  {f.path}\n" for f in files), encoding="utf-8")


def _dissemination_event(dip_id: str, out: Path, count: int, config: Config) -> PremisEvent:
    return PremisEvent(
        identifier=str(uuid.uuid4()),
        type="dissemination",
        date_time=config.clock(),
        detail=f"DIP {dip_id} created at {out}",
        outcome="success",
        outcome_detail=f"{count} files, each verified against its sha256 while copied",
        agents=(EDEPOT_AGENT_ID,),
        source_objects=(),
        outcome_objects=(),
    )
