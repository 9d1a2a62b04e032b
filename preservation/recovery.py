"""Recovery when every replica of a file is damaged: restore it from an outside copy, or declare it lost.

Fixity repairs a file only from a replica that verified; when none did, the file needs a person. Either
they hand over a copy from outside the archive (the producer's export, a backup, a bag sent again), which is
taken only when it has the digest the AIP's manifest recorded at ingest and is written into every replica
whose copy does not verify; or, when no copy exists anywhere, they declare the loss with a reason. A declared
loss is a known loss to fixity, and DIPs and the search index go on without the file, naming it. Both are
PREMIS events naming the person (OAIS Archival Storage, "Error Checking" and "Disaster Recovery").
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from kernel.config import Config
from kernel.errors import InputError, StorageFailure
from kernel.hashing import digest_file
from kernel.version import EDEPOT_AGENT_ID
from preservation.blobstore import BlobStore, DigestMismatch, aip_key
from preservation.catalogue import AipState, Catalogue, FileLoss, FileRecord
from preservation.fixity import FileCheck, check_blob, check_replicas, os_error, reference_sha512
from preservation.metadata.premis import PremisEvent


@dataclass(frozen=True)
class RestoredFile:
    """One file written back from an outside copy, and where."""

    path: str
    locations: tuple[str, ...]
    lifted_loss: bool  # it had been declared lost

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "locations": list(self.locations), "lifted_loss": self.lifted_loss}


@dataclass(frozen=True)
class RestoreResult:
    """What `restore_files` wrote, and which damaged files the outside copy did not hold."""

    aip_id: str
    restored: tuple[RestoredFile, ...]
    still_damaged: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"aip_id": self.aip_id, "restored": [r.to_dict() for r in self.restored],
                "still_damaged": list(self.still_damaged)}


@dataclass(frozen=True)
class _AipCheck:
    """Every replica of one AIP hashed now: the expected files and, per location, what each copy is."""

    expected: dict[str, FileRecord]
    sha512: dict[str, str]
    checks: dict[str, dict[str, FileCheck]]  # location → path → check, for replicas whose bag is there
    lost: dict[str, FileLoss]

    def damaged(self) -> list[str]:
        """Files whose copy does not verify in some replica, and files declared lost."""
        bad = {path for by_path in self.checks.values() for path, check in by_path.items() if not check.ok}
        return sorted(bad | self.lost.keys())


def restore_files(config: Config, catalogue: Catalogue, *, locations: Sequence[BlobStore],
                  aip_id: str, source: Path, person: str, source_named: str | None = None) -> RestoreResult:
    """Write the AIP's damaged (or lost) files back from `source`: one file, or a folder (a bag, a copy of the
    AIP) holding them by their path in the AIP. Every file taken must match the catalogue's size and sha256 and
    the bag's sha512; any mismatch refuses the whole restore (InputError) before anything is written. A restored
    file is written atomically into each replica whose copy does not verify and read back; a loss declared for it
    is lifted. StorageFailure when a location refuses the write. The PREMIS event names the copy `source_named`
    (e.g. what was uploaded), else by its path."""
    catalogue.aip(aip_id)
    if not source.exists():
        raise InputError(f"{source} does not exist")
    state = _check_aip(catalogue, locations, aip_id)
    damaged = state.damaged()
    if not damaged:
        return RestoreResult(aip_id, (), ())
    taken = _outside_copies(state, damaged, source=source, aip_id=aip_id)
    by_name = {location.id: location for location in locations}
    restored: list[RestoredFile] = []
    for path, copy in taken.items():
        written = [name for name, by_path in state.checks.items() if not by_path[path].ok]
        for name in written:
            _write_back(by_name[name], aip_id, path=path, copy=copy, state=state)
        restored.append(RestoredFile(path, tuple(written), path in state.lost))
    now = config.clock()
    events = [PremisEvent(
        identifier=str(uuid.uuid4()), type="recovery", date_time=now,
        detail=f"{r.path} restored by {person} from an outside copy ({source_named or source}) into {', '.join(r.locations) or '-'}",
        outcome="success",
        outcome_detail=f"size and sha256 {state.expected[r.path].sha256} match the manifest; read back in every "
                       "replica written" + (f"; lifts the loss declared on {_day(state.lost[r.path])} by "
                                            f"{state.lost[r.path].declared_by}" if r.lifted_loss else ""),
        agents=(EDEPOT_AGENT_ID, f"person:{person}"), source_objects=(r.path,), outcome_objects=(r.path,),
    ) for r in restored]
    catalogue.record_recovery(aip_id, [r.path for r in restored], events)
    still = tuple(p for p in damaged if p not in taken)
    if not still:
        catalogue.set_state(aip_id, AipState.STORED)
    return RestoreResult(aip_id, tuple(restored), still)


def declare_loss(config: Config, catalogue: Catalogue, *, locations: Sequence[BlobStore],
                 aip_id: str, paths: Sequence[str], reason: str, person: str) -> list[FileLoss]:
    """Declare files of an AIP lost, with who (`person`, named in each event) and why, after checking that no
    replica holds an intact copy of any of them (InputError otherwise, or for an unknown path or a loss declared
    before). The Depot service asks for the reason and the person."""
    catalogue.aip(aip_id)
    state = _check_aip(catalogue, locations, aip_id)
    for path in paths:
        if path not in state.expected:
            raise InputError(f"AIP {aip_id} has no file {path!r}", hint="the AIP's files are in the catalogue",
                             remedy="show-aip")
        if path in state.lost:
            loss = state.lost[path]
            raise InputError(f"{path} of AIP {aip_id} was declared lost on {_day(loss)} by {loss.declared_by}")
        intact = [name for name, by_path in state.checks.items() if by_path[path].ok]
        if intact:
            raise InputError(f"{path} of AIP {aip_id} is not lost: {intact[0]} holds an intact copy",
                             hint="a fixity run of the AIP repairs the other replicas from it",
                             remedy="fixity-run-aip")
    now = config.clock()
    losses = [FileLoss(aip_id, path, now, person, reason) for path in dict.fromkeys(paths)]
    events = [PremisEvent(
        identifier=str(uuid.uuid4()), type="loss declaration", date_time=now,
        detail=f"{loss.path} declared lost by {person}: {loss.reason}", outcome="success",
        outcome_detail="no replica holds a copy with the manifest's sha256 "
                       f"{state.expected[loss.path].sha256} (" + "; ".join(
                           f"{name}: {_kind(by_path[loss.path])}" for name, by_path in state.checks.items()) + ")",
        agents=(EDEPOT_AGENT_ID, f"person:{person}"), source_objects=(loss.path,), outcome_objects=(),
    ) for loss in losses]
    catalogue.declare_losses(aip_id, losses, events)
    declared = state.lost.keys() | {loss.path for loss in losses}
    if len(state.checks) == len(catalogue.replicas(aip_id)) and set(state.damaged()) <= declared:
        catalogue.set_state(aip_id, AipState.INCOMPLETE)  # as fixity finds it: nothing but known losses is wrong
    return losses


def _check_aip(catalogue: Catalogue, locations: Sequence[BlobStore], aip_id: str) -> _AipCheck:
    expected = {f.path: f for f in catalogue.files(aip_id)}
    known = {r.location for r in catalogue.replicas(aip_id)}
    stores = {loc.id: loc for loc in locations if loc.id in known and next(loc.list(aip_key(aip_id, "")), None)}
    sha512 = reference_sha512(list(stores.values()), aip_id, expected)
    checks = check_replicas(stores, aip_id, expected, sha512, None)
    return _AipCheck(expected, sha512, checks, {loss.path: loss for loss in catalogue.losses(aip_id)})


def _outside_copies(state: _AipCheck, damaged: list[str], *, source: Path, aip_id: str) -> dict[str, Path]:
    """AIP path → the outside file to restore it from, each checked against the manifest; InputError when
    `source` holds none of the damaged files or any of its candidates does not match."""
    if source.is_dir():
        candidates = {path: source / path for path in damaged if (source / path).is_file()}
        if not candidates:
            listed = ", ".join(damaged) or "none"
            raise InputError(f"{source} holds none of the damaged files of AIP {aip_id} under their path in the AIP "
                             f"(damaged: {listed})")
    else:
        digest = _digest(source)
        candidates = {path: source for path in damaged
                      if (state.expected[path].size, state.expected[path].sha256) == digest[:2]}
        if not candidates:
            same_name = [p for p in damaged if p.rsplit("/", 1)[-1] == source.name] or damaged
            raise InputError(f"{source} (sha256 {digest[1]}) does not match the manifest of any damaged file of "
                             f"AIP {aip_id}; nothing was written", hint="damaged: " + ", ".join(
                                 f"{p} (sha256 {state.expected[p].sha256})" for p in same_name))
    mismatches = []
    for path, copy in candidates.items():
        size, sha256, sha512 = _digest(copy)
        record = state.expected[path]
        if size != record.size or sha256 != record.sha256 or sha512 != state.sha512.get(path, sha512):
            mismatches.append(f"{path}: sha256 {sha256}, the manifest says {record.sha256}")
    if mismatches:
        raise InputError(f"the outside copy does not match the manifest of AIP {aip_id}; nothing was written: "
                         + "; ".join(mismatches))
    return candidates


def _write_back(location: BlobStore, aip_id: str, *, path: str, copy: Path, state: _AipCheck) -> None:
    record = state.expected[path]
    digests = {"sha256": record.sha256, **({"sha512": state.sha512[path]} if path in state.sha512 else {})}
    try:
        with open(copy, "rb") as stream:
            location.put(aip_key(aip_id, path), stream, digests=digests)
    except OSError as error:
        raise StorageFailure(f"{path} of AIP {aip_id} could not be written into {location.name}: {os_error(error)}",
                             location=location.name) from error
    except DigestMismatch as error:  # the copy changed since it was checked
        raise InputError(f"{copy} changed while it was being restored: {error}") from error
    if not check_blob(location, aip_id, record, state.sha512.get(path)).ok:
        raise StorageFailure(f"{path} of AIP {aip_id} does not read back intact from {location.name}",
                             location=location.name)


def _digest(path: Path) -> tuple[int, str, str]:
    digests, size = digest_file(path, ("sha256", "sha512"))
    return size, digests["sha256"], digests["sha512"]


def _kind(check: FileCheck) -> str:
    return check.kind.value if check.kind else "intact"


def _day(loss: FileLoss) -> str:
    return loss.declared.date().isoformat()
