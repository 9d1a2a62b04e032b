"""Fixity: verify every replica of every AIP, find damage, mend it from a copy that verifies.

The reference for each AIP is what the catalogue recorded at ingest (every file of the bag, tag files
included, with size and sha256) together with the bag's own sha512 manifests, taken from a replica whose
manifests match the catalogue. Each file is read once for both digests (NDSA levels 2-4: fixity on
ingest and on a schedule, repair from a verified replica, nothing overwritten from an unverified copy).
"""
from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Callable, Iterable, Sequence

from kernel.config import Config
from kernel.hashing import digest_file
from preservation.bag_writer import decode_manifest_path
from preservation.catalogue import AipState, FileRecord, ReplicaStatus, SqliteCatalogue
from preservation.metadata.premis import PremisEvent
from preservation.storage import LocalDirectoryLocation

AGENT = "edepot fixity"
Progress = Callable[[int], None]


class DamageKind(str, Enum):
    MODIFIED = "modified"  # other bytes (same size or grown)
    TRUNCATED = "truncated"  # shorter than it was
    MISSING = "missing"
    EXTRA = "extra"  # a file the AIP never had
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Finding:
    """One damaged file in one replica, and what was done about it."""

    aip_id: str
    location: str
    path: str
    kind: DamageKind
    repaired_from: str | None = None  # the location whose verified copy replaced it
    quarantined_to: str | None = None  # where an extra file was moved

    @property
    def mended(self) -> bool:
        return self.repaired_from is not None or self.quarantined_to is not None

    def to_dict(self) -> dict[str, object]:
        return {
            "aip_id": self.aip_id, "location": self.location, "path": self.path, "kind": self.kind.value,
            "repaired_from": self.repaired_from, "quarantined_to": self.quarantined_to, "mended": self.mended,
        }


@dataclass
class FixityReport:
    """What one run checked and found; `intact` is true when no damage remains at the end."""

    started: datetime
    aips_checked: list[str] = field(default_factory=list)
    aips_skipped: list[str] = field(default_factory=list)  # left for the next run by the budget
    files_checked: int = 0
    bytes_checked: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return all(f.mended for f in self.findings)

    def to_dict(self) -> dict[str, object]:
        return {
            "started": self.started.isoformat(),
            "intact": self.intact,
            "aips_checked": self.aips_checked,
            "aips_skipped": self.aips_skipped,
            "files_checked": self.files_checked,
            "bytes_checked": self.bytes_checked,
            "seconds": round(self.seconds, 3),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class FileCheck:
    """The result of hashing one expected file of one replica."""

    path: str
    ok: bool
    kind: DamageKind | None
    size: int


def run_fixity(
    config: Config,
    catalogue: SqliteCatalogue,
    locations: Sequence[LocalDirectoryLocation],
    aip_ids: Sequence[str] | None = None,
    max_bytes: int | None = None,
    max_seconds: float | None = None,
    progress: Progress | None = None,
) -> FixityReport:
    """Verify (and repair) AIPs, least recently verified first, until done or the budget is spent.

    At least one AIP is always verified, so a small budget still makes progress night after night.
    """
    report = FixityReport(started=config.clock())
    began = time.monotonic()
    by_name = {loc.name: loc for loc in locations}
    records = [catalogue.aip(a) for a in aip_ids] if aip_ids else catalogue.aips_by_last_verified()
    for record in records:
        over_bytes = max_bytes is not None and report.bytes_checked >= max_bytes
        over_time = max_seconds is not None and time.monotonic() - began >= max_seconds
        if report.aips_checked and (over_bytes or over_time):
            report.aips_skipped.append(record.aip_id)
            continue
        verify_aip(config, catalogue, by_name, record.aip_id, report, progress)
        report.aips_checked.append(record.aip_id)
    report.seconds = time.monotonic() - began
    return report


def verify_aip(
    config: Config,
    catalogue: SqliteCatalogue,
    locations: dict[str, LocalDirectoryLocation],
    aip_id: str,
    report: FixityReport,
    progress: Progress | None,
) -> None:
    """Verify every replica of one AIP, repair what a verified replica can mend, and record the events."""
    expected = {f.path: f for f in catalogue.files(aip_id)}
    replicas = [r for r in catalogue.replicas(aip_id) if r.location in locations]
    checks: dict[str, dict[str, FileCheck]] = {}
    extras: dict[str, list[str]] = {}
    for replica in replicas:
        bag = locations[replica.location].bag_path(aip_id)
        sha512 = _reference_sha512(locations, replicas, aip_id, expected)
        checks[replica.location] = _check_replica(bag, expected, sha512, progress)
        extras[replica.location] = sorted(_files_below(bag) - expected.keys()) if bag.is_dir() else []
        report.files_checked += len(checks[replica.location])
        report.bytes_checked += sum(c.size for c in checks[replica.location].values())

    findings: list[Finding] = []
    for replica in replicas:
        location = locations[replica.location]
        for path, check in checks[replica.location].items():
            if check.ok:
                continue
            donor = next((o for o in checks if o != replica.location and checks[o][path].ok), None)
            if donor is not None:
                location.replace_file(aip_id, path, locations[donor].bag_path(aip_id) / path)
                if _check_replica(location.bag_path(aip_id), {path: expected[path]},
                                  _reference_sha512(locations, replicas, aip_id, expected), None)[path].ok:
                    findings.append(Finding(aip_id, replica.location, path, check.kind or DamageKind.MODIFIED,
                                           repaired_from=donor))
                    continue
            findings.append(Finding(aip_id, replica.location, path, check.kind or DamageKind.MODIFIED))
        for path in extras[replica.location]:
            moved = location.quarantine_file(aip_id, path, config.quarantine_dir)
            findings.append(Finding(aip_id, replica.location, path, DamageKind.EXTRA, quarantined_to=str(moved)))

    _record(config, catalogue, aip_id, replicas, findings)
    report.findings.extend(findings)


def _reference_sha512(
    locations: dict[str, LocalDirectoryLocation], replicas: Sequence, aip_id: str, expected: dict[str, FileRecord]
) -> dict[str, str]:
    """sha512 of every file, from the manifests of a replica whose manifest files match the catalogue."""
    for replica in replicas:
        bag = locations[replica.location].bag_path(aip_id)
        manifests = [bag / "manifest-sha512.txt", bag / "tagmanifest-sha512.txt"]
        if all(_matches_catalogue(m, expected.get(m.name)) for m in manifests):
            reference: dict[str, str] = {}
            for manifest in manifests:
                reference.update(read_manifest(manifest))
            return reference
    return {}


def _matches_catalogue(path: Path, record: FileRecord | None) -> bool:
    if record is None or not path.is_file():
        return False
    digests, size = digest_file(path, ("sha256",))
    return size == record.size and digests["sha256"] == record.sha256


def _check_replica(
    bag: Path, expected: dict[str, FileRecord], sha512: dict[str, str], progress: Progress | None
) -> dict[str, FileCheck]:
    """Hash every expected file of one replica on all cores (hashlib releases the GIL on large reads)."""

    def check(record: FileRecord) -> FileCheck:
        target = bag / record.path
        try:
            if not target.is_file() or target.is_symlink():
                return FileCheck(record.path, False, DamageKind.MISSING, 0)
            digests, size = digest_file(target, ("sha256", "sha512"))
        except OSError:
            return FileCheck(record.path, False, DamageKind.UNREADABLE, 0)
        if progress:
            progress(size)
        if size < record.size:
            return FileCheck(record.path, False, DamageKind.TRUNCATED, size)
        want512 = sha512.get(record.path)
        if size != record.size or digests["sha256"] != record.sha256 or (want512 is not None and digests["sha512"] != want512):
            return FileCheck(record.path, False, DamageKind.MODIFIED, size)
        return FileCheck(record.path, True, None, size)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return {c.path: c for c in pool.map(check, expected.values())}


def _files_below(root: Path) -> set[str]:
    found: set[str] = set()
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            found.add(Path(dirpath, name).relative_to(root).as_posix())
    return found


def read_manifest(path: Path) -> dict[str, str]:
    """A BagIt manifest as {path: digest}, paths decoded as edepot and bagit-python encode them."""
    entries: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, _, name = line.partition(" ")
        entries[decode_manifest_path(name.lstrip(" "))] = digest.lower()
    return entries


def _record(
    config: Config, catalogue: SqliteCatalogue, aip_id: str, replicas: Iterable, findings: list[Finding]
) -> None:
    now = config.clock()
    for replica in replicas:
        mine = [f for f in findings if f.location == replica.location]
        unmended = [f for f in mine if not f.mended]
        events = [
            PremisEvent(
                identifier=str(uuid.uuid4()),
                type="fixity check",
                date_time=now,
                detail=f"sha256 and sha512 of every file of replica {replica.location}",
                outcome="success" if not mine else "failure",
                outcome_detail="; ".join(f"{f.kind.value}: {f.path}" for f in mine) or "all files intact",
                agents=(AGENT,),
                source_objects=(),
                outcome_objects=(),
            )
        ]
        for f in mine:
            if f.mended:
                how = f"replaced from {f.repaired_from}" if f.repaired_from else f"quarantined to {f.quarantined_to}"
                events.append(
                    PremisEvent(
                        identifier=str(uuid.uuid4()), type="repair", date_time=now,
                        detail=f"{f.kind.value} file {f.path} in {replica.location}", outcome="success",
                        outcome_detail=how, agents=(AGENT,), source_objects=(f.path,), outcome_objects=(f.path,),
                    )
                )
        if unmended:
            status = ReplicaStatus.DAMAGED
        elif mine:
            status = ReplicaStatus.REPAIRED
        else:
            status = ReplicaStatus.INTACT
        catalogue.record_verification(aip_id, replica.location, now, status, events)
    catalogue.set_state(aip_id, AipState.DAMAGED if any(not f.mended for f in findings) else AipState.STORED)
