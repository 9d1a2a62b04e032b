"""The stages of ingest, each one preservation action that leaves its PREMIS events on the job.

Read `ingest/pipeline.py` for their order; each stage here takes the job and what the stage before
it produced, and returns what the next one needs.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Callable, Hashable, Iterable, Iterator, Sequence, TypeVar

from ingest.aip_metadata import (
    DerivedCopy,
    bestand_name,
    copy_bestand,
    record_identificatie,
    topx_record,
    updated_informatieobject,
    updated_topx,
)
from ingest.bag_names import bag_path
from ingest.export import Export, open_export
from ingest.file_workers import FileWorkers
from ingest.job import IngestJob, Normalisation
from ingest.replication import Replication
from ingest.sip import CONVERSATION_JSON as SIP_CONVERSATION_JSON
from ingest.sip import METADATA_DIR as SIP_METADATA_DIR
from ingest.sip import ORIGINAL_DIR as SIP_ORIGINAL_DIR
from ingest.sip_findings import Findings
from ingest.sip_validate import validate_sip
from ingest.sources import carries_no_embedded_files, embedded_files
from ingest.unpack import unpack_transfer
from ingest.zip_coverage import zip_hides_nothing
from ingest.zip_salvage import SalvagedZipExport, salvage_zip
from kernel.atomic import fsync_tree, write_bytes_atomic
from kernel.errors import (
    AlreadyIngested,
    InfectedPackage,
    InputError,
    InvalidPackage,
    MetadataError,
    RecordExists,
    ToolMissing,
    UnsafeArchive,
)
from kernel.model import Conversation
from kernel.version import edepot_version
from preservation import aip as layout
from preservation.aip import AipBuilder, SealedFile
from preservation.bag_writer import decode_manifest_path, encode_manifest_path, read_manifest
from preservation.catalogue import (
    AipRecord,
    AipState,
    AipVersion,
    Catalogue,
    FileRecord,
    IdentificationRecord,
    ReplicaRecord,
    ReplicaStatus,
)
from preservation.format_policy import FormatPolicy
from preservation.identify import JSON, Identification, WrittenFormat, as_written, shared_identifier
from preservation.metadata.informatieobject import BESTAND_SUFFIX, Informatieobject
from preservation.metadata.premis import PremisAgent, PremisObject, premis_xml
from preservation.normalise import NormaliseOutcome, Status
from preservation.normalise.conversation_pdf import RenderContext, render_conversation_pdf
from preservation.pdfa_check import check_pdfa
from preservation.retention import schedule_retention_from_aip
from preservation.scan import Infection, ScanResult, scan_files
from preservation.search_index import index_aip
from preservation.storage import StorageLocation, register_locations
from preservation.unit_of_work import UnitOfWork
from preservation.work_locks import aip_lock, record_lock
from preservation.xsd import SchemaName, validate_xml

T = TypeVar("T")
AIP_METADATA = "data/metadata"  # the AIP's own (updated) MDTO; the SIP's as received is in data/metadata/sip
LINK_ORIGINALS_FROM = 16 << 20  # larger originals are read from the SIP by the replica copies, not staged again
THREADED_MEMBER_BYTES = 256 << 10  # export members from this size on are unpacked on other threads


@dataclass(frozen=True)
class RecordSummary:
    """What the SIP's MDTO informatieobject says of the record, as far as ingest needs it."""

    identifier: str
    title: str
    archiefvormer: str
    rows: tuple[tuple[str, str], ...]
    archiefvormer_id: str | None = None  # its identificatieKenmerk (e.g. the TOOI code), where the MDTO gives one


def receive(source: Path, staging: Path, job: IngestJob) -> Path:
    """Unpack a transfer package (folder, .zip, .7z, .tar) safely into staging; returns the bag root."""
    job.begin("receive")
    bag = unpack_transfer(source, staging / "sip")
    if source.is_file():
        job.event("unpacking", f"transfer package {source.name} unpacked into staging", "no unsafe entries")
    return bag


def refuse_duplicate(sip: Path, catalogue: Catalogue, job: IngestJob) -> None:
    """Derive the AIP identifier from the validated SIP; refuse a SIP ingested before or being ingested now
    (AlreadyIngested, E106), and a different SIP of a record held or being ingested (RecordExists, E108).

    The SIP and its record stay locked (preservation/work_locks.py) until the ingest ends, so two runs never work on one AIP
    or one record at once. With `job.new_version`, a SIP ingested before (or another SIP of a record already
    held) becomes the next version instead: its AIP is linked to the previous and the first version of that record.
    """
    digest = sip_digest(sip)
    job.set_sip_digest(digest)
    record_id = read_record_summary(sip).identifier
    holder = job.hold(aip_lock(job.aip_id))
    if holder is not None:
        raise AlreadyIngested(f"this SIP is being ingested now, by {holder}",
                              hint="once that run has ended, the catalogue's list of AIPs holds it")
    holder = job.hold(record_lock(record_id)) if record_id else None
    if holder is not None:
        raise RecordExists(f"another SIP of record {record_id} is being ingested now, by {holder}",
                           hint="run this one again once that run has ended, as a new version of the record",
                           remedy="new-version")
    # Catalogues from before the digest of `sip_digest` hold `legacy_sip_digest`; comparing with both keeps a SIP
    # ingested then known, without rewriting those rows (the catalogue does not keep the SIP's file names again).
    legacy = legacy_sip_digest(sip)
    before = catalogue.aip_for_sip(digest) or catalogue.aip_for_sip(legacy)
    versions = catalogue.versions(digest, record_id) or catalogue.versions(legacy, record_id)
    if not job.new_version:
        if before:
            raise AlreadyIngested(f"this SIP was ingested before as AIP {before}",
                                  hint="it can be kept as a new version of that AIP", remedy="new-version")
        if versions:
            latest = versions[-1]
            raise RecordExists(f"record {record_id} is archived already (AIP {latest.aip_id}, version "
                               f"{latest.version}); this is a different SIP of it",
                               hint=f"it can be kept as version {latest.version + 1} of the record",
                               remedy="new-version")
        return
    if versions:
        latest = versions[-1]
        job.set_sip_digest(digest, latest.version + 1)
        job.version = AipVersion(job.aip_id, latest.version + 1, latest.aip_id, latest.first_aip)


def sip_digest(sip: Path) -> str:
    """The SIP's identity: the sha256 of the JSON list of [path, sha256] of every payload file, sorted.

    The paths are the files' own names, each matched to its (validated) manifest line: a manifest line alone
    cannot tell `a<LF>b.txt` from `a%0Ab.txt`, since "%" is written as is (preservation/bag_writer.py).
    """
    manifest = sip / "manifest-sha256.txt"
    listed = read_manifest(manifest) if manifest.is_file() else {}
    pairs = sorted(
        [path, listed.get(decode_manifest_path(encode_manifest_path(path)), "")]
        for path in (p.relative_to(sip).as_posix() for p in (sip / "data").rglob("*") if p.is_file()))
    return hashlib.sha256(json.dumps(pairs, ensure_ascii=True).encode()).hexdigest()


def legacy_sip_digest(sip: Path) -> str:
    """The SIP digest catalogues held before `sip_digest`: the sha256 of the manifest's sorted lines."""
    manifest = sip / "manifest-sha256.txt"
    lines = sorted(manifest.read_bytes().splitlines()) if manifest.is_file() else []
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


def scan(aip: AipBuilder, source: Path, job: IngestJob) -> None:
    """Virus check of every file the AIP will hold (members of archives included); an infected SIP is
    quarantined whole.

    An export zip edepot unpacked is not scanned as such when its bytes are exactly its members and zip
    structure (ingest/zip_coverage.py): its members are, file by file, on every core. Raises InfectedPackage
    (exit 1) after copying the received package and a report into `<data>/quarantine/<id>/`; nothing of it
    reaches storage. A SIP that could not be scanned (no signature database) is refused (ToolMissing, exit 2)
    unless `[scan] required = false`, when its event says "not scanned"; a scan with edepot's test database
    is a "warning" event saying it was a trial, not a virus check.
    """
    job.begin("virus scan")
    containers = set(job.unpacked_from.values())
    covered = {c for c in containers if zip_hides_nothing(aip.path(c))}
    # ClamAV is given each file's real path: originals staged by reference are links to the SIP's files (only
    # links are resolved one by one; the folders below the staging root are never links)
    root = aip.root.resolve()
    named = {(root / p).resolve() if (root / p).is_symlink() else root / p: p for p in sorted(aip.roles)
             if p not in covered}
    result = scan_files(aip.root, list(named), job.config.scan_database)
    by_path = {str(path): relative for path, relative in named.items()}

    def in_sip_terms(infection: Infection) -> Infection:
        relative = by_path.get(infection.path, infection.path)
        if relative in job.unpacked_from:
            return replace(infection, path=f"{job.unpacked_from[relative]} → {relative[len(layout.MEDIA) + 1:]}")
        return replace(infection, path=relative)

    result = replace(result, infections=tuple(in_sip_terms(i) for i in result.infections))
    job.scan = result
    engine_version = result.engine.split()[-1]
    agent = job.agent(PremisAgent(identifier=f"clamav-{engine_version}-{hashlib.sha256(result.signatures.encode()).hexdigest()[:12]}",
                                  name="ClamAV", type="software", version=f"{engine_version}; signatures: {result.signatures}"))
    if result.infections:
        where = quarantine(source, result, job)
        raise InfectedPackage(f"virus found in the SIP ({len(result.infections)} file(s)); the SIP is quarantined in "
                              f"{where}", [f"{i.path}: {i.signature}" for i in result.infections],
                              hint="nothing of it was stored; ask the producer for a clean SIP")
    if result.errors and result.scanned:
        raise InvalidPackage("the virus scan did not complete", list(result.errors))
    if not result.scanned:
        if job.config.scan_required:
            raise ToolMissing(f"not scanned for viruses, so not ingested: {result.errors[0]}",
                              hint="run freshclam (Debian clamav-freshclam) or clamd, or set [scan] database in "
                                   "edepot.toml; see the README on a trial without a real database")
        job.warnings.append(f"NOT SCANNED for viruses: {result.errors[0]}")
        job.event("virus check", "not scanned: no ClamAV signature database, so no file of the SIP was checked for "
                  "viruses ([scan] required = false)", f"not scanned: {result.errors[0]}", outcome="not scanned",
                  agents=(agent,))
        return
    how = (f"; {len(covered)} export container(s) scanned as their unpacked members, the containers holding "
           "nothing else" if covered else "")
    if result.test_database:
        trial = (f"scanned with edepot's TEST signature database ({result.signatures}), not a real one: it "
                 "detects only the EICAR test file, so this was a trial, not a virus check")
        job.warnings.append(trial)
        job.event("virus check", f"ClamAV run over every file of the SIP ({result.method}){how}; {trial}",
                  f"{result.files} files scanned with a test database, not a real one: not checked for viruses",
                  outcome="warning", agents=(agent,))
        return
    job.event("virus check", f"ClamAV virus scan of every file of the SIP ({result.method}){how}",
              f"{result.files} files scanned, no virus found", agents=(agent,))


def quarantine(source: Path, result: ScanResult, job: IngestJob) -> Path:
    """Copy the received package, as received, with a JSON report into `<data>/quarantine/<id>/`, atomically."""
    root = job.config.quarantine_dir
    name = f"{job.config.clock():%Y%m%dT%H%M%SZ}-{(job.sip_digest or uuid.uuid4().hex)[:12]}"
    incoming = root / ".incoming" / uuid.uuid4().hex
    job.announce(incoming)
    incoming.mkdir(parents=True)
    if source.is_dir():
        shutil.copytree(source, incoming / "package" / source.name, symlinks=True)
    else:
        (incoming / "package").mkdir()
        shutil.copy2(source, incoming / "package" / source.name)
    report = {"received": str(source), "quarantined": job.config.clock().isoformat(), "sip_digest": job.sip_digest,
              "reason": "virus found", "scan": result.to_dict()}
    write_bytes_atomic(incoming / "report.json", json.dumps(report, ensure_ascii=False, indent=2).encode() + b"\n")
    fsync_tree(incoming)
    target = root / name
    if target.exists():
        target = root / f"{name}-{uuid.uuid4().hex[:6]}"
    incoming.rename(target)
    job.quarantined = target
    return target


def validate(sip: Path, job: IngestJob) -> None:
    """Bag, layout, conversation JSON and MDTO checks; an invalid SIP stops the ingest (exit 1)."""
    job.begin("validate SIP")
    report = validate_sip(sip, job.config)
    job.sip_checks = [c.to_dict() for c in report.checks]
    outcome = "; ".join(f"{c.name}: {'ok' if c.ok else 'FAILED'}{' (skipped)' if c.skipped else ''}"
                        for c in report.checks)
    if not report.valid:
        raise InvalidPackage(f"the SIP at {sip} is not valid", report.problems)
    job.event("validation", "SIP checked: BagIt completeness and checksums, layout, conversation JSON, MDTO XSD",
              outcome)


def keep_originals(sip: Path, aip: AipBuilder, job: IngestJob) -> tuple[Conversation, RecordSummary]:
    """Copy the originals byte-identical, keep the SIP's metadata as received, read the conversation.

    The digests the validated SIP manifests state are carried over, not computed again: every replica of
    the AIP is verified against them, so the originals are checked end to end from the producer's bag.
    """
    job.begin("keep originals")
    known = _validated_digests(sip)
    for source in sorted((sip / SIP_ORIGINAL_DIR).rglob("*")):
        if source.is_file():
            relative = source.relative_to(sip / SIP_ORIGINAL_DIR).as_posix()
            digests = known.get(source.relative_to(sip).as_posix())
            if digests is not None and len(digests) == 2 and source.stat().st_size >= LINK_ORIGINALS_FROM:
                aip.add_link(f"{layout.ORIGINAL}/{relative}", source, "original", digests)
            else:
                aip.add_copy(f"{layout.ORIGINAL}/{relative}", source, "original", digests)
    for source in sorted((sip / SIP_METADATA_DIR).rglob("*")):
        if source.is_file():
            relative = source.relative_to(sip / SIP_METADATA_DIR).as_posix()
            aip.add_copy(f"{layout.SIP_METADATA}/{relative}", source, "metadata")
    aip.add_copy(f"{layout.SIP_METADATA}/bag-info.txt", sip / "bag-info.txt", "metadata")
    aip.add_copy(layout.CONVERSATION_JSON, sip / SIP_CONVERSATION_JSON, "preservation")
    conversation = Conversation.from_json((sip / SIP_CONVERSATION_JSON).read_bytes())
    return conversation, read_record_summary(sip)


def _validated_digests(sip: Path) -> dict[str, dict[str, str]]:
    """sha256 and sha512 of each payload file as the SIP's manifests state them (checked by `validate`)."""
    known: dict[str, dict[str, str]] = {}
    for algorithm in ("sha256", "sha512"):
        manifest = sip / f"manifest-{algorithm}.txt"
        if manifest.is_file():
            for path, digest in read_manifest(manifest).items():
                known.setdefault(path, {})[algorithm] = digest
    return known


def read_record_summary(sip: Path) -> RecordSummary:
    """The record's identifier, title, archiefvormer and appraisal from the SIP's MDTO informatieobject."""
    info = {}
    bag_info = (sip / "bag-info.txt").read_text(encoding="utf-8", errors="replace")
    for line in bag_info.splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    for document in sorted((sip / SIP_METADATA_DIR).rglob("*.mdto.xml")):
        if document.name.endswith(BESTAND_SUFFIX):
            continue
        try:
            node = Informatieobject.parse(document.read_bytes())
        except MetadataError:
            continue
        rows = []
        for label, path in (("Waardering", "waardering/begripLabel"), ("Bewaartermijn", "bewaartermijn/termijnLooptijd"),
                            ("Informatiecategorie", "informatiecategorie/begripLabel"), ("Taal", "taal")):
            found = node.text(path)
            if found:
                rows.append((label, found))
        return RecordSummary(
            identifier=node.text("identificatie/identificatieKenmerk") or info.get("External-Identifier", ""),
            title=node.text("naam") or info.get("External-Description", ""),
            archiefvormer=node.text("archiefvormer/verwijzingNaam") or info.get("Source-Organization", ""),
            rows=tuple(rows),
            archiefvormer_id=node.text("archiefvormer/verwijzingIdentificatie/identificatieKenmerk"),
        )
    for document in sorted((sip / SIP_METADATA_DIR).rglob("*.topx.xml")):
        if document.name.endswith(".bestand.topx.xml"):
            continue
        try:
            identifier, title, organisation = topx_record(document.read_bytes())
        except ValueError:
            continue
        return RecordSummary(identifier or info.get("External-Identifier", ""),
                             title or info.get("External-Description", ""),
                             organisation or info.get("Source-Organization", ""), ())
    raise InvalidPackage(f"the SIP at {sip} holds no MDTO informatieobject and no ToPX aggregatie")


def unpack_export(aip: AipBuilder, conversation: Conversation, job: IngestJob) -> dict[str, Path]:
    """Unpack each zipped export into the AIP's media folder; returns file name → path for rendering.

    Members are written under their names cut to the SIP's limit (ingest/bag_names.py), as the canonical
    conversation names them. An export zip of the SIP that cannot be unpacked (cut short, empty) is a
    "unpacking" event with outcome failure and refuses the SIP (InvalidPackage), unless the producer declared
    the export damaged (`source.damaged.reason`): then its whole members are unpacked and the ingest goes on
    with a warning. What the export lacks (ingest/sip_findings.py) becomes warnings of the report."""
    job.begin("unpack export")
    job.warnings += Findings.of(conversation).warnings()
    exported = {bag_path(f.name) for f in conversation.source.files if "/" not in f.name}  # not a folder's files
    for short, original in conversation.source.renamed:  # files the SIP holds under a shortened name
        job.original_names[f"{layout.ORIGINAL}/{short}"] = original.rsplit("/", 1)[-1]
    media: dict[str, Path] = {}
    for relative in sorted(p for p in aip.roles if p.startswith(layout.ORIGINAL + "/")):
        path = aip.path(relative)
        media.setdefault(path.name, path)
        # by its path too: a selection's media keep the export's path (`chats/chat_001/photos/…`, MMS parts),
        # and an export folder's files are named below the folder (`<folder>/photos/…` holds `photos/…`)
        below = relative.removeprefix(layout.ORIGINAL + "/")
        media.setdefault(below, path)
        if "/" in below:
            media.setdefault(below.split("/", 1)[1], path)
        if below in exported and _looks_like_zip(path):
            export = _opened_export(path, relative, conversation, job)
        elif zipfile.is_zipfile(path):
            export = open_export([path])
        else:
            continue
        if export is None:
            continue
        with export, ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            members = export.members()
            targets = {member.name: f"{layout.MEDIA}/{bag_path(member.name)}" for member in members}

            def extract(name: str) -> dict[str, str]:
                return export.extract(name, aip.path(targets[name]), ("sha256", "sha512"))

            # inflating and hashing free the GIL, so large members go to the pool; a small one is written here,
            # where handing it to a thread would cost more than it spares. Every member is written before the
            # export closes.
            large = {m.name: pool.submit(extract, m.name) for m in members if m.size >= THREADED_MEMBER_BYTES}
            digests = [large[name].result() if name in large else extract(name) for name in targets]
            for (name, target_rel), digest in zip(targets.items(), digests):
                aip.register(target_rel, "preservation", digest)
                job.unpacked_from[target_rel] = relative
                if target_rel != f"{layout.MEDIA}/{name}":
                    job.original_names[target_rel] = Path(name).name
                media[Path(name).name] = media[Path(target_rel).name] = aip.path(target_rel)
                media.setdefault(name, aip.path(target_rel))  # attachments named by their path (Telegram)
        written = list(targets.values())
        job.event("unpacking", f"export container {path.name} unpacked for access to its members",
                  f"{len(written)} files", sources=(relative,), outcomes=tuple(written))
    if not carries_no_embedded_files(conversation.source.format):  # else reading the export again finds nothing
        _unpack_embedded(aip, media, job)
    return media


def _opened_export(path: Path, relative: str, conversation: Conversation, job: IngestJob) -> Export | None:
    """The export zip at `path` opened, or what is whole of it when the producer declared the export damaged.

    A zip that cannot be opened is an "unpacking" event with outcome failure; InvalidPackage unless the export
    was declared damaged. None when nothing of it can be read (the declared damage says so)."""
    try:
        return open_export([path])
    except UnsafeArchive:
        raise
    except InputError as error:
        problem = error.message
    damage = conversation.source.damaged
    if damage is None or not damage.reason:
        job.event("unpacking", f"export container {path.name} unpacked for access to its members",
                  f"cannot be unpacked: {problem}", outcome="failure", sources=(relative,))
        raise InvalidPackage(f"the export {path.name} in the SIP cannot be unpacked", [f"{relative}: {problem}"],
                             hint="a damaged export must be declared damaged, with a reason, when the SIP is made",
                             remedy="declare-damaged")
    salvaged: SalvagedZipExport | None = None
    try:
        salvaged = salvage_zip(path, problem)
        lost = (f"{salvaged.damage.complete} whole members unpacked; could not be unpacked: "
                + (", ".join(salvaged.damage.unreadable) or "the rest of the file"))
    except InputError as error:
        lost = error.message
    detail = f"cannot be unpacked whole: {problem}; {lost}; the producer declared the export damaged: {damage.reason}"
    job.warnings.append(f"{relative}: {detail}")
    job.event("unpacking", f"export container {path.name} unpacked for access to its members (declared damaged)",
              detail, outcome="failure", sources=(relative,))
    return salvaged


def _looks_like_zip(path: Path) -> bool:
    """A file named .zip, or starting like one: an export zip to unpack (an empty or cut one fails later)."""
    with open(path, "rb") as handle:
        return path.suffix.lower() == ".zip" or handle.read(2) == b"PK"


def _unpack_embedded(aip: AipBuilder, media: dict[str, Path], job: IngestJob) -> None:
    """Attachments carried inside the originals (MMS parts, e-mailed images) written out as media files."""
    originals = sorted(p for p in aip.roles if p.startswith(layout.ORIGINAL + "/"))
    written: list[str] = []
    try:
        for name, data in embedded_files([aip.path(p) for p in originals]):
            target_rel = f"{layout.MEDIA}/{name}"
            aip.add_bytes(target_rel, data, "preservation")
            media[name] = media[Path(name).name] = aip.path(target_rel)
            written.append(target_rel)
    except InputError:
        if written:
            raise
        return  # not an export edepot reads (e.g. a selection's media only): nothing is embedded
    if written:
        job.event("unpacking", "attachments carried inside the export's files written out as files",
                  f"{len(written)} files", sources=tuple(originals), outcomes=tuple(written))


def identify(aip: AipBuilder, job: IngestJob, *, workers: FileWorkers = FileWorkers(None)) -> None:
    """FIDO identification of every file (by `workers`), one event per file; the JSON edepot wrote itself
    is recorded as JSON (fmt/817), FIDO's verdict beside it (see `_identify_one`)."""
    job.begin("identify formats")
    paths = sorted(aip.roles)
    siegfried = _siegfried() if job.config.siegfried else None
    # FIDO reads a file's bytes and, failing a signature, its extension: the same bytes under the same extension
    # (an image forwarded again in the chat) are identified once
    unique, index = _by_content(aip, paths, lambda relative: PurePosixPath(relative).suffix)
    found = _spread(workers.identify([aip.path(relative) for relative in unique]), index)
    for done, (relative, identification) in enumerate(zip(paths, found), start=1):
        _record_identification(relative, identification, job, written=WRITTEN_BY_EDEPOT.get(relative))
        if siegfried is not None:
            _second_opinion(siegfried, aip, relative, job)
        job.on_progress(job.stage, done, len(paths))


def _by_content(aip: AipBuilder, paths: Sequence[str], alike: Callable[[str], Hashable]) -> tuple[list[str], list[int]]:
    """The paths to read, one for each distinct content among `paths` (the same sha256, and the same `alike`), and
    for each of `paths` the place in that list of the one that stands for it. A file whose digest is not known yet
    stands for itself."""
    first: dict[Hashable, int] = {}
    unique: list[str] = []
    index: list[int] = []
    for relative in paths:
        sha256 = aip.known_sha256_of(relative)
        key = (sha256, alike(relative)) if sha256 else relative
        if key not in first:
            first[key] = len(unique)
            unique.append(relative)
        index.append(first[key])
    return unique, index


def _spread(answers: Iterable[T], index: Sequence[int]) -> Iterator[T]:
    """The answer for each place in `index`, taken from `answers` (one per distinct content, in order) as they come."""
    stream = iter(answers)
    received: list[T] = []
    for place in index:
        while len(received) <= place:
            received.append(next(stream))
        yield received[place]


# Files of the AIP that edepot wrote itself, in a format it knows, checked against their schema at validation
WRITTEN_BY_EDEPOT = {
    layout.CONVERSATION_JSON: (JSON, "edepot wrote it as the canonical conversation JSON"),
    f"{layout.SIP_METADATA}/selection.json": (JSON, "edepot wrote it as the selection statement (JSON)"),
}


def _identify_one(aip: AipBuilder, relative: str, job: IngestJob,
                  written: tuple[WrittenFormat, str] | None = None) -> None:
    """Identify one file with FIDO and record it with its event (`_record_identification`)."""
    _record_identification(relative, shared_identifier().identify(aip.path(relative)), job, written=written)


def _record_identification(relative: str, found: Identification, job: IngestJob,
                           written: tuple[WrittenFormat, str] | None = None) -> None:
    """Record FIDO's identification of one file with its event. A file edepot `written` in a known format is
    recorded as that format; when FIDO says otherwise, its verdict is kept in `job.overruled` and in the event."""
    fido_agent = job.agent(PremisAgent(identifier=found.tool.replace(" ", "-"), name=found.tool,
                                       type="software", version=found.signature_release))
    said = f"{found.puid or 'unknown'} ({found.format_name or 'no match'}) by {found.basis}"
    if written is not None and written[0].puid != found.puid:
        job.overruled[relative] = found
        found = as_written(found, written[0], writer=f"edepot {edepot_version()}", why=written[1])
        outcome = (f"{found.puid} ({found.format_name}), {found.basis}; {found.signature_release}; "
                   f"FIDO said {said}, not recorded")
    else:
        outcome = f"{said}; {found.signature_release}"
    job.identifications[relative] = found
    job.event("format identification", f"identified {relative}", outcome,
              outcome="success" if found.puid else "failure", sources=(relative,), agents=(fido_agent,))


def _siegfried() -> object:
    try:
        import pygfried
    except ImportError:
        raise ToolMissing("siegfried (pygfried) is not installed but [identify] siegfried is on",
                          hint="pip install pygfried, or turn the setting off") from None
    return pygfried.Scanner()


def _second_opinion(scanner: object, aip: AipBuilder, relative: str, job: IngestJob) -> None:
    """siegfried's identification beside FIDO's; a different PUID is an event with outcome "warning"."""
    result = scanner.identify(str(aip.path(relative)), detailed=True)  # type: ignore[attr-defined]
    match = (result.get("files") or [{}])[0].get("matches", [{}])[0]
    puid = match.get("id") if match.get("id") not in (None, "", "UNKNOWN") else None
    release = "; ".join(i.get("details", "") for i in result.get("identifiers", []))
    agent = job.agent(PremisAgent(identifier=f"siegfried-{result.get('siegfried')}", name="siegfried",
                                  type="software", version=f"{result.get('siegfried')}; {release}"))
    job.second_opinions[relative] = Identification(
        puid, match.get("format") or None, match.get("version") or None, match.get("mime") or None,
        match.get("basis") or "fail", f"siegfried {result.get('siegfried')}", release,
        tuple(w for w in [match.get("warning")] if w))
    recorded = job.identifications[relative].puid  # FIDO's, or the format edepot wrote the file in
    agrees = puid == recorded
    if not agrees:
        job.warnings.append(f"{relative}: recorded {recorded or 'unknown'}, siegfried says {puid or 'unknown'}")
    job.event("format identification", f"second opinion on {relative}",
              f"{puid or 'unknown'} ({match.get('format') or 'no match'}) by {match.get('basis') or 'no basis'}"
              + ("" if agrees else f"; disagrees with the recorded {recorded or 'unknown'}"),
              outcome="success" if agrees else "warning", sources=(relative,), agents=(agent,))


def validate_formats(aip: AipBuilder, job: IngestJob, *, workers: FileWorkers = FileWorkers(None)) -> None:
    """Validate each file whose format has a validator (by `workers`); a failure is an event and a report row,
    not fatal."""
    job.begin("validate formats")
    paths = sorted(p for p, role in aip.roles.items() if role in ("original", "preservation"))
    found = {relative: job.identifications.get(relative) for relative in paths}

    def declared(relative: str) -> tuple[str | None, str | None]:
        identified = found[relative]
        return (identified.puid, identified.mime_type) if identified else (None, None)

    unique, index = _by_content(aip, paths, declared)  # the same bytes as the same format are validated once
    checks = _spread(workers.validate([(aip.path(relative), *declared(relative)) for relative in unique]), index)
    for done, (relative, check) in enumerate(zip(paths, checks), start=1):
        job.on_progress(job.stage, done, len(paths))
        if check is None:
            continue
        job.format_checks[relative] = check
        name, _, version = check.validator.partition(" ")
        agent = job.agent(PremisAgent(identifier=check.validator.split(" (")[0].replace(" ", "-"), name=name,
                                      type="software", version=version or None))
        if not check.ok:
            job.warnings.append(f"{relative} did not validate: {check.detail}")
        job.event("validation", f"format validation of {relative}", check.detail,
                  outcome="success" if check.ok else "failure", sources=(relative,), agents=(agent,))


def normalise_files(aip: AipBuilder, media: dict[str, Path], policy: FormatPolicy, job: IngestJob, *,
                    workers: FileWorkers = FileWorkers(None)) -> dict[str, Path]:
    """Run the policy's actions on every original and media file; returns the media map for the rendering.

    Originals are never touched: derived files go to data/preservation/media/ beside their source's name
    (voice.opus → voice.opus.flac). Each action other than a plain "keep" leaves a PREMIS event linking
    source and outcome with the tool as agent; a tool that fails or is missing is an event with outcome
    "failure" or "warning" and the original stays the preservation copy. The actions run by `workers`.
    """
    job.begin("normalise by policy")
    shown = dict(media)
    skip = {layout.CONVERSATION_JSON, layout.RENDERING_PDF}
    paths = sorted(p for p, role in aip.roles.items() if role in ("original", "preservation") and p not in skip)
    planned = []  # every action's target is fixed before any runs, so they may run at once
    for relative in paths:
        found = job.identifications.get(relative)
        rule = policy.rule_for(found.puid if found else None)
        planned += [(relative, found, rule, action, _derived_base(aip, relative)) for action in rule.actions]

    outcomes = workers.normalise([(action, aip.path(relative), aip.path(base))
                                  for relative, _found, _rule, action, base in planned])
    for done, (plan, outcome) in enumerate(zip(planned, outcomes), start=1):
        relative, found, rule, _action, _base = plan
        derived = tuple(d.relative_to(aip.root).as_posix() for d in outcome.derived)
        for path in derived:
            aip.register(path, "preservation")
            # the only JSON edepot derives is its own rendering of a file (vcard-json)
            _identify_one(aip, path, job, written=(JSON, f"edepot wrote it as the JSON rendering of {relative}")
                          if path.endswith(".json") else None)
        job.normalisations.append(Normalisation(relative, found.puid if found else None, rule.name, outcome, derived))
        job.on_progress(job.stage, done, len(planned))
        if outcome.status is Status.KEPT and outcome.action == "keep":
            continue
        _normalisation_event(relative, outcome, derived, job)
        if outcome.action == "image-png" and derived:
            shown[Path(relative).name] = aip.path(derived[0])  # shown inline in the rendering
    return shown


def _derived_base(aip: AipBuilder, relative: str) -> str:
    if relative.startswith(layout.MEDIA + "/"):
        return relative
    name = Path(relative).name
    base = f"{layout.MEDIA}/{name}"
    return base if not aip.path(base).exists() else f"{layout.MEDIA}/original-{name}"


def _normalisation_event(relative: str, outcome: NormaliseOutcome, derived: tuple[str, ...], job: IngestJob) -> None:
    agents: tuple[str, ...] = ()
    if outcome.tool:
        name, _, version = outcome.tool.partition(" ")
        agents = (job.agent(PremisAgent(identifier=outcome.tool.replace(" ", "-").replace(",", ""), name=name,
                                        type="software", version=version or None)),)
    result = {Status.DERIVED: "success", Status.KEPT: "success", Status.SKIPPED: "warning", Status.FAILED: "failure"}
    if outcome.status in (Status.SKIPPED, Status.FAILED):
        job.warnings.append(f"{relative}: {outcome.action} {outcome.status.value}: {outcome.note}")
    job.event(outcome.event_type, f"{outcome.action} on {relative} (format policy)", outcome.note,
              outcome=result[outcome.status], sources=(relative,), outcomes=derived, agents=agents)


def render_conversation(aip: AipBuilder, conversation: Conversation, media: dict[str, Path], record: RecordSummary,
                        job: IngestJob) -> None:
    """The conversation → PDF/A-2b rendering (checked) beside the canonical JSON."""
    job.begin("render PDF/A")
    context = RenderContext(title=record.title, identifier=record.identifier, archiefvormer=record.archiefvormer,
                            description_rows=record.rows, created=job.config.clock())
    identified = {aip.path(relative): found.mime_type for relative, found in job.identifications.items()
                  if found is not None and found.mime_type}
    pdf = render_conversation_pdf(conversation, media, context, aip.known_sha256(), known_formats=identified)
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


def update_metadata(sip: Path, aip: AipBuilder, job: IngestJob) -> None:
    """The SIP's informatieobject updated with the ingest (MDTO "Import"/"Conversie" events and a
    heeftRepresentatie per preservation copy) in data/metadata/, with a bestand per copy; XSD-checked."""
    job.begin("update MDTO")
    documents = [d for d in sorted((sip / SIP_METADATA_DIR).rglob("*.mdto.xml")) if not d.name.endswith(".bestand.mdto.xml")]
    topx = [d for d in sorted((sip / SIP_METADATA_DIR).rglob("*.topx.xml")) if not d.name.endswith(".bestand.topx.xml")]
    copies = []
    derived = [p for n in job.normalisations for p in n.derived]
    for path in ([layout.RENDERING_PDF] if layout.RENDERING_PDF in aip.roles else []) + derived:
        sealed = aip.digest(path)
        found = job.identifications.get(path)
        copies.append(DerivedCopy(path, sealed.size, sealed.sha256, found.puid if found else None,
                                  found.format_name if found else None, found.mime_type if found else None))
    now = job.config.clock()
    written: dict[str, tuple[bytes, SchemaName]] = {}
    if documents:
        received = documents[0].read_bytes()
        record_id, record_name = record_identificatie(received)
        written[f"{AIP_METADATA}/{documents[0].name}"] = (updated_informatieobject(
            received, job.aip_id, now, f"edepot {edepot_version()}", copies,
            job.config.organisation.identificatie_bron), SchemaName.MDTO)
        for copy in copies:
            written[f"{AIP_METADATA}/bestanden/{bestand_name(copy.path)}"] = (
                copy_bestand(copy, record_id, record_name, now), SchemaName.MDTO)
    if topx:
        written[f"{AIP_METADATA}/{topx[0].name}"] = (updated_topx(
            topx[0].read_bytes(), job.aip_id, now, f"edepot {edepot_version()}", copies), SchemaName.TOPX)
    if not written:
        return
    for relative, (document, schema) in written.items():
        if job.config.schema_dir is not None:
            problems = validate_xml(document, schema, job.config.schema_dir)
            if problems:
                raise InvalidPackage(f"the MDTO edepot wrote for {relative} does not validate", problems)
        aip.add_bytes(relative, document, "metadata")
        _identify_one(aip, relative, job)
    received_names = tuple(f"{layout.SIP_METADATA}/{d.relative_to(sip / SIP_METADATA_DIR).as_posix()}"
                           for d in (documents[:1] + topx[:1]))
    job.event("metadata modification", "the record's MDTO/ToPX updated with the ingest and the preservation copies",
              f"{len(copies)} preservation copies described", sources=received_names, outcomes=tuple(sorted(written)))


def seal(aip: AipBuilder, record: RecordSummary, job: IngestJob, *,
         workers: FileWorkers = FileWorkers(None)) -> list[SealedFile]:
    """Digests of every file, the PREMIS document (checked against the schema by `workers` while the manifests
    are written), and the bag's manifests; returns every sealed file. InvalidPackage when the PREMIS does not
    validate."""
    job.begin("seal AIP")
    payload = aip.digest_payload()
    job.event("message digest calculation", "sha256 and sha512 of every file of the AIP",
              f"{len(payload)} files", outcomes=tuple(sorted(payload)))
    version = ""
    if job.version is not None:
        version = (f"; version {job.version.version} of the record, previous AIP {job.version.previous_aip}, "
                   f"first AIP {job.version.first_aip}")
    job.event("ingestion", f"SIP accepted as AIP {job.aip_id}", f"record {record.identifier}{version}")
    objects = []
    for f in payload.values():
        found = job.identifications.get(f.path)
        objects.append(PremisObject(
            identifier=f.path, size=f.size, digests={"sha256": f.sha256, "sha512": f.sha512},
            puid=found.puid if found else None, format_name=found.format_name if found else None,
            format_version=found.format_version if found else None, role=f.role,
            original_name=job.original_names.get(f.path, f.path.rpartition("/")[2]),
        ))
    document = premis_xml(objects, job.events, list(job.agents.values()))
    schema_dir = job.config.schema_dir
    checked = None if schema_dir is None else workers.check_xml(document, SchemaName.PREMIS, schema_dir)
    aip.add_bytes(layout.PREMIS, document, "metadata")
    premis_digest = aip.digest_payload()[layout.PREMIS]
    bag_info = {
        "Source-Organization": record.archiefvormer,
        "External-Identifier": job.aip_id,
        "External-Description": record.title,
        "Internal-Sender-Identifier": record.identifier,
        "Bag-Software-Agent": f"edepot {edepot_version()}",
    }
    sealed = aip.seal({**payload, layout.PREMIS: premis_digest}, bag_info, job.config.clock().date())
    problems = checked.result() if checked is not None else []
    if problems:
        raise InvalidPackage("the PREMIS edepot wrote does not validate", problems)
    return sealed


@contextmanager
def start_replication(aip: AipBuilder, locations: list[StorageLocation], job: IngestJob) -> Iterator[Replication]:
    """Begin copying the AIP's files that are final already (originals, SIP metadata, unpacked members) to every
    storage location in the background (ingest/replication.py); nothing is visible there until `replicate`.
    Leaving the block without `replicate` having finished removes what was copied."""
    replication = Replication(aip, locations, job.aip_id, job.announce)
    try:
        replication.send(sorted(aip.roles))
        yield replication
    finally:
        replication.abandon()


def replicate(sealed: list[SealedFile], replication: Replication, job: IngestJob) -> list[Path | str]:
    """Finish the copies of the sealed AIP on every storage location, verify each copy against its digests,
    and make each bag visible; returns each location's bag, in configuration order."""
    job.begin(f"store in {len(replication.locations)} location{'s' if len(replication.locations) != 1 else ''}")
    bags = replication.finish(sealed)
    for location, bag in zip(replication.locations, bags):
        job.event("replication", f"AIP stored in {location.name} ({bag})", f"{len(sealed)} files verified")
    return bags


def record(catalogue: Catalogue, record: RecordSummary, sealed: list[SealedFile],
           locations: list[StorageLocation], stored: list[Path | str], job: IngestJob) -> None:
    """Commit the AIP to the catalogue: the last step, after every replica is in place."""
    job.begin("record in catalogue")
    now = job.config.clock()
    payload = [f for f in sealed if f.role != "tag"]
    sealed_paths = {f.path for f in payload}
    register_locations(locations, catalogue, now=now)
    catalogue.record_ingest(
        AipRecord(job.aip_id, job.sip_digest, record.identifier, record.title, now, AipState.STORED,
                  sum(f.size for f in payload), len(payload), job.organisation),
        [ReplicaRecord(job.aip_id, loc.id, str(path), now, ReplicaStatus.INTACT)
         for loc, path in zip(locations, stored)],
        [_file_record(job, f) for f in sealed],
        job.events,
        job.version or AipVersion(job.aip_id, 1, None, job.aip_id),
        [IdentificationRecord(job.aip_id, path, found.tool, found.signature_release, found.puid, found.format_name,
                              found.format_version, found.mime_type, found.basis)
         for identified in (job.identifications, job.overruled, job.second_opinions)
         for path, found in sorted(identified.items())
         if path in sealed_paths],
    )



def _file_record(job: IngestJob, sealed: SealedFile) -> FileRecord:
    found = job.identifications.get(sealed.path)
    return FileRecord(job.aip_id, sealed.path, sealed.role, sealed.size, sealed.sha256,
                      found.puid if found else None, found.format_name if found else None,
                      found.mime_type if found else None)


def index_and_schedule(store: UnitOfWork, aip: AipBuilder, conversation: Conversation, job: IngestJob) -> None:
    """After the commit: index the messages for search and compute the record's retention schedule.

    Both read the record's MDTO informatieobject; a ToPX-only SIP gets neither (a warning says so). Should
    this step be interrupted, `edepot search reindex` and `edepot retention refresh` do it again.
    """
    job.begin("index and schedule")
    metadata = aip.path(layout.SIP_METADATA)
    if not any(p for p in metadata.glob("*.mdto.xml") if not p.name.endswith(".bestand.mdto.xml")):
        job.warnings.append("no MDTO informatieobject: not indexed for search, no retention schedule")
        return
    index_aip(store.search, job.aip_id, conversation, metadata, job.config.clock())
    schedule_retention_from_aip(store.catalogue, job.aip_id, aip.root, job.config.clock(), person=job.person)
