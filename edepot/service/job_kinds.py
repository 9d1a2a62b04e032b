"""What each kind of job does: one function a kind, calling the Depot service as the person who queued the job,
under the claim's fencing, and returning the job's report (paths in it relative to the data directory, which
every worker shares, so a report made on one machine is read on another).

The rule a kind names decides who may queue it; the service method checks everything again when it runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from edepot.service import Depot
    from preservation.job_register import Fencing, JobRecord

INGEST = "ingest"
FIXITY = "fixity"
REINDEX = "reindex"
DESTRUCTION = "destruction"
DIP = "dip"
BESLUIT = "woo-besluit"


@dataclass(frozen=True)
class JobKind:
    """A kind of job: the rule (authority.RULES) that decides who may queue it, whether for every organisation,
    and what a worker does."""

    action: str
    everywhere: bool
    do: Callable[[Depot, JobRecord, Fencing], dict[str, Any]]


def _ingest(depot: Depot, job: JobRecord, fencing: Fencing) -> dict[str, Any]:
    def admitted(organisation: str) -> None:  # a packed SIP's organisation is known once it is unpacked
        if organisation != job.organisation:
            depot.store.jobs.set_organisation(job.job_id, organisation)

    result = depot.ingest(depot.config.data_dir / job.arguments["sip"],
                          new_version=bool(job.arguments.get("new_version")), fencing=fencing,
                          on_stage=fencing.progress, on_progress=fencing.progress, on_admitted=admitted)
    return _shared(depot, result.to_dict())


def _fixity(depot: Depot, job: JobRecord, fencing: Fencing) -> dict[str, Any]:
    args = job.arguments
    verified = 0

    def advance(size: int) -> None:
        nonlocal verified
        verified += size
        fencing.progress("verifying bytes", verified)

    run = depot.run_fixity(args.get("aip_ids") or None, every_aip=bool(args.get("every_aip")),
                           max_bytes=args.get("max_bytes"), max_seconds=args.get("max_seconds"), progress=advance,
                           organisations=args.get("organisations") or None)
    return _shared(depot, {**run.report.to_dict(), "report_json": str(run.json_report),
                           "report_html": str(run.html_report)})


def _reindex(depot: Depot, job: JobRecord, fencing: Fencing) -> dict[str, Any]:
    done = depot.reindex(job.arguments.get("aip_id"), on_progress=lambda n, total: fencing.progress("reindex", n, total))
    return {"reindexed": [{"aip_id": d.aip_id, "record_id": d.record_id, "messages": d.messages,
                           "not_indexed": d.not_indexed} for d in done]}


def _destruction(depot: Depot, job: JobRecord, fencing: Fencing) -> dict[str, Any]:
    result = depot.destroy_destruction_list(job.arguments["list"], progress=fencing.progress)
    return _shared(depot, result.to_dict())


def _dip(depot: Depot, job: JobRecord, fencing: Fencing) -> dict[str, Any]:
    from edepot.service.access_and_delivery import DipOrder

    order = DipOrder.from_arguments(job.arguments, root=depot.config.data_dir)
    fencing.progress("making the DIP")
    return _shared(depot, depot.create_dip(order, out=_dips(depot, job)).to_dict())


def _besluit(depot: Depot, job: JobRecord, fencing: Fencing) -> dict[str, Any]:
    fencing.progress("making the besluit")
    return _shared(depot, depot.besluit(job.arguments["request_id"], out=_dips(depot, job)).to_dict())


def _dips(depot: Depot, job: JobRecord) -> Path:
    """Where a job's DIP is made: `<data>/dips/<job>/`, which every machine reaches."""
    return depot.config.data_dir / "dips" / job.job_id


KINDS: dict[str, JobKind] = {
    INGEST: JobKind("ingest", False, _ingest),
    FIXITY: JobKind("run fixity", False, _fixity),
    REINDEX: JobKind("rebuild the search index", True, _reindex),
    DESTRUCTION: JobKind("destroy records", False, _destruction),
    DIP: JobKind("make a DIP", False, _dip),
    BESLUIT: JobKind("deliver a Woo decision", False, _besluit),
}


def _shared(depot: Depot, report: Any) -> Any:
    """The report with every path under the data directory made relative to it."""
    root = str(depot.config.data_dir)
    if isinstance(report, dict):
        return {k: _shared(depot, v) for k, v in report.items()}
    if isinstance(report, (list, tuple)):
        return [_shared(depot, v) for v in report]
    if isinstance(report, str) and report.startswith(root + "/"):
        return str(Path(report).relative_to(root))
    return report
