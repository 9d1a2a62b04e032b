"""The Depot's rules for organisations, people, roles, personal tokens and the audit log.

- The first person registered in a depot must be an administrator (for every organisation): from then on
  the depot acts only for registered, active people, and only administrators, with their own token, register
  organisations and people, grant roles and disable people.
- A role is held for one organisation, or for every organisation the e-Depot serves; the roles are
  `preservation.directory.ROLES`.
- A personal token is shown once, when it is issued; only its sha256 is kept. A person issues their own
  (proving it with a token they hold), an administrator issues one for anybody.
- A person may also hold a password for the web's sign-in: set by themselves (proving it is them) or by an
  administrator, at least 12 characters, only its salted hash kept. Signing in is checked here and written to the
  audit log, whether it succeeds or not.
- Administration has the reach of the administrator's role, as every other action has. An administrator for every
  organisation administers everybody and registers organisations. An administrator for some organisations only
  sees those organisations, and the people holding a role for one of them with those roles only; gives roles for
  their organisations only (a new person needs at least one), and only to people they see; and disables, issues
  tokens for and sets passwords of only people whose every role is for their organisations (someone who also
  works for another organisation is changed by an administrator for every organisation). A person they do not see
  is answered as one not registered. Names are e-Depot wide: registering a name that is taken says so.
  Other people see the organisations they hold a role for; only administrators list people.
- The audit log is read by administrators and archivists; people who serve some organisations only read those
  organisations' entries and their own.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from edepot.service.authority import role_named
from edepot.service.base import DepotBase, audited
from edepot.service.passwords import hash_password, password_matches
from edepot.service.person import Person, token_digest
from kernel.errors import EdepotError, InputError, NotFound, NotPermitted
from preservation.directory import ADMINISTRATOR, AuditRecord, Organisation, RegisteredPerson, RoleGrant, person_key

ADMINISTER = "administer people and organisations"


def within(person: RegisteredPerson, reach: frozenset[str] | None) -> RegisteredPerson | None:
    """`person` as an administrator of the organisations `reach` sees them (None: every organisation): with their
    roles for those organisations only; None when they hold none."""
    if reach is None:
        return person
    roles = tuple(g for g in person.roles if g.organisation in reach)
    return replace(person, roles=roles) if roles else None


def nobody_named(name: str) -> NotFound:
    """The answer for a person not registered, or not seen by the administrator asking."""
    return NotFound(f"nobody named {name!r} is registered", hint="list the registered people")


def hashed_password(password: str) -> str:
    """The salted hash kept of a web password; InputError when it is too weak to keep (shorter than 12
    characters, or digits only)."""
    if len(password) < 12 or password.isdigit():
        raise InputError("a password needs at least 12 characters, not only digits")
    return hash_password(password)


@dataclass(frozen=True)
class Assignment:
    """An AIP that belonged to no organisation, its archiefvormer, and the organisation it now belongs to ("": no
    registered organisation is that archiefvormer)."""

    aip_id: str
    record_id: str
    archiefvormer: str
    organisation: str

    def to_dict(self) -> dict[str, str]:
        return {"aip_id": self.aip_id, "record_id": self.record_id, "archiefvormer": self.archiefvormer,
                "organisation": self.organisation}


class PeopleService(DepotBase):
    """Organisations, people and roles, tokens, and the audit log."""

    def _administrator(self, action: str, *, everywhere: bool = False) -> str:
        """The acting administrator's name (for every organisation with `everywhere`); anybody named may register
        the first person (an administrator)."""
        if not self.store.directory.has_people():
            return self.actor(action).name
        return self.authorise(ADMINISTER, everywhere=everywhere).name

    def _may_give(self, roles: list[tuple[str, str | None]], reach: frozenset[str] | None) -> None:
        """NotPermitted unless every role is for an organisation of the administrator's `reach`."""
        if reach is None:
            return
        for role, organisation in roles:
            if organisation not in reach:
                raise NotPermitted(f"an administrator of {', '.join(sorted(reach))} gives roles for those "
                                   f"organisations only, not {role} for {organisation or 'every organisation'}",
                                   hint="an administrator for every organisation gives the others")

    def _administered(self, name: str, reach: frozenset[str] | None, *, unknown: EdepotError,
                      whole: bool) -> RegisteredPerson:
        """The registered person `name` as the administrator of `reach` may change them (with `whole`, only when
        every role they hold is within it): `unknown` when they are not registered or not seen, NotPermitted when
        they also hold roles beyond `reach`."""
        found = self.store.directory.person(name)
        if found is None or within(found, reach) is None:
            raise unknown
        if whole and reach is not None and any(g.organisation not in reach for g in found.roles):
            raise NotPermitted(f"{found.name} also holds roles beyond the organisations you administer",
                               hint="an administrator for every organisation does this")
        return found

    @audited("organisation add")
    def add_organisation(self, organisation_id: str, *, name: str) -> Organisation:
        """Register an organisation (archiefvormer) the e-Depot serves, by its identifier (e.g. the TOOI code)."""
        identifier, shown = organisation_id.strip(), " ".join(name.split())
        if not identifier or not shown or any(c.isspace() for c in identifier):
            raise InputError("an organisation needs an identifier without spaces (e.g. gm0363) and a name")
        by = self._administrator("registering an organisation", everywhere=True)
        organisation = Organisation(identifier, shown)
        self.store.directory.add_organisation(organisation, by=by, at=self.now())
        return organisation

    @audited("organisation assign")
    def assign_records(self, *, dry_run: bool = False) -> list[Assignment]:
        """Give every AIP that belongs to no organisation (ingested before organisations were registered) the
        registered organisation its archiefvormer is (by identifier, else by name), as an administrator; AIPs
        whose archiefvormer is no registered organisation are listed and left as they are. With `dry_run`,
        only what would be done."""
        from access.aip_files import informatieobject_file, read_verified
        from preservation.record_access import record_access_from_mdto

        self.authorise("administer people and organisations", everywhere=True)
        if not self.store.directory.organisations():
            raise InputError("no organisation is registered yet", hint="register the organisations first")
        assignments = []
        for aip in self.catalogue.aips(include_gone=True):
            if aip.organisation:
                continue
            files = self.catalogue.files(aip.aip_id)
            try:
                facts = record_access_from_mdto(read_verified(informatieobject_file(files, aip.aip_id),
                                                              aip.aip_id, self.store.storage))
            except EdepotError:  # no intact metadata left (a destroyed AIP)
                assignments.append(Assignment(aip.aip_id, aip.record_id, "", ""))
                continue
            try:
                organisation = self.organisation_of_archiefvormer(facts.archiefvormer, facts.archiefvormer_id or None)
            except InputError:  # an archiefvormer that is no registered organisation
                organisation = ""
            assignments.append(Assignment(aip.aip_id, aip.record_id, facts.archiefvormer, organisation))
        if not dry_run:
            with self.store.atomic():
                for organisation in {a.organisation for a in assignments if a.organisation}:
                    self.catalogue.assign_organisation(
                        [a.aip_id for a in assignments if a.organisation == organisation], organisation)
        return assignments

    @audited("organisation list")
    def organisations(self) -> list[Organisation]:
        """The organisations the e-Depot serves that the acting person holds a role for (every one for a role held
        for every organisation, and in a depot where nobody is registered)."""
        directory = self.store.directory
        every = directory.organisations()
        if not directory.has_people():
            return every
        person = self.identified("listing the organisations")
        if person.roles is None or any(g.organisation is None for g in person.roles):
            return every
        theirs = {g.organisation for g in person.roles}
        return [o for o in every if o.organisation_id in theirs]

    @audited("user add")
    def add_person(self, name: str, *, roles: list[tuple[str, str | None]],
                   password: str | None = None) -> tuple[RegisteredPerson, str]:
        """Register a person with roles, each (role, organisation id or None for every organisation), and
        `password` for the web's sign-in when given, and issue their first personal token (returned once, never
        kept). The first person of a depot must be an administrator for every organisation; anybody named may
        register them, and when nobody is named they register themselves."""
        shown = " ".join(name.split())
        if not shown:
            raise InputError("a person needs a name")
        if not roles:
            raise InputError("a person needs a role: ROLE for every organisation, or ROLE@ORGANISATION")
        directory = self.store.directory
        first = not directory.has_people()
        if not first:
            self._may_give(roles, self.reach(ADMINISTER))
        grants = tuple(self._grant_of(role, organisation) for role, organisation in roles)
        if first and RoleGrant(ADMINISTRATOR) not in grants:
            raise InputError("the first person registered must be an administrator for every organisation",
                             hint="register an administrator first; from then on only registered people act")
        hashed = hashed_password(password) if password is not None else ""
        if first and self.person is None:
            self.person = Person(shown)  # nobody named: the first administrator registers themselves
        by = self._administrator("registering a person")
        with self.store.atomic():
            person = directory.add_person(shown, grants, by=by, at=self.now())
            if hashed:
                directory.set_password(person.name, hashed, by=by, at=self.now())
            token = self._new_token(person.name, by=by)
        return person, token

    @audited("user grant")
    def grant_role(self, name: str, *, role: str, organisation: str | None) -> RegisteredPerson:
        """Give a registered person one more role, for one organisation or (None) every organisation."""
        by = self.authorise(ADMINISTER).name
        reach = self.reach(ADMINISTER)
        self._may_give([(role, organisation)], reach)
        grant = self._grant_of(role, organisation)
        self._administered(name, reach, whole=False, unknown=nobody_named(name))
        return self.store.directory.grant(name, grant, by=by, at=self.now())

    @audited("user disable")
    def disable_person(self, name: str) -> RegisteredPerson:
        """Disable a person: they act no more and their tokens stop working; events keep naming them."""
        by = self.authorise(ADMINISTER).name
        if person_key(name) == person_key(by):
            raise InputError("an administrator does not disable themselves", hint="another administrator does")
        self._administered(name, self.reach(ADMINISTER), whole=True, unknown=nobody_named(name))
        return self.store.directory.disable(name, by=by, at=self.now())

    @audited("user list")
    def people(self) -> list[RegisteredPerson]:
        """The registered people with their roles, for an administrator: every one for an administrator of every
        organisation, else those holding a role for the administrator's organisations, with those roles only."""
        directory = self.store.directory
        if not directory.has_people():
            return []
        reach = self.reach("see people")
        return [seen for person in directory.people() if (seen := within(person, reach)) is not None]

    @audited("user show")
    def registered_person(self, name: str) -> RegisteredPerson:
        """The registered person `name` as the acting administrator sees them (as `people` lists them); NotFound
        when they are not registered or not seen."""
        reach = self.reach("see people")
        found = self.store.directory.person(name)
        seen = within(found, reach) if found is not None else None
        if seen is None:
            raise nobody_named(name)
        return seen

    @audited("organisation list")
    def organisations_administered(self) -> list[Organisation]:
        """The organisations the acting administrator administers (every one for an administrator of every
        organisation); NotPermitted for anybody else."""
        reach = self.reach("see people") if self.store.directory.has_people() else None
        every = self.store.directory.organisations()
        return every if reach is None else [o for o in every if o.organisation_id in reach]

    @audited("user token")
    def issue_token(self, name: str) -> str:
        """A new personal token for the person `name`, shown only now (only its sha256 is kept): a person issues
        their own, proving who they are with a token they hold; an administrator issues anybody's."""
        person = self.store.directory.person(name)
        if person is None or not person.active:
            raise InputError(f"{name!r} is not a registered, active person")
        acting = self.identified("issuing a personal token")
        if person_key(acting.name) == person_key(person.name) and acting.verified:
            return self._new_token(person.name, by=acting.name)
        by = self.authorise(ADMINISTER).name
        self._administered(name, self.reach(ADMINISTER), whole=True,
                           unknown=InputError(f"{name!r} is not a registered, active person"))
        return self._new_token(person.name, by=by)

    @audited("user password")
    def set_password(self, name: str, password: str) -> None:
        """Give the registered, active person `name` a new web password (the old one stops working): a person sets
        their own, proving who they are; an administrator sets anybody's. InputError for a weak password."""
        person = self.store.directory.person(name)
        if person is None or not person.active:
            raise InputError(f"{name!r} is not a registered, active person")
        acting = self.identified("setting a password")
        if not (person_key(acting.name) == person_key(person.name) and acting.verified):
            self.authorise(ADMINISTER)
            self._administered(name, self.reach(ADMINISTER), whole=True,
                               unknown=InputError(f"{name!r} is not a registered, active person"))
        self.store.directory.set_password(person.name, hashed_password(password), by=acting.name, at=self.now())

    @audited("sign in")
    def check_password(self, *, password: str) -> RegisteredPerson:
        """The acting person, registered and active, when `password` is their web password; NotPermitted (E114)
        otherwise, saying no more than that (not whether the name is registered). The password is a keyword, so
        that the audit log, which names the first positional argument as the target, never holds it."""
        person = self.actor("signing in")
        if not password_matches(password, self.store.directory.password_of(person.name)):
            raise NotPermitted("the name or the password is not right")
        found = self.store.directory.person(person.name)
        assert found is not None
        return found

    def _new_token(self, name: str, *, by: str) -> str:
        token = secrets.token_urlsafe(32)
        self.store.directory.add_token(name, token_digest(token), by=by, at=self.now())
        return token

    @audited("audit read")
    def audit_log(self, *, person: str | None = None, action: str | None = None, organisation: str | None = None,
                  since: datetime | None = None, until: datetime | None = None, newest_first: bool = False,
                  before: int | None = None, limit: int | None = None) -> list[AuditRecord]:
        """The audit log, oldest first (or newest first), with filters; with `before`, only entries older than that
        entry id, and at most `limit` of them. A reader serving some organisations only sees entries of those
        organisations and their own."""
        reach = self.reach("read the audit log")
        reader = self.identified("reading the audit log").name if reach is not None else None
        return self.store.directory.audit_log(person=person, action=action, organisation=organisation, since=since,
                                              until=until, within=reach, own=reader, newest_first=newest_first,
                                              before=before, limit=limit)

    def _grant_of(self, role: str, organisation: str | None) -> RoleGrant:
        key = role_named(role)
        if key is None:
            raise InputError(f"unknown role {role!r}",
                             hint="records-manager, reviewer, archivist, woo-officer, researcher or administrator")
        if organisation is not None:
            known = {o.organisation_id for o in self.store.directory.organisations()}
            if organisation not in known:
                raise InputError(f"no organisation {organisation!r} is registered",
                                 hint="register the organisation first")
        return RoleGrant(key, organisation)
