"""`edepot access set|permit|permits|log`: deciding a record's openness, permits, and the access log."""
from __future__ import annotations

import argparse

from edepot.commands import open_depot
from edepot.commands.search import iso_date
from edepot.output import Verbs, emit
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    access = verbs.add_parser("access", help="permits and the access log").add_subparsers(
        metavar="ACTION", parser_class=type(common))
    p = access.add_parser("set", parents=[common], help="decide a record's openness (its beperkingGebruik)")
    p.add_argument("--record", required=True, help="record kenmerk or AIP id")
    p.add_argument("--type", dest="label", required=True, metavar="TYPE",
                   help='"Geen beperking", "Nader te bepalen" or "Overig" (MDTO BeperkingGebruikTypeLijst)')
    p.add_argument("--ground", action="append", default=[],
                   help='with Overig: the legal ground, e.g. "Woo art. 5.1 lid 2 sub e" (repeatable)')
    p.add_argument("--until", type=iso_date, help="with Overig: the last day of the restriction (YYYY-MM-DD)")
    p.add_argument("--reason", required=True, help="why (recorded with the decision and its PREMIS event)")
    p.add_argument("--by", help="who decides (default: the acting person, --user)")
    p.set_defaults(handler=cmd_set)
    p = access.add_parser("permit", parents=[common], help="let a named person have a restricted record")
    p.add_argument("--record", required=True, help="record kenmerk or AIP id")
    p.add_argument("--to", dest="grantee", required=True, help="the person, by the name used as --requester")
    p.add_argument("--until", required=True, type=iso_date, help="last day of the permit (YYYY-MM-DD)")
    p.add_argument("--reason", required=True, help="why (recorded in the access log)")
    p.add_argument("--by", help="the archivist granting it (default: the acting person, --user)")
    p.set_defaults(handler=cmd_permit)
    p = access.add_parser("permits", parents=[common], help="list permits")
    p.add_argument("--to", dest="grantee", help="only this person's")
    p.set_defaults(handler=cmd_permits)
    p = access.add_parser("log", parents=[common], help="who got what, when, why and until when")
    p.add_argument("--requester", help="only this requester's entries")
    p.add_argument("--dip", help="only this DIP's entries")
    p.set_defaults(handler=cmd_log)


def cmd_set(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config, by=args.by) as depot:
        change = depot.set_restriction(args.record, label=args.label, grounds=args.ground, until=args.until,
                                       reason=args.reason)
    r = change.restriction
    emit(args, change.to_dict(), f"record {change.record_id}: {r.label}"
         + (f", {'; '.join(r.grounds)}" if r.grounds else "") + (f", until {r.until.isoformat()}" if r.until else "")
         + f" ({r.openness.value}), decided by {change.by}")
    return 0


def cmd_permit(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config, by=args.by) as depot:
        permit = depot.grant_permit(args.record, to=args.grantee, until=args.until, reason=args.reason)
    emit(args, permit.to_dict(), f"permit {permit.permit_id}: {permit.grantee} may have record {permit.record_id} "
                                 f"until {permit.until.isoformat()}")
    return 0


def cmd_permits(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        permits = depot.permits(args.grantee)
    emit(args, {"permits": [p.to_dict() for p in permits]},
         "\n".join(f"{p.granted:%Y-%m-%d}  {p.record_id}  {p.grantee}  until {p.until.isoformat()}  ({p.reason})"
                   for p in permits) or "no permits")
    return 0


def cmd_log(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        entries = depot.access_log(requester=args.requester, dip_id=args.dip)
    emit(args, {"entries": [e.to_dict() for e in entries]},
         "\n".join(f"{e.at:%Y-%m-%d %H:%M}  {e.action:14} {e.requester}  ({e.purpose})  "
                   f"{', '.join(e.records)}  until {e.until.isoformat() if e.until else '-'}  {e.detail}"
                   for e in entries) or "the access log is empty")
    return 0
