"""`edepot doctor`: check the installation, the data directory, the storage locations and the catalogue, and clear
what interrupted commands left behind (the checks are the Depot's, edepot/service/ingest_and_preservation.py)."""
from __future__ import annotations

import argparse

from edepot.commands import open_depot
from edepot.output import Verbs, emit
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("doctor", parents=[common],
                         help="check data directory, storage locations and catalogue; remove leftovers of killed runs")
    p.add_argument("--dry-run", action="store_true", help="list leftovers of interrupted work, remove nothing")
    p.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace, config: Config) -> int:
    from preservation.doctor import Status

    with open_depot(args, config) as depot:
        findings = depot.doctor(dry_run=args.dry_run)
    problems = [f for f in findings if f.status is Status.PROBLEM]
    emit(args, {"ok": not problems, "dry_run": args.dry_run, "findings": [f.to_dict() for f in findings]},
         "\n".join(f"{f.status.value:8} {f.check}: {f.subject}: {f.detail}" for f in findings)
         + f"\n{len(problems)} problem(s)")
    return 1 if problems else 0
