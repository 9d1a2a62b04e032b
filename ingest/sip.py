"""SIP creation: a conversation export wrapped into a BagIt bag with MDTO and/or ToPX metadata.

Standards: BagIt RFC 8493; MDTO 1.0.1 (default) and ToPX 2.3 (`metadata_standard`); the edepot BagIt profile
(`schemas/bagit-profile-edepot-sip.json`, bagit-profiles specification 1.3).

Layout of an edepot SIP (the bag's payload):

    data/original/<export files>              the export exactly as received, byte-identical
    data/derived/conversation.json            the canonical conversation (schemas/conversation.schema.json)
    data/metadata/<kenmerk>.mdto.xml          MDTO informatieobject: the record
    data/metadata/<payload path>.bestand.mdto.xml  MDTO bestand for each original and derived file
    data/metadata/<kenmerk>.topx.xml          ToPX aggregatie (with --metadata-standard topx or both)
    data/metadata/<payload path>.bestand.topx.xml  ToPX bestand for each file (idem)

When the record is a selection (ingest/selection.py), the SIP holds only what was selected:

    data/original/<media file>                each medium a kept message refers to, byte-identical as extracted
                                              from the export (the export itself, which holds the left-out
                                              messages, is not in the SIP; with keep_original it is, whole)
    data/derived/conversation.json            the selected messages only
    data/metadata/selection.json              the selection statement: criteria, counts, the export's sha256/size

A media file keeps the path the export gives it (`data/original/chats/chat_001/photos/photo_1.jpg`;
MMS parts `data/original/<backup>.parts/…`, decoded as sent; ingest/selected_media.py).

A phone backup (ingest/sources/iphone_backup.py) never enters a SIP: a SIP of one of its conversations holds, as
its original, the media and an extract of the database rows the kept messages were read from
(`data/original/sms.db.rows.jsonl`, `ChatStorage.sqlite.rows.jsonl` or `CallHistory.storedata.rows.jsonl`).

An export holding several conversations (an SMS backup's threads, a Telegram account's chats) makes one SIP
per conversation (ingest/conversations.py names them): the conversation taken is a selection as above, and
the statement says which conversation of how many it is. The export is not in the SIP, since it holds the
other conversations, unless keep_original (then it holds them, whole).

Ingest renders from conversation.json and finds media by file name among the files under data/original/,
so both layouts feed it alike. bag-info.txt carries Source-Organization (the archiefvormer),
External-Identifier (the record's kenmerk), External-Description (its naam), BagIt-Profile-Identifier,
Edepot-Metadata-Standard, Bag-Software-Agent, Bagging-Date and Payload-Oxum; manifests in sha256 and sha512.
"""
from __future__ import annotations

import functools
import hashlib
import json
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import bagit

from ingest.bag_names import bag_path, with_bag_names
from ingest.conversations import choose, materialise, metadata_for
from ingest.packaging import Package, checksum_path, package_bag, package_path
from ingest.review import read_review_sheet
from ingest.selected_media import SelectedMedia
from ingest.selection import Criteria, ExportPart, Selection, select
from ingest.sip_findings import Findings
from ingest.sources import ParseOptions, keeps_export_out, stream_export
from kernel.atomic import publish_directory, temporary_name
from kernel.config import Config
from kernel.errors import InputError, InvalidPackage
from kernel.hashing import digest_file
from kernel.model import Conversation, Custodian, Damage
from kernel.names import escaped, unsafe_name_reason
from kernel.version import edepot_version
from preservation.identify import shared_identifier
from preservation.metadata.mdto import FileDescription, bestand_xml, informatieobject_xml
from preservation.metadata.record import (
    EDEPOT_BEGRIPPENLIJST,
    Begrip,
    Event,
    Identificatie,
    RecordDescription,
    Verwijzing,
    describe_conversation,
    load_metadata_file,
    metadata_custodian,
)
from preservation.metadata.selectielijst import load_selectielijst
from preservation.metadata.topx import topx_aggregatie_xml, topx_bestand_xml
from preservation.xsd import SchemaName, validate_xml
from schemas import schema_path

ORIGINAL_DIR = "data/original"
CONVERSATION_JSON = "data/derived/conversation.json"
METADATA_DIR = "data/metadata"
SELECTION_JSON = "data/metadata/selection.json"
CHECKSUM_ALGORITHMS = ["sha256", "sha512"]
BAGIT_PROFILE_FILE = "bagit-profile-edepot-sip.json"
METADATA_STANDARDS = {"mdto": ("MDTO",), "topx": ("ToPX",), "both": ("MDTO", "ToPX")}
SELECTIE_EVENT = Begrip("Selectie", begrippenlijst=EDEPOT_BEGRIPPENLIJST)


@functools.cache
def edepot_profile() -> dict[str, Any]:
    """The edepot SIP BagIt profile (a fresh reading each process; callers must not change it)."""
    profile: dict[str, Any] = json.loads(schema_path(BAGIT_PROFILE_FILE).read_text(encoding="utf-8"))
    return profile


@dataclass(frozen=True)
class SipOptions:
    """How a SIP is made beyond the export and its metadata file: selection, standards, packaging."""

    criteria: Criteria = field(default_factory=Criteria)
    review: Path | None = None  # a review sheet (CSV) whose private marks are added to criteria.private_seqs
    keep_original: bool = False  # include the whole export even when the record is a selection
    metadata_standard: str = "mdto"  # mdto, topx or both
    selectielijst: Path | None = None  # resolves an informatiecategorie code (VNG Selectielijst JSON)
    package: str | None = None  # zip or 7z: write a transfer package instead of a folder
    conversation: str | None = None  # id or index of the conversation to take from an export holding several
    damaged_export: str | None = None  # the producer's reason: the export is damaged, take what can be read
    require_media: bool = False  # refuse (MediaMissing) an export that lacks media its conversation names
    custodian: Custodian | None = None  # whose phone or account (else the metadata file's `custodian`, if any)


@dataclass(frozen=True)
class SipResult:
    """A SIP that was written: where, for which record, holding which payload files."""

    path: Path
    record_id: str
    title: str
    message_count: int
    payload_files: tuple[str, ...]
    selection: dict[str, Any] | None = None
    package: Package | None = None
    warnings: tuple[str, ...] = ()  # what the export lacks (ingest/sip_findings.py)

    def to_dict(self) -> dict[str, object]:
        result: dict[str, object] = {
            "sip": str(self.path),
            "record_id": self.record_id,
            "title": self.title,
            "messages": self.message_count,
            "payload_files": list(self.payload_files),
            "warnings": list(self.warnings),
        }
        if self.selection is not None:
            result["selection"] = {"kept": self.selection["kept"]["messages"],
                                   "excluded": self.selection["excluded"]["messages"],
                                   "by_reason": self.selection["excluded"]["by_reason"]}
        if self.package is not None:
            result.update(self.package.to_dict())
        return result


def create_sip(
    exports: Sequence[Path],
    out: Path,
    config: Config,
    metadata_file: Path | None = None,
    tz: str = "Europe/Amsterdam",
    export_format: str | None = None,
    date_order: str | None = None,
    options: SipOptions | None = None,
    *,
    parse: ParseOptions | None = None,
) -> SipResult:
    """Build a valid SIP bag at `out` (or the package `out.zip`/`out.7z`) from one conversation export.

    The SIP appears whole or not at all. With selection criteria (or a review sheet) the SIP holds only the
    selected messages and their media, plus the selection statement (see the module docstring). An export
    holding several conversations needs `options.conversation` (its id or index, ingest/conversations.py):
    the SIP then holds that conversation alone, as a selection; without it, InputError naming the ways out.
    `parse`, when given, is used instead of `tz` and `date_order` (it may carry a backup's password source).
    """
    options = options or SipOptions()
    target = _checked_target(out, options)
    salvage = options.damaged_export is not None
    parse = parse or ParseOptions(tz=tz, date_order=date_order)
    streams = stream_export(exports, parse, export_format, salvage=salvage)
    index, part = choose([s.head for s in streams], options.conversation)
    conversation = materialise(streams[index])  # the others are never read into memory
    metadata: Mapping[str, Any] | None = load_metadata_file(metadata_file) if metadata_file else None
    if part is not None:  # one record of several in the export: its naam and kenmerk are its own
        metadata = metadata_for(metadata, part, conversation)
    with SelectedMedia(exports, export_format, spool_parent=target.parent, salvage=salvage, parse=parse) as media:
        return build_sip(conversation, exports, out, config, metadata, options, part, media)


def build_sip(
    conversation: Conversation,
    exports: Sequence[Path],
    out: Path,
    config: Config,
    metadata: Mapping[str, Any] | None,
    options: SipOptions,
    part: ExportPart | None,
    media: SelectedMedia,
) -> SipResult:
    """Build the SIP of one parsed `conversation` of the export made of `exports` (see create_sip).

    `metadata` is a metadata file as read by load_metadata_file; `part` names the conversation when the
    export holds several (the SIP is then a selection, the export is left out unless keep_original);
    `media` writes the media the record keeps. The SIP appears whole or not at all. What the export lacks
    (media, a file cut short) is said in the result's warnings, the selection statement and the MDTO
    (ingest/sip_findings.py); with `options.require_media` an export lacking media is refused (MediaMissing).
    File names longer than the SIP allows are shortened (ingest/bag_names.py), the originals kept in the
    metadata."""
    target = _checked_target(out, options)
    if keeps_export_out(conversation.source.format) and options.keep_original:
        raise InputError("a phone backup never enters a SIP: it holds the phone's other, private chats too",
                         hint="the SIP holds the conversation's messages, its attachments and the rows they were read "
                              "from")
    if options.damaged_export is not None:
        conversation = _declared_damaged(conversation, options.damaged_export)
    custodian = options.custodian or metadata_custodian(metadata)
    if custodian is not None:
        conversation = conversation.with_custodian(custodian)
    criteria = options.criteria
    if options.review is not None:
        private = read_review_sheet(options.review, conversation)
        criteria = replace(criteria, private_seqs=criteria.private_seqs | private)
    selection = select(conversation, criteria, part) if part is not None or not criteria.empty else None
    if selection is not None and not selection.conversation.messages:
        raise InputError("the selection keeps no message of the export", hint="loosen the selection")
    export_files = _export_files(exports) if selection is None or options.keep_original else None
    selected = with_bag_names(selection.conversation if selection else conversation,
                              [relative for _, relative in export_files or ()])
    findings = Findings.of(selected)
    if options.require_media:
        findings.require_media()
    canonical = selected.to_json().encode("utf-8")  # written once, and a selection's kenmerk derives from it
    record, statement = _describe(exports, conversation, selection, canonical, metadata, options, config)
    record = replace(record, events=(*record.events, *findings.events(config.clock().date(),
                                                                       config.organisation.archiefvormer)),
                     toelichtingen=(*record.toelichtingen, *findings.toelichtingen()))
    if statement is not None and findings.warnings():
        statement["export_findings"] = findings.to_dict()

    staging = target.parent / temporary_name(target.name, "partial")
    staging.mkdir(parents=True)
    try:
        payload, taken = _write_payload(staging, export_files, canonical, selection, statement, media)
        _refuse_unsafe_names(payload)
        standards = METADATA_STANDARDS[options.metadata_standard]
        _write_metadata(staging, payload, record, config, standards, taken, dict(selected.source.renamed))
        bagit.make_bag(
            str(staging),
            bag_info={
                # a control character (a NUL in a name, say) is written as its escape, as in the metadata
                "Source-Organization": escaped(record.archiefvormer),
                "External-Identifier": escaped(record.identificatie.kenmerk),
                "External-Description": escaped(record.naam),
                "BagIt-Profile-Identifier": edepot_profile()["BagIt-Profile-Info"]["BagIt-Profile-Identifier"],
                "Edepot-Metadata-Standard": " ".join(standards),
                "Bag-Software-Agent": f"edepot {edepot_version()}",
            },
            checksums=CHECKSUM_ALGORITHMS,
        )
        package = None
        if options.package:
            package = package_bag(staging, target, options.package)
            shutil.rmtree(staging)
        else:
            if target.exists():
                target.rmdir()
            publish_directory(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SipResult(
        path=target,
        record_id=record.identificatie.kenmerk,
        title=record.naam,
        message_count=len(selected.messages),
        payload_files=tuple(f"data/{p}" for p in payload),
        selection=statement,
        package=package,
        warnings=tuple(findings.warnings()),
    )


def _checked_target(out: Path, options: SipOptions) -> Path:
    """Where the SIP (or its package) goes, refused when something is there already."""
    if options.metadata_standard not in METADATA_STANDARDS:
        raise InputError(f"unknown metadata standard {options.metadata_standard!r}",
                         hint=f"give one of {', '.join(METADATA_STANDARDS)}")
    out = out.resolve()
    target = package_path(out, options.package) if options.package else out
    _refuse_existing(target, packaged=options.package is not None)
    return target


def _refuse_existing(target: Path, packaged: bool) -> None:
    if packaged:
        for path in (target, checksum_path(target)):
            if path.exists():
                raise InputError(f"{path} already exists")
    elif target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"{target} already exists and is not an empty folder")


def _describe(
    exports: Sequence[Path],
    conversation: Conversation,
    selection: Selection | None,
    canonical: bytes,
    metadata: Mapping[str, Any] | None,
    options: SipOptions,
    config: Config,
) -> tuple[RecordDescription, dict[str, Any] | None]:
    """The record's description and, for a selection, the selection statement it reports."""
    selectielijst = load_selectielijst(options.selectielijst) if options.selectielijst else None
    today = config.clock().date()
    if selection is None:
        return describe_conversation(conversation, config.organisation, metadata, today, selectielijst), None
    record = describe_conversation(selection.conversation, config.organisation, metadata, today, selectielijst,
                                   derived_from=hashlib.sha256(canonical).hexdigest())
    export_files = [f.to_dict() for f in conversation.source.files] or [_file_facts(p) for p in exports]
    statement = selection.statement(export_files, options.keep_original)
    source = "; ".join(f"{f['name']} ({f['size']} bytes, sha256 {f['sha256']})" for f in export_files)
    summary = selection.summary()
    what = "een gesprek" if selection.part is not None and selection.criteria.empty else "een selectie"
    record = replace(
        record,
        events=(*record.events, Event(SELECTIE_EVENT, today, config.organisation.archiefvormer,
                                      f"{summary} Bron: {source}.")),
        toelichtingen=(*record.toelichtingen,
                       f"{summary} Dit record is {what} uit de export {source}; de selectie staat in "
                       f"{SELECTION_JSON.removeprefix('data/')}."),
    )
    return record, statement


def _declared_damaged(conversation: Conversation, reason: str) -> Conversation:
    """`conversation` with the producer's statement that its export is damaged in `source.damaged` (the Depot
    service refuses a statement without a reason)."""
    found = conversation.source.damaged or Damage()
    return replace(conversation, source=replace(conversation.source, damaged=replace(found, reason=reason.strip())))


def _file_facts(path: Path) -> dict[str, Any]:
    digests, size = digest_file(path, ("sha256",))
    return {"name": path.name, "size": size, "sha256": digests["sha256"]}


def _write_payload(
    staging: Path,
    export_files: list[tuple[Path, str]] | None,
    canonical: bytes,
    selection: Selection | None,
    statement: dict[str, Any] | None,
    media: SelectedMedia,
) -> tuple[list[str], set[str]]:
    """The originals (the export's files when `export_files` is given, see _export_files, else the selected
    media), the canonical JSON (`canonical`, its UTF-8 bytes) and the selection statement.

    Returns the payload paths below data/ that represent the record (the statement is metadata), and which
    of them are media taken out of the export.
    """
    payload: list[str] = []
    taken: set[str] = set()
    if export_files is not None:
        payload += _copy_export(export_files, staging / "original")
    else:
        assert selection is not None
        # an export of one conversation may name media by file name alone (WhatsApp); several never do
        written = media.write(selection.kept_attachments, staging / "original", by_file_name=selection.part is None)
        taken = {f"original/{p}" for p in written}
        payload += sorted(taken)
        if selection.part is not None:  # a phone backup's conversation: the rows it was read from are its original
            kept = frozenset(m.seq for m in selection.conversation.messages)
            payload += [f"original/{name}" for name in media.write_rows(selection.part, kept, staging / "original")]
    json_path = staging / "derived" / "conversation.json"
    json_path.parent.mkdir(parents=True)
    json_path.write_bytes(canonical)
    payload.append("derived/conversation.json")
    if statement is not None:
        statement_path = staging / "metadata" / "selection.json"
        statement_path.parent.mkdir(parents=True, exist_ok=True)
        statement_path.write_text(json.dumps(statement, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return payload, taken


def _refuse_unsafe_names(payload: list[str]) -> None:
    """InputError naming the first file whose name ingest would refuse (kernel/names.py), shown escaped."""
    for relative in payload:
        if reason := unsafe_name_reason(relative):
            raise InputError(f"the file {escaped(relative.removeprefix('original/'))} of the export cannot be kept in "
                             f"a SIP: its name {reason}",
                             hint="rename the file; a SIP holds no names with control characters or bytes that are "
                                  "not UTF-8")


def _export_files(exports: Sequence[Path]) -> list[tuple[Path, str]]:
    """Each file of the export as handed over, with its path below the SIP's original/ as the export names it
    (a folder export with its name and tree)."""
    found: list[tuple[Path, str]] = []
    names: set[str] = set()
    for export in exports:
        if export.name in names:
            raise InputError(f"two export files are both named {export.name!r}")
        names.add(export.name)
        if export.is_dir():
            found += [(source, f"{export.name}/{source.relative_to(export).as_posix()}")
                      for source in sorted(p for p in export.rglob("*") if p.is_file() and not p.is_symlink())]
        else:
            found.append((export, export.name))
    return found


def _copy_export(export_files: list[tuple[Path, str]], folder: Path) -> list[str]:
    """The export's files as handed over, byte-identical below `folder`, each name cut to the SIP's limit
    (ingest/bag_names.py); returns the payload paths written."""
    written = []
    for source, relative in export_files:
        target = folder / bag_path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(f"original/{bag_path(relative)}")
    return written


def _write_metadata(
    staging: Path,
    payload: list[str],
    record: RecordDescription,
    config: Config,
    standards: tuple[str, ...],
    media: set[str],
    renamed: Mapping[str, str],
) -> None:
    """A bestand per payload file and the record, in each standard, each checked against its XSD when present.
    A file whose name was shortened (`renamed`: path below original/ → name in the export) is described by its
    name in the export."""
    identifier = shared_identifier()
    documents: dict[Path, tuple[bytes, SchemaName]] = {}
    representations: list[Verwijzing] = []
    for n, relative in enumerate(payload, start=1):
        path = staging / relative
        digests, size = digest_file(path, ("sha256",))
        found = identifier.identify(path)
        file_id = Identificatie(kenmerk=f"{record.identificatie.kenmerk}-F{n}", bron=record.identificatie.bron)
        representations.append(Verwijzing(naam=path.name, identificatie=file_id))
        original = renamed.get(relative.removeprefix("original/"))
        description = FileDescription(
            identificatie=file_id,
            naam=original.rsplit("/", 1)[-1] if original else path.name,
            omvang=size,
            sha256=digests["sha256"],
            checksum_datum=config.clock(),
            puid=found.puid,
            format_name=found.format_name,
            mime_type=found.mime_type,
            is_representatie_van=record.identificatie,
            record_naam=record.naam,
        )
        if "MDTO" in standards:
            documents[staging / "metadata" / f"{relative}.bestand.mdto.xml"] = (bestand_xml(description),
                                                                                 SchemaName.MDTO)
        if "ToPX" in standards:
            genre = "Bijlage" if relative in media else "Chatgesprek"
            documents[staging / "metadata" / f"{relative}.bestand.topx.xml"] = (
                topx_bestand_xml(description, genre), SchemaName.TOPX)
    stem = _safe_file_name(record.identificatie.kenmerk)
    if "MDTO" in standards:
        documents[staging / "metadata" / f"{stem}.mdto.xml"] = (informatieobject_xml(record, representations),
                                                                  SchemaName.MDTO)
    if "ToPX" in standards:
        documents[staging / "metadata" / f"{stem}.topx.xml"] = (topx_aggregatie_xml(record), SchemaName.TOPX)
    problems: list[str] = []
    for path, (xml, schema) in documents.items():
        if config.schema_dir is not None and (config.schema_dir / schema.value).is_file():
            problems += [f"{path.name}: {p}" for p in validate_xml(xml, schema, config.schema_dir)]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(xml)
    if problems:
        raise InvalidPackage("the metadata edepot wrote does not validate", problems)


def _safe_file_name(text: str) -> str:
    """A kenmerk made safe as a file name (kenmerken may hold '/' or ':')."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or "record"
