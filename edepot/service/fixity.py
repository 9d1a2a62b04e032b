"""The Depot's fixity overview and its actions for the web: per storage location, the last run, how much was
verified in the last 30 days, the damage still open, the repairs made and the files declared lost; run fixity now
(a job), restore from an uploaded outside copy, declare a loss.

Who sees what: the overview is for archivists (who run fixity, restore and declare losses), and every figure of it
counts only the AIPs of their organisations (of every organisation, records of none too, for an archivist of every
organisation): a location's totals, coverage, damage, repairs, losses and last run are those of their own AIPs
there, so nothing is said of another organisation's records, not even how much of a location they fill. The
actions are the command line's, with its rules (`run_fixity`, `restore_files`, `declare_loss`).
"""
from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Sequence

from edepot.service.base import audited
from edepot.service.ingest_and_preservation import PreservationService
from edepot.service.job_kinds import FIXITY
from edepot.service.jobs import JobsService
from kernel.errors import InputError, StorageFailure
from kernel.hashing import digest_file

if TYPE_CHECKING:
    from preservation.attention import Bounded
    from preservation.catalogue import AipRecord, FileLoss, FileRecord, ReplicaRecord
    from preservation.fixity_overview import KnownLoss, LastRun, LocationFigures, OpenDamage
    from preservation.job_register import JobRecord
    from preservation.metadata.premis import PremisEvent
    from preservation.recovery import RestoreResult

WINDOW = timedelta(days=30)  # coverage: the share of bytes verified within this window
FIRST = 20  # rows of the lists of open damage and known losses
EVENTS = 20  # fixity, repair, recovery and loss events shown of one AIP
SCHEDULE_UNITS = Path("/etc/systemd/system")  # where `edepot fixity schedule --install` writes by default
_FINDING = re.compile(r"^(modified|truncated|missing|renamed|extra|unreadable|known loss): (.+)$")


@dataclass(frozen=True)
class LocationOverview:
    """One storage location: its identity, its name, and its figures for the acting person's organisations."""

    location_id: str
    name: str
    configured: bool
    figures: LocationFigures


@dataclass(frozen=True)
class FixitySchedule:
    """How fixity runs unattended: the operator the scheduled run acts as, the installed systemd timer's time and
    budget when one is found, and the last run the operator made."""

    operator: str | None
    calendar: str | None
    budget_seconds: int | None
    last_run: LastRun | None


@dataclass(frozen=True)
class FixityOverview:
    """The fixity screen: each location, the open damage and known losses, and the schedule."""

    since: datetime
    locations: list[LocationOverview]
    damage: Bounded[OpenDamage]
    losses: Bounded[KnownLoss]
    schedule: FixitySchedule
    every_organisation: bool


@dataclass(frozen=True)
class DamagedFile:
    """A file of an AIP that its last fixity check of a replica found damaged, or that is declared lost."""

    path: str
    findings: tuple[tuple[str, str], ...]  # (location, kind: modified, truncated, missing, renamed, unreadable)
    lost: bool


@dataclass(frozen=True)
class AipFixity:
    """One AIP as fixity sees it: its replicas, files, damaged files, declared losses and recent events."""

    aip: AipRecord
    replicas: list[ReplicaRecord]
    files: list[FileRecord]
    damaged: list[DamagedFile]
    losses: list[FileLoss]
    events: list[PremisEvent]


class FixityService(PreservationService, JobsService):
    """The fixity overview, and fixity's actions as the web offers them."""

    def fixity_overview(self) -> FixityOverview:
        """Every storage location with its figures for the acting person's organisations (an archivist's), the
        first open damage and known losses, and the schedule. NotPermitted for a person who is no archivist."""
        reach = self.reach("run fixity")
        since = self.now() - WINDOW
        configured = [location.id for location in self.store.storage]
        names = {record.location_id: record.name for record in self.catalogue.locations()}
        names.update({location.id: location.name for location in self.store.storage})
        queries = self.store.fixity
        locations = [LocationOverview(f.location, names.get(f.location, f.location), f.location in configured, f)
                     for f in queries.figures(configured, organisations=reach, since=since)]
        return FixityOverview(since, locations, queries.open_damage(organisations=reach, limit=FIRST),
                              queries.known_losses(organisations=reach, limit=FIRST), self._schedule(reach),
                              reach is None)

    def _schedule(self, reach: frozenset[str] | None) -> FixitySchedule:
        operator = " ".join(self.config.operator.split()) if self.config.operator else None
        calendar = budget = None
        try:
            timer = (SCHEDULE_UNITS / "edepot-fixity.timer").read_text(encoding="utf-8")
            service = (SCHEDULE_UNITS / "edepot-fixity.service").read_text(encoding="utf-8")
        except OSError:
            pass
        else:
            found = re.search(r"^OnCalendar=(.+)$", timer, re.MULTILINE)
            calendar = found.group(1).strip() if found else None
            seconds = re.search(r"--max-seconds[ =](\d+)", service)
            budget = int(seconds.group(1)) if seconds else None
        last = self.store.fixity.last_scheduled_run(organisations=reach, operator=operator) if operator else None
        return FixitySchedule(operator, calendar, budget, last)

    @audited("fixity queue")
    def queue_fixity(self, aip_id: str | None = None) -> JobRecord:
        """Queue a fixity run of every AIP of the acting person's organisations (every AIP, for an archivist of
        every organisation), or of the one AIP named; a worker does it as them. NotFound for an AIP of another
        organisation, as for one that does not exist."""
        if aip_id:
            self.visible_aip(aip_id, "run fixity")
            return self.queue(FIXITY, {"aip_ids": [aip_id], "every_aip": True})
        reach = self.reach("run fixity")
        if reach is None:
            return self.queue(FIXITY, {"every_aip": True})
        return self.queue(FIXITY, {"organisations": sorted(reach), "every_aip": True})

    def aip_fixity(self, aip_id: str) -> AipFixity:
        """One AIP as fixity sees it (for an archivist of its organisation; NotFound otherwise): its replicas and
        files, the files the last check of each replica found damaged, its declared losses and recent events."""
        from preservation.catalogue import AipState

        aip = self.visible_aip(aip_id, "restore files")
        replicas = self.catalogue.replicas(aip_id)
        events = self.store.fixity.aip_events(aip_id, ("fixity check", "repair", "recovery", "loss declaration"),
                                              limit=EVENTS)
        losses = self.catalogue.losses(aip_id)
        found: dict[str, list[tuple[str, str]]] = {}
        for replica in replicas if aip.state is AipState.DAMAGED else []:
            if replica.status.value not in ("damaged", "missing") or replica.last_verified is None:
                continue
            checked = self.store.fixity.aip_events(aip_id, ("fixity check",), limit=len(replicas),
                                                   at=replica.last_verified)  # the check that found it damaged
            check = next((e for e in checked if e.detail.endswith(f" replica {replica.location}")), None)
            for entry in (check.outcome_detail.split("; ") if check and check.outcome != "success" else []):
                matched = _FINDING.match(entry)
                if matched and matched.group(1) not in ("extra", "known loss"):
                    found.setdefault(matched.group(2), []).append((replica.location, matched.group(1)))
        lost = {loss.path for loss in losses}
        damaged = [DamagedFile(path, tuple(found.get(path, [])), path in lost) for path in sorted(set(found) | lost)]
        return AipFixity(aip, replicas, self.catalogue.files(aip_id), damaged, losses, events)

    @audited("aip restore upload")
    def restore_uploaded(self, aip_id: str, uploads: Sequence[tuple[str, IO[bytes]]]) -> RestoreResult:
        """Restore an AIP's damaged files from an outside copy uploaded as files (each one file of the AIP, or an
        archive of such files in any layout): each is received into the data directory's intake folder, taken by
        its size and sha256 as the AIP's file it is, and restored as `restore_files` does (checked against the
        manifest, written atomically, a PREMIS event naming the person); the received copy is removed after."""
        self.authorise("restore files", [self.visible_aip(aip_id, "restore files").organisation])
        if not uploads:
            raise InputError("no outside copy was given", hint="upload the damaged files, or a zip holding them")
        by_digest: dict[tuple[int, str], list[str]] = {}
        for record in self.catalogue.files(aip_id):
            by_digest.setdefault((record.size, record.sha256), []).append(record.path)
        intake = self.config.data_dir / "intake" / f"restore-{uuid.uuid4()}"
        try:
            copy = _arrange(uploads, by_digest, intake)
            if copy is None:
                raise InputError(f"none of the uploaded files is a file of AIP {aip_id} (compared by size and "
                                 "sha256); nothing was written", hint="upload the damaged files as the producer "
                                 "sent them, or a backup of a storage location")
            named = ", ".join(Path(name).name for name, _ in uploads)
            try:
                return self.restore_files(aip_id, source=copy, source_named=f"uploaded: {named}"[:500])
            except InputError as refused:
                raise InputError(refused.message.replace(f"{copy}/", "").replace(str(copy), "the uploaded copy"),
                                 refused.hint) from None
        except OSError as error:
            from preservation.fixity import os_error

            raise StorageFailure(f"the upload could not be received in the data directory: {os_error(error)}",
                                 location="intake") from None
        finally:
            shutil.rmtree(intake, ignore_errors=True)

    def declared_loss_preview(self, aip_id: str, paths: Sequence[str], *, reason: str) -> list[FileRecord]:
        """The AIP's files that a loss would be declared of, for the person to confirm before `declare_loss` (an
        archivist of its organisation; NotFound otherwise); InputError for a path the AIP does not have, or
        without a reason."""
        self.authorise("declare a loss", [self.visible_aip(aip_id, "declare a loss").organisation])
        if not reason.strip():
            raise InputError("a declared loss needs a reason", hint="say why no copy can be had")
        files = {record.path: record for record in self.catalogue.files(aip_id)}
        unknown = [path for path in paths if path not in files]
        if unknown or not paths:
            raise InputError(f"AIP {aip_id} has no file {unknown[0]!r}" if unknown else "no file was chosen",
                             hint="choose files of the AIP")
        return [files[path] for path in dict.fromkeys(paths)]


def _arrange(uploads: Sequence[tuple[str, IO[bytes]]], by_digest: dict[tuple[int, str], list[str]],
             intake: Path) -> Path | None:
    """Receive the uploads into `intake` and lay out under `intake/copy` every received file (an archive's
    members, when the archive itself is no file of the AIP) at the path in the AIP whose size and sha256 it has;
    that folder, or None when no file matched."""
    from ingest.unpack import is_archive, unpack_archive

    received, copy, taken = intake / "received", intake / "copy", 0
    received.mkdir(parents=True)
    for number, (name, stream) in enumerate(uploads):
        target = received / str(number) / (Path(name).name or "upload")
        target.parent.mkdir()
        with open(target, "wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
        found = {target: _matches(target, by_digest)}
        if not found[target] and is_archive(target):
            unpacked = received / f"{number}-unpacked"
            unpack_archive(target, unpacked)
            found = {p: _matches(p, by_digest) for p in sorted(unpacked.rglob("*")) if p.is_file()}
        for candidate, paths in found.items():
            for path in paths:
                (copy / path).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(candidate, copy / path)
                taken += 1
    return copy if taken else None


def _matches(path: Path, by_digest: dict[tuple[int, str], list[str]]) -> list[str]:
    """The AIP's paths whose size and sha256 are those of the file at `path`."""
    digests, size = digest_file(path, ("sha256",))
    return by_digest.get((size, digests["sha256"]), [])
