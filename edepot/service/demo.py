"""The demo of the whole chain (export → SIP → ingest → fixity → DIP), and who it acts as.

The demo acts as the person named (as any command does), else as its own demo person: on a fresh machine
nobody is named yet, and the demo must still run there. Unlike an ingest, it runs without a virus-signature
database when there is none (a fresh machine has none until freshclam ran): that ingest is recorded as
"not scanned", and the result says so.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from edepot.service.person import Person, acting_person
from kernel.config import Config

if TYPE_CHECKING:
    from access.dip import DipResult
    from ingest.pipeline import IngestResult
    from ingest.sip import SipResult
    from preservation.fixity import FixityReport

DEMO_PERSON = "Demo Archivaris"


def demo_person(config: Config, given: str | None = None) -> Person:
    """The person the demo acts as: the one named (`given`, $EDEPOT_USER, the configured operator), else the
    demo's own person."""
    return acting_person(config, given) or Person(DEMO_PERSON)


@dataclass(frozen=True)
class DemoResult:
    """What each step of the demo made."""

    person: str  # who the demo acted as
    exports: tuple[Path, ...]
    sip: SipResult
    aip: IngestResult
    fixity: FixityReport
    dip: DipResult
    scanned: bool  # False: there was no signature database, the ingest did not scan for viruses


def scans_for_viruses(config: Config) -> bool:
    """Whether the demo's ingest will scan for viruses (a signature database is there)."""
    from preservation.scan import has_signature_database

    return has_signature_database(config.scan_database)


def run_demo(config: Config, *, user: str | None = None, exports: list[Path] | None = None,
             on_stage: Callable[[str], None] = lambda _stage: None) -> DemoResult:
    """The chain on `exports` (default: the bundled sample, written to `<data>/demo`), as `demo_person(config,
    user)`, every PREMIS event of ingest, fixity and delivery naming that person; the SIP and the DIP (the
    archive's own) go under the data directory, stamped by the clock."""
    from edepot.sample_exports import write_ios_sample
    from edepot.service.access_and_delivery import DipOrder
    from edepot.service.depot import Depot
    from ingest.sip import create_sip

    scanned = scans_for_viruses(config)
    if not scanned:
        config = dataclasses.replace(config, scan_required=False)
    chosen = tuple(exports or [write_ios_sample(config.data_dir / "demo")])
    stamp = config.clock().strftime("%Y%m%dT%H%M%S")
    sip = create_sip(chosen, config.data_dir / "sips" / f"sip-{stamp}", config)
    person = demo_person(config, user)
    with Depot(config, person=person, address="edepot demo") as depot:
        aip = depot.ingest(sip.path, on_stage=on_stage)
        fixity = depot.run_fixity([aip.aip_id]).report
        dip = depot.create_dip(DipOrder(records=(aip.aip_id,)), out=config.data_dir / "dips" / f"dip-{stamp}")
    return DemoResult(person.name, chosen, sip, aip, fixity, dip, scanned)
