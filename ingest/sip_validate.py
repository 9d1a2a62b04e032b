"""SIP validation: the checks an e-Depot runs before it trusts a SIP, cheap ones first, in two sections.

BagIt section (any bag): `ingest.bagit_check` (RFC 8493 and drafts 0.93-0.97, checked against the Library of
Congress conformance suite): bag declaration, Payload-Oxum, completeness, every checksum, fetch.txt paths;
errors and warnings apart. `--bagit-only` stops here.

edepot section (only for an edepot SIP, recognised by its BagIt-Profile-Identifier or its layout; any other bag
gets one finding, "not an edepot SIP", so a BagIt verdict and an edepot verdict never mix): bag-info and
manifests, the edepot BagIt profile (`schemas/bagit-profile-edepot-sip.json`, checked with the bagit-profile
package, loaded from the file, never fetched), edepot's layout (see ingest/sip.py), the canonical JSON against
schemas/conversation.schema.json, the selection statement against the conversation, every MDTO and ToPX document
against the official XSD (from the configured schema folder), each bestand's checksum and size against
its file, and every file name (kernel/names.py: no control characters, UTF-8 only). All findings are collected;
nothing stops at the first, except that a bag whose tag files were refused unread (ingest/bagit_check.py) is not
read further. Every finding shows names with control characters and undecodable bytes escaped.
"""
from __future__ import annotations

import copy
import json
import logging
import os
import re
import shutil
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import bagit
import bagit_profile
import jsonschema
from lxml import etree

from ingest.bagit_check import check_bagit
from ingest.packaging import checksum_path
from ingest.sip import (
    BAGIT_PROFILE_FILE,
    CONVERSATION_JSON,
    METADATA_DIR,
    ORIGINAL_DIR,
    SELECTION_JSON,
    edepot_profile,
)
from kernel.config import Config
from kernel.errors import EdepotError, InputError
from kernel.hashing import digest_file
from kernel.locks import claimed_work
from kernel.model import Conversation, load_json
from kernel.names import escaped, unsafe_name_reason
from preservation.bag_writer import read_manifest
from preservation.xsd import SchemaName, validate_xml
from schemas import schema_path

REQUIRED_BAG_INFO = ("Source-Organization", "External-Identifier", "Bagging-Date", "Payload-Oxum")
MDTO_NS = "{https://www.nationaalarchief.nl/mdto}"
TOPX_NS = "{http://www.nationaalarchief.nl/ToPX/v2.3}"
BAGIT = "bagit"
EDEPOT = "edepot"
PACKAGE = "package"
NOT_AN_EDEPOT_SIP = "not an edepot SIP"
_CONTROL_IN_VALUE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # tab and folded lines allowed
MAX_DETAIL_CHARACTERS = 500  # a schema error quotes the value it refuses, which may be megabytes long


@dataclass(frozen=True)
class Check:
    """One named check and what it found (empty details when it passed); warnings never fail it."""

    name: str
    ok: bool
    details: tuple[str, ...] = ()
    skipped: bool = False
    section: str = EDEPOT
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:  # a finding may quote a name with control characters or undecodable bytes
        object.__setattr__(self, "details", tuple(escaped(d) for d in self.details))
        object.__setattr__(self, "warnings", tuple(escaped(w) for w in self.warnings))

    def to_dict(self) -> dict[str, object]:
        return {"check": self.name, "section": self.section, "ok": self.ok, "skipped": self.skipped,
                "details": list(self.details), "warnings": list(self.warnings)}


@dataclass(frozen=True)
class SipValidation:
    """Every check run on one SIP; `valid` when none failed, `bagit_valid` for the BagIt section alone."""

    path: Path
    checks: tuple[Check, ...]
    edepot_sip: bool | None = None  # None: not looked at (--bagit-only)

    @property
    def valid(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def bagit_valid(self) -> bool:
        return all(c.ok for c in self.checks if c.section in (BAGIT, PACKAGE))

    @property
    def warnings(self) -> list[str]:
        return [f"{c.name}: {w}" for c in self.checks for w in c.warnings]

    @property
    def problems(self) -> list[str]:
        return [f"{c.name}: {d}" for c in self.checks if not c.ok for d in (c.details or ("failed",))]

    def to_dict(self) -> dict[str, object]:
        return {"sip": str(self.path), "valid": self.valid, "bagit_valid": self.bagit_valid,
                "edepot_sip": self.edepot_sip, "warnings": self.warnings,
                "checks": [c.to_dict() for c in self.checks]}

    def report(self) -> str:
        """The report a human reads: one line a check, its findings indented, the verdicts at the end."""
        lines = []
        for section, title in ((PACKAGE, "transfer package"), (BAGIT, "BagIt"), (EDEPOT, "edepot SIP")):
            checks = [c for c in self.checks if c.section == section]
            if not checks:
                continue
            lines.append(f"{title}:")
            for c in checks:
                state = "skip" if c.skipped else ("ok  " if c.ok else "FAIL")
                lines.append(f"  {state} {c.name}")
                lines += [f"         {d}" for d in c.details]
                lines += [f"         warning: {w}" for w in c.warnings]
        lines.append(f"BagIt: {'valid' if self.bagit_valid else 'INVALID'}"
                     + (f" ({len(self.warnings)} warnings)" if self.warnings else ""))
        if self.edepot_sip is not None:
            verdict = "valid" if self.valid else ("INVALID" if self.edepot_sip else NOT_AN_EDEPOT_SIP)
            lines.append(f"edepot SIP: {verdict}: {self.path}")
        return "\n".join(lines)


def validate_sip(bag_root: Path, config: Config, bagit_only: bool = False) -> SipValidation:
    """Run every check on the bag at `bag_root`; InputError when it is not a BagIt bag at all (no bagit.txt).

    `bagit_only` runs the BagIt section alone (for bags that are not edepot SIPs).
    """
    if not bag_root.is_dir() or not (bag_root / "bagit.txt").is_file():
        raise InputError(f"{bag_root} is not a BagIt bag (no bagit.txt)")
    findings = check_bagit(bag_root, config.tag_file_limits)
    bagit_check = Check("BagIt structure, completeness and checksums", findings.valid, findings.errors,
                        section=BAGIT, warnings=findings.warnings)
    if bagit_only or not findings.readable:  # tag files refused unread: nothing may read the bag further
        return SipValidation(bag_root, (bagit_check,))
    try:
        bag = bagit.Bag(str(bag_root))
    except bagit.BagError:
        return SipValidation(bag_root, (bagit_check, Check(NOT_AN_EDEPOT_SIP, False, (
            "the bag cannot be read, so it cannot be checked as an edepot SIP",))), edepot_sip=False)
    if not _is_edepot_sip(bag, bag_root):
        return SipValidation(bag_root, (bagit_check, Check(NOT_AN_EDEPOT_SIP, False, (
            "no BagIt-Profile-Identifier of edepot in bag-info.txt and no data/derived/conversation.json; "
            "the BagIt verdict above stands on its own (check it as a bag only)",))), edepot_sip=False)
    checks = [
        bagit_check,
        _check_bag_info(bag),
        _check_profile(bag, bag_root),
        _check_layout(bag_root),
        _check_names(bag, bag_root),
        _check_conversation(bag_root),
        _check_selection(bag_root),
        *_check_metadata(bag_root, config),
    ]
    return SipValidation(bag_root, tuple(checks), edepot_sip=True)


def validate_transfer(path: Path, config: Config, bagit_only: bool = False) -> SipValidation:
    """Validate a SIP given as a folder or as a transfer package (.zip, .7z, .tar).

    A package is checked against the `<package>.sha256` beside it when there is one, then unpacked safely
    (ingest.unpack) into a temporary folder that is removed afterwards, and its bag validated.
    """
    if path.is_dir():
        return validate_sip(path, config, bagit_only)
    from ingest.unpack import unpack_transfer

    checks = [_check_package_checksum(path)]
    temp = config.staging_dir / f"validate-{uuid.uuid4().hex}"
    with claimed_work(config.locks_dir, "sip validate") as claim:  # a killed run's staging is then found
        claim.note(temp)
        try:
            report = validate_sip(unpack_transfer(path, temp), config, bagit_only)
        finally:
            shutil.rmtree(temp, ignore_errors=True)
    return replace(report, path=path, checks=(*checks, *report.checks))


def _check_package_checksum(package: Path) -> Check:
    name = "package checksum"
    beside = checksum_path(package)
    if not beside.is_file():
        return Check(name, True, (f"no {beside.name} beside the package",), skipped=True, section=PACKAGE)
    try:
        expected = beside.read_text(encoding="utf-8").split()[0].lower()
    except (OSError, UnicodeDecodeError, IndexError):
        return Check(name, False, (f"{beside.name} is not in sha256sum format",), section=PACKAGE)
    actual = digest_file(package, ("sha256",))[0]["sha256"]
    if actual != expected:
        return Check(name, False, (f"{package.name} has sha256 {actual}, {beside.name} says {expected}",),
                     section=PACKAGE)
    return Check(name, True, section=PACKAGE)


def _is_edepot_sip(bag: bagit.Bag, root: Path) -> bool:
    declared = bag.info.get("BagIt-Profile-Identifier")
    return declared == edepot_profile()["BagIt-Profile-Info"]["BagIt-Profile-Identifier"] or (
        (root / CONVERSATION_JSON).is_file() and (root / METADATA_DIR).is_dir())


def _check_bag_info(bag: bagit.Bag) -> Check:
    missing = [f"bag-info.txt lacks {key}" for key in REQUIRED_BAG_INFO if not bag.info.get(key)]
    for key, values in bag.info.items():
        for value in values if isinstance(values, list) else [values]:
            if found := _CONTROL_IN_VALUE.search(f"{key}{value}"):
                missing.append(f"bag-info.txt {key}: holds the control character {escaped(found.group())}")
    algorithms = sorted(bag.algorithms)
    if not {"sha256", "sha512"} <= set(algorithms):
        missing.append(f"manifests in sha256 and sha512 are required, found {', '.join(algorithms)}")
    return Check("bag-info and manifests", not missing, tuple(missing))


def _check_profile(bag: bagit.Bag, root: Path) -> Check:
    """The edepot BagIt profile, by the bagit-profile package (its findings are logged, so logging is held)."""
    profile = edepot_profile()
    url = profile["BagIt-Profile-Info"]["BagIt-Profile-Identifier"]
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        checker = bagit_profile.Profile(url, profile=copy.deepcopy(profile))  # it fills in defaults in place
        problems: list[str] = []
        try:
            checker.validate_serialization(str(root))
        except bagit_profile.ProfileValidationError as exc:
            problems.append(str(exc.value))
        checker.validate(bag)
        problems += [str(e.value) for e in checker.report.errors]
    finally:
        logging.disable(previous)
    details = tuple(p.replace(f"{bag}: ", "").replace(f"{root}: ", "") for p in problems)
    return Check(f"BagIt profile {BAGIT_PROFILE_FILE}", not details, details)


def _check_layout(root: Path) -> Check:
    problems = []
    originals = root / ORIGINAL_DIR
    selected = (root / SELECTION_JSON).is_file()
    if not selected and (not originals.is_dir() or not any(originals.iterdir())):
        problems.append(f"{ORIGINAL_DIR}/ holds no original export (and no {SELECTION_JSON} says why)")
    if not (root / CONVERSATION_JSON).is_file():
        problems.append(f"{CONVERSATION_JSON} is missing")
    metadata = root / METADATA_DIR
    if not metadata.is_dir() or not (any(metadata.rglob("*.mdto.xml")) or any(metadata.rglob("*.topx.xml"))):
        problems.append(f"{METADATA_DIR}/ holds no MDTO or ToPX metadata")
    return Check("edepot SIP layout", not problems, tuple(problems))


def _check_names(bag: bagit.Bag, root: Path) -> Check:
    """Every file name in the manifests and in the bag on disk is UTF-8 without control characters."""
    names = set(bag.entries)
    for directory, _folders, files in os.walk(root):
        names.update(Path(directory, name).relative_to(root).as_posix() for name in files)
    problems = tuple(f"{escaped(name)}: the file name {reason}" for name in sorted(names)
                     if (reason := unsafe_name_reason(name)))
    return Check("file names", not problems, problems)


def _check_conversation(root: Path) -> Check:
    path = root / CONVERSATION_JSON
    if not path.is_file():
        return Check("canonical conversation JSON", False, ("missing",))
    try:
        document = load_json(path.read_bytes(), what=CONVERSATION_JSON)
    except InputError as exc:
        return Check("canonical conversation JSON", False, (exc.message,))
    schema = json.loads(schema_path("conversation.schema.json").read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(document), key=lambda e: e.path)
    details = tuple(_shortened(f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}")
                    for e in errors[:20])
    if not errors:  # the schema's patterns let through what ingest cannot read, such as month 13
        try:
            Conversation.from_dict(document)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            details = (_shortened(f"not a conversation edepot can read: {exc!r}"),)
    return Check("canonical conversation JSON", not details, details)


def _shortened(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_CHARACTERS else f"{text[:MAX_DETAIL_CHARACTERS]}… ({len(text)} characters)"


def _check_selection(root: Path) -> Check:
    """The selection statement, when there is one, agrees with the conversation it describes."""
    name = "selection statement"
    path = root / SELECTION_JSON
    if not path.is_file():
        return Check(name, True, ("the record is the whole export: no selection",), skipped=True)
    try:
        statement = load_json(path.read_bytes(), what=SELECTION_JSON)
        conversation = load_json((root / CONVERSATION_JSON).read_bytes(), what=CONVERSATION_JSON)
        kept = statement["kept"]["messages"]
        files = statement["original_export"]["files"]
        messages = len(conversation["messages"])
    except InputError as exc:
        return Check(name, False, (exc.message,))
    except (KeyError, TypeError, OSError) as exc:
        return Check(name, False, (f"not a selection statement: {exc}",))
    problems = []
    if kept != messages:
        problems.append(f"says {kept} messages were kept, the conversation holds {messages}")
    if not isinstance(files, list) or not files or not all(
            isinstance(f, dict) and len(str(f.get("sha256", ""))) == 64 for f in files):
        problems.append("does not give the original export's sha256")
    return Check(name, not problems, tuple(problems))


def _check_metadata(root: Path, config: Config) -> list[Check]:
    """Each MDTO and ToPX file against its XSD, and each bestand's checksum against the file it describes."""
    metadata_dir = root / METADATA_DIR
    checks = []
    for suffix, schema, label in ((".mdto.xml", SchemaName.MDTO, "MDTO"), (".topx.xml", SchemaName.TOPX, "ToPX")):
        documents = sorted(metadata_dir.rglob(f"*{suffix}")) if metadata_dir.is_dir() else []
        if not documents and label == "ToPX":
            continue
        checks.append(_check_xsd(root, documents, schema, label, config))
    checks.append(_check_bestand_checksums(root, metadata_dir))
    return checks


def _check_xsd(root: Path, documents: list[Path], schema: SchemaName, label: str, config: Config) -> Check:
    name = f"{label} against the official XSD"
    if config.schema_dir is None:
        return Check(name, True, ("no schema folder configured: set EDEPOT_SCHEMA_DIR",), skipped=True)
    if not (config.schema_dir / schema.value).is_file():
        return Check(name, True, (f"{schema.value} is not in the schema folder {config.schema_dir}",), skipped=True)
    problems: list[str] = []
    for document in documents:
        try:
            found = validate_xml(document, schema, config.schema_dir)
        except EdepotError as exc:
            found = [exc.message]
        problems += [f"{document.relative_to(root)}: {p}" for p in found]
    return Check(name, not problems, tuple(problems))


_BESTAND_FIELDS = {  # suffix → (namespace, checksum path, size path)
    ".bestand.mdto.xml": (MDTO_NS, "checksumWaarde", "omvang"),
    ".bestand.topx.xml": (TOPX_NS, "waarde", "omvang"),
}


def _check_bestand_checksums(root: Path, metadata_dir: Path) -> Check:
    """Each bestand's checksum and omvang against the file it describes. The bag's sha256 manifest stands in
    for hashing the file again: the BagIt section checks the manifest against the bytes (and reports any
    file that differs), so a 1 GB export is not read a second time for this."""
    problems = []
    manifest = root / "manifest-sha256.txt"
    verified = read_manifest(manifest) if manifest.is_file() else {}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for suffix, (ns, checksum, size_name) in _BESTAND_FIELDS.items():
        documents = sorted(metadata_dir.rglob(f"*{suffix}")) if metadata_dir.is_dir() else []
        for document in documents:
            described = root / "data" / document.relative_to(metadata_dir).as_posix()[: -len(suffix)]
            try:
                tree = etree.parse(str(document), parser)
            except etree.XMLSyntaxError as exc:
                problems.append(f"{document.name}: not well-formed: {exc}")
                continue
            value = tree.findtext(f".//{ns}{checksum}")
            size = tree.findtext(f".//{ns}{size_name}")
            if not described.is_file():
                problems.append(f"{document.name}: describes {described.relative_to(root)}, which is not in the SIP")
                continue
            relative = described.relative_to(root).as_posix()
            if relative in verified:
                actual, actual_size = verified[relative], described.stat().st_size
            else:
                digests, actual_size = digest_file(described, ("sha256",))
                actual = digests["sha256"]
            if value != actual or size != str(actual_size):
                problems.append(f"{document.name}: checksum or omvang differs from {described.relative_to(root)}")
    return Check("bestand checksums match the payload", not problems, tuple(problems))
