"""The verbs of the edepot command, one module per area; each module has `register(verbs, common)`.

Adding a verb is one function in the right module; adding an area is one module and one line in
`edepot.cli.AREAS`.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING

from kernel.config import Config
from kernel.errors import InputError

if TYPE_CHECKING:
    from edepot.service import Depot
    from ingest.sources import ParseOptions

BACKUP_PASSWORD_VARIABLE = "EDEPOT_BACKUP_PASSWORD"
_asked: dict[str, str] = {}  # backup → the password typed for it, for this command's process only


def open_depot(args: "argparse.Namespace", config: "Config", *, by: str | None = None) -> "Depot":
    """The Depot service for this command, acting as `by` (a verb's own --by), else --user, else the default,
    from this host's command line (where the audit log says the action came from)."""
    import socket

    from edepot.service import Depot

    return Depot.open(config, user=by or getattr(args, "user", None),
                      address=f"command line on {socket.gethostname()}")


def parse_options(args: "argparse.Namespace") -> "ParseOptions":
    """The parse options of a command reading an export: its --tz and --date-order, and where an encrypted backup's
    password comes from (`backup_password`)."""
    from ingest.sources import ParseOptions

    return ParseOptions(args.tz, args.date_order, password=backup_password)


def backup_password(backup: str) -> str:
    """An encrypted phone backup's password: $EDEPOT_BACKUP_PASSWORD, else asked on the terminal (not echoed). It is
    handed to the reader once and kept nowhere: not in a file, a log, a report or a job's arguments."""
    given = os.environ.get(BACKUP_PASSWORD_VARIABLE)
    if given:
        return given
    if backup in _asked:  # one command opens a backup several times: ask once
        return _asked[backup]
    if not sys.stdin.isatty():
        raise InputError(f"{backup} is an encrypted backup and no password was given",
                         hint=f"set ${BACKUP_PASSWORD_VARIABLE}, or run the command on a terminal to be asked")
    _asked[backup] = getpass.getpass(f"password of the encrypted backup {backup}: ")
    return _asked[backup]
