"""`edepot hold add|lift|list`: holds on destruction (a Woo request, litigation), with who and why."""
from __future__ import annotations

import argparse

from edepot.commands import open_depot
from edepot.output import Verbs, emit
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    area = verbs.add_parser("hold", help="holds on destruction")
    actions = area.add_subparsers(metavar="ACTION", parser_class=type(common))
    p = actions.add_parser("add", parents=[common], help="put a record on hold: it is not destroyed")
    p.add_argument("--record", required=True, help="the record's identifier (kenmerk)")
    p.add_argument("--reason", required=True, help='why, e.g. "Woo-verzoek 2024-17"')
    p.add_argument("--by", help="who places the hold (default: the acting person, --user)")
    p.set_defaults(handler=cmd_hold_add)
    p = actions.add_parser("lift", parents=[common], help="lift the holds on a record")
    p.add_argument("--record", required=True)
    p.add_argument("--reason", required=True)
    p.add_argument("--by", help="who lifts them (default: the acting person, --user)")
    p.set_defaults(handler=cmd_hold_lift)
    p = actions.add_parser("list", parents=[common], help="the holds (active ones; --all for lifted too)")
    p.add_argument("--all", action="store_true", help="also the holds that were lifted")
    p.set_defaults(handler=cmd_hold_list)


def cmd_hold_add(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config, by=args.by) as depot:
        hold = depot.place_hold(args.record, reason=args.reason)
    emit(args, {"hold_id": hold.hold_id, "record_id": hold.record_id, "reason": hold.reason, "by": hold.placed_by,
                "at": hold.placed_at.isoformat()}, f"record {hold.record_id} is on hold: {hold.reason}")
    return 0


def cmd_hold_lift(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config, by=args.by) as depot:
        lifted = depot.lift_holds(args.record, reason=args.reason)
    emit(args, {"record_id": args.record, "lifted": lifted}, f"{lifted} hold(s) on record {args.record} lifted")
    return 0


def cmd_hold_list(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        holds = depot.holds(include_lifted=args.all)
    rows = [{"hold_id": h.hold_id, "record_id": h.record_id, "reason": h.reason, "placed_by": h.placed_by,
             "placed_at": h.placed_at.isoformat(), "lifted_by": h.lifted_by,
             "lifted_at": h.lifted_at.isoformat() if h.lifted_at else None, "lift_reason": h.lift_reason}
            for h in holds]
    emit(args, {"holds": rows}, "\n".join(
        f"{r['record_id']}  {r['placed_at']}  {r['placed_by']}: {r['reason']}"
        + (f"  (lifted {r['lifted_at']} by {r['lifted_by']}: {r['lift_reason']})" if r["lifted_at"] else "")
        for r in rows) or "no holds")
    return 0
