"""`edepot access set|permit|permits|log`: deciding a record's openness, permits, and the access log."""
from __future__ import annotations

import argparse

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
    p.add_argument("--by", required=True, help="who decides")
    p.set_defaults(handler=cmd_set)
    p = access.add_parser("permit", parents=[common], help="let a named person have a restricted record")
    p.add_argument("--record", required=True, help="record kenmerk or AIP id")
    p.add_argument("--to", dest="grantee", required=True, help="the person, by the name used as --requester")
    p.add_argument("--until", required=True, type=iso_date, help="last day of the permit (YYYY-MM-DD)")
    p.add_argument("--reason", required=True, help="why (recorded in the access log)")
    p.add_argument("--by", default="", help="the archivist granting it (default: the system user)")
    p.set_defaults(handler=cmd_permit)
    p = access.add_parser("permits", parents=[common], help="list permits")
    p.add_argument("--to", dest="grantee", help="only this person's")
    p.set_defaults(handler=cmd_permits)
    p = access.add_parser("log", parents=[common], help="who got what, when, why and until when")
    p.add_argument("--requester", help="only this requester's entries")
    p.add_argument("--dip", help="only this DIP's entries")
    p.set_defaults(handler=cmd_log)


def cmd_set(args: argparse.Namespace, config: Config) -> int:
    from access.restrictions import restriction_of, set_restriction

    change = set_restriction(config, args.record, restriction_of(args.label, args.ground, args.until),
                             by=args.by, reason=args.reason)
    r = change.restriction
    emit(args, change.to_dict(), f"record {change.record_id}: {r.label}"
         + (f", {'; '.join(r.grounds)}" if r.grounds else "") + (f", until {r.until.isoformat()}" if r.until else "")
         + f" ({r.openness.value}), decided by {change.by}")
    return 0


def cmd_permit(args: argparse.Namespace, config: Config) -> int:
    from access.access_log import current_actor, open_register
    from kernel.errors import InputError, NotFound
    from preservation.catalogue import open_catalogue

    catalogue = open_catalogue(config.catalogue_url)
    try:
        records = {a.record_id for a in catalogue.aips() if args.record in (a.aip_id, a.record_id)}
    finally:
        catalogue.close()
    if not records:
        raise NotFound(f"no record or AIP {args.record!r} in the catalogue", hint="list them with 'edepot aip list'")
    if args.until < config.clock().date():
        raise InputError(f"--until {args.until.isoformat()} lies in the past")
    if not args.reason.strip() or not args.grantee.strip():
        raise InputError("--to and --reason must not be empty")
    with open_register(config.catalogue_url) as register:
        permit = register.grant_permit(records.pop(), args.grantee.strip(), args.until, args.reason.strip(),
                                       args.by or current_actor(), config.clock())
    emit(args, permit.to_dict(), f"permit {permit.permit_id}: {permit.grantee} may have record {permit.record_id} "
                                 f"until {permit.until.isoformat()}")
    return 0


def cmd_permits(args: argparse.Namespace, config: Config) -> int:
    from access.access_log import open_register

    with open_register(config.catalogue_url) as register:
        permits = register.permits(args.grantee)
    emit(args, {"permits": [p.to_dict() for p in permits]},
         "\n".join(f"{p.granted:%Y-%m-%d}  {p.record_id}  {p.grantee}  until {p.until.isoformat()}  ({p.reason})"
                   for p in permits) or "no permits")
    return 0


def cmd_log(args: argparse.Namespace, config: Config) -> int:
    from access.access_log import open_register

    with open_register(config.catalogue_url) as register:
        entries = list(register.log(args.requester, args.dip))
    emit(args, {"entries": [e.to_dict() for e in entries]},
         "\n".join(f"{e.at:%Y-%m-%d %H:%M}  {e.action:14} {e.requester}  ({e.purpose})  "
                   f"{', '.join(e.records)}  until {e.until.isoformat() if e.until else '-'}  {e.detail}"
                   for e in entries) or "the access log is empty")
    return 0
