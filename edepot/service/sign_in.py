"""The Depot's rules for signing in to the web beyond the password (which `PeopleService.check_password` checks).

- Archivists and administrators (of any organisation) sign in with a second factor: a TOTP code (RFC 6238, 30 s
  steps, 6 digits) from an authenticator app. Others may enrol one; once enrolled, it is asked of them too. The
  secret is kept in the directory, beside the password hash, so that an administrator can reset it from the
  command line or the web alike; a code is accepted once (a time step is never accepted twice).
- A person signing in through the organisation's OpenID Connect provider is registered (or updated) here with
  exactly the roles their groups map to; without a mapped group they do not get in. They never hold a password
  here, and a person registered here with a password is never taken over by a provider's account of that name.
- Every step (the code, the enrolment, the provider's sign-in, a lockout, signing out) is written to the audit
  log, done or refused.
"""
from __future__ import annotations

import secrets

from edepot.service.base import audited
from edepot.service.people import PeopleService
from kernel.errors import InputError, NotPermitted
from preservation.directory import ADMINISTRATOR, ARCHIVIST, RegisteredPerson, person_key

SECOND_FACTOR_ROLES = (ARCHIVIST, ADMINISTRATOR)
STEP_SECONDS = 30
PROVIDER = "oidc"
PROVIDER_AGENT = "oidc sign-in"  # who registers and grants, in the directory, for the provider


def second_factor_required(person: RegisteredPerson) -> bool:
    """Whether `person` must sign in with a second factor: they hold a role that changes the archive for every
    organisation it reaches (archivist, administrator)."""
    return any(grant.role in SECOND_FACTOR_ROLES for grant in person.roles)


def new_totp_secret() -> str:
    """A new TOTP secret: 20 random bytes, as hex."""
    return secrets.token_hex(20)


def totp_step_matching(secret: str, code: str, *, at: float, after: int) -> int | None:
    """The time step (of the one before `at`, `at`'s and the one after: clocks drift) whose code is `code`,
    when it is later than step `after`; None when none is."""
    from django_otp.oath import TOTP

    digits = code.strip().replace(" ", "")
    if not (len(digits) == 6 and digits.isdigit()):
        return None
    totp = TOTP(bytes.fromhex(secret), step=STEP_SECONDS, digits=6)
    totp.time = at
    if totp.verify(int(digits), tolerance=1, min_t=after + 1):
        return int(totp.t())
    return None


class SignInService(PeopleService):
    """People, with the second factor and single sign-on of the web's sign-in."""

    def _signing_in(self) -> RegisteredPerson:
        found = self.store.directory.person(self.actor("signing in").name)
        if found is None or not found.active:
            raise NotPermitted("the name or the code is not right")
        return found

    def has_second_factor(self, name: str) -> bool:
        """Whether the registered, active person `name` has enrolled a second factor."""
        return bool(self.store.directory.second_factor(name)[0])

    def second_step(self, name: str) -> str:
        """What signing in asks of the registered, active person `name` after their password: "code" when they
        have a second factor, "enrol" when their role needs one and they have none, else "" (nothing more)."""
        person = self.store.directory.person(name)
        if person is None or not person.active:
            return ""
        if self.has_second_factor(person.name):
            return "code"
        return "enrol" if second_factor_required(person) else ""

    @audited("sign in second factor")
    def check_second_factor(self, code: str) -> RegisteredPerson:
        """The acting person, when `code` is the current code of their second factor and was not used before;
        NotPermitted (E114) otherwise. Their password was checked first (by the caller, in the same sign-in)."""
        person = self._signing_in()
        secret, last = self.store.directory.second_factor(person.name)
        step = totp_step_matching(secret, code, at=self.now().timestamp(), after=last) if secret else None
        if step is None or not self.store.directory.accept_step(person.name, step):
            raise NotPermitted("the code is not right, or was used already")
        return person

    @audited("sign in enrol second factor")
    def enrol_second_factor(self, secret: str, code: str) -> RegisteredPerson:
        """Give the acting person `secret` as their second factor, confirmed by `code` (the current code of an app
        that was given the secret); NotPermitted when the code does not match or they have one already (an
        administrator resets it). Their password was checked first (by the caller, in the same sign-in)."""
        person = self._signing_in()
        if self.store.directory.second_factor(person.name)[0]:
            raise NotPermitted(f"{person.name} has a second factor already",
                               hint="an administrator resets it when the app is lost")
        step = totp_step_matching(secret, code, at=self.now().timestamp(), after=0)
        if step is None:
            raise NotPermitted("the code is not right")
        self.store.directory.set_second_factor(person.name, secret, step=step)
        return person

    @audited("user reset second factor")
    def reset_second_factor(self, name: str) -> RegisteredPerson:
        """Remove the second factor of the registered person `name`, as an administrator with their own
        credential: they enrol a new one at their next sign-in."""
        person = self.store.directory.person(name)
        if person is None:
            raise InputError(f"{name!r} is not a registered person")
        self.authorise("administer people and organisations")
        self.store.directory.set_second_factor(person.name, "", step=0)
        return person

    @audited("sign in locked out")
    def refuse_locked_out(self, *, failures: int, seconds: int) -> None:
        """Refuse (always: NotPermitted) a sign-in of the acting name from this address after `failures` failed
        attempts, for `seconds`; written to the audit log as refused."""
        self.actor("signing in")
        raise NotPermitted(f"locked out after {failures} failed sign-ins, for {seconds} seconds")

    @audited("sign out")
    def sign_out(self) -> None:
        """Written to the audit log: the acting person signed out of the web."""
        self.actor("signing out")

    @audited("sign in oidc")
    def sign_in_through_provider(self, grants: list[tuple[str, str | None]]) -> RegisteredPerson:
        """The acting person, signed in by the single sign-on provider, registered here (when new) or kept, with
        exactly `grants` (each role and organisation or None, from their groups), by "oidc sign-in".
        NotPermitted when no group of theirs maps to a role, when they were disabled here, or when their name
        belongs to a person who signs in here with a password."""
        name = " ".join(self.actor("signing in").name.split())
        if not grants:
            raise NotPermitted(f"{name} is in no group that holds a role here",
                               hint="the provider's groups and their roles are configured in [web.oidc] groups")
        wanted = tuple(dict.fromkeys(self._grant_of(role, organisation) for role, organisation in grants))
        directory, now = self.store.directory, self.now()
        with self.store.atomic():
            found = directory.person(name)
            if found is None:
                found = directory.add_person(name, wanted, by=PROVIDER_AGENT, at=now)
                directory.set_provider(found.name, PROVIDER)
            elif directory.provider_of(found.name) != PROVIDER:
                raise NotPermitted(f"{found.name} signs in here with a password, not through the provider")
            elif not found.active:
                raise NotPermitted(f"{found.name} was disabled here", hint="an administrator disables people")
            for grant in wanted:
                if grant not in found.roles:
                    directory.grant(found.name, grant, by=PROVIDER_AGENT, at=now)
            for grant in found.roles:
                if grant not in wanted:
                    directory.revoke(found.name, grant, by=PROVIDER_AGENT, at=now)
        person = directory.person(name)
        assert person is not None and person_key(person.name) == person_key(name)
        return person
