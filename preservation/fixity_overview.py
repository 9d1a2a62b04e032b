"""The fixity overview port: per storage location, how much of it fixity verified lately, its last run, the damage
still open, the repairs made and the files declared lost, asked of the catalogue in bounded queries for some
organisations (None: every organisation, records of none too), so that a person sees their organisations' AIPs
only. Each fixity run and restore leaves a tally per location and organisation (`record_tallies`), which the
overview reads back. The implementation on Django is `preservation.catalogue_db.fixity_store`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Collection, Protocol, Sequence

from preservation.attention import Bounded
from preservation.metadata.premis import PremisEvent

if TYPE_CHECKING:
    from preservation.fixity import FixityReport

RUN, RESTORE = "run", "restore"


@dataclass(frozen=True)
class Tally:
    """What one fixity run (RUN) or restore (RESTORE) did at one location to one organisation's AIPs."""

    run_id: str
    kind: str
    location: str
    organisation: str
    started: datetime
    finished: datetime
    by: str
    scheduled: bool
    aips: int = 0
    bytes: int = 0
    found: int = 0
    repaired: int = 0
    unrepaired: int = 0


@dataclass(frozen=True)
class LastRun:
    """The last fixity run at a location that checked AIPs of the organisations asked for, summed over them."""

    run_id: str
    started: datetime
    finished: datetime
    by: str
    scheduled: bool
    aips: int
    found: int
    repaired: int
    unrepaired: int

    @property
    def intact(self) -> bool:
        """Nothing it found was left unrepaired."""
        return self.unrepaired == 0


@dataclass(frozen=True)
class LocationFigures:
    """One location's figures for the organisations asked for: replicas of kept AIPs and their payload bytes, the
    bytes of those verified since the day asked, replicas damaged or missing now, files repaired or restored
    since that day, files declared lost of AIPs with a replica there, and the last run."""

    location: str
    replicas: int
    bytes: int
    verified_bytes: int
    damaged: int
    repairs: int
    losses: int
    last_run: LastRun | None

    @property
    def coverage(self) -> float:
        """The share of the bytes verified since the day asked (1.0 for a location holding nothing)."""
        return self.verified_bytes / self.bytes if self.bytes else 1.0


@dataclass(frozen=True)
class OpenDamage:
    """A replica damaged or missing now, of an AIP still kept."""

    aip_id: str
    record_id: str
    organisation: str
    location: str
    status: str
    since: datetime | None


@dataclass(frozen=True)
class KnownLoss:
    """A file declared lost, of an AIP still kept."""

    aip_id: str
    record_id: str
    organisation: str
    path: str
    declared: datetime
    declared_by: str
    reason: str


class FixityQueries(Protocol):
    """Bounded questions for the fixity overview, each for `organisations` (None: all)."""

    def figures(self, locations: Sequence[str], *, organisations: Collection[str] | None,
                since: datetime) -> list[LocationFigures]:
        """Each of `locations` (and every other location holding replicas) with its figures."""
    def open_damage(self, *, organisations: Collection[str] | None, limit: int) -> Bounded[OpenDamage]:
        """Replicas damaged or missing now; most recently verified first."""
    def known_losses(self, *, organisations: Collection[str] | None, limit: int) -> Bounded[KnownLoss]:
        """Files declared lost; most recently declared first."""
    def record_tallies(self, tallies: Sequence[Tally]) -> None:
        """Keep what a run or restore did, per location and organisation."""
    def aip_events(self, aip_id: str, types: Sequence[str], *, limit: int,
                   at: datetime | None = None) -> list[PremisEvent]:
        """The AIP's newest events of these types (at the moment `at` only, when given), newest first."""
    def replicas_of(self, aip_ids: Collection[str]) -> list[tuple[str, str, str, int]]:
        """(AIP, location, organisation, payload bytes) of every replica of these AIPs."""
    def last_scheduled_run(self, *, organisations: Collection[str] | None, operator: str) -> LastRun | None:
        """The last run by the data directory's `operator` that checked AIPs of those organisations."""


def run_tallies(report: FixityReport, replicas: Sequence[tuple[str, str, str, int]], *, run_id: str, by: str,
                scheduled: bool, finished: datetime) -> list[Tally]:
    """What a fixity run did, per location and organisation: the AIPs it checked there (from `replicas`, those
    of the AIPs checked: `FixityQueries.replicas_of`), their bytes, and the damage it found, mended and left."""
    totals: dict[tuple[str, str], list[int]] = {}
    organisation = {aip: owner for aip, _, owner, _ in replicas}
    checked = set(report.aips_checked)
    for aip, location, owner, size in replicas:
        if aip in checked:
            row = totals.setdefault((location, owner), [0, 0, 0, 0, 0])
            row[0] += 1
            row[1] += size
    for finding in report.findings:
        if finding.aip_id in organisation and finding.location:
            row = totals.setdefault((finding.location, organisation[finding.aip_id]), [0, 0, 0, 0, 0])
            row[2] += 1
            row[3 if finding.mended else 4] += 1
    return [Tally(run_id, RUN, location, owner, report.started, finished, by, scheduled, *row)
            for (location, owner), row in sorted(totals.items())]
