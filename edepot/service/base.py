"""What every area of the Depot service shares: configuration, clock, the acting person and what they may do,
the unit of work, and the audit log every action is written to."""
from __future__ import annotations

import functools
import inspect
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

from edepot.service.authority import RULES
from edepot.service.person import Person, token_digest
from kernel.config import Config
from kernel.errors import (
    CredentialNeeded,
    EdepotError,
    InputError,
    NoActingPerson,
    NotFound,
    NotPermitted,
    NotRegistered,
)
from preservation.directory import AuditRecord, person_key
from preservation.work_locks import WorkLocks, open_work_locks

if TYPE_CHECKING:  # the ports' types only: importing them costs every command's startup
    from preservation.access_register import AccessRegister
    from preservation.catalogue import AipRecord, Catalogue
    from preservation.search_index import SearchIndex
    from preservation.unit_of_work import UnitOfWork

Method = TypeVar("Method", bound=Callable[..., Any])


# Parameters that carry a credential: never the audit log's target, whatever their place.
CREDENTIALS = frozenset({"password", "code", "secret", "token"})


def audited(action: str) -> Callable[[Method], Method]:
    """Write the outcome of every call of a public Depot method to the audit log: who, `action`, on what (the
    first positional argument naming a record, AIP, list, DIP or person, never a credential: see `CREDENTIALS`),
    for which organisation, when, from where; done, refused (with the error's reference) or failed. Calls made
    inside another audited call are part of that one."""

    def wrap(method: Method) -> Method:
        names = list(inspect.signature(method).parameters)[1:]  # after self
        may_name = [name not in CREDENTIALS for name in names]

        @functools.wraps(method)
        def run(self: DepotBase, *args: Any, **kwargs: Any) -> Any:
            if self._audit_depth:
                return method(self, *args, **kwargs)
            self._audit_depth, self._audit_organisation = 1, ""
            target = next((str(a) for a, named in zip(args, may_name) if named and isinstance(a, (str, Path))), "")
            try:
                result = method(self, *args, **kwargs)
            except EdepotError as error:
                self._audit(action, target, "refused", f"{error.ref} {error}")
                raise
            except BaseException as error:
                self._audit(action, target, "failed", type(error).__name__)
                raise
            finally:
                self._audit_depth = 0
            self._audit(action, target, "done", "")
            return result

        return run  # type: ignore[return-value]

    return wrap


class DepotBase:
    """The service's state; the unit of work is opened on first use, so work that needs no catalogue starts fast."""

    def __init__(self, config: Config, *, person: Person | None, store: UnitOfWork | None = None,
                 token: str | None = None, address: str | None = None, vouched: bool = False) -> None:
        self.config = config
        self._vouched = vouched  # the person's own token was checked already (when they queued the job run now)
        self.job_locks: WorkLocks | None = None  # while a worker does a job: the locks held under its claim
        self.person = person
        self._store = store
        self._token = token
        self.address = address  # where the acting person acts from (the command line's host, a web client)
        self._identified: Person | None = None
        self._audit_depth = 0
        self._audit_organisation = ""

    @contextmanager
    def work_locks(self) -> Iterator[WorkLocks]:
        """The locks the work of one call takes its AIPs' and records' locks in: the running job's, else a set
        of its own, let go at the end."""
        if self.job_locks is not None:
            yield self.job_locks
            return
        locks = open_work_locks(self.config)
        try:
            yield locks
        finally:
            locks.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Let go of the catalogue connection (the next call opens it again)."""
        if self._store is not None:
            self._store.close()

    @property
    def store(self) -> UnitOfWork:
        """The unit of work over the catalogue's ports (opened on first use)."""
        if self._store is None:
            from preservation.unit_of_work import open_unit_of_work

            self._store = open_unit_of_work(self.config.catalogue_url, self.config)
        return self._store

    @property
    def catalogue(self) -> Catalogue:
        """Records, events and retention."""
        return self.store.catalogue

    @property
    def register(self) -> AccessRegister:
        """Permits, DIPs, the access log and decided restrictions."""
        return self.store.register

    @property
    def search_index(self) -> SearchIndex:
        """The full-text index."""
        return self.store.search

    def now(self) -> datetime:
        """The service's clock."""
        return self.config.clock()

    def actor(self, action: str) -> Person:
        """The person doing `action`, by name; NoActingPerson when nobody was named (nothing is done anonymously).
        Work that touches the catalogue asks `authorise` instead, which also checks registration and roles."""
        if self.person is None:
            raise NoActingPerson(f"{action} must name the person who does it, and nobody was named",
                                 hint="name the acting person, or configure the data directory's operator")
        return self.person

    # -- who the acting person is, and what they may do

    def identified(self, action: str) -> Person:
        """The acting person as the directory knows them: with their roles and whether their own token was given
        (in a depot where nobody is registered, the named person with no roles asked). NoActingPerson,
        NotRegistered (E113) for a name not registered or disabled."""
        person = self.actor(action)
        if self._identified is None:
            directory = self.store.directory
            if not directory.has_people():
                self._identified = person
            else:
                registered = directory.person(person.name)
                if registered is None or not registered.active:
                    raise NotRegistered(f"{person.name} is not a registered, active person of this e-Depot",
                                        hint="an administrator registers people and their roles")
                holder = directory.token_holder(token_digest(self._token)) if self._token else None
                verified = self._vouched or (holder is not None and person_key(holder) == person_key(registered.name))
                self._identified = Person(registered.name, registered.roles, verified)
        return self._identified

    def authorise(self, action: str, organisations: Iterable[str] | None = None, *,
                  everywhere: bool = False) -> Person:
        """The acting person, allowed to do `action` (a name in authority.RULES) on records of `organisations`
        (each must be reached by one of their roles for it; None: no records in particular), or with
        `everywhere` on every organisation's records (a role held for every organisation served). NotPermitted
        (E114) otherwise; CredentialNeeded (E115) when the action needs the person's own token and it was not
        given."""
        rule = RULES[action]
        person = self.identified(action)
        wanted = sorted(set(organisations or ()))
        if len(wanted) == 1:
            self._audit_organisation = wanted[0]
        if person.roles is None:
            return person
        grants = [g for g in person.roles if g.role in rule.roles]
        if not grants:
            raise NotPermitted(f"{person.name} may not {action}: that needs the role "
                               f"{' or '.join(rule.roles)}", hint="an administrator grants roles")
        if everywhere and not any(g.organisation is None for g in grants):
            raise NotPermitted(f"{person.name} may not {action} for every organisation the e-Depot serves",
                               hint="an administrator grants the role for every organisation")
        for organisation in wanted:
            if not any(g.covers(organisation) for g in grants):
                raise NotPermitted(f"{person.name} may not {action} on these records",
                                   hint="records are acted on by their own organisation's people")
        if rule.credential and not person.verified:
            raise CredentialNeeded(f"to {action}, {person.name} must give their own personal token",
                                   hint="set EDEPOT_TOKEN to the token issued to this person", remedy="token")
        return person

    def reach(self, action: str) -> frozenset[str] | None:
        """The organisations whose records the acting person may `action` (None: every organisation, as in a
        depot where nobody is registered, where reading needs no named person). NotPermitted when they hold no
        role for it at all."""
        if self._anonymous_reading():
            return None
        person = self.authorise(action)
        if person.roles is None:
            return None
        grants = [g for g in person.roles if g.role in RULES[action].roles]
        if any(g.organisation is None for g in grants):
            return None
        return frozenset(g.organisation for g in grants if g.organisation is not None)

    def may(self, action: str) -> bool:
        """Whether the acting person holds a role for `action` (for some organisation at least): what a screen
        offers them."""
        try:
            self.reach(action)
        except EdepotError:
            return False
        return True

    # -- whose records

    def organisation_of_archiefvormer(self, name: str, identifier: str | None) -> str:
        """The registered organisation a record's archiefvormer is (by identifier, else by name); "" when none is
        registered at all. In a depot with registered organisations, an archiefvormer that is none of them is
        refused: every record belongs to an organisation the e-Depot serves."""
        organisations = self.store.directory.organisations()
        if not organisations:
            return ""
        for organisation in organisations:
            if identifier and organisation.organisation_id.casefold() == identifier.strip().casefold():
                return organisation.organisation_id
        for organisation in organisations:
            if person_key(organisation.name) == person_key(name):
                return organisation.organisation_id
        raise InputError(f"the archiefvormer {name!r}" + (f" ({identifier})" if identifier else "")
                         + " is not an organisation this e-Depot serves",
                         hint="an administrator registers the organisation, with the archiefvormer's identifier")

    def visible_aip(self, aip_id: str, action: str) -> AipRecord:
        """The AIP, when the acting person may `action` on its organisation's records; NotFound (as for an AIP
        that does not exist) when they may not, so nothing is said of another organisation's records."""
        aip = self.catalogue.aip(aip_id)
        reach = self.reach(action)
        if reach is not None and aip.organisation not in reach:
            raise NotFound(f"no AIP {aip_id!r} in the catalogue", hint="list the AIPs and records you may see")
        if not self._anonymous_reading():
            self.authorise(action, [aip.organisation])
        return aip

    def visible_aips(self, action: str) -> list[AipRecord]:
        """The AIPs (kept and gone) of the organisations whose records the acting person may `action`."""
        reach = self.reach(action)
        return [a for a in self.catalogue.aips() if reach is None or a.organisation in reach]

    def own_records(self, items: list[Any], action: str) -> list[Any]:
        """The items (each with a record_id) of records of the organisations the acting person may `action`."""
        reach = self.reach(action)
        if reach is None:
            return items
        owner = {a.record_id: a.organisation for a in self.catalogue.aips(include_gone=True)}
        return [i for i in items if owner.get(i.record_id, "") in reach]

    def record_organisations(self, record: str) -> list[str]:
        """The organisations of the AIPs a record kenmerk or AIP id names, destroyed ones too (none: it is not in
        the catalogue)."""
        return sorted(self.catalogue.organisations_of(record))

    def authorise_record(self, action: str, record: str) -> Person:
        """The acting person, allowed to `action` on the record (kenmerk or AIP id); NotFound for a record of an
        organisation they do not serve, as for one that does not exist."""
        self.actor(action)  # nobody named: refused before anything is opened
        return self.authorise(action, self.may_read_record(action, record))

    def may_read_record(self, action: str, record: str) -> list[str]:
        """The record's organisations; refused (NotFound, as for a record that does not exist) when the acting
        person may not `action` on them. In a depot where nobody is registered, reading needs no named person."""
        organisations = self.record_organisations(record)
        reach = self.reach(action)
        if reach is not None and not set(organisations) <= reach:
            raise NotFound(f"no record or AIP {record!r} in the catalogue",
                           hint="list the AIPs and records you may see").with_facts(unknown_aip=record)
        if not self._anonymous_reading():
            self.authorise(action, organisations)
        return organisations

    def _anonymous_reading(self) -> bool:
        """Nobody named, in a depot where nobody is registered: reading is open to whoever runs edepot."""
        return self.person is None and not self.store.directory.has_people()

    # -- the audit log

    def _audit(self, action: str, target: str, outcome: str, detail: str) -> None:
        if self.person is None and self._store is None:
            return  # nobody named and nothing of the catalogue opened: nothing to account for, nowhere to
        try:
            directory = self.store.directory
            now = self.now()
            directory.audit(AuditRecord(now, self.person.name if self.person else "", action, target,
                                        self._audit_organisation, outcome, detail[:2000], self.address))
            directory.drop_addresses(now - timedelta(days=self.config.audit_address_days))
        except EdepotError:
            if outcome == "done":
                raise
