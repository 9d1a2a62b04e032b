"""The verbs of the edepot command, one module per area; each module has `register(verbs, common)`.

Adding a verb is one function in the right module; adding an area is one module and one line in
`edepot.cli.AREAS`.
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from kernel.config import Config

if TYPE_CHECKING:
    from edepot.service import Depot


def open_depot(args: "argparse.Namespace", config: "Config", *, by: str | None = None) -> "Depot":
    """The Depot service for this command, acting as `by` (a verb's own --by), else --user, else the default,
    from this host's command line (where the audit log says the action came from)."""
    import socket

    from edepot.service import Depot

    return Depot.open(config, user=by or getattr(args, "user", None),
                      address=f"command line on {socket.gethostname()}")
