"""`edepot sip create|validate`: making and checking SIPs."""
from __future__ import annotations

import argparse
from pathlib import Path

from edepot.output import Verbs, emit
from kernel.config import DEFAULT_TIMEZONE, Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    sip = verbs.add_parser("sip", help="make and check SIPs").add_subparsers(metavar="ACTION",
                                                                          parser_class=type(common))
    p = sip.add_parser("create", parents=[common], help="wrap an export into a SIP (BagIt + MDTO)")
    p.add_argument("export", nargs="+", type=Path)
    p.add_argument("--out", required=True, type=Path, help="folder to create the SIP bag in")
    p.add_argument("--metadata", type=Path, help="record metadata (YAML or JSON with MDTO's names)")
    p.add_argument("--format")
    p.add_argument("--tz", default=DEFAULT_TIMEZONE)
    p.set_defaults(handler=cmd_sip_create)
    p = sip.add_parser("validate", parents=[common], help="check a SIP: bag, checksums, layout, MDTO XSD")
    p.add_argument("path", type=Path)
    p.set_defaults(handler=cmd_sip_validate)


def cmd_sip_create(args: argparse.Namespace, config: Config) -> int:
    from ingest.sip import create_sip

    result = create_sip(args.export, args.out, config, args.metadata, tz=args.tz, export_format=args.format)
    emit(args, result.to_dict(), f"SIP for record {result.record_id} ({result.message_count} messages): {result.path}")
    return 0


def cmd_sip_validate(args: argparse.Namespace, config: Config) -> int:
    from ingest.sip_validate import validate_sip

    report = validate_sip(args.path.resolve(), config)
    lines = [f"{'ok  ' if c.ok else 'FAIL'} {c.name}{' (skipped)' if c.skipped else ''}"
             + "".join(f"\n       {d}" for d in c.details) for c in report.checks]
    lines.append(f"{'valid' if report.valid else 'INVALID'}: {report.path}")
    emit(args, report.to_dict(), "\n".join(lines))
    return 0 if report.valid else 1
