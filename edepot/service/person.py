"""The acting person: who does what the Depot is asked to do, named in every PREMIS event and register entry.

Until people and roles are registered in edepot, a person is a name: the one the adapter was given (the
command line's --user), else $EDEPOT_USER, else the data directory's `[operator] name` (the account a
scheduler acts as). Nobody is ever guessed from the operating system.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from kernel.config import Config


@dataclass(frozen=True)
class Person:
    """A person acting on the depot, by name."""

    name: str

    @property
    def agent_id(self) -> str:
        """The PREMIS agent identifier of this person."""
        return f"person:{self.name}"


def acting_person(config: Config, given: str | None = None) -> Person | None:
    """The person acting: `given`, else $EDEPOT_USER, else the configured operator; None when nobody is named.

    Whitespace is folded so that " A.  Archivaris " and "A. Archivaris" are one person."""
    for candidate in (given, os.environ.get("EDEPOT_USER"), config.operator):
        name = " ".join((candidate or "").split())
        if name:
            return Person(name)
    return None
