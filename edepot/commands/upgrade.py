"""`edepot upgrade`: bring a data directory written by an older edepot (0.2.0 on) to this version, in place."""
from __future__ import annotations

import argparse

from edepot.output import Verbs, emit
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("upgrade", parents=[common],
                         help="upgrade the data directory's catalogue in place (the old one is kept beside it)")
    p.set_defaults(handler=cmd_upgrade)


def cmd_upgrade(args: argparse.Namespace, config: Config) -> int:
    from edepot.commands import open_depot

    result = open_depot(args, config).upgrade_catalogue()
    if result.upgraded_from == "current":
        message = f"the catalogue {result.catalogue} is current ({result.upgraded_to}); nothing to do"
    else:
        kept = f"the old one is at {result.backup}" if result.backup else "in one transaction"
        message = (f"the catalogue {result.catalogue} was upgraded from {result.upgraded_from} to "
                   f"{result.upgraded_to}: {sum(result.rows.values())} rows kept; {kept}")
    emit(args, result.to_dict(), message)
    return 0
