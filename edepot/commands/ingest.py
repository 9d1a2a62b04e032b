"""`edepot ingest`: a SIP becomes an AIP."""
from __future__ import annotations

import argparse
from pathlib import Path

from edepot.output import Verbs, emit, stage_display
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("ingest", parents=[common], help="SIP (folder, .zip, .7z, .tar) → AIP on every location")
    p.add_argument("path", type=Path)
    p.set_defaults(handler=cmd_ingest)


def cmd_ingest(args: argparse.Namespace, config: Config) -> int:
    from ingest.pipeline import ingest

    with stage_display(args) as on_stage:
        result = ingest(args.path.resolve(), config, on_stage=on_stage)
    emit(args, result.to_dict(), f"AIP {result.aip_id} ({result.files} files, {result.bytes} bytes) stored in:\n"
         + "\n".join(f"  {p}" for p in result.locations))
    return 0
