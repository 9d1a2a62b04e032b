"""The directory port: the organisations an e-Depot serves, the people registered in it with their roles and
personal tokens, and the audit log of every action.

A regional e-Depot keeps the records of several archiefvormers (organisations); each person works for one or
more of them, in roles. A role held for no organisation in particular is held for every organisation the
e-Depot serves (the e-Depot's own archivists and administrators). Only a token's sha256 is kept.

`Directory` is what the Depot service needs of it; the implementation on the catalogue's Django models is
`preservation.catalogue_db.directory_store`. Get it from a unit of work (`preservation.unit_of_work`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Collection, Protocol

RECORDS_MANAGER = "records-manager"  # the archiefvormer's producer: makes and submits SIPs, draws up lists
REVIEWER = "reviewer"  # beoordelaar of destruction lists
ARCHIVIST = "archivist"  # the e-Depot's archivist
WOO_OFFICER = "woo-officer"
RESEARCHER = "researcher"
ADMINISTRATOR = "administrator"
ROLES = (RECORDS_MANAGER, REVIEWER, ARCHIVIST, WOO_OFFICER, RESEARCHER, ADMINISTRATOR)


def person_key(name: str) -> str:
    """A name with case and spacing folded: " A.  Archivaris " and "a. archivaris" are one person."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Organisation:
    """An archiefvormer the e-Depot serves: its identifier (e.g. the TOOI code gm0363) and name."""

    organisation_id: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"organisation_id": self.organisation_id, "name": self.name}


@dataclass(frozen=True)
class RoleGrant:
    """One role, for one organisation, or for every organisation served (`organisation` None)."""

    role: str
    organisation: str | None = None

    def covers(self, organisation: str) -> bool:
        """Whether this grant reaches a record of `organisation` ("" is a record of no known organisation, which
        only a grant for every organisation reaches)."""
        return self.organisation is None or (organisation != "" and self.organisation == organisation)

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "organisation": self.organisation}


@dataclass(frozen=True)
class RegisteredPerson:
    """A person in the directory, with every role they hold."""

    name: str
    active: bool
    roles: tuple[RoleGrant, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "active": self.active, "roles": [g.to_dict() for g in self.roles]}


@dataclass(frozen=True)
class AuditRecord:
    """One action: who did what, on what, for which organisation, when, from where, and how it ended (done,
    refused with the error's reference, failed)."""

    at: datetime
    person: str
    action: str
    target: str
    organisation: str
    outcome: str
    detail: str
    address: str | None
    entry_id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "at": self.at.isoformat(), "person": self.person, "action": self.action,
                "target": self.target, "organisation": self.organisation, "outcome": self.outcome,
                "detail": self.detail, "address": self.address}


class Directory(Protocol):
    """Organisations, people, roles, tokens and the audit log."""

    def organisations(self) -> list[Organisation]:
        """Every organisation served, by identifier."""
    def add_organisation(self, organisation: Organisation, *, by: str, at: datetime) -> None:
        """Register an organisation (InputError when its identifier or name is taken)."""
    def has_people(self) -> bool:
        """Whether anybody is registered (until then, the depot acts for whoever is named)."""
    def people(self) -> list[RegisteredPerson]:
        """Every registered person, in order of registration."""
    def person(self, name: str) -> RegisteredPerson | None:
        """The person registered under `name` (case and spacing ignored), or None."""
    def add_person(self, name: str, roles: tuple[RoleGrant, ...], *, by: str, at: datetime) -> RegisteredPerson:
        """Register a person with roles (InputError when the name is taken)."""
    def grant(self, name: str, grant: RoleGrant, *, by: str, at: datetime) -> RegisteredPerson:
        """Give a registered person one more role (nothing changes when they hold it already)."""
    def disable(self, name: str, *, by: str, at: datetime) -> RegisteredPerson:
        """Disable a person: they act no more, and their tokens are revoked. Kept, since events name them."""
    def add_token(self, name: str, digest: str, *, by: str, at: datetime) -> None:
        """Keep a new token of a person by its sha256."""
    def set_password(self, name: str, hashed: str, *, by: str, at: datetime) -> None:
        """Keep the salted hash of a person's web password ("" removes it)."""
    def password_of(self, name: str) -> str:
        """The hash of the web password of the active person `name`; "" when none is set or they are not active."""
    def revoke(self, name: str, grant: RoleGrant, *, by: str, at: datetime) -> RegisteredPerson:
        """Take a role from a registered person (nothing changes when they do not hold it)."""
    def second_factor(self, name: str) -> tuple[str, int]:
        """The TOTP secret (hex; "" none) of the active person `name`, and the last time step a code was accepted."""
    def set_second_factor(self, name: str, secret: str, *, step: int) -> None:
        """Keep a person's TOTP secret and the time step of the code that confirmed it ("" and 0 remove it)."""
    def accept_step(self, name: str, step: int) -> bool:
        """Record that a code of time step `step` was accepted; False when one of that step or a later one was
        accepted already (the code is being used again)."""
    def provider_of(self, name: str) -> str:
        """How the person `name` signs in: "" here (a password), else the single sign-on provider ("oidc")."""
    def set_provider(self, name: str, provider: str) -> None:
        """Keep how a person signs in ("" here, "oidc" through the single sign-on provider)."""
    def token_holder(self, digest: str) -> str | None:
        """The name of the active person holding the unrevoked token with this sha256, or None."""
    def audit(self, entry: AuditRecord) -> None:
        """Append one entry to the audit log."""
    def audit_log(self, *, person: str | None = None, action: str | None = None, organisation: str | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  within: Collection[str] | None = None, own: str | None = None, newest_first: bool = False,
                  before: int | None = None, limit: int | None = None) -> list[AuditRecord]:
        """The audit log, oldest first (or newest first), filtered (person case and spacing ignored; action by
        prefix); with `within`, only entries of those organisations and (`own`) that person's; with `before`,
        entries older than that entry id; at most `limit`."""
    def drop_addresses(self, before: datetime) -> int:
        """Forget where actions before `before` came from; returns how many addresses were dropped."""
