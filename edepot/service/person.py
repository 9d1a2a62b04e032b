"""The acting person: who does what the Depot is asked to do, named in every PREMIS event and register entry.

A person is named by the adapter (the command line's --user), else $EDEPOT_USER, else the data directory's
`[operator] name` (the account a scheduler acts as); nobody is ever guessed from the operating system. In a
depot with registered people the name must be a registered, active person's, whose roles then count
(`edepot.service.authority`); their personal token ($EDEPOT_TOKEN) proves it is them.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from kernel.config import Config
from preservation.directory import RoleGrant


@dataclass(frozen=True)
class Person:
    """A person acting on the depot, by name; once identified in a depot with registered people, with their
    roles (`roles` None: nobody is registered, so no role is asked) and whether their own token was given."""

    name: str
    roles: tuple[RoleGrant, ...] | None = None
    verified: bool = False

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


def acting_token() -> str | None:
    """The acting person's personal token, from $EDEPOT_TOKEN (never from an argument, which others can see)."""
    return os.environ.get("EDEPOT_TOKEN") or None


def token_digest(token: str) -> str:
    """What the directory keeps of a token: its sha256."""
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()
