"""Who may do what: the roles each action of the Depot needs, and which need the person's own credential.

A depot where nobody is registered acts for whoever is named (one operator on one machine). Once people are
registered (`edepot user add`), the acting person must be registered and active; an action is allowed when one
of their roles is in its rule, held for the organisation of the records it touches (or for every organisation
served); actions marked `credential` also need the person's own personal token, so that one shell user cannot
act as two people. Records of another organisation are not found, never "forbidden": a refusal does not say
what another organisation holds.
"""
from __future__ import annotations

from dataclasses import dataclass

from preservation.directory import (
    ADMINISTRATOR,
    ARCHIVIST,
    RECORDS_MANAGER,
    RESEARCHER,
    REVIEWER,
    ROLES,
    WOO_OFFICER,
)


@dataclass(frozen=True)
class Rule:
    """The roles that may do an action, and whether it needs the person's own credential."""

    roles: tuple[str, ...]
    credential: bool = False


RULES: dict[str, Rule] = {
    # ingest and preservation
    "ingest": Rule((RECORDS_MANAGER, ARCHIVIST)),
    "view aips": Rule((RECORDS_MANAGER, ARCHIVIST, WOO_OFFICER, REVIEWER, ADMINISTRATOR)),
    "run fixity": Rule((ARCHIVIST,)),
    "restore files": Rule((ARCHIVIST,)),
    "declare a loss": Rule((ARCHIVIST,), credential=True),
    "upgrade the catalogue": Rule((ADMINISTRATOR, ARCHIVIST), credential=True),
    "copy the catalogue": Rule((ADMINISTRATOR,), credential=True),
    # access and delivery
    "make a DIP": Rule((ARCHIVIST, WOO_OFFICER)),
    "deliver a Woo decision": Rule((ARCHIVIST, WOO_OFFICER), credential=True),
    "handle Woo requests": Rule((WOO_OFFICER,)),
    "decide on Woo documents": Rule((WOO_OFFICER,), credential=True),
    "list DIPs": Rule((ARCHIVIST, WOO_OFFICER)),
    "purge DIPs": Rule((ARCHIVIST,)),
    "decide openness": Rule((ARCHIVIST,), credential=True),
    "grant a permit": Rule((ARCHIVIST,), credential=True),
    "read the access log": Rule((ARCHIVIST, WOO_OFFICER)),
    "search the archive": Rule((ARCHIVIST, WOO_OFFICER, RECORDS_MANAGER)),
    "search as a researcher": Rule(ROLES),
    "rebuild the search index": Rule((ARCHIVIST,)),
    # retention
    "view retention": Rule((ARCHIVIST, RECORDS_MANAGER, REVIEWER, WOO_OFFICER)),
    "hold records": Rule((ARCHIVIST, RECORDS_MANAGER, WOO_OFFICER)),
    "compute schedules": Rule((ARCHIVIST, RECORDS_MANAGER)),
    "change an appraisal": Rule((ARCHIVIST,), credential=True),
    "draw up a destruction list": Rule((RECORDS_MANAGER, ARCHIVIST)),
    "approve a destruction list": Rule((REVIEWER, ARCHIVIST, RECORDS_MANAGER), credential=True),
    "destroy records": Rule((ARCHIVIST,), credential=True),
    # administration
    "administer people and organisations": Rule((ADMINISTRATOR,), credential=True),
    "see people": Rule((ADMINISTRATOR,)),
    "read the audit log": Rule((ADMINISTRATOR, ARCHIVIST)),
    "follow jobs": Rule((ADMINISTRATOR, ARCHIVIST)),  # everybody follows their own; these, their organisations'
    "watch jobs": Rule((ADMINISTRATOR, ARCHIVIST, RECORDS_MANAGER, WOO_OFFICER)),  # those who queue jobs: the monitor
}

# The Dutch names a configuration or an approval may use for a role.
ROLE_NAMES = {
    "archivaris": ARCHIVIST, "beoordelaar": REVIEWER, "recordmanager": RECORDS_MANAGER,
    "informatiebeheerder": RECORDS_MANAGER, "zorgdrager": RECORDS_MANAGER, "woo-coordinator": WOO_OFFICER,
    "woo-coördinator": WOO_OFFICER, "onderzoeker": RESEARCHER, "beheerder": ADMINISTRATOR,
}


def role_named(name: str) -> str | None:
    """The role a name stands for (a role key or one of its Dutch names), or None."""
    key = name.strip().casefold().replace(" ", "-")
    return key if key in ROLES else ROLE_NAMES.get(key)


def role_key(name: str) -> str:
    """What a role name given with an approval or in `[retention] required_roles` stands for, for comparing two
    such names: the role it names (in English or Dutch), else the name itself with case and spacing ignored."""
    return role_named(name) or " ".join(name.split()).casefold()
