"""SIP creation: a conversation export wrapped into a BagIt bag with MDTO metadata (BagIt RFC 8493, MDTO 1.0.1).

Layout of an edepot SIP (the bag's payload):

    data/original/<export files>              the export exactly as received, byte-identical
    data/derived/conversation.json            the canonical conversation (schemas/conversation.schema.json)
    data/metadata/<kenmerk>.mdto.xml          MDTO informatieobject: the record
    data/metadata/<payload path>.bestand.mdto.xml  MDTO bestand for each original and derived file

bag-info.txt carries Source-Organization (the archiefvormer), External-Identifier (the record's
kenmerk), Bagging-Date and Payload-Oxum; manifests in sha256 and sha512.
"""
from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import bagit

from ingest.sources import parse_export
from kernel.config import Config
from kernel.errors import InputError, InvalidPackage
from kernel.hashing import digest_file
from kernel.model import Conversation
from preservation.identify import shared_identifier
from preservation.metadata.mdto import FileDescription, bestand_xml, informatieobject_xml
from preservation.metadata.record import (
    Identificatie,
    RecordDescription,
    Verwijzing,
    describe_conversation,
    load_metadata_file,
)
from preservation.xsd import SchemaName, validate_xml

ORIGINAL_DIR = "data/original"
CONVERSATION_JSON = "data/derived/conversation.json"
METADATA_DIR = "data/metadata"
CHECKSUM_ALGORITHMS = ["sha256", "sha512"]


@dataclass(frozen=True)
class SipResult:
    """A SIP that was written: where, for which record, holding which payload files."""

    path: Path
    record_id: str
    title: str
    message_count: int
    payload_files: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "sip": str(self.path),
            "record_id": self.record_id,
            "title": self.title,
            "messages": self.message_count,
            "payload_files": list(self.payload_files),
        }


def create_sip(
    exports: Sequence[Path],
    out: Path,
    config: Config,
    metadata_file: Path | None = None,
    tz: str = "Europe/Amsterdam",
    export_format: str | None = None,
) -> SipResult:
    """Build a valid SIP bag at `out` from one conversation export; `out` appears whole or not at all."""
    out = out.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} already exists and is not an empty folder")
    conversation = parse_export(exports, tz=tz, format=export_format)
    metadata = load_metadata_file(metadata_file) if metadata_file else None
    record = describe_conversation(conversation, config.organisation, metadata, config.clock().date())

    staging = out.parent / f".{out.name}.{uuid.uuid4().hex}.partial"
    staging.mkdir(parents=True)
    try:
        payload = _write_payload(staging, exports, conversation)
        _write_metadata(staging, payload, record, config)
        bagit.make_bag(
            str(staging),
            bag_info={
                "Source-Organization": record.archiefvormer,
                "External-Identifier": record.identificatie.kenmerk,
                "External-Description": record.naam,
            },
            checksums=CHECKSUM_ALGORITHMS,
        )
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SipResult(
        path=out,
        record_id=record.identificatie.kenmerk,
        title=record.naam,
        message_count=len(conversation.messages),
        payload_files=tuple(f"data/{p}" for p in payload),
    )


def _write_payload(staging: Path, exports: Sequence[Path], conversation: Conversation) -> list[str]:
    """Copy the export byte-identical and write the canonical JSON; returns payload paths below data/."""
    payload: list[str] = []
    names: set[str] = set()
    for export in exports:
        if export.name in names:
            raise InputError(f"two export files are both named {export.name!r}")
        names.add(export.name)
        target = staging / "original" / export.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(export, target)
        payload.append(f"original/{export.name}")
    json_path = staging / "derived" / "conversation.json"
    json_path.parent.mkdir(parents=True)
    json_path.write_text(conversation.to_json(), encoding="utf-8")
    payload.append("derived/conversation.json")
    return payload


def _write_metadata(staging: Path, payload: list[str], record: RecordDescription, config: Config) -> None:
    """An MDTO bestand per payload file and the informatieobject, each checked against the XSD when present."""
    identifier = shared_identifier()
    documents: dict[Path, bytes] = {}
    representations: list[Verwijzing] = []
    for n, relative in enumerate(payload, start=1):
        path = staging / relative
        digests, size = digest_file(path, ("sha256",))
        found = identifier.identify(path)
        file_id = Identificatie(kenmerk=f"{record.identificatie.kenmerk}-F{n}", bron=record.identificatie.bron)
        representations.append(Verwijzing(naam=path.name, identificatie=file_id))
        description = FileDescription(
            identificatie=file_id,
            naam=path.name,
            omvang=size,
            sha256=digests["sha256"],
            checksum_datum=config.clock(),
            puid=found.puid,
            format_name=found.format_name,
            mime_type=found.mime_type,
            is_representatie_van=record.identificatie,
            record_naam=record.naam,
        )
        documents[staging / "metadata" / f"{relative}.bestand.mdto.xml"] = bestand_xml(description)
    record_file = staging / "metadata" / f"{_safe_file_name(record.identificatie.kenmerk)}.mdto.xml"
    documents[record_file] = informatieobject_xml(record, representations)
    problems: list[str] = []
    for path, xml in documents.items():
        if config.schema_dir is not None:
            problems += [f"{path.name}: {p}" for p in validate_xml(xml, SchemaName.MDTO, config.schema_dir)]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(xml)
    if problems:
        raise InvalidPackage("the MDTO metadata edepot wrote does not validate", problems)


def _safe_file_name(text: str) -> str:
    """A kenmerk made safe as a file name (kenmerken may hold '/' or ':')."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or "record"
