"""SIP validation: the checks an e-Depot runs before it trusts a SIP, cheap ones first.

Order follows bagit-python's checklist (BagIt RFC 8493 §3): bag declaration and bag-info, Payload-Oxum,
completeness, checksums of every manifest; then edepot's own layout (see ingest/sip.py), the canonical
JSON against schemas/conversation.schema.json, and every MDTO document against the official MDTO XSD.
All findings are collected; nothing stops at the first.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import bagit
import jsonschema
from lxml import etree

from ingest.sip import CONVERSATION_JSON, METADATA_DIR, ORIGINAL_DIR
from kernel.config import Config
from kernel.errors import EdepotError, InputError
from kernel.hashing import digest_file
from preservation.xsd import SchemaName, validate_xml
from schemas import schema_path

REQUIRED_BAG_INFO = ("Source-Organization", "External-Identifier", "Bagging-Date", "Payload-Oxum")
MDTO_NS = "{https://www.nationaalarchief.nl/mdto}"


@dataclass(frozen=True)
class Check:
    """One named check and what it found (empty details when it passed)."""

    name: str
    ok: bool
    details: tuple[str, ...] = ()
    skipped: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"check": self.name, "ok": self.ok, "skipped": self.skipped, "details": list(self.details)}


@dataclass(frozen=True)
class SipValidation:
    """Every check run on one SIP; `valid` when none failed."""

    path: Path
    checks: tuple[Check, ...]

    @property
    def valid(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def problems(self) -> list[str]:
        return [f"{c.name}: {d}" for c in self.checks if not c.ok for d in (c.details or ("failed",))]

    def to_dict(self) -> dict[str, object]:
        return {"sip": str(self.path), "valid": self.valid, "checks": [c.to_dict() for c in self.checks]}


def validate_sip(bag_root: Path, config: Config) -> SipValidation:
    """Run every SIP check on the bag at `bag_root`; InputError when it is not a BagIt bag at all."""
    if not bag_root.is_dir() or not (bag_root / "bagit.txt").is_file():
        raise InputError(f"{bag_root} is not a BagIt bag (no bagit.txt)")
    try:
        bag = bagit.Bag(str(bag_root))
    except bagit.BagError as exc:
        return SipValidation(bag_root, (Check("bag declaration", False, (str(exc),)),))
    checks = [
        _check_bag_info(bag),
        _check_bag(bag),
        _check_layout(bag_root),
        _check_conversation(bag_root),
        *_check_mdto(bag_root, config),
    ]
    return SipValidation(bag_root, tuple(checks))


def _check_bag_info(bag: bagit.Bag) -> Check:
    missing = [f"bag-info.txt lacks {key}" for key in REQUIRED_BAG_INFO if not bag.info.get(key)]
    algorithms = sorted(bag.algorithms)
    if not {"sha256", "sha512"} <= set(algorithms):
        missing.append(f"manifests in sha256 and sha512 are required, found {', '.join(algorithms)}")
    return Check("bag-info and manifests", not missing, tuple(missing))


def _check_bag(bag: bagit.Bag) -> Check:
    """Structure, Payload-Oxum, completeness and every checksum, by the bagit library.

    `Bag.validate` stops at the first failing step; an archivist wants every finding, so the steps
    are run one by one (bagit is pinned, so these methods are stable).
    """
    details: list[str] = []
    steps = (bag._validate_structure, bag._validate_bagittxt, bag._validate_oxum, bag._validate_completeness,
             lambda: bag._validate_entries(2))
    for step in steps:
        try:
            step()
        except bagit.BagValidationError as exc:
            details += [str(d) for d in exc.details] or [str(exc.message)]
        except bagit.BagError as exc:
            details.append(str(exc))
            break
    return Check("bag completeness and checksums", not details, tuple(dict.fromkeys(details)))


def _check_layout(root: Path) -> Check:
    problems = []
    originals = root / ORIGINAL_DIR
    if not originals.is_dir() or not any(originals.iterdir()):
        problems.append(f"{ORIGINAL_DIR}/ holds no original export")
    if not (root / CONVERSATION_JSON).is_file():
        problems.append(f"{CONVERSATION_JSON} is missing")
    metadata = root / METADATA_DIR
    if not metadata.is_dir() or not any(metadata.rglob("*.mdto.xml")):
        problems.append(f"{METADATA_DIR}/ holds no MDTO metadata")
    return Check("edepot SIP layout", not problems, tuple(problems))


def _check_conversation(root: Path) -> Check:
    path = root / CONVERSATION_JSON
    if not path.is_file():
        return Check("canonical conversation JSON", False, ("missing",))
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        schema = json.loads(schema_path("conversation.schema.json").read_text(encoding="utf-8"))
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(document), key=lambda e: e.path)
    except (ValueError, UnicodeDecodeError) as exc:
        return Check("canonical conversation JSON", False, (f"not JSON: {exc}",))
    details = tuple(f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors[:20])
    return Check("canonical conversation JSON", not errors, details)


def _check_mdto(root: Path, config: Config) -> list[Check]:
    """Each MDTO file against the XSD, and each bestand's checksum against the file it describes."""
    metadata_dir = root / METADATA_DIR
    documents = sorted(metadata_dir.rglob("*.mdto.xml")) if metadata_dir.is_dir() else []
    if config.schema_dir is None:
        schema_check = Check("MDTO against the official XSD", True, ("no schema folder configured: set "
                             "EDEPOT_SCHEMA_DIR",), skipped=True)
    else:
        problems: list[str] = []
        for document in documents:
            try:
                found = validate_xml(document, SchemaName.MDTO, config.schema_dir)
            except EdepotError as exc:
                found = [exc.message]
            problems += [f"{document.relative_to(root)}: {p}" for p in found]
        schema_check = Check("MDTO against the official XSD", not problems, tuple(problems))
    return [schema_check, _check_bestand_checksums(root, documents)]


def _check_bestand_checksums(root: Path, documents: list[Path]) -> Check:
    problems = []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for document in documents:
        if not document.name.endswith(".bestand.mdto.xml"):
            continue
        described = root / "data" / document.relative_to(root / METADATA_DIR).as_posix()[: -len(".bestand.mdto.xml")]
        try:
            tree = etree.parse(str(document), parser)
        except etree.XMLSyntaxError as exc:
            problems.append(f"{document.name}: not well-formed: {exc}")
            continue
        value = tree.findtext(f".//{MDTO_NS}checksumWaarde")
        size = tree.findtext(f".//{MDTO_NS}omvang")
        if not described.is_file():
            problems.append(f"{document.name}: describes {described.relative_to(root)}, which is not in the SIP")
            continue
        digests, actual_size = digest_file(described, ("sha256",))
        if value != digests["sha256"] or size != str(actual_size):
            problems.append(f"{document.name}: checksum or omvang differs from {described.relative_to(root)}")
    return Check("MDTO bestand checksums match the payload", not problems, tuple(problems))
