"""`edepot retention ...`: schedules, the destruction list, its approval and execution, transfer and appraisal."""
from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from edepot.output import Verbs, emit, stage_display
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    area = verbs.add_parser("retention", help="appraisal, destruction and transfer")
    actions = area.add_subparsers(metavar="ACTION", parser_class=type(common))
    p = actions.add_parser("refresh", parents=[common], help="compute every record's schedule from its stored MDTO")
    p.set_defaults(handler=cmd_refresh)
    p = actions.add_parser("due", parents=[common], help="draw up the destruction list (CSV, JSON, PDF/A)")
    p.add_argument("--before", help="records due before this date YYYY-MM-DD (default: due today or earlier)")
    p.add_argument("--out", type=Path, help="folder for the list's files (default <data-dir>/reports/retention/ID)")
    p.add_argument("--by", default="", help="who draws the list up (default: the login name); may not approve it")
    p.set_defaults(handler=cmd_due)
    p = actions.add_parser("approve", parents=[common], help="approve a destruction list")
    p.add_argument("list", metavar="LIST", help="the list's id, or its JSON file")
    p.add_argument("--by", required=True, help="who approves")
    p.add_argument("--role", required=True, help="in what role (e.g. archivaris)")
    p.set_defaults(handler=cmd_approve)
    p = actions.add_parser("destroy", parents=[common], help="execute an approved destruction list")
    p.add_argument("list", metavar="LIST", help="the list's id, or its JSON file")
    p.add_argument("--by", default="", help="who executes it (default: the login name)")
    p.add_argument("--out", type=Path, help="folder for the certificate (default <data-dir>/reports/retention/ID)")
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
    p.add_argument("--by", required=True)
    p.set_defaults(handler=cmd_set_start)
    p = actions.add_parser("reappraise", parents=[common], help="change a record's waardering or bewaartermijn")
    p.add_argument("--record", required=True)
    p.add_argument("--waardering", help="B, V or N")
    p.add_argument("--bewaartermijn", help="ISO 8601 duration, e.g. P10Y")
    p.add_argument("--reason", required=True)
    p.add_argument("--by", required=True)
    p.set_defaults(handler=cmd_reappraise)


@contextmanager
def _catalogue(config: Config) -> Iterator[Any]:
    from preservation.catalogue import open_catalogue

    catalogue = open_catalogue(config.catalogue_url)
    try:
        yield catalogue
    finally:
        catalogue.close()


def _today_or(config: Config, given: str | None, settings: Any) -> Any:
    from preservation.retention import due_cutoff, parse_day

    if given:
        return parse_day(given, "--before")
    return due_cutoff(config.clock(), settings)


def cmd_refresh(args: argparse.Namespace, config: Config) -> int:
    from preservation.retention import compute_schedule, load_retention_settings, refresh_schedules

    settings = load_retention_settings(config)
    problems: list[str] = []
    with _catalogue(config) as catalogue:
        rows = refresh_schedules(config, catalogue, problems=problems)
    found = [compute_schedule(r, settings).to_dict() for r in rows]
    human = [f"{s['record_id']}  {s['status']:13} {s['why']}" for s in found]
    human += [f"not scheduled: {p}" for p in problems]
    emit(args, {"records": found, "not_scheduled": problems}, "\n".join(human) or "no records")
    return 0


def cmd_due(args: argparse.Namespace, config: Config) -> int:
    from preservation.destruction import draw_up_list
    from preservation.retention import load_retention_settings

    settings = load_retention_settings(config)
    before = _today_or(config, args.before, settings)
    with _catalogue(config) as catalogue, stage_display(args) as show:
        show("drawing up the destruction list")
        drawn = draw_up_list(config, catalogue, settings, before, args.out, by=args.by)
    if drawn is None:
        emit(args, {"list_id": None, "records": 0, "before": before.isoformat(), "items": []},
             f"nothing due for destruction before {before}")
        return 0
    lines = [f"destruction list {drawn.list_id}: {len(drawn.content['items'])} records due before {before}"]
    lines += [f"  {i['category'].get('code') or '-':8} {i['record_id']}  {i['destruction_date']}  {i['title']}"
              for i in drawn.content["items"]]
    lines += [f"  {p}" for p in drawn.files]
    lines.append(f"approve it with: edepot retention approve {drawn.list_id} --by NAME --role ROLE")
    emit(args, drawn.to_dict(), "\n".join(lines))
    return 0


def cmd_approve(args: argparse.Namespace, config: Config) -> int:
    from preservation.destruction import approve_list

    with _catalogue(config) as catalogue:
        approval = approve_list(config, catalogue, args.list, args.by, args.role)
    emit(args, {"list_id": approval.list_id, "digest": approval.digest, "by": approval.by, "role": approval.role,
                "at": approval.at.isoformat()},
         f"destruction list {approval.list_id} approved by {approval.by} ({approval.role}) at {approval.at}")
    return 0


def cmd_destroy(args: argparse.Namespace, config: Config) -> int:
    from preservation.destruction import destroy_list
    from preservation.retention import load_retention_settings

    settings = load_retention_settings(config)
    with _catalogue(config) as catalogue, stage_display(args) as show:
        result = destroy_list(config, catalogue, args.list, settings, by=args.by, out=args.out, progress=show)
    lines = [f"destruction list {result.list_id}: {len(result.destroyed)} records destroyed"]
    lines += [f"  destroyed {r}" for r in result.destroyed]
    lines += [f"  not destroyed {s['record_id']}: {s['reason']}" for s in result.skipped]
    lines += [f"  certificate: {p}" for p in result.certificate]
    emit(args, result.to_dict(), "\n".join(lines))
    return 0


def cmd_lists(args: argparse.Namespace, config: Config) -> int:
    from preservation.destruction import reports_dir

    rows = []
    with _catalogue(config) as catalogue:
        for stored in catalogue.destruction_lists():
            approvals = [a for a in catalogue.approvals(stored.list_id) if a.digest == stored.digest]
            destroyed = [t["record_id"] for t in catalogue.tombstones(stored.list_id)]
            folder = reports_dir(config, stored.list_id)
            certificates = sorted(str(p) for p in folder.glob("verklaring-van-vernietiging-*")) if destroyed else []
            rows.append({"list_id": stored.list_id, "created": stored.created.isoformat(), "digest": stored.digest,
                         "records": len(stored.content["items"]), "destroyed": len(destroyed),
                         "approvals": [{"by": a.by, "role": a.role, "at": a.at.isoformat()} for a in approvals],
                         "certificate": certificates})
    human = [f"{r['list_id']}  {r['records']} records, {r['destroyed']} destroyed, "
             f"approved by {', '.join(a['by'] + ' (' + a['role'] + ')' for a in r['approvals']) or 'nobody yet'}"
             + "".join(f"\n  {c}" for c in r["certificate"]) for r in rows]
    emit(args, {"lists": rows}, "\n".join(human) or "no destruction lists yet")
    return 0


def cmd_transfer_due(args: argparse.Namespace, config: Config) -> int:
    from preservation.retention import due_for_transfer, load_retention_settings, refresh_schedules

    settings = load_retention_settings(config)
    before = _today_or(config, args.before, settings)
    with _catalogue(config) as catalogue:
        refresh_schedules(config, catalogue, only_missing=True)
        due = [s.to_dict() for s in due_for_transfer(catalogue, settings, before)]
    emit(args, {"before": before.isoformat(), "transfer_term": settings.transfer_term, "records": due},
         "\n".join(f"{s['record_id']}  transfer by {s['transfer_date']}  {s['title']}" for s in due)
         or f"no permanent records due for transfer before {before}")
    return 0


def cmd_to_appraise(args: argparse.Namespace, config: Config) -> int:
    from preservation.retention import load_retention_settings, refresh_schedules, to_appraise

    settings = load_retention_settings(config)
    with _catalogue(config) as catalogue:
        refresh_schedules(config, catalogue, only_missing=True)
        waiting = [s.to_dict() for s in to_appraise(catalogue, settings)]
    emit(args, {"records": waiting}, "\n".join(f"{s['record_id']}  {s['status']:13} {s['why']}" for s in waiting)
         or "nothing waits for appraisal")
    return 0


def cmd_show(args: argparse.Namespace, config: Config) -> int:
    from kernel.errors import NotFound
    from preservation.retention import compute_schedule, load_retention_settings

    settings = load_retention_settings(config)
    with _catalogue(config) as catalogue:
        tombstone = catalogue.tombstone(args.record)
        row = catalogue.retention_row(args.record)
        if tombstone is None and row is None:
            raise NotFound(f"no retention schedule for record {args.record!r}",
                           hint="run 'edepot retention refresh', or list records with 'edepot aip list'")
        document = {
            "record_id": args.record,
            "schedule": compute_schedule(row, settings).to_dict() if row and tombstone is None else None,
            "history": catalogue.appraisal_history(args.record),
            "holds": [{"reason": h.reason, "placed_by": h.placed_by, "placed_at": h.placed_at.isoformat(),
                       "lifted_by": h.lifted_by, "lifted_at": h.lifted_at.isoformat() if h.lifted_at else None,
                       "lift_reason": h.lift_reason} for h in catalogue.holds(args.record)],
            "tombstone": tombstone,
        }
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
    from preservation.retention import parse_day, set_start

    day = parse_day(args.date, "--date")
    with _catalogue(config) as catalogue:
        schedule = set_start(catalogue, args.record, day, config.clock(), args.by, args.reason)
    emit(args, schedule.to_dict(), f"{schedule.record_id}: {schedule.why}")
    return 0


def cmd_reappraise(args: argparse.Namespace, config: Config) -> int:
    from preservation.retention import reappraise

    with _catalogue(config) as catalogue:
        schedule = reappraise(catalogue, args.record, config.clock(), args.by, args.reason,
                              waardering=args.waardering, bewaartermijn=args.bewaartermijn)
    emit(args, schedule.to_dict(), f"{schedule.record_id}: {schedule.why}")
    return 0
