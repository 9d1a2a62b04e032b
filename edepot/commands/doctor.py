"""`edepot doctor`: check the installation, the data directory, the storage locations and the catalogue, and clear
what interrupted commands left behind (preservation/doctor.py holds the checks of the data; the installation's
are here, since only the adapter may look at the edepot package itself)."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from edepot.output import Verbs, emit
from kernel.config import Config

if TYPE_CHECKING:
    from preservation.doctor import Finding


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("doctor", parents=[common],
                         help="check data directory, storage locations and catalogue; remove leftovers of killed runs")
    p.add_argument("--dry-run", action="store_true", help="list leftovers of interrupted work, remove nothing")
    p.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace, config: Config) -> int:
    from preservation.doctor import Status, run_doctor

    findings = installation_findings() + run_doctor(config, dry_run=args.dry_run)
    problems = [f for f in findings if f.status is Status.PROBLEM]
    emit(args, {"ok": not problems, "dry_run": args.dry_run, "findings": [f.to_dict() for f in findings]},
         "\n".join(f"{f.status.value:8} {f.check}: {f.subject}: {f.detail}" for f in findings)
         + f"\n{len(problems)} problem(s)")
    return 1 if problems else 0


def installation_findings() -> list[Finding]:
    """A problem for each of edepot's import names that another distribution also installs, or that Python
    would import from another folder than edepot's own; one OK line when there is none."""
    from edepot.installation import foreign_import_locations, shadowed_top_level_names
    from preservation.doctor import Finding, Status

    problems = [Finding("installation", Status.PROBLEM, s.name, s.message()) for s in shadowed_top_level_names()]
    problems += [Finding("installation", Status.PROBLEM, name, f"imported from {where}, not from edepot's folder")
                 for name, where in foreign_import_locations().items()]
    return problems or [Finding("installation", Status.OK, "import names",
                                "access, edepot, ingest, kernel, preservation and schemas are edepot's own")]
