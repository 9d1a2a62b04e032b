"""The state of one ingest while it runs: its AIP identifier, staging folder, PREMIS events and agents."""
from __future__ import annotations

import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from kernel.config import Config
from kernel.locks import HeldLock, claimed_work
from kernel.version import EDEPOT_AGENT_ID, edepot_version
from preservation.catalogue import AipVersion
from preservation.identify import Identification
from preservation.job_register import Fencing
from preservation.leftovers import clear_leftovers
from preservation.metadata.premis import PremisAgent, PremisEvent, person_agent
from preservation.normalise import NormaliseOutcome
from preservation.scan import ScanResult
from preservation.validate_formats import FormatCheck
from preservation.work_locks import FileLocks, Held, WorkLocks

# AIP identifiers are derived from the SIP digest (stages.sip_digest), so a re-run after a crash finishes the same AIP.
AIP_NAMESPACE = uuid.UUID("6f0d1c2a-6a53-4d0e-9a57-0e3f1f2b7c41")
WORK_KIND = "ingest"  # the kind of its claim and locks in <data>/locks (kernel/locks.py)
StageListener = Callable[[str], None]
ProgressListener = Callable[[str, int, int], None]  # (stage, done, total) for per-file stages


@dataclass(frozen=True)
class Normalisation:
    """One policy action on one file of the AIP, for the report."""

    source: str
    puid: str | None
    rule: str
    outcome: NormaliseOutcome
    derived: tuple[str, ...]  # AIP paths of the files written


EDEPOT_AGENT = PremisAgent(identifier=EDEPOT_AGENT_ID, name="edepot", type="software", version=edepot_version())


@dataclass
class IngestJob:
    """Everything the stages of one ingest share; stages add events, the last stage writes them.

    `person` is the name of the person doing the ingest: every event names them beside edepot (the Depot
    service always gives one; without it, the events name edepot alone)."""

    config: Config
    person: str | None = None
    sip_digest: str = ""
    aip_id: str = ""
    events: list[PremisEvent] = field(default_factory=list)
    agents: dict[str, PremisAgent] = field(default_factory=lambda: {EDEPOT_AGENT.identifier: EDEPOT_AGENT})
    identifications: dict[str, Identification] = field(default_factory=dict)
    on_stage: StageListener = lambda _stage: None
    on_progress: ProgressListener = lambda _stage, _done, _total: None
    new_version: bool = False
    # Which organisation the record belongs to, from its archiefvormer's name and identifier; raises when the
    # person ingesting may not ingest that organisation's records (the Depot service decides).
    admit: Callable[[str, str | None], str] = lambda _name, _identifier: ""
    # A worker's claim on the job doing this ingest: checked before the bag is published and inside the transaction
    # that records the AIP, so a worker whose claim was taken over publishes and commits nothing
    fencing: Fencing | None = None
    organisation: str = ""
    version: AipVersion | None = None
    stage: str = ""  # the stage running now (named in a rejection report)
    scan: ScanResult | None = None
    sip_checks: list[dict[str, object]] = field(default_factory=list)
    format_checks: dict[str, FormatCheck] = field(default_factory=dict)
    second_opinions: dict[str, Identification] = field(default_factory=dict)  # path → siegfried's
    overruled: dict[str, Identification] = field(default_factory=dict)  # path → FIDO's, where edepot declared
    normalisations: list[Normalisation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    quarantined: Path | None = None
    unpacked_from: dict[str, str] = field(default_factory=dict)  # AIP path of an export member → its container
    original_names: dict[str, str] = field(default_factory=dict)  # AIP path → the export's name, when shortened
    stage_seconds: dict[str, float] = field(default_factory=dict)  # wall time of each stage, for the report
    claim: HeldLock | None = None  # this run's claim on its staging, while it runs
    # Where the AIP's and record's locks are taken (a job's, named after its claim); default: lock files
    work_locks: WorkLocks | None = None
    locks: list[Held] = field(default_factory=list)  # held until the ingest ends
    _stage_started: float = 0.0
    _acting: tuple[str, ...] = ()  # the person's agent identifier, linked to every event

    def __post_init__(self) -> None:
        if self.person:
            self._acting = (self.agent(person_agent(self.person)),)

    def begin(self, stage: str) -> None:
        """Name the stage now running, for progress and for the report; the previous stage's time is kept."""
        self.end_stage()
        self.stage = stage
        self._stage_started = time.perf_counter()
        self.on_stage(stage)

    def end_stage(self) -> None:
        """Close the running stage's clock (begin does this for the one before it)."""
        if self.stage and self._stage_started:
            self.stage_seconds[self.stage] = self.stage_seconds.get(self.stage, 0.0) + (
                time.perf_counter() - self._stage_started)
        self._stage_started = 0.0

    def set_sip_digest(self, digest: str, version: int = 1) -> None:
        """Fix the AIP identifier: derived from the SIP's digest (and the version number after the first)."""
        self.sip_digest = digest
        self.aip_id = str(uuid.uuid5(AIP_NAMESPACE, digest if version == 1 else f"{digest}:v{version}"))

    def agent(self, agent: PremisAgent) -> str:
        """Register an agent (once) and return its identifier, for an event's linking agents."""
        self.agents.setdefault(agent.identifier, agent)
        return agent.identifier

    def event(
        self,
        type: str,
        detail: str,
        outcome_detail: str = "",
        outcome: str = "success",
        sources: tuple[str, ...] = (),
        outcomes: tuple[str, ...] = (),
        agents: tuple[str, ...] = (),
    ) -> PremisEvent:
        """Record one preservation action, done now by edepot for the acting person (and any other agents named)."""
        event = PremisEvent(
            identifier=str(uuid.uuid4()),
            type=type,
            date_time=self.config.clock(),
            detail=detail,
            outcome=outcome,
            outcome_detail=outcome_detail,
            agents=(EDEPOT_AGENT.identifier, *self._acting, *agents),
            source_objects=sources,
            outcome_objects=outcomes,
        )
        self.events.append(event)
        return event

    def hold(self, name: str) -> str | None:
        """Take the lock `name` until this ingest ends; when another run holds it, says who (and since when)."""
        if self.work_locks is None:
            self.work_locks = FileLocks(self.config.locks_dir)
        held = self.work_locks.try_hold(name, kind=WORK_KIND, started=self.config.clock().isoformat())
        if held is None:
            return self.work_locks.holder(name)
        self.locks.append(held)
        return None

    def announce(self, path: Path) -> None:
        """Claim a staging path of this ingest before it is made, so a killed run's leftovers can be found."""
        if self.claim is not None:
            self.claim.note(path)

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A private staging folder under the data directory, claimed for this run (kernel/locks.py): the staging of
        an ingest that was killed is removed first. Afterwards, whatever happens, the folder is removed and every
        lock the job took let go."""
        clear_leftovers(self.config, kinds={WORK_KIND})
        folder = self.config.staging_dir / f"ingest-{uuid.uuid4().hex}"
        with claimed_work(self.config.locks_dir, WORK_KIND, self.config.clock().isoformat()) as claim:
            self.claim = claim
            claim.note(folder)
            try:
                folder.mkdir(parents=True)
                yield folder
            finally:
                shutil.rmtree(folder, ignore_errors=True)
                for lock in reversed(self.locks):
                    lock.release()
                self.locks.clear()
                self.claim = None
