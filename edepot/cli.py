"""The `edepot` command: wires the verbs of DESIGN.md's command-line contract to ingest, preservation, access.

Every verb takes --data-dir and --json. Exit codes: 0 ok, 1 the thing checked is bad (invalid SIP,
damaged AIP), 2 usage or input error, 3 storage failure (a full, read-only or failing file system), each with
one line on stderr. Never a traceback for bad input.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

from edepot.commands import (
    access,
    aip,
    catalogue,
    demo,
    dip,
    doctor,
    fixity,
    hold,
    ingest,
    jobs,
    parse,
    people,
    retention,
    search,
    serve,
    sip,
    upgrade,
    woo,
)
from edepot.remedies import command_hint
from kernel.config import Config, load_config
from kernel.errors import EdepotError, InputError, StorageFailure, is_storage_fault
from kernel.version import edepot_version

Handler = Callable[[argparse.Namespace, Config], int]
AREAS = (parse, sip, ingest, jobs, fixity, dip, aip, demo, retention, hold, search, access, woo, doctor, upgrade, people,
         catalogue, serve)
def main(argv: Sequence[str] | None = None) -> int:
    """Run one edepot command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.data_dir = getattr(args, "data_dir", None)
    args.json = getattr(args, "json", False)
    args.user = getattr(args, "user", None)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    config: Config | None = None
    try:
        config = load_config(args.data_dir)
        return args.handler(args, config)
    except EdepotError as exc:
        exc.hint = command_hint(exc)
        print(exc.one_line(), file=sys.stderr)
        for problem in getattr(exc, "problems", [])[:50]:
            print(f"  - {problem}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # the reader of our output went away (`edepot aip list | head`): no error of ours to report; stdout
        # is pointed at /dev/null so Python's own flush at exit does not complain either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:
        if is_storage_fault(exc):  # full, read-only or failing: the system's fault, not the input's
            from preservation.storage import storage_failure

            failure = storage_failure(exc, config) if config else StorageFailure(f"{exc.strerror}: {exc.filename}")
            print(failure.one_line(), file=sys.stderr)
            return failure.exit_code
        print(InputError(f"{exc.strerror or exc}: {exc.filename or ''}").one_line(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("edepot: interrupted; nothing half-written was kept (run the command again to finish)",
              file=sys.stderr)
        return 130


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line and exit code 2 (its own default is also 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"edepot: usage error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    # SUPPRESS: a flag given before the verb must not be reset by the verb's own default.
    common.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="data directory (default: $EDEPOT_DATA, else ./edepot-data)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print a JSON document on stdout")
    common.add_argument("--user", default=argparse.SUPPRESS, metavar="NAME",
                        help="the person acting (default: $EDEPOT_USER, else [operator] name in edepot.toml)")

    parser = _Parser(prog="edepot", description="An e-Depot for chat records: export → SIP → AIP → DIP.",
                     parents=[common])
    parser.add_argument("--version", action="version", version=f"edepot {edepot_version()}")
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for area in AREAS:
        area.register(verbs, common)
    return parser


if __name__ == "__main__":
    sys.exit(main())
