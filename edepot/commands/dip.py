"""`edepot dip create|purge|list`: deliver DIPs, remove expired ones, see what was delivered."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from edepot.commands import open_depot
from edepot.commands.jobs import emit_job
from edepot.commands.search import add_filters, filters_of, iso_date
from edepot.output import Verbs, emit
from kernel.config import Config
from kernel.errors import InputError

if TYPE_CHECKING:
    from access.dip import DipResult


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    dip = verbs.add_parser("dip", help="deliver DIPs").add_subparsers(metavar="ACTION", parser_class=type(common))
    p = dip.add_parser("create", parents=[common], help="build a DIP of AIPs or of a search selection")
    p.add_argument("--aip", action="append", default=[],
                   help="AIP identifier or record kenmerk (the newest AIP of that record; repeat for several); "
                        "with --query: search only this AIP or record")
    p.add_argument("--query", help="deliver the messages this search finds (with the search filters)")
    add_filters(p, aip=False)
    p.add_argument("--context", type=int, default=0, help="with --query: messages before and after each hit")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", type=Path, help="folder to create the DIP in")
    out.add_argument("--queue", action="store_true",
                     help="a worker makes it, as you, under <data-dir>/dips/<job>/; prints the job")
    p.add_argument("--requester", help="who gets the DIP; without it: the archive's own copy (eigen gebruik)")
    p.add_argument("--purpose", help="why (required with --requester)")
    p.add_argument("--woo", metavar="REQUEST-ID",
                   help="the DIP answers this Woo request: withheld records in scope are listed with their "
                        "ground, undecided ones refuse it, and every record in scope is put on hold")
    p.add_argument("--expires", type=iso_date, help="last day the DIP may be used; 'dip purge' removes it after")
    p.add_argument("--redact-names", action="append", default=[], type=Path, metavar="FILE",
                   help="a file of names to redact, one a line")
    p.add_argument("--redact", action="append", default=[], metavar="[AIP:]SEQ:START-END:GROUND",
                   help="redact characters START to END (exclusive) of message SEQ, e.g. 12:5-17:5.1.2e")
    p.add_argument("--withhold", action="append", default=[], metavar="[AIP:]SEQ:GROUND",
                   help="refuse a whole message, e.g. 14:5.2")
    p.add_argument("--auto-redact", action="store_true",
                   help="the archive's own DIP redacted automatically too (a requester's always is)")
    p.add_argument("--as", dest="role", help=argparse.SUPPRESS)
    p.add_argument("--by", help="who makes the DIP (default: the acting person, --user)")
    p.set_defaults(handler=cmd_dip_create)
    p = dip.add_parser("purge", parents=[common], help="remove DIPs whose --expires day has passed")
    p.add_argument("--date", dest="on", type=iso_date, help="purge as of this day (default today)")
    p.set_defaults(handler=cmd_dip_purge)
    p = dip.add_parser("list", parents=[common], help="delivered DIPs with requester, purpose and expiry")
    p.set_defaults(handler=cmd_dip_list)


def cmd_dip_create(args: argparse.Namespace, config: Config) -> int:
    from access.redaction import ManualRedaction, Withholding
    from edepot.service.access_and_delivery import DipOrder

    order = DipOrder(
        records=tuple(args.aip), query=args.query, filters=filters_of(args), context=args.context,
        requester=args.requester, purpose=args.purpose, woo_request=args.woo, on=args.on, expires=args.expires,
        redact_names=tuple(args.redact_names), manual=tuple(ManualRedaction.parse(s) for s in args.redact),
        withhold=tuple(Withholding.parse(s) for s in args.withhold), auto_redact=args.auto_redact, view=args.role)
    if args.queue:
        if args.by:
            raise InputError("--queue takes no --by: a queued DIP is made by the person who queues it")
        with open_depot(args, config) as depot:
            job = depot.queue_dip(order)
        return emit_job(args, job, "DIP")
    with open_depot(args, config, by=args.by) as depot:
        result = depot.create_dip(order, out=args.out)
    delivered = [r for r in result.records if r.decision.allowed]
    withheld = len(result.records) - len(delivered)
    emit(args, result.to_dict(),
         f"DIP {result.dip_id} " + (f"for {args.requester}" if args.requester else "for the archive's own use")
         + f": {result.path}\n"
         f"  {sum(r.messages for r in delivered)} messages of {len(delivered)} records, "
         f"{sum(r.redactions for r in delivered)} passages redacted"
         + (f", {withheld} records withheld (listed with their ground)" if withheld else "")
         + (f"\n  every record in scope is on hold: Woo-verzoek {args.woo}" if args.woo else "")
         + (f"\n  expires after {args.expires.isoformat()}" if args.expires else "") + _missing(result))
    return 0


def _missing(result: DipResult) -> str:
    """The lines naming files left out because the archive declared them lost."""
    return "".join(f"\n  missing (declared lost in the archive): {r.record_id} {path}"
                   for r in result.records if r.decision.allowed for path in r.missing)


def cmd_dip_purge(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        purge = depot.purge_dips(on=args.on)
    emit(args, purge.to_dict(),
         "\n".join([f"{r.dip_id}  {r.path}: {r.note}" for r in purge.removals]
                   + [f"{f.path}: staging of {f.origin}: {f.state}" for f in purge.leftovers])
         or "no expired DIPs")
    return 0


def cmd_dip_list(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        dips = depot.dips()
    emit(args, {"dips": [d.to_dict() for d in dips]},
         "\n".join(f"{d.created:%Y-%m-%d}  {d.state.value:9} {d.dip_id}  {d.requester} ({d.purpose})  "
                   f"until {d.expires.isoformat() if d.expires else '-'}  {d.path}" for d in dips) or "no DIPs yet")
    return 0
