"""`edepot parse`: the canonical conversation JSON of an export, written while it is read.

One conversation → one document (schemas/conversation.schema.json); several (a Telegram full-account
export) → `{"schema": ".../conversations/1", "conversations": [...]}` (schemas/conversations.schema.json).
Messages are written as they are parsed, so memory does not grow with the number of messages.
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from edepot.commands import parse_options
from edepot.output import Verbs
from kernel.config import DEFAULT_TIMEZONE, Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("parse", parents=[common], help="print the canonical conversation JSON of an export")
    p.add_argument("export", nargs="+", type=Path,
                   help="the export: .txt, .zip, an export folder, or a chat file plus media files")
    p.add_argument("--format", help="export format, when detection should be overruled (e.g. whatsapp)")
    p.add_argument("--tz", default=DEFAULT_TIMEZONE, help=f"zone the export's times are read in ({DEFAULT_TIMEZONE})")
    p.add_argument("--date-order", choices=["DMY", "MDY", "YMD"],
                   help="day/month order of the export's dates, when the inferred order should be overruled")
    p.set_defaults(handler=cmd_parse)


def cmd_parse(args: argparse.Namespace, config: Config) -> int:
    from ingest.sources import stream_export
    from kernel.model import write_conversations_json

    options = parse_options(args)
    streams = stream_export(args.export, options, format=args.format)
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # stdout replaced by a text-only stream (tests calling main() in-process)
        write_conversations_json(((s.head, s.messages) for s in streams), len(streams), sys.stdout)
        return 0
    sys.stdout.flush()
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="\n")
    try:
        write_conversations_json(((s.head, s.messages) for s in streams), len(streams), out)
        out.flush()
    finally:
        out.detach()  # leave sys.stdout's buffer open
    return 0
