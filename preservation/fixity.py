"""Fixity: verify every replica of every AIP, find damage, mend it from a copy that verifies.

The reference for each AIP is what the catalogue recorded at ingest (every file of the bag, tag files
included, with size and sha256) together with the bag's own sha512 manifests, taken from a replica whose
manifests match the catalogue. Each file is read once for both digests; files of all replicas are hashed
together on every core. Damage is repaired only from a replica whose copy verified in this run (NDSA
Levels of Digital Preservation 2-4: fixity on a schedule, repair from a good copy, never from an
unverified one). The catalogue is also checked against storage both ways: a replica that is gone, and a
bag on a location that the catalogue does not know.

A repair the file system refuses (a read-only or full location, a name it cannot hold) is a finding
with the OS error and a failed repair event; the run goes on with every other file and AIP. A file
declared lost (`aip declare-loss`: no replica and no outside copy holds it) is a known loss, listed in
the report, not new damage.
"""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Callable, Mapping, Sequence

from kernel.config import Config
from kernel.hashing import digest_stream
from preservation.bag_writer import parse_manifest
from preservation.blobstore import BlobNotFound, BlobStore, DigestMismatch, aip_key
from preservation.catalogue import AipState, Catalogue, FileLoss, FileRecord, ReplicaRecord, ReplicaStatus
from preservation.metadata.premis import PremisEvent
from preservation.work_locks import WorkLocks, aip_lock, holding, open_work_locks

AGENT = "edepot fixity"
Progress = Callable[[int], None]


class DamageKind(str, Enum):
    """What is wrong with a file (or a whole bag) of a replica."""

    MODIFIED = "modified"  # other bytes (same size or grown)
    TRUNCATED = "truncated"  # shorter than it was
    MISSING = "missing"  # the file is gone
    RENAMED = "renamed"  # the file's bytes are there under another name (`found_as`)
    EXTRA = "extra"  # a file the AIP never had
    UNREADABLE = "unreadable"  # the file system refused to read it
    REPLICA_MISSING = "replica missing"  # the whole bag is gone from a location
    UNKNOWN_BAG = "unknown bag"  # a bag on a location that the catalogue does not know
    LOCATION_NOT_CONFIGURED = "location not configured"  # a replica on a location dropped from the configuration


@dataclass(frozen=True)
class Finding:
    """One damaged file (or bag) in one replica, and what was done about it."""

    aip_id: str
    location: str
    path: str
    kind: DamageKind
    repaired_from: str | None = None  # the location whose verified copy replaced it
    quarantined_to: str | None = None  # where an extra file was moved
    found_as: str | None = None  # for a renamed file: the name it had
    error: str | None = None  # why a repair failed: the OS error

    @property
    def mended(self) -> bool:
        return self.repaired_from is not None or self.quarantined_to is not None

    @property
    def outcome(self) -> str:
        """What was done about it, in words."""
        if self.found_as:
            return f"renamed back from {self.found_as}"
        if self.repaired_from:
            return f"repaired from {self.repaired_from}"
        if self.quarantined_to:
            return f"quarantined to {self.quarantined_to}"
        if self.kind is DamageKind.LOCATION_NOT_CONFIGURED:
            return "NOT CHECKED: the location is not in the configuration"
        return f"NOT REPAIRED: {self.error}" if self.error else "NOT REPAIRED"

    def to_dict(self) -> dict[str, object]:
        return {
            "aip_id": self.aip_id, "location": self.location, "path": self.path, "kind": self.kind.value,
            "repaired_from": self.repaired_from, "quarantined_to": self.quarantined_to,
            "found_as": self.found_as, "error": self.error, "mended": self.mended, "outcome": self.outcome,
        }


@dataclass
class FixityReport:
    """What one run checked and found; `intact` is true when no damage remains at the end."""

    started: datetime
    aips_checked: list[str] = field(default_factory=list)
    aips_skipped: list[str] = field(default_factory=list)  # left for the next run by the budget
    aips_busy: list[dict[str, str]] = field(default_factory=list)  # left alone: another run holds them now
    files_checked: int = 0
    bytes_checked: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    known_losses: list[FileLoss] = field(default_factory=list)  # declared lost in the AIPs checked: not new damage

    @property
    def intact(self) -> bool:
        """No new damage remains (known losses aside)."""
        return all(f.mended for f in self.findings)

    def to_dict(self) -> dict[str, object]:
        return {
            "started": self.started.isoformat(),
            "intact": self.intact,
            "aips_checked": self.aips_checked,
            "aips_skipped": self.aips_skipped,
            "aips_busy": self.aips_busy,
            "files_checked": self.files_checked,
            "bytes_checked": self.bytes_checked,
            "seconds": round(self.seconds, 3),
            "findings": [f.to_dict() for f in self.findings],
            "known_losses": [loss.to_dict() for loss in self.known_losses],
        }


@dataclass(frozen=True)
class FileCheck:
    """The result of hashing one expected file of one replica."""

    location: str
    path: str
    ok: bool
    kind: DamageKind | None
    size: int


def run_fixity(
    config: Config,
    catalogue: Catalogue,
    locations: Sequence[BlobStore],
    aip_ids: Sequence[str] | None = None,
    max_bytes: int | None = None,
    max_seconds: float | None = None,
    progress: Progress | None = None,
    *,
    person: str | None = None,
    locks: WorkLocks | None = None,
) -> FixityReport:
    """Verify (and repair) AIPs, least recently verified first, until done or the budget is spent.

    At least one AIP is always verified, so a small budget still makes progress night after night.
    Without `aip_ids`, every location is also searched for bags the catalogue does not know. Every fixity
    and repair event names `person` (the person running it, or the operator a scheduled run acts as) beside
    edepot. Each AIP is verified holding its lock in `locks` (else in locks of this run's own): one that
    another run holds (an ingest, a destruction, another fixity run) is left alone and listed as busy.
    """
    if locks is None:
        own = open_work_locks(config)
        try:
            return run_fixity(config, catalogue, locations, aip_ids, max_bytes, max_seconds, progress,
                              person=person, locks=own)
        finally:
            own.close()
    agents = (AGENT, f"person:{person}") if person else (AGENT,)
    report = FixityReport(started=config.clock())
    began = time.monotonic()
    by_id = {loc.id: loc for loc in locations}
    records = [catalogue.aip(a) for a in aip_ids] if aip_ids else catalogue.aips_by_last_verified()
    for record in records:
        over_bytes = max_bytes is not None and report.bytes_checked >= max_bytes
        over_time = max_seconds is not None and time.monotonic() - began >= max_seconds
        if report.aips_checked and (over_bytes or over_time):
            report.aips_skipped.append(record.aip_id)
            continue
        with holding(locks, [aip_lock(record.aip_id)], kind="fixity", started=config.clock().isoformat()) as busy:
            if busy is not None:
                report.aips_busy.append({"aip_id": record.aip_id, "holder": busy})
                continue
            try:
                verify_aip(config, catalogue, by_id, record.aip_id, report, progress, agents=agents)
            except OSError as error:  # e.g. an unreadable manifest: a row in the report, not the end of the run
                report.findings.append(Finding(record.aip_id, "", "", DamageKind.UNREADABLE, error=os_error(error)))
                catalogue.add_events(record.aip_id, [_event("fixity check", config.clock(), "sha256 and sha512 of "
                                                            "every file", "failure", os_error(error), agents=agents)])
        report.aips_checked.append(record.aip_id)
    if not aip_ids:
        known = {r.aip_id for r in catalogue.aips()}
        report.findings += [
            Finding(aip_id, loc.id, aip_key(aip_id, ""), DamageKind.UNKNOWN_BAG)
            for loc in locations for aip_id in loc.aip_ids() if aip_id not in known
        ]
    report.seconds = time.monotonic() - began
    return report


def verify_aip(
    config: Config,
    catalogue: Catalogue,
    locations: dict[str, BlobStore],
    aip_id: str,
    report: FixityReport,
    progress: Progress | None,
    *,
    agents: tuple[str, ...] = (AGENT,),
) -> None:
    """Verify every replica of one AIP, repair what a verified replica can mend, and record the events (each
    naming `agents`)."""
    expected = {f.path: f for f in catalogue.files(aip_id)}
    lost = {loss.path: loss for loss in catalogue.losses(aip_id)}
    all_replicas = catalogue.replicas(aip_id)
    replicas = [r for r in all_replicas if r.location in locations]
    stores = {r.location: locations[r.location] for r in replicas}
    sha512 = reference_sha512(list(stores.values()), aip_id, expected)
    checks = check_replicas(stores, aip_id, expected, sha512, progress)
    report.files_checked += sum(len(c) for c in checks.values())
    report.bytes_checked += sum(c.size for by_path in checks.values() for c in by_path.values())

    findings: list[Finding] = []
    for replica in replicas:
        store = stores[replica.location]
        present = _paths_in(store, aip_id)
        if not present:
            findings.append(_rebuild_replica(stores, replica.location, aip_id, checks, expected, sha512, lost=lost))
            continue
        extras = sorted(present - expected.keys())
        renamed = _find_renamed(store, aip_id, checks[replica.location], extras, expected)
        for path, check in checks[replica.location].items():
            if check.ok:
                continue
            if path in lost and path not in renamed and _donor(checks, path, replica.location) is None:
                continue  # a known loss: in the report's list, not a new finding
            if path in renamed:
                findings.append(_undo_rename(store, aip_id, path, renamed[path], expected[path]))
                extras.remove(renamed[path])
                continue
            findings.append(_repair_file(stores, replica.location, aip_id, check, checks, expected, sha512))
        for path in extras:
            findings.append(_quarantine(store, aip_id, path, config.quarantine_dir))

    with catalogue.batch():  # one transaction, and one journal segment, for everything found of the AIP
        _report_unconfigured(config, catalogue, aip_id, [r for r in all_replicas if r.location not in locations],
                             report, agents=agents)
        _record(config, catalogue, aip_id, replicas, findings, agents=agents, known_losses={
            r.location: sorted(p for p in lost if not checks[r.location][p].ok) for r in replicas})
    report.findings.extend(findings)
    report.known_losses.extend(lost.values())


def _report_unconfigured(config: Config, catalogue: Catalogue, aip_id: str, replicas: Sequence[ReplicaRecord],
                         report: FixityReport, *, agents: tuple[str, ...]) -> None:
    """Replicas on a location that is no longer configured: not checkable, so a finding and a failed fixity-check
    event each (the replica stays in the catalogue: the location may come back, or be retired on purpose)."""
    for replica in replicas:
        finding = Finding(aip_id, replica.location, "", DamageKind.LOCATION_NOT_CONFIGURED)
        report.findings.append(finding)
        catalogue.add_events(aip_id, [_event("fixity check", config.clock(), f"replica {replica.location}",
                                             "failure", finding.outcome, agents=agents)])


def check_replicas(
    stores: dict[str, BlobStore], aip_id: str, expected: dict[str, FileRecord], sha512: dict[str, str],
    progress: Progress | None,
) -> dict[str, dict[str, FileCheck]]:
    """Hash every expected file of every replica, all in one pool so both cores stay busy to the end.

    Small files go to the pool in batches: a task per 4 KB file would cost more than hashing it.
    """
    checks: dict[str, dict[str, FileCheck]] = {location: {} for location in stores}

    def check(batch: list[tuple[str, FileRecord]]) -> list[FileCheck]:
        results = [check_blob(stores[loc], aip_id, rec, sha512.get(rec.path)) for loc, rec in batch]
        if progress:
            progress(sum(r.size for r in results))
        return results

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for results in pool.map(check, _batches([(loc, rec) for loc in stores for rec in expected.values()])):
            for result in results:
                checks[result.location][result.path] = result
    return checks


def _batches(tasks: list[tuple[str, FileRecord]], batch_bytes: int = 8 << 20, batch_files: int = 256
             ) -> list[list[tuple[str, FileRecord]]]:
    """Tasks grouped so that each group holds about `batch_bytes` or `batch_files`, whichever comes first."""
    batches: list[list[tuple[str, FileRecord]]] = [[]]
    size = 0
    for task in tasks:
        if batches[-1] and (size >= batch_bytes or len(batches[-1]) >= batch_files):
            batches.append([])
            size = 0
        batches[-1].append(task)
        size += task[1].size
    return batches


def check_blob(store: BlobStore, aip_id: str, record: FileRecord, want_sha512: str | None) -> FileCheck:
    """Compare one file of a replica with what the catalogue (and the sha512 manifest) says it must be."""
    try:
        digests, size = store.digest(aip_key(aip_id, record.path), ("sha256", "sha512"))
    except BlobNotFound:
        return FileCheck(store.id, record.path, False, DamageKind.MISSING, 0)
    except OSError:
        return FileCheck(store.id, record.path, False, DamageKind.UNREADABLE, 0)
    if size < record.size:
        return FileCheck(store.id, record.path, False, DamageKind.TRUNCATED, size)
    if size != record.size or digests["sha256"] != record.sha256 or (
        want_sha512 is not None and digests["sha512"] != want_sha512
    ):
        return FileCheck(store.id, record.path, False, DamageKind.MODIFIED, size)
    return FileCheck(store.id, record.path, True, None, size)


def reference_sha512(stores: list[BlobStore], aip_id: str, expected: dict[str, FileRecord]) -> dict[str, str]:
    """sha512 of every file, from the manifests of a replica whose manifest files match the catalogue."""
    for store in stores:
        manifests = [_verified_bytes(store, aip_id, expected.get(name))
                     for name in ("manifest-sha512.txt", "tagmanifest-sha512.txt")]
        if all(m is not None for m in manifests):
            reference: dict[str, str] = {}
            for manifest in manifests:
                reference.update(parse_manifest((manifest or b"").decode("utf-8")))
            return reference
    return {}


def _verified_bytes(store: BlobStore, aip_id: str, record: FileRecord | None) -> bytes | None:
    """A file's bytes from this replica when they are what the catalogue recorded, else None."""
    if record is None:
        return None
    try:
        with store.get(aip_key(aip_id, record.path)) as stream:
            data = stream.read()
    except (BlobNotFound, OSError):
        return None
    return data if len(data) == record.size and hashlib.sha256(data).hexdigest() == record.sha256 else None


def _donor(checks: dict[str, dict[str, FileCheck]], path: str, exclude: str) -> str | None:
    """A location whose copy of `path` verified in this run."""
    return next((loc for loc, by_path in checks.items() if loc != exclude and by_path[path].ok), None)


def _copy_between(donor: BlobStore, target: BlobStore, aip_id: str, record: FileRecord,
                  sha512: dict[str, str]) -> None:
    """Put a verified copy of one file from `donor` into `target`; written only when it has the digests."""
    digests = {"sha256": record.sha256, **({"sha512": sha512[record.path]} if record.path in sha512 else {})}
    with donor.get(aip_key(aip_id, record.path)) as stream:
        target.put(aip_key(aip_id, record.path), stream, digests=digests)


def _repair_file(
    stores: dict[str, BlobStore], location: str, aip_id: str, check: FileCheck,
    checks: dict[str, dict[str, FileCheck]], expected: dict[str, FileRecord], sha512: dict[str, str],
) -> Finding:
    """Replace one damaged file from a verified copy and verify the result."""
    kind = check.kind or DamageKind.MODIFIED
    donor = _donor(checks, check.path, location)
    if donor is None:
        return Finding(aip_id, location, check.path, kind)
    target = stores[location]
    try:
        _copy_between(stores[donor], target, aip_id, expected[check.path], sha512)
    except (OSError, BlobNotFound, DigestMismatch) as error:
        return Finding(aip_id, location, check.path, kind, error=_error(error))
    result = check_blob(target, aip_id, expected[check.path], sha512.get(check.path))
    return Finding(aip_id, location, check.path, kind, repaired_from=donor if result.ok else None)


def _rebuild_replica(
    stores: dict[str, BlobStore], location: str, aip_id: str,
    checks: dict[str, dict[str, FileCheck]], expected: dict[str, FileRecord], sha512: dict[str, str], *,
    lost: Mapping[str, FileLoss],
) -> Finding:
    """A replica whose bag is gone: copy every file (but those declared lost) from verified copies, reported as
    one finding."""
    donors = {path: _donor(checks, path, location) for path in expected}
    donors = {path: donor for path, donor in donors.items() if donor is not None or path not in lost}
    if any(d is None for d in donors.values()):
        return Finding(aip_id, location, "", DamageKind.REPLICA_MISSING)
    target = stores[location]
    try:
        for path, donor in donors.items():
            _copy_between(stores[str(donor)], target, aip_id, expected[path], sha512)
        target.complete_aip(aip_id)  # object storage: the bag is there again only now
    except (OSError, BlobNotFound, DigestMismatch) as error:
        return Finding(aip_id, location, "", DamageKind.REPLICA_MISSING, error=_error(error))
    ok = all(check_blob(target, aip_id, expected[p], sha512.get(p)).ok for p in donors)
    used = ", ".join(sorted({str(d) for d in donors.values()}))
    return Finding(aip_id, location, "", DamageKind.REPLICA_MISSING, repaired_from=used if ok else None)


def _find_renamed(store: BlobStore, aip_id: str, checks: dict[str, FileCheck], extras: list[str],
                  expected: dict[str, FileRecord]) -> dict[str, str]:
    """Missing files whose exact bytes are among the extra files: expected path → the name found."""
    missing = {c.path for c in checks.values() if c.kind is DamageKind.MISSING}
    if not missing or not extras:
        return {}
    wanted = {(expected[p].size, expected[p].sha256): p for p in missing}
    found: dict[str, str] = {}
    for extra in extras:
        info = store.stat(aip_key(aip_id, extra))
        if info is None or not any(s == info.size for s, _ in wanted):
            continue
        with store.get(aip_key(aip_id, extra)) as stream:
            key = (info.size, digest_stream(stream, ("sha256",))[0]["sha256"])
        if key in wanted and wanted[key] not in found:
            found[wanted[key]] = extra
    return found


def _undo_rename(store: BlobStore, aip_id: str, path: str, found_as: str, record: FileRecord) -> Finding:
    """Give a renamed file its name back: its bytes (verified by their digest on the way) under the name, then the
    other name removed."""
    try:
        with store.get(aip_key(aip_id, found_as)) as stream:
            store.put(aip_key(aip_id, path), stream, digests={"sha256": record.sha256})
        store.delete(aip_key(aip_id, found_as))
    except (OSError, BlobNotFound, DigestMismatch) as error:
        return Finding(aip_id, store.id, path, DamageKind.MISSING, error=_error(error))
    return Finding(aip_id, store.id, path, DamageKind.RENAMED, repaired_from=store.id, found_as=found_as)


def _quarantine(store: BlobStore, aip_id: str, path: str, quarantine_root: Path) -> Finding:
    """Move a file the AIP never had out of the bag, into `<quarantine>/<location>/<AIP>/<8 hex>/<path>` (a folder
    per move keeps its own name, however long, apart from an earlier one of the same name)."""
    target = quarantine_root / store.id / aip_id / uuid.uuid4().hex[:8] / path
    key = aip_key(aip_id, path)
    try:
        try:
            with store.get(key) as stream:
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "wb") as out:
                    shutil.copyfileobj(stream, out, 1 << 20)
                    out.flush()
                    os.fsync(out.fileno())
        except BlobNotFound:  # not a file with bytes of its own (a link): nothing to keep but the finding
            pass
        store.delete(key)
    except OSError as error:
        return Finding(aip_id, store.id, path, DamageKind.EXTRA, error=os_error(error))
    return Finding(aip_id, store.id, path, DamageKind.EXTRA, quarantined_to=str(target))


def os_error(error: OSError) -> str:
    """An OS error in words, with its symbolic code: "Read-only file system (EROFS)"."""
    code = errno.errorcode.get(error.errno or 0)
    return f"{error.strerror or error}" + (f" ({code})" if code else "")


def _error(error: Exception) -> str:
    return os_error(error) if isinstance(error, OSError) else f"{type(error).__name__}: {error}"


def _paths_in(store: BlobStore, aip_id: str) -> set[str]:
    """The path in the bag of every blob of the AIP on this store."""
    prefix = aip_key(aip_id, "")
    return {key[len(prefix):] for key in store.list(prefix)}


def _record(
    config: Config, catalogue: Catalogue, aip_id: str, replicas: Sequence[ReplicaRecord],
    findings: list[Finding], *, known_losses: Mapping[str, list[str]], agents: tuple[str, ...],
) -> None:
    """One fixity-check event per replica and one repair event per repair tried, with the replica's status.

    `known_losses`: per location, the files declared lost whose copy there does not verify."""
    now = config.clock()
    for replica in replicas:
        mine = [f for f in findings if f.location == replica.location]
        known = known_losses.get(replica.location, [])
        details = [f"{f.kind.value}: {f.path}" for f in mine] + [f"known loss: {path}" for path in known]
        events = [_event("fixity check", now, f"sha256 and sha512 of every file of replica {replica.location}",
                         "failure" if mine else "warning" if known else "success",
                         "; ".join(details) or "all files intact", agents=agents)]
        for f in mine:
            if f.mended or f.error:
                events.append(_event("repair", now, f"{f.kind.value} {f.path or 'bag'} in {replica.location}",
                                     "success" if f.mended else "failure", f.outcome, (f.path,) if f.path else (),
                                     agents=agents))
        if known or any(not f.mended for f in mine):
            status = ReplicaStatus.DAMAGED
        else:
            status = ReplicaStatus.REPAIRED if mine else ReplicaStatus.INTACT
        catalogue.record_verification(aip_id, replica.location, now, status, events)
    if any(not f.mended for f in findings):
        catalogue.set_state(aip_id, AipState.DAMAGED)
    else:
        catalogue.set_state(aip_id, AipState.INCOMPLETE if any(known_losses.values()) else AipState.STORED)


def _event(type: str, when: datetime, detail: str, outcome: str, outcome_detail: str,
           objects: tuple[str, ...] = (), *, agents: tuple[str, ...]) -> PremisEvent:
    return PremisEvent(identifier=str(uuid.uuid4()), type=type, date_time=when, detail=detail, outcome=outcome,
                       outcome_detail=outcome_detail, agents=agents, source_objects=objects,
                       outcome_objects=objects)
