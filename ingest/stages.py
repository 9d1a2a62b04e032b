"""The stages of ingest, each one preservation action that leaves its PREMIS events on the job.

Read `ingest/pipeline.py` for their order; each stage here takes the job and what the stage before
it produced, and returns what the next one needs.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ingest.export import open_export
from ingest.job import IngestJob
from ingest.sip import CONVERSATION_JSON as SIP_CONVERSATION_JSON
from ingest.sip import METADATA_DIR as SIP_METADATA_DIR
from ingest.sip import ORIGINAL_DIR as SIP_ORIGINAL_DIR
from ingest.sip_validate import validate_sip
from ingest.unpack import unpack_transfer
from kernel.errors import AlreadyIngested, InvalidPackage
from kernel.hashing import digest_file
from kernel.model import Conversation
from kernel.version import edepot_version
from preservation import aip as layout
from preservation.aip import AipBuilder, SealedFile
from preservation.catalogue import (
    AipRecord,
    AipState,
    FileRecord,
    ReplicaRecord,
    ReplicaStatus,
    SqliteCatalogue,
)
from preservation.identify import shared_identifier
from preservation.metadata.premis import PremisAgent, PremisObject, premis_xml
from preservation.normalise.conversation_pdf import RenderContext, render_conversation_pdf
from preservation.pdfa_check import check_pdfa
from preservation.storage import LocalDirectoryLocation
from preservation.xsd import SchemaName, validate_xml

MDTO = "{https://www.nationaalarchief.nl/mdto}"


@dataclass(frozen=True)
class RecordSummary:
    """What the SIP's MDTO informatieobject says of the record, as far as ingest needs it."""

    identifier: str
    title: str
    archiefvormer: str
    rows: tuple[tuple[str, str], ...]


def receive(source: Path, staging: Path, job: IngestJob) -> Path:
    """Unpack a transfer package (folder, .zip, .7z, .tar) safely into staging; returns the bag root."""
    job.on_stage("receive")
    bag = unpack_transfer(source, staging / "sip")
    if source.is_file():
        job.event("unpacking", f"transfer package {source.name} unpacked into staging", "no unsafe entries")
    return bag


def refuse_duplicate(sip: Path, catalogue: SqliteCatalogue, job: IngestJob) -> None:
    """Derive the AIP identifier from the SIP's payload manifest; refuse a SIP ingested before."""
    manifest = sip / "manifest-sha256.txt"
    lines = sorted(manifest.read_bytes().splitlines()) if manifest.is_file() else []
    job.set_sip_digest(hashlib.sha256(b"\n".join(lines)).hexdigest())
    existing = catalogue.aip_for_sip(job.sip_digest)
    if existing:
        raise AlreadyIngested(f"this SIP was ingested before as AIP {existing}")


def validate(sip: Path, job: IngestJob) -> None:
    """Bag, layout, conversation JSON and MDTO checks; an invalid SIP stops the ingest (exit 1)."""
    job.on_stage("validate")
    report = validate_sip(sip, job.config)
    outcome = "; ".join(f"{c.name}: {'ok' if c.ok else 'FAILED'}{' (skipped)' if c.skipped else ''}"
                        for c in report.checks)
    if not report.valid:
        raise InvalidPackage(f"the SIP at {sip} is not valid", report.problems)
    job.event("validation", "SIP checked: BagIt completeness and checksums, layout, conversation JSON, MDTO XSD",
              outcome)


def keep_originals(sip: Path, aip: AipBuilder, job: IngestJob) -> tuple[Conversation, RecordSummary]:
    """Copy the originals byte-identical, keep the SIP's metadata as received, read the conversation."""
    job.on_stage("keep originals")
    for source in sorted((sip / SIP_ORIGINAL_DIR).rglob("*")):
        if source.is_file():
            relative = source.relative_to(sip / SIP_ORIGINAL_DIR).as_posix()
            aip.add_copy(f"{layout.ORIGINAL}/{relative}", source, "original")
    for source in sorted((sip / SIP_METADATA_DIR).rglob("*")):
        if source.is_file():
            relative = source.relative_to(sip / SIP_METADATA_DIR).as_posix()
            aip.add_copy(f"{layout.SIP_METADATA}/{relative}", source, "metadata")
    aip.add_copy(f"{layout.SIP_METADATA}/bag-info.txt", sip / "bag-info.txt", "metadata")
    aip.add_copy(layout.CONVERSATION_JSON, sip / SIP_CONVERSATION_JSON, "preservation")
    conversation = Conversation.from_dict(json.loads((sip / SIP_CONVERSATION_JSON).read_text(encoding="utf-8")))
    return conversation, read_record_summary(sip)


def read_record_summary(sip: Path) -> RecordSummary:
    """The record's identifier, title, archiefvormer and appraisal from the SIP's MDTO informatieobject."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    info = {}
    bag_info = (sip / "bag-info.txt").read_text(encoding="utf-8", errors="replace")
    for line in bag_info.splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    for document in sorted((sip / SIP_METADATA_DIR).rglob("*.mdto.xml")):
        if document.name.endswith(".bestand.mdto.xml"):
            continue
        node = etree.parse(str(document), parser).find(f"{MDTO}informatieobject")
        if node is None:
            continue
        rows = []
        for label, path in (("Waardering", "waardering/begripLabel"), ("Bewaartermijn", "bewaartermijn/termijnLooptijd"),
                            ("Informatiecategorie", "informatiecategorie/begripLabel"), ("Taal", "taal")):
            value = node.findtext(_mdto_path(path))
            if value:
                rows.append((label, value))
        return RecordSummary(
            identifier=node.findtext(_mdto_path("identificatie/identificatieKenmerk")) or info.get("External-Identifier", ""),
            title=node.findtext(_mdto_path("naam")) or info.get("External-Description", ""),
            archiefvormer=node.findtext(_mdto_path("archiefvormer/verwijzingNaam")) or info.get("Source-Organization", ""),
            rows=tuple(rows),
        )
    raise InvalidPackage(f"the SIP at {sip} holds no MDTO informatieobject")


def _mdto_path(path: str) -> str:
    return "/".join(f"{MDTO}{part}" for part in path.split("/"))


def unpack_export(aip: AipBuilder, job: IngestJob) -> dict[str, Path]:
    """Unpack each zipped export into the AIP's media folder; returns file name → path for rendering."""
    job.on_stage("unpack export")
    media: dict[str, Path] = {}
    for relative in sorted(p for p in aip.roles if p.startswith(layout.ORIGINAL + "/")):
        path = aip.path(relative)
        media.setdefault(path.name, path)
        if not zipfile.is_zipfile(path):
            continue
        export = open_export([path])
        written = []
        for member in export.members():
            target_rel = f"{layout.MEDIA}/{member.name}"
            export.extract(member.name, aip.path(target_rel))
            aip.register(target_rel, "preservation")
            media[Path(member.name).name] = aip.path(target_rel)
            written.append(target_rel)
        job.event("unpacking", f"export container {path.name} unpacked for access to its members",
                  f"{len(written)} files", sources=(relative,), outcomes=tuple(written))
    return media


def identify(aip: AipBuilder, job: IngestJob) -> None:
    """FIDO identification of every file, in this process, one event per file."""
    job.on_stage("identify formats")
    identifier = shared_identifier()
    for relative in sorted(aip.roles):
        found = identifier.identify(aip.path(relative))
        job.identifications[relative] = found
        agent = job.agent(PremisAgent(identifier=found.tool.replace(" ", "-"), name=found.tool,
                                      type="software", version=found.signature_release))
        outcome = f"{found.puid or 'unknown'} ({found.format_name or 'no match'}) by {found.basis}; {found.signature_release}"
        job.event("format identification", f"identified {relative}", outcome,
                  outcome="success" if found.puid else "failure", sources=(relative,), agents=(agent,))


def normalise(aip: AipBuilder, conversation: Conversation, media: dict[str, Path], record: RecordSummary,
              job: IngestJob) -> None:
    """The conversation → PDF/A-2b rendering (checked) beside the canonical JSON."""
    job.on_stage("render PDF/A")
    context = RenderContext(title=record.title, identifier=record.identifier, archiefvormer=record.archiefvormer,
                            description_rows=record.rows, created=job.config.clock())
    pdf = render_conversation_pdf(conversation, media, context)
    aip.add_bytes(layout.RENDERING_PDF, pdf, "preservation")
    originals = tuple(p for p in aip.roles if p.startswith(layout.ORIGINAL + "/"))
    job.event("migration", "conversation rendered to PDF/A-2b (typst), images inline, media listed with checksums",
              f"{len(conversation.messages)} messages", sources=(layout.CONVERSATION_JSON, *originals),
              outcomes=(layout.RENDERING_PDF,))
    report = check_pdfa(aip.path(layout.RENDERING_PDF))
    if not report.ok:
        raise InvalidPackage("the PDF/A rendering does not meet PDF/A-2b", list(report.problems))
    job.event("validation", "PDF/A-2b identification, output intent, embedded fonts, no encryption",
              f"PDF/A-{report.part}{(report.conformance or '').lower()}", sources=(layout.RENDERING_PDF,))
    found = shared_identifier().identify(aip.path(layout.RENDERING_PDF))
    job.identifications[layout.RENDERING_PDF] = found


def seal(aip: AipBuilder, record: RecordSummary, job: IngestJob) -> list[SealedFile]:
    """Digests of every file, the PREMIS document, and the bag's manifests; returns every sealed file."""
    job.on_stage("seal AIP")
    payload = aip.digest_payload()
    job.event("message digest calculation", "sha256 and sha512 of every file of the AIP",
              f"{len(payload)} files", outcomes=tuple(sorted(payload)))
    job.event("ingestion", f"SIP accepted as AIP {job.aip_id}", f"record {record.identifier}")
    objects = []
    for f in payload.values():
        found = job.identifications.get(f.path)
        objects.append(PremisObject(
            identifier=f.path, size=f.size, digests={"sha256": f.sha256, "sha512": f.sha512},
            puid=found.puid if found else None, format_name=found.format_name if found else None,
            format_version=found.format_version if found else None, original_name=Path(f.path).name, role=f.role,
        ))
    document = premis_xml(objects, job.events, list(job.agents.values()))
    if job.config.schema_dir is not None:
        problems = validate_xml(document, SchemaName.PREMIS, job.config.schema_dir)
        if problems:
            raise InvalidPackage("the PREMIS edepot wrote does not validate", problems)
    aip.add_bytes(layout.PREMIS, document, "metadata")
    premis_digest = aip.digest_payload()[layout.PREMIS]
    bag_info = {
        "Source-Organization": record.archiefvormer,
        "External-Identifier": job.aip_id,
        "External-Description": record.title,
        "Internal-Sender-Identifier": record.identifier,
        "Bag-Software-Agent": f"edepot {edepot_version()}",
    }
    return aip.seal({**payload, layout.PREMIS: premis_digest}, bag_info, job.config.clock().date())


def replicate(aip: AipBuilder, sealed: list[SealedFile], locations: list[LocalDirectoryLocation],
              job: IngestJob) -> list[Path]:
    """Copy the sealed AIP to every storage location and verify each copy against its digests."""
    stored = []
    for location in locations:
        job.on_stage(f"store in {location.name}")
        bag = location.store_bag(aip.root, job.aip_id)
        bad = [f.path for f in sealed if digest_file(bag / f.path, ("sha256",))[0]["sha256"] != f.sha256]
        if bad:
            raise InvalidPackage(f"the copy in {location.name} does not verify", bad)
        job.event("replication", f"AIP stored in {location.name} ({bag})", f"{len(sealed)} files verified")
        stored.append(bag)
    return stored


def record(catalogue: SqliteCatalogue, record: RecordSummary, sealed: list[SealedFile],
           locations: list[LocalDirectoryLocation], stored: list[Path], job: IngestJob) -> None:
    """Commit the AIP to the catalogue: the last step, after every replica is in place."""
    now = job.config.clock()
    payload = [f for f in sealed if f.role != "tag"]
    catalogue.record_ingest(
        AipRecord(job.aip_id, job.sip_digest, record.identifier, record.title, now, AipState.STORED,
                  sum(f.size for f in payload), len(payload)),
        [ReplicaRecord(job.aip_id, loc.name, str(path), now, ReplicaStatus.INTACT)
         for loc, path in zip(locations, stored)],
        [_file_record(job, f) for f in sealed],
        job.events,
    )



def _file_record(job: IngestJob, sealed: SealedFile) -> FileRecord:
    found = job.identifications.get(sealed.path)
    return FileRecord(job.aip_id, sealed.path, sealed.role, sealed.size, sealed.sha256,
                      found.puid if found else None, found.format_name if found else None,
                      found.mime_type if found else None)
