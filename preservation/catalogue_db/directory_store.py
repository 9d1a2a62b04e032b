"""The directory port (`preservation.directory.Directory`) on the catalogue's Django models."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Collection

from django.db import IntegrityError, transaction

from kernel.errors import InputError, NotFound
from preservation.catalogue_db import models as m
from preservation.directory import AuditRecord, Organisation, RegisteredPerson, RoleGrant, person_key

_AUDIT_FIELDS = ("at", "person", "action", "target", "organisation", "outcome", "detail", "address", "entry_id")


class DjangoDirectory:
    """Organisations, people, roles, tokens and the audit log in the catalogue behind a Django database alias."""

    def __init__(self, alias: str) -> None:
        self._alias = alias

    def _objects(self, model: Any) -> Any:
        return model.objects.using(self._alias)

    # -- organisations

    def organisations(self) -> list[Organisation]:
        """Every organisation served, by identifier."""
        rows = self._objects(m.Organisation).order_by("organisation_id").values_list("organisation_id", "name")
        return [Organisation(*row) for row in rows]

    def add_organisation(self, organisation: Organisation, *, by: str, at: datetime) -> None:
        """Register an organisation (InputError when its identifier or name is taken)."""
        try:
            with transaction.atomic(using=self._alias):
                self._objects(m.Organisation).create(organisation_id=organisation.organisation_id,
                                                     name=organisation.name, created=at, created_by=by)
        except IntegrityError:
            raise InputError(f"an organisation {organisation.organisation_id!r} or named {organisation.name!r} "
                             f"is registered already") from None

    # -- people

    def has_people(self) -> bool:
        """Whether anybody is registered."""
        return bool(self._objects(m.Person).exists())

    def people(self) -> list[RegisteredPerson]:
        """Every registered person, in order of registration."""
        grants = self._grants()
        return [RegisteredPerson(name, active, grants.get(pk, ()))
                for pk, name, active in self._objects(m.Person).order_by("person_id")
                .values_list("person_id", "name", "active")]

    def person(self, name: str) -> RegisteredPerson | None:
        """The person registered under `name` (case and spacing ignored), or None."""
        row = self._objects(m.Person).filter(key=person_key(name)).values_list("person_id", "name", "active").first()
        if row is None:
            return None
        return RegisteredPerson(row[1], row[2], self._grants(row[0]).get(row[0], ()))

    def _grants(self, person_id: int | None = None) -> dict[int, tuple[RoleGrant, ...]]:
        rows = self._objects(m.RoleGrant).order_by("grant_id")
        if person_id is not None:
            rows = rows.filter(person_id=person_id)
        found: dict[int, list[RoleGrant]] = {}
        for pk, role, organisation in rows.values_list("person_id", "role", "organisation_id"):
            found.setdefault(pk, []).append(RoleGrant(role, organisation))
        return {pk: tuple(grants) for pk, grants in found.items()}

    def _person_id(self, name: str) -> int:
        pk = self._objects(m.Person).filter(key=person_key(name)).values_list("person_id", flat=True).first()
        if pk is None:
            raise NotFound(f"nobody named {name!r} is registered", hint="list the registered people")
        return int(pk)

    def add_person(self, name: str, roles: tuple[RoleGrant, ...], *, by: str, at: datetime) -> RegisteredPerson:
        """Register a person with roles (InputError when the name is taken)."""
        shown = " ".join(name.split())
        try:
            with transaction.atomic(using=self._alias):
                person = self._objects(m.Person).create(name=shown, key=person_key(shown), created=at, created_by=by)
                for grant in roles:
                    self._add_grant(person.person_id, grant, by=by, at=at)
        except IntegrityError:
            raise InputError(f"somebody named {shown!r} is registered already") from None
        found = self.person(shown)
        assert found is not None
        return found

    def _add_grant(self, person_id: int, grant: RoleGrant, *, by: str, at: datetime) -> None:
        held = self._objects(m.RoleGrant).filter(person_id=person_id, role=grant.role,
                                                 organisation_id=grant.organisation)
        if not held.exists():
            self._objects(m.RoleGrant).create(person_id=person_id, role=grant.role,
                                              organisation_id=grant.organisation, granted=at, granted_by=by)

    def grant(self, name: str, grant: RoleGrant, *, by: str, at: datetime) -> RegisteredPerson:
        """Give a registered person one more role (nothing changes when they hold it already)."""
        with transaction.atomic(using=self._alias):
            self._add_grant(self._person_id(name), grant, by=by, at=at)
        found = self.person(name)
        assert found is not None
        return found

    def disable(self, name: str, *, by: str, at: datetime) -> RegisteredPerson:
        """Disable a person and revoke their tokens; the row is kept, since events name them."""
        with transaction.atomic(using=self._alias):
            pk = self._person_id(name)
            self._objects(m.Person).filter(person_id=pk, active=True).update(active=False, disabled=at,
                                                                             disabled_by=by)
            self._objects(m.PersonToken).filter(person_id=pk, revoked=None).update(revoked=at)
        found = self.person(name)
        assert found is not None
        return found

    # -- tokens

    def add_token(self, name: str, digest: str, *, by: str, at: datetime) -> None:
        """Keep a new token of a person by its sha256."""
        with transaction.atomic(using=self._alias):
            self._objects(m.PersonToken).create(person_id=self._person_id(name), digest=digest, created=at,
                                                created_by=by)

    def set_password(self, name: str, hashed: str, *, by: str, at: datetime) -> None:
        """Keep the salted hash of a person's web password ("" removes it)."""
        self._objects(m.Person).filter(person_id=self._person_id(name)).update(password=hashed)

    def password_of(self, name: str) -> str:
        """The hash of the web password of the active person `name`; "" when none is set or they are not active."""
        return self._objects(m.Person).filter(key=person_key(name), active=True).values_list(
            "password", flat=True).first() or ""

    def revoke(self, name: str, grant: RoleGrant, *, by: str, at: datetime) -> RegisteredPerson:
        """Take a role from a registered person (nothing changes when they do not hold it)."""
        self._objects(m.RoleGrant).filter(person_id=self._person_id(name), role=grant.role,
                                          organisation_id=grant.organisation).delete()
        found = self.person(name)
        assert found is not None
        return found

    def second_factor(self, name: str) -> tuple[str, int]:
        """The TOTP secret (hex; "" none) of the active person `name`, and the last time step a code was accepted."""
        row = self._objects(m.Person).filter(key=person_key(name), active=True).values_list(
            "totp_secret", "totp_step").first()
        return (row[0], row[1]) if row else ("", 0)

    def set_second_factor(self, name: str, secret: str, *, step: int) -> None:
        """Keep a person's TOTP secret and the time step of the code that confirmed it ("" and 0 remove it)."""
        self._objects(m.Person).filter(person_id=self._person_id(name)).update(totp_secret=secret, totp_step=step)

    def accept_step(self, name: str, step: int) -> bool:
        """Record that a code of time step `step` was accepted; False when one of that step or a later one was
        accepted already (one update, so two requests with one code cannot both pass)."""
        return bool(self._objects(m.Person).filter(key=person_key(name), totp_step__lt=step).update(totp_step=step))

    def provider_of(self, name: str) -> str:
        """How the person `name` signs in: "" here (a password), else the single sign-on provider ("oidc")."""
        return self._objects(m.Person).filter(key=person_key(name)).values_list("provider", flat=True).first() or ""

    def set_provider(self, name: str, provider: str) -> None:
        """Keep how a person signs in ("" here, "oidc" through the single sign-on provider)."""
        self._objects(m.Person).filter(person_id=self._person_id(name)).update(provider=provider)

    def token_holder(self, digest: str) -> str | None:
        """The name of the active person holding the unrevoked token with this sha256, or None."""
        pk = (self._objects(m.PersonToken).filter(digest=digest, revoked=None)
              .values_list("person_id", flat=True).first())
        if pk is None:
            return None
        return self._objects(m.Person).filter(person_id=pk, active=True).values_list("name", flat=True).first()

    # -- the audit log

    def audit(self, entry: AuditRecord) -> None:
        """Append one entry to the audit log."""
        self._objects(m.AuditEntry).create(at=entry.at, person=entry.person, action=entry.action,
                                           target=entry.target, organisation=entry.organisation,
                                           outcome=entry.outcome, detail=entry.detail, address=entry.address)

    def audit_log(self, *, person: str | None = None, action: str | None = None, organisation: str | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  within: Collection[str] | None = None, own: str | None = None, newest_first: bool = False,
                  before: int | None = None, limit: int | None = None) -> list[AuditRecord]:
        """The audit log, oldest first (or newest first), filtered (person case and spacing ignored; action by
        prefix); with `within`, only entries of those organisations and (`own`) that person's; with `before`,
        entries older than that entry id; at most `limit`, read row by row so a long log is never loaded whole.
        One person's entries are read through the index of names, however few they are in a long log."""
        from django.db.models import Q

        rows = self._objects(m.AuditEntry).order_by("-entry_id" if newest_first else "entry_id")
        if action:
            rows = rows.filter(action__startswith=action)
        if organisation is not None:
            rows = rows.filter(organisation=organisation)
        if since:
            rows = rows.filter(at__gte=since)
        if until:
            rows = rows.filter(at__lt=until)
        if before is not None:
            rows = rows.filter(entry_id__lt=before)
        if person:
            rows = rows.filter(person__in=self._spellings(person))
        if within is None or (person and own and person_key(person) == person_key(own)):
            pass  # every entry, or the reader's own entries: all theirs to see
        elif person:  # another person's entries: those of the reader's organisations
            rows = rows.filter(organisation__in=sorted(within))
        else:  # a person's own entries by their name as written, case ignored
            rows = rows.filter(Q(organisation__in=sorted(within)) | Q(person__iexact=" ".join((own or "").split())))
        rows = rows.values(*_AUDIT_FIELDS)
        return [AuditRecord(**row) for row in (rows if limit is None else rows[:limit]).iterator(chunk_size=500)]

    def _spellings(self, person: str) -> list[str]:
        """The names written in the audit log that are `person` with case and spacing folded: the log's distinct
        names walked through their index, one step per name (a log names few people, however long it is)."""
        from django.db import connections

        with connections[self._alias].cursor() as cursor:
            cursor.execute(
                "WITH RECURSIVE names(person) AS (SELECT MIN(person) FROM audit_log UNION ALL "
                "SELECT (SELECT MIN(a.person) FROM audit_log a WHERE a.person > names.person) FROM names "
                "WHERE names.person IS NOT NULL) SELECT person FROM names WHERE person IS NOT NULL")
            return [name for (name,) in cursor.fetchall() if person_key(name) == person_key(person)]

    def drop_addresses(self, before: datetime) -> int:
        """Forget where actions before `before` came from; returns how many addresses were dropped."""
        return int(self._objects(m.AuditEntry).filter(at__lt=before, address__isnull=False).update(address=None))
