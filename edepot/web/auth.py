"""Who is signed in: registered people of the catalogue's directory, each with a shadow Django user.

The directory (`edepot user add`, `edepot user password`) is the one truth about people, their roles and their
passwords; Django's user row only carries the session. A person disabled in the directory is signed out on
their next request. Every view reaches the Depot service through `depot_for`, acting as the signed-in person.
"""
from __future__ import annotations

from typing import Any, Callable

from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest, HttpResponse

from edepot.service import Depot
from edepot.service.person import Person
from kernel.errors import EdepotError
from preservation.directory import RegisteredPerson


def client_address(request: HttpRequest) -> str:
    """Where a request came from, for the audit log (the peer's address; a reverse proxy's forwarded address is
    only believed when `[web]` says which proxies to trust, which it does not yet)."""
    return f"web from {request.META.get('REMOTE_ADDR', 'unknown')}"


def depot_for(request: HttpRequest, *, name: str | None = None) -> Depot:
    """The Depot service acting as the person signed in on `request` (or `name`), from the request's address.

    A signed-in session stands for the person's own credential, as a personal token does on the command line.
    Without `name` it is the request's one Depot, opened on first use and kept (with its catalogue connection)
    until the response is done, however often the middleware, the menu and the view ask for it: `with` leaves it
    open. A Depot acting as `name` (a sign-in's checks, before anybody is signed in) is the caller's to close."""
    if name is not None:
        return Depot(settings.EDEPOT_CONFIG, person=Person(name), address=client_address(request))
    signed_in = request.user.get_username() if request.user.is_authenticated else None
    held: RequestDepot | None = getattr(request, "edepot_depot", None)
    if held is None or held.signed_in != signed_in:  # the first ask, or somebody signed in or out since
        if held is not None:
            held.close()
        held = RequestDepot(settings.EDEPOT_CONFIG, person=Person(signed_in) if signed_in else None,
                            address=client_address(request), vouched=signed_in is not None)
        held.signed_in = signed_in
        request.edepot_depot = held
    return held


class RequestDepot(Depot):
    """The Depot of one web request: a `with` block leaves it open; RegisteredPersonMiddleware closes it once the
    response is made."""

    signed_in: str | None = None

    def __exit__(self, *exc: object) -> None:
        pass


class DirectoryBackend(BaseBackend):
    """Signs in a registered, active person with their web password (checked and audited by the service)."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> Any:
        if request is None or not username or password is None:
            return None
        with depot_for(request, name=username) as depot:
            try:
                person = depot.check_password(password=password)
            except EdepotError:
                return None
        return shadow_user(person)

    def get_user(self, user_id: int) -> Any:
        return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def shadow_user(person: RegisteredPerson) -> Any:
    """The Django user that carries the session of the registered `person` (made on their first sign-in)."""
    user, _ = get_user_model().objects.get_or_create(username=person.name[:150])
    return user


class RegisteredPersonMiddleware:
    """Puts the signed-in person, as the directory knows them now, on `request.person`; signs out a person who
    was disabled (or is no longer registered) since they signed in; closes the request's Depot when the response
    is made (a streamed response that reaches the catalogue again has that connection closed by Django when it
    is done)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.person = None
        try:
            if request.user.is_authenticated:
                found = depot_for(request).store.directory.person(request.user.get_username())
                if found is None or not found.active:
                    logout(request)
                else:
                    request.person = found
            return self.get_response(request)
        finally:
            held = getattr(request, "edepot_depot", None)
            if held is not None:
                held.close()


def person_context(request: HttpRequest) -> dict[str, Any]:
    """The templates' `person`: the signed-in registered person, or None."""
    return {"person": getattr(request, "person", None)}
