"""`edepot parse`: the canonical conversation JSON of an export."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edepot.output import Verbs
from kernel.config import DEFAULT_TIMEZONE, Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("parse", parents=[common], help="print the canonical conversation JSON of an export")
    p.add_argument("export", nargs="+", type=Path, help="the export: .txt, .zip, or .txt plus media files")
    p.add_argument("--format", help="export format, when detection should be overruled (e.g. whatsapp)")
    p.add_argument("--tz", default=DEFAULT_TIMEZONE, help=f"zone the export's times are read in ({DEFAULT_TIMEZONE})")
    p.set_defaults(handler=cmd_parse)


def cmd_parse(args: argparse.Namespace, config: Config) -> int:
    from ingest.sources import parse_export

    conversation = parse_export(args.export, tz=args.tz, format=args.format)
    sys.stdout.write(conversation.to_json())
    return 0
