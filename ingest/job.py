"""The state of one ingest while it runs: its AIP identifier, staging folder, PREMIS events and agents."""
from __future__ import annotations

import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from kernel.config import Config
from kernel.version import EDEPOT_AGENT_ID, edepot_version
from preservation.identify import Identification
from preservation.metadata.premis import PremisAgent, PremisEvent

# AIP identifiers are derived from the SIP's manifest, so a re-run after a crash finishes the same AIP.
AIP_NAMESPACE = uuid.UUID("6f0d1c2a-6a53-4d0e-9a57-0e3f1f2b7c41")
StageListener = Callable[[str], None]


EDEPOT_AGENT = PremisAgent(identifier=EDEPOT_AGENT_ID, name="edepot", type="software", version=edepot_version())


@dataclass
class IngestJob:
    """Everything the stages of one ingest share; stages add events, the last stage writes them."""

    config: Config
    sip_digest: str = ""
    aip_id: str = ""
    events: list[PremisEvent] = field(default_factory=list)
    agents: dict[str, PremisAgent] = field(default_factory=lambda: {EDEPOT_AGENT.identifier: EDEPOT_AGENT})
    identifications: dict[str, Identification] = field(default_factory=dict)
    on_stage: StageListener = lambda _stage: None

    def set_sip_digest(self, digest: str) -> None:
        self.sip_digest = digest
        self.aip_id = str(uuid.uuid5(AIP_NAMESPACE, digest))

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
        """Record one preservation action, done now by edepot (and any other agents named)."""
        event = PremisEvent(
            identifier=str(uuid.uuid4()),
            type=type,
            date_time=self.config.clock(),
            detail=detail,
            outcome=outcome,
            outcome_detail=outcome_detail,
            agents=(EDEPOT_AGENT.identifier, *agents),
            source_objects=sources,
            outcome_objects=outcomes,
        )
        self.events.append(event)
        return event

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A private staging folder under the data directory, removed afterwards whatever happens."""
        folder = self.config.staging_dir / f"ingest-{uuid.uuid4().hex}"
        folder.mkdir(parents=True)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
