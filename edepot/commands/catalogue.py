"""`edepot catalogue rebuild`: make the catalogue again from the storage locations alone (preservation/rebuild.py)."""
from __future__ import annotations

import argparse

from edepot.output import Verbs, emit
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    catalogue = verbs.add_parser("catalogue", help="the catalogue").add_subparsers(metavar="ACTION",
                                                                                  parser_class=type(common))
    p = catalogue.add_parser("rebuild", parents=[common],
                             help="rebuild a lost catalogue from the storage locations (AIPs' PREMIS and the journal)")
    p.set_defaults(handler=cmd_catalogue_rebuild)


def cmd_catalogue_rebuild(args: argparse.Namespace, config: Config) -> int:
    from preservation.rebuild import rebuild_catalogue

    result = rebuild_catalogue(config)
    lines = [f"rebuilt {result.catalogue}: {len(result.aips)} AIP(s), {result.events} event(s)"]
    lines += [f"differs: {d}" for d in result.divergence] + [f"not rebuilt: {n}" for n in result.not_rebuilt]
    emit(args, result.to_dict(), "\n".join(lines))
    return 1 if result.divergence or result.not_rebuilt else 0
