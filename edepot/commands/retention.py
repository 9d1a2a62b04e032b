"""`edepot retention ...`: schedules, the destruction list, its approval and execution, transfer and appraisal."""
from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from edepot.commands import open_depot
from edepot.commands.jobs import QUEUE_HELP, emit_queued
from edepot.output import Verbs, emit, stage_display
from edepot.service.job_kinds import DESTRUCTION
from kernel.config import Config
from kernel.errors import InputError

BY = "(default: the acting person: --user, $EDEPOT_USER or the data directory's operator)"


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    area = verbs.add_parser("retention", help="appraisal, destruction and transfer")
    actions = area.add_subparsers(metavar="ACTION", parser_class=type(common))
    p = actions.add_parser("refresh", parents=[common], help="compute every record's schedule from its stored MDTO")
    p.set_defaults(handler=cmd_refresh)
    p = actions.add_parser("due", parents=[common], help="draw up the destruction list (CSV, JSON, PDF/A)")
    p.add_argument("--before", help="records due before this date YYYY-MM-DD (default: due today or earlier)")
    p.add_argument("--out", type=Path, help="folder for the list's files (default <data-dir>/reports/retention/ID)")
    p.add_argument("--by", help=f"who draws the list up {BY}; may not approve it")
    p.add_argument("--organisation", metavar="ID", help="whose records (needed when you serve several organisations)")
    p.add_argument("--category", action="append", metavar="CODE",
                   help="only records of this selectielijst category (its code, else its label); repeatable")
    p.set_defaults(handler=cmd_due)
    p = actions.add_parser("approve", parents=[common], help="approve a destruction list")
    p.add_argument("list", metavar="LIST", help="the list's id, or its JSON file")
    p.add_argument("--by", help=f"who approves {BY}")
    p.add_argument("--role", required=True, help="in what role (e.g. archivaris)")
    p.set_defaults(handler=cmd_approve)
    p = actions.add_parser("reject", parents=[common], help="reject a destruction list, with the reason")
    p.add_argument("list", metavar="LIST", help="the list's id, or its JSON file")
    p.add_argument("--by", help=f"who rejects it {BY}")
    p.add_argument("--role", required=True, help="in what role (e.g. beoordelaar)")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_reject)
    p = actions.add_parser("destroy", parents=[common], help="execute an approved destruction list")
    p.add_argument("list", metavar="LIST", help="the list's id, or its JSON file")
    p.add_argument("--by", help=f"who executes it {BY}")
    p.add_argument("--out", type=Path, help="folder for the certificate (default <data-dir>/reports/retention/ID)")
    p.add_argument("--queue", action="store_true", help=QUEUE_HELP)
    p.set_defaults(handler=cmd_destroy)
    p = actions.add_parser("lists", parents=[common], help="every destruction list, its approvals and state")
    p.set_defaults(handler=cmd_lists)
    p = actions.add_parser("transfer-due", parents=[common], help="permanent records whose transfer date has passed")
    p.add_argument("--before", help="transfer date before this date (default: today or earlier)")
    p.set_defaults(handler=cmd_transfer_due)
    p = actions.add_parser("to-appraise", parents=[common], help="records waiting for appraisal or a start date")
    p.set_defaults(handler=cmd_to_appraise)
    p = actions.add_parser("show", parents=[common], help="one record's schedule, history, holds or tombstone")
    p.add_argument("--record", required=True, help="the record's identifier (kenmerk)")
    p.set_defaults(handler=cmd_show)
    p = actions.add_parser("set-start", parents=[common], help="set the date a record's term counts from")
    p.add_argument("--record", required=True)
    p.add_argument("--date", required=True, help="YYYY-MM-DD")
    p.add_argument("--reason", required=True)
    p.add_argument("--by", help=f"who sets it {BY}")
    p.set_defaults(handler=cmd_set_start)
    p = actions.add_parser("reappraise", parents=[common], help="change a record's waardering or bewaartermijn")
    p.add_argument("--record", required=True)
    p.add_argument("--waardering", help="B, V or N")
    p.add_argument("--bewaartermijn", help="ISO 8601 duration, e.g. P10Y")
    p.add_argument("--reason", required=True)
    p.add_argument("--by", help=f"who re-appraises {BY}")
    p.set_defaults(handler=cmd_reappraise)


def _day(given: str | None, flag: str) -> date | None:
    from preservation.retention import parse_day

    return parse_day(given, flag) if given else None


def cmd_refresh(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        refreshed = depot.refresh_schedules()
    found = [s.to_dict() for s in refreshed.schedules]
    human = [f"{s['record_id']}  {s['status']:13} {s['why']}" for s in found]
    human += [f"not scheduled: {p}" for p in refreshed.not_scheduled]
    emit(args, {"records": found, "not_scheduled": refreshed.not_scheduled}, "\n".join(human) or "no records")
    return 0


def cmd_due(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config, by=args.by) as depot, stage_display(args) as show:
        before = depot.due_before(_day(args.before, "--before"))
        show("drawing up the destruction list")
        drawn = depot.draw_up_destruction_list(before=before, out=args.out, organisation=args.organisation,
                                               categories=args.category)
    if drawn is None:
        emit(args, {"list_id": None, "records": 0, "before": before.isoformat(), "items": []},
             f"nothing due for destruction before {before}")
        return 0
    lines = [f"destruction list {drawn.list_id}: {len(drawn.content['items'])} records due before {before}"]
    lines += [f"  {i['category'].get('code') or '-':8} {i['record_id']}  {i['destruction_date']}  {i['title']}"
              for i in drawn.content["items"]]
    lines += [f"  {p}" for p in drawn.files]
    lines.append(f"another person approves it with: edepot retention approve {drawn.list_id} --by NAME --role ROLE")
    emit(args, drawn.to_dict(), "\n".join(lines))
    return 0


def cmd_approve(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config, by=args.by) as depot:
        approval = depot.approve_destruction_list(args.list, role=args.role)
    emit(args, {"list_id": approval.list_id, "digest": approval.digest, "by": approval.by, "role": approval.role,
                "at": approval.at.isoformat()},
         f"destruction list {approval.list_id} approved by {approval.by} ({approval.role}) at {approval.at}")
    return 0


def cmd_reject(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config, by=args.by) as depot:
        rejection = depot.reject_destruction_list(args.list, role=args.role, reason=args.reason)
    by = rejection.approval
    emit(args, {"list_id": by.list_id, "digest": by.digest, "by": by.by, "role": by.role, "at": by.at.isoformat(),
                "reason": rejection.reason},
         f"destruction list {by.list_id} rejected by {by.by} ({by.role}) at {by.at}: {rejection.reason}")
    return 0


def cmd_destroy(args: argparse.Namespace, config: Config) -> int:
    if args.queue:
        if args.out or args.by or args.list.endswith(".json"):
            raise InputError("--queue takes the list's id and no --out or --by: a queued destruction is done "
                             "as you, its certificate kept under the data directory")
        return emit_queued(args, config, DESTRUCTION, {"list": args.list}, f"destruction list {args.list}")
    with open_depot(args, config, by=args.by) as depot, stage_display(args) as show:
        result = depot.destroy_destruction_list(args.list, out=args.out, progress=show)
    lines = [f"destruction list {result.list_id}: {len(result.destroyed)} records destroyed"]
    lines += [f"  destroyed {r}" for r in result.destroyed]
    lines += [f"  not destroyed {s['record_id']}: {s['reason']}" for s in result.skipped]
    lines += [f"  certificate: {p}" for p in result.certificate]
    emit(args, result.to_dict(), "\n".join(lines))
    return 0


def cmd_lists(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        rows = [state.to_dict() for state in depot.destruction_lists()]
    human = [f"{r['list_id']}  {r['records']} records, {r['destroyed']} destroyed, "
             f"approved by {', '.join(a['by'] + ' (' + a['role'] + ')' for a in r['approvals']) or 'nobody yet'}"
             + "".join(f"\n  {c}" for c in r["certificate"]) for r in rows]
    emit(args, {"lists": rows}, "\n".join(human) or "no destruction lists yet")
    return 0


def cmd_transfer_due(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        before = depot.due_before(_day(args.before, "--before"))
        due = [s.to_dict() for s in depot.due_for_transfer(before)]
        term = depot.retention_settings.transfer_term
    emit(args, {"before": before.isoformat(), "transfer_term": term, "records": due},
         "\n".join(f"{s['record_id']}  transfer by {s['transfer_date']}  {s['title']}" for s in due)
         or f"no permanent records due for transfer before {before}")
    return 0


def cmd_to_appraise(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        waiting = [s.to_dict() for s in depot.to_appraise()]
    emit(args, {"records": waiting}, "\n".join(f"{s['record_id']}  {s['status']:13} {s['why']}" for s in waiting)
         or "nothing waits for appraisal")
    return 0


def cmd_show(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        document = depot.retention_of(args.record)
    tombstone = document["tombstone"]
    human = [f"record {args.record}"]
    if tombstone:
        human.append(f"  DESTROYED {tombstone['destroyed_at']} under list {tombstone['list_id']} "
                     f"(approved by {', '.join(a['by'] for a in tombstone['approvals'])})")
    if document["schedule"]:
        human.append(f"  {document['schedule']['status']}: {document['schedule']['why']}")
    human += [f"  {h['at']}  {h['action']:12} {h['by']}: {h['reason']}" for h in document["history"]]
    human += [f"  hold {h['placed_at']} {h['placed_by']}: {h['reason']}"
              + (f" — lifted {h['lifted_at']} by {h['lifted_by']}: {h['lift_reason']}" if h["lifted_at"] else "")
              for h in document["holds"]]
    emit(args, document, "\n".join(human))
    return 0


def cmd_set_start(args: argparse.Namespace, config: Config) -> int:
    from preservation.retention import parse_day

    day = parse_day(args.date, "--date")
    with open_depot(args, config, by=args.by) as depot:
        schedule = depot.set_retention_start(args.record, day=day, reason=args.reason)
    emit(args, schedule.to_dict(), f"{schedule.record_id}: {schedule.why}")
    return 0


def cmd_reappraise(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config, by=args.by) as depot:
        schedule = depot.reappraise(args.record, reason=args.reason, waardering=args.waardering,
                                    bewaartermijn=args.bewaartermijn)
    emit(args, schedule.to_dict(), f"{schedule.record_id}: {schedule.why}")
    return 0
