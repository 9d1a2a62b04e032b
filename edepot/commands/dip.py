"""`edepot dip create`: deliver a DIP."""
from __future__ import annotations

import argparse
from pathlib import Path

from edepot.output import Verbs, emit
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    dip = verbs.add_parser("dip", help="deliver DIPs").add_subparsers(metavar="ACTION", parser_class=type(common))
    p = dip.add_parser("create", parents=[common], help="build a DIP of one AIP")
    p.add_argument("--aip", required=True, help="AIP identifier")
    p.add_argument("--out", required=True, type=Path, help="folder to create the DIP in")
    p.set_defaults(handler=cmd_dip_create)


def cmd_dip_create(args: argparse.Namespace, config: Config) -> int:
    from access.dip import create_dip

    result = create_dip(args.aip, args.out, config)
    emit(args, result.to_dict(), f"DIP {result.dip_id} of AIP {result.aip_id}: {result.path}")
    return 0
