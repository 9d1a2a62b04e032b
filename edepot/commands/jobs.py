"""`edepot worker` does the queued jobs; `edepot jobs list|show|cancel|retry` follows and steers them."""
from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any

from edepot.commands import open_depot
from edepot.output import Verbs, emit
from kernel.config import Config
from preservation.job_register import JobRecord


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("worker", parents=[common], help="do the queued jobs (until stopped, or --once)")
    p.add_argument("--concurrency", type=int, default=1, help="jobs done at once, each in a process of its own")
    p.add_argument("--once", action="store_true", help="stop when the queue is empty")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between looks at an empty queue")
    p.set_defaults(handler=cmd_worker)
    area = verbs.add_parser("jobs", help="queued work: list, show, cancel, retry")
    actions = area.add_subparsers(metavar="ACTION", parser_class=type(common))
    p = actions.add_parser("list", parents=[common], help="the jobs you queued (an archivist: their organisations')")
    p.add_argument("--state", choices=("queued", "running", "done", "failed", "error", "cancelled"))
    p.add_argument("--organisation", metavar="ID", help="only the jobs on this organisation's records")
    p.set_defaults(handler=cmd_jobs_list)
    for verb, text in (("show", "one job: state, attempts, report or error"),
                       ("cancel", "cancel a job still queued"),
                       ("retry", "queue a failed, erred or cancelled job again")):
        p = actions.add_parser(verb, parents=[common], help=text)
        p.add_argument("job_id", metavar="JOB")
        p.set_defaults(handler=cmd_job, verb=verb)


def cmd_worker(args: argparse.Namespace, config: Config) -> int:
    if args.concurrency > 1:  # one process a job at a time: a crash or a kill takes one job along, not all
        argv = [sys.executable, "-m", "edepot.cli", "--data-dir", str(config.data_dir), "worker",
                "--interval", str(args.interval), *(["--once"] if args.once else [])]
        children = [subprocess.Popen(argv) for _ in range(args.concurrency)]
        return max(child.wait() for child in children)
    from edepot.service.worker import run_worker

    done = run_worker(config, once=args.once, interval=args.interval)
    emit(args, {"jobs": done}, f"{done} job(s) done")
    return 0


def cmd_jobs_list(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        jobs = depot.jobs(args.state, organisation=args.organisation)
    emit(args, {"jobs": [j.to_dict() for j in jobs]},
         "\n".join(f"{j.job_id}  {j.kind}  {j.state}  {j.enqueued_by}  {j.created.isoformat()}"
                   + (f"  {j.error}" if j.error else "") for j in jobs) or "no jobs")
    return 0


def cmd_job(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        job = {"show": depot.job, "cancel": depot.cancel_job, "retry": depot.retry_job}[args.verb](args.job_id)
    emit(args, job.to_dict(), f"{job.job_id}  {job.kind}  {job.state}  attempts {job.attempts}"
         + (f"  {_progress(job.progress)}" if job.state == "running" and job.progress else "")
         + (f"\n{job.error}" if job.error else "") + (f"\n{job.report}" if job.report else ""))
    return 0


def _progress(progress: dict[str, Any]) -> str:
    """`stage (done/total)` of a running job."""
    count = f" ({progress['done']}/{progress['total']})" if progress.get("total") else ""
    return f"{progress.get('stage', '')}{count}"


QUEUE_HELP = "put it in the job queue (a worker does it as you) and print the job's id"


def emit_queued(args: argparse.Namespace, config: Config, kind: str, arguments: dict[str, Any], what: str) -> int:
    """Queue a job of `kind` as the acting person and print it (`--queue` of a command)."""
    with open_depot(args, config) as depot:
        job = depot.queue(kind, arguments)
    return emit_job(args, job, what)


def emit_job(args: argparse.Namespace, job: JobRecord, what: str) -> int:
    """Print a job just queued (`what` it does, for people) and how to follow it."""
    emit(args, job.to_dict(), f"queued: job {job.job_id} ({what}); 'edepot jobs show {job.job_id}' follows it")
    return 0
