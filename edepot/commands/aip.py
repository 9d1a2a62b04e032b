"""`edepot aip list|show`: what the catalogue knows of AIPs."""
from __future__ import annotations

import argparse

from edepot.output import Verbs, emit
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    aip = verbs.add_parser("aip", help="look at AIPs").add_subparsers(metavar="ACTION", parser_class=type(common))
    p = aip.add_parser("list", parents=[common], help="every AIP in the catalogue")
    p.set_defaults(handler=cmd_aip_list)
    p = aip.add_parser("show", parents=[common], help="one AIP: replicas, files, PREMIS events")
    p.add_argument("aip_id")
    p.set_defaults(handler=cmd_aip_show)


def cmd_aip_list(args: argparse.Namespace, config: Config) -> int:
    from preservation.catalogue import open_catalogue

    catalogue = open_catalogue(config.catalogue_url)
    try:
        aips = catalogue.aips()
    finally:
        catalogue.close()
    rows = [{"aip_id": a.aip_id, "record_id": a.record_id, "title": a.title, "created": a.created.isoformat(),
             "state": a.state.value, "bytes": a.payload_bytes, "files": a.payload_files} for a in aips]
    emit(args, {"aips": rows}, "\n".join(f"{r['aip_id']}  {r['state']:8} {r['record_id']}  {r['title']}"
                                         for r in rows) or "no AIPs yet")
    return 0


def cmd_aip_show(args: argparse.Namespace, config: Config) -> int:
    from preservation.catalogue import open_catalogue

    catalogue = open_catalogue(config.catalogue_url)
    try:
        aip = catalogue.aip(args.aip_id)
        replicas, files, events = catalogue.replicas(aip.aip_id), catalogue.files(aip.aip_id), catalogue.events(aip.aip_id)
    finally:
        catalogue.close()
    document = {
        "aip_id": aip.aip_id, "record_id": aip.record_id, "title": aip.title, "state": aip.state.value,
        "replicas": [{"location": r.location, "path": r.path, "status": r.status.value,
                      "last_verified": r.last_verified.isoformat() if r.last_verified else None} for r in replicas],
        "files": [{"path": f.path, "role": f.role, "size": f.size, "sha256": f.sha256, "puid": f.puid,
                   "format": f.format_name} for f in files],
        "events": [{"type": e.type, "date_time": e.date_time.isoformat(), "outcome": e.outcome,
                    "detail": e.detail, "outcome_detail": e.outcome_detail} for e in events],
    }
    human = [f"AIP {aip.aip_id} — {aip.record_id} — {aip.title} [{aip.state.value}]"]
    human += [f"  replica {r.location}: {r.status.value}, verified {r.last_verified}, {r.path}" for r in replicas]
    human += [f"  {f.role:12} {f.puid or '-':10} {f.size:>10}  {f.path}" for f in files]
    human += [f"  {e.date_time.isoformat()}  {e.type:26} {e.outcome:8} {e.outcome_detail}" for e in events]
    emit(args, document, "\n".join(human))
    return 0
