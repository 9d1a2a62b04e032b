"""`edepot catalogue copy --to URL` and `edepot catalogue rebuild`: the catalogue's database moved between SQLite
and PostgreSQL, and made again from the storage locations alone (preservation/rebuild.py)."""
from __future__ import annotations

import argparse

from edepot.output import Verbs, emit
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    catalogue = verbs.add_parser("catalogue", help="the catalogue's database").add_subparsers(
        metavar="ACTION", parser_class=type(common))
    p = catalogue.add_parser("copy", parents=[common],
                             help="copy the whole catalogue into an empty database (SQLite or PostgreSQL), verified")
    p.add_argument("--to", required=True, metavar="URL",
                   help="the target: sqlite:///path/catalogue.sqlite or postgresql://user@host/database")
    p.set_defaults(handler=cmd_copy)
    p = catalogue.add_parser("rebuild", parents=[common],
                             help="rebuild a lost catalogue from the storage locations (AIPs' PREMIS and the journal)")
    p.set_defaults(handler=cmd_catalogue_rebuild)


def cmd_copy(args: argparse.Namespace, config: Config) -> int:
    from edepot.commands import open_depot

    with open_depot(args, config) as depot:
        result = depot.copy_catalogue(args.to)
    emit(args, result.to_dict(), f"copied {sum(result.rows.values())} rows in {len(result.rows)} tables to "
                                 f"{result.target}, every table counted and digested on both sides; point "
                                 "[catalogue] url in edepot.toml at it to use it")
    return 0


def cmd_catalogue_rebuild(args: argparse.Namespace, config: Config) -> int:
    from preservation.rebuild import rebuild_catalogue

    result = rebuild_catalogue(config)
    lines = [f"rebuilt {result.catalogue}: {len(result.aips)} AIP(s), {result.events} event(s)"]
    lines += [f"differs: {d}" for d in result.divergence] + [f"not rebuilt: {n}" for n in result.not_rebuilt]
    emit(args, result.to_dict(), "\n".join(lines))
    return 1 if result.divergence or result.not_rebuilt else 0
