"""`edepot fixity run|schedule`: verify and repair AIPs, nightly."""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from edepot.commands import open_depot
from edepot.commands.jobs import QUEUE_HELP, emit_queued
from edepot.output import Verbs, byte_progress, emit
from edepot.service.job_kinds import FIXITY
from kernel.config import Config
from kernel.errors import InputError


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    fixity = verbs.add_parser("fixity", help="verify and repair AIPs").add_subparsers(metavar="ACTION",
                                                                                       parser_class=type(common))
    p = fixity.add_parser("run", parents=[common], help="verify every replica, repair from a verified copy")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--aip", action="append", help="only this AIP (repeatable)")
    scope.add_argument("--all", action="store_true", help="every AIP, whatever the budget")
    p.add_argument("--max-bytes", type=int, help="start no new AIP after this many bytes were verified")
    p.add_argument("--max-seconds", type=float, help="start no new AIP after this many seconds")
    p.add_argument("--on-failure", metavar="CMD",
                   help="shell command to run when damage remains (gets $EDEPOT_FIXITY_REPORT, the JSON report)")
    p.add_argument("--queue", action="store_true", help=QUEUE_HELP)
    p.set_defaults(handler=cmd_fixity_run)
    p = fixity.add_parser("schedule", parents=[common],
                          help="print (or install) systemd timers and cron lines: nightly fixity, daily dip purge")
    p.add_argument("--at", default="02:30", help="time of day to run (HH:MM, default 02:30)")
    p.add_argument("--max-seconds", type=int, default=4 * 3600, help="nightly budget (default 4 hours)")
    p.add_argument("--on-failure", metavar="CMD", help="alert command for the nightly run")
    p.add_argument("--install", type=Path, metavar="DIR", nargs="?", const=Path("/etc/systemd/system"),
                   help="write the units into DIR (default /etc/systemd/system)")
    p.set_defaults(handler=cmd_fixity_schedule)


def cmd_fixity_run(args: argparse.Namespace, config: Config) -> int:
    if args.queue:
        return emit_queued(args, config, FIXITY, {"aip_ids": args.aip or [], "every_aip": args.all,
                                                  "max_bytes": args.max_bytes, "max_seconds": args.max_seconds},
                           "fixity run")
    with open_depot(args, config) as depot, byte_progress(args, "verifying") as advance:
        run = depot.run_fixity(args.aip, every_aip=args.all, max_bytes=args.max_bytes,
                               max_seconds=args.max_seconds, progress=advance)
    report, json_report, html_report = run.report, run.json_report, run.html_report
    lines = [f"{f.kind.value:15} {f.location:12} {f.aip_id} {f.path}  → {f.outcome}" for f in report.findings]
    lines += [f"{'known loss':15} {'':12} {x.aip_id} {x.path}  (declared {x.declared.date()} by {x.declared_by}: "
              f"{x.reason})" for x in report.known_losses]
    verdict = "DAMAGE REMAINS" if not report.intact else "all intact now" if not report.known_losses else \
        f"no new damage; files known lost: {len(report.known_losses)}"
    lines.append(f"{len(report.aips_checked)} AIPs, {report.files_checked} files, {report.bytes_checked} bytes "
                 f"verified in {report.seconds:.1f} s; {len(report.findings)} findings; {verdict}")
    if report.aips_skipped:
        lines.append(f"{len(report.aips_skipped)} AIPs left for the next run (budget)")
    lines += [f"left alone, in use now by {b['holder']}: {b['aip_id']}" for b in report.aips_busy]
    lines.append(f"report: {html_report}")
    emit(args, {**report.to_dict(), "report_json": str(json_report), "report_html": str(html_report)},
         "\n".join(lines))
    if not report.intact and args.on_failure:
        env = {**os.environ, "EDEPOT_FIXITY_REPORT": str(json_report), "EDEPOT_FIXITY_HTML": str(html_report)}
        alert = subprocess.run(args.on_failure, shell=True, env=env)
        if alert.returncode != 0:
            print(f"edepot: the --on-failure command exited with {alert.returncode}", file=sys.stderr)
    return 0 if report.intact else 1


def cmd_fixity_schedule(args: argparse.Namespace, config: Config) -> int:
    """Units for a nightly, budgeted run: least recently verified AIPs first, so the nights cycle the archive.
    The runs act as the data directory's configured operator (refused when none is configured)."""
    hour, _, minute = args.at.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise InputError(f"--at {args.at!r} is not a time of day HH:MM")
    with open_depot(args, config) as depot:
        operator = depot.scheduled_operator()
    executable = shutil.which("edepot") or str(Path(sys.argv[0]).resolve())
    command = [executable, "--data-dir", str(config.data_dir), "fixity", "run", "--max-seconds", str(args.max_seconds)]
    if args.on_failure:
        command += ["--on-failure", args.on_failure]
    line = shlex.join(command)
    service = ("[Unit]\nDescription=edepot nightly fixity verification\n\n[Service]\nType=oneshot\n"
               f"ExecStart={line}\nNice=10\nIOSchedulingClass=idle\n")
    timer = ("[Unit]\nDescription=edepot nightly fixity verification\n\n[Timer]\n"
             f"OnCalendar=*-*-* {int(hour):02}:{int(minute):02}:00\nPersistent=true\nRandomizedDelaySec=600\n\n"
             "[Install]\nWantedBy=timers.target\n")
    cron = f"{int(minute)} {int(hour)} * * * {line}"
    # Expired DIPs go daily just after midnight, once their last day of use has passed.
    purge_line = shlex.join([executable, "--data-dir", str(config.data_dir), "dip", "purge"])
    purge_service = ("[Unit]\nDescription=edepot daily removal of expired DIPs\n\n[Service]\nType=oneshot\n"
                     f"ExecStart={purge_line}\n")
    purge_timer = ("[Unit]\nDescription=edepot daily removal of expired DIPs\n\n[Timer]\n"
                   "OnCalendar=*-*-* 00:15:00\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n")
    purge_cron = f"15 0 * * * {purge_line}"
    units = {"edepot-fixity.service": service, "edepot-fixity.timer": timer,
             "edepot-dip-purge.service": purge_service, "edepot-dip-purge.timer": purge_timer}
    installed: list[str] = []
    if args.install:
        for name, text in units.items():
            target = args.install / name
            target.write_text(text, encoding="utf-8")
            installed.append(str(target))
    human = f"# the runs act as the configured operator, {operator.name}\n"
    human += "".join(f"# /etc/systemd/system/{name}\n{text}\n" for name, text in units.items())
    human += f"# or two crontab lines:\n{cron}\n{purge_cron}\n"
    if installed:
        human += f"\nwritten: {', '.join(installed)}\nnow run: systemctl daemon-reload && " \
                 "systemctl enable --now edepot-fixity.timer edepot-dip-purge.timer\n"
    emit(args, {"service": service, "timer": timer, "cron": cron, "purge_service": purge_service,
                "purge_timer": purge_timer, "purge_cron": purge_cron, "installed": installed,
                "operator": operator.name}, human.rstrip())
    return 0
