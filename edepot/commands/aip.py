"""`edepot aip list|show|restore|declare-loss`: what the catalogue knows of AIPs, and recovery from damage to
every replica of a file."""
from __future__ import annotations

import argparse
from pathlib import Path

from edepot.commands import open_depot
from edepot.output import Verbs, emit
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    aip = verbs.add_parser("aip", help="look at AIPs").add_subparsers(metavar="ACTION", parser_class=type(common))
    p = aip.add_parser("list", parents=[common], help="every AIP in the catalogue")
    p.set_defaults(handler=cmd_aip_list)
    p = aip.add_parser("show", parents=[common], help="one AIP: replicas, files, PREMIS events")
    p.add_argument("aip_id")
    p.set_defaults(handler=cmd_aip_show)
    p = aip.add_parser("restore", parents=[common],
                       help="restore damaged files from an outside copy that matches the manifest")
    p.add_argument("aip_id")
    p.add_argument("--from", dest="source", type=Path, required=True, metavar="PATH",
                   help="one file, or a folder (a bag) holding the damaged files under their path in the AIP")
    p.set_defaults(handler=cmd_aip_restore)
    p = aip.add_parser("declare-loss", parents=[common],
                       help="declare a file lost when no replica and no outside copy holds it")
    p.add_argument("aip_id")
    p.add_argument("--file", dest="files", action="append", required=True, metavar="REL",
                   help="the file's path in the AIP, e.g. data/original/x.zip (repeatable)")
    p.add_argument("--reason", required=True, help="why no copy can be had")
    p.set_defaults(handler=cmd_aip_declare_loss)


def cmd_aip_list(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        aips = depot.aips()
    rows = [{"aip_id": a.aip_id, "record_id": a.record_id, "title": a.title, "created": a.created.isoformat(),
             "state": a.state.value, "bytes": a.payload_bytes, "files": a.payload_files} for a in aips]
    emit(args, {"aips": rows}, "\n".join(f"{r['aip_id']}  {r['state']:8} {r['record_id']}  {r['title']}"
                                         for r in rows) or "no AIPs yet")
    return 0


def cmd_aip_show(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        shown = depot.aip_details(args.aip_id)
    aip, replicas, files, events, losses = shown.aip, shown.replicas, shown.files, shown.events, shown.losses
    document = {
        "aip_id": aip.aip_id, "record_id": aip.record_id, "title": aip.title, "state": aip.state.value,
        "organisation": aip.organisation or None,
        "lost_files": [loss.to_dict() for loss in losses],
        "replicas": [{"location": r.location, "path": r.path, "status": r.status.value,
                      "last_verified": r.last_verified.isoformat() if r.last_verified else None} for r in replicas],
        "files": [{"path": f.path, "role": f.role, "size": f.size, "sha256": f.sha256, "puid": f.puid,
                   "format": f.format_name} for f in files],
        "events": [{"type": e.type, "date_time": e.date_time.isoformat(), "outcome": e.outcome,
                    "detail": e.detail, "outcome_detail": e.outcome_detail, "agents": list(e.agents)}
                   for e in events],
    }
    human = [f"AIP {aip.aip_id} — {aip.record_id} — {aip.title} [{aip.state.value}]"
             + (f" of {aip.organisation}" if aip.organisation else "")]
    human += [f"  replica {r.location}: {r.status.value}, verified {r.last_verified}, {r.path}" for r in replicas]
    human += [f"  {f.role:12} {f.puid or '-':10} {f.size:>10}  {f.path}" for f in files]
    human += [f"  LOST {x.path}: declared {x.declared.date()} by {x.declared_by}: {x.reason}" for x in losses]
    human += [f"  {e.date_time.isoformat()}  {e.type:26} {e.outcome:8} {e.outcome_detail}" for e in events]
    emit(args, document, "\n".join(human))
    return 0


def cmd_aip_restore(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        result = depot.restore_files(args.aip_id, source=args.source.resolve())
    human = [f"restored {r.path} into {', '.join(r.locations) or 'no replica'}"
             + (" (its declared loss is lifted)" if r.lifted_loss else "") for r in result.restored]
    human += [f"still damaged (not in {args.source}): {path}" for path in result.still_damaged]
    emit(args, result.to_dict(), "\n".join(human) or f"nothing to restore: every replica of {args.aip_id} verifies")
    return 0


def cmd_aip_declare_loss(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        losses = depot.declare_loss(args.aip_id, paths=args.files, reason=args.reason)
    emit(args, {"declared": [loss.to_dict() for loss in losses]},
         "\n".join(f"declared lost: {x.path} of AIP {x.aip_id}, by {x.declared_by}" for x in losses)
         + "\nfixity now reports it as a known loss; DIPs and the search index go on without it, naming it; "
           f"'edepot aip restore {args.aip_id} --from PATH' lifts it when a copy turns up")
    return 0
