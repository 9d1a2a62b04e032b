"""`edepot catalogue copy --to URL`: move an archive's catalogue between SQLite and PostgreSQL."""
from __future__ import annotations

import argparse

from edepot.output import Verbs, emit
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("catalogue", parents=[common], help="the catalogue's database")
    actions = p.add_subparsers(title="actions", metavar="ACTION", parser_class=type(common))
    copy = actions.add_parser("copy", parents=[common],
                              help="copy the whole catalogue into an empty database (SQLite or PostgreSQL), verified")
    copy.add_argument("--to", required=True, metavar="URL",
                      help="the target: sqlite:///path/catalogue.sqlite or postgresql://user@host/database")
    copy.set_defaults(handler=cmd_copy)


def cmd_copy(args: argparse.Namespace, config: Config) -> int:
    from edepot.commands import open_depot

    result = open_depot(args, config).copy_catalogue(args.to)
    emit(args, result.to_dict(), f"copied {sum(result.rows.values())} rows in {len(result.rows)} tables to "
                                 f"{result.target}, every table counted and digested on both sides; point "
                                 "[catalogue] url in edepot.toml at it to use it")
    return 0
