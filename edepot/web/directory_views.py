"""The administrators' screens of the directory: people (register with roles and a first web password, grant a
role, disable, issue a personal token shown once, set a web password) and organisations (list, register).

Each view is a thin call of the Depot service acting as the signed-in person; who may see and change whom is the
service's rule (`edepot.service.people`). A refusal is a page in words (403, or 404 for somebody not seen), an
error of a form is shown next to the form, never a traceback.
"""
from __future__ import annotations

from typing import Any, Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from edepot.service import Depot
from edepot.web.api.errors import STATUS_OF
from edepot.web.auth import depot_for
from edepot.web.error_text import shown_error
from kernel.errors import EdepotError
from preservation.directory import ADMINISTRATOR, ROLES, RegisteredPerson


def administration_context(request: HttpRequest) -> dict[str, Any]:
    """The templates' `administers`: whether the signed-in person holds the administrator role (for some
    organisations at least), so that the menu shows them the people and organisations."""
    person = getattr(request, "person", None)
    return {"administers": person is not None and any(g.role == ADMINISTRATOR for g in person.roles)}


def status_of(error: EdepotError) -> int:
    """The HTTP status of a page showing `error`: the API's for its reference (403 refused, 404 not found or not
    seen, 400 bad input, ...)."""
    return next((code for kind, code in STATUS_OF if isinstance(error, kind)), 500)


def refused(request: HttpRequest, error: EdepotError) -> HttpResponse:
    """The page that says, in words, why the screen is not shown."""
    status = status_of(error)
    heading = {404: _("Niet gevonden"), 403: _("Geen toegang"), 401: _("Geen toegang")}.get(status, _("Dat ging niet"))
    return render(request, "edepot/refused.html", {"error": shown_error(error), "heading": heading}, status=status)


def role_choices() -> list[tuple[str, str]]:
    """The roles, each with its name on the screens."""
    names = {"records-manager": _("Informatiebeheerder"), "reviewer": _("Beoordelaar"), "archivist": _("Archivaris"),
             "woo-officer": _("Woo-coördinator"), "researcher": _("Onderzoeker"), "administrator": _("Beheerder")}
    return [(role, names[role]) for role in ROLES]


def _choices(depot: Depot, request: HttpRequest) -> dict[str, Any]:
    """What the forms offer: the roles, the organisations the person administers, and whether they may give a role
    for every organisation."""
    person = request.person
    return {"roles": role_choices(), "organisations": depot.organisations_administered(),
            "everywhere": any(g.role == ADMINISTRATOR and g.organisation is None for g in person.roles)}


def _organisation(value: str) -> str | None:
    return value or None  # the empty choice: every organisation


def _shown(request: HttpRequest, action: Callable[[Depot], HttpResponse]) -> HttpResponse:
    """`action` on the Depot acting as the signed-in person; a refusal of the service as its page."""
    with depot_for(request) as depot:
        try:
            return action(depot)
        except EdepotError as error:
            return refused(request, error)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def people(request: HttpRequest) -> HttpResponse:
    """The people the administrator sees, with their roles and whether they are active; the form to register a
    person with roles and a first web password (their first personal token is shown once, on the next page)."""
    def screen(depot: Depot) -> HttpResponse:
        listed = depot.people()
        context: dict[str, Any] = {"people": listed, **_choices(depot, request), "given": request.POST,
                                   "given_roles": request.POST.getlist("role")}
        if request.method == "POST":
            roles = [(role, _organisation(request.POST.get("organisation", ""))) for role in request.POST.getlist("role")]
            try:
                person, token = depot.add_person(request.POST.get("name", ""), roles=roles,
                                                 password=request.POST.get("password") or None)
            except EdepotError as error:
                return render(request, "edepot/people.html", {**context, "error": shown_error(error)},
                          status=status_of(error))
            return render(request, "edepot/token_issued.html", {"subject": person, "token": token, "registered": True})
        return render(request, "edepot/people.html", context)
    return _shown(request, screen)


@never_cache
@login_required
def person(request: HttpRequest, name: str) -> HttpResponse:
    """One person: their roles, and the forms to grant a role, issue a token, set a password and disable them."""
    def screen(depot: Depot) -> HttpResponse:
        subject = depot.registered_person(name)
        return render(request, "edepot/person.html", {"subject": subject, **_choices(depot, request)})
    return _shown(request, screen)


def _person_form(request: HttpRequest, name: str, change: Callable[[Depot], RegisteredPerson | None], *,
                 done: str) -> HttpResponse:
    """Carry out one change to the person `name` from their page: back to the page with `done` said, or the page
    again with the error next to the form (for htmx, the roles section alone, with status 200 so that it is
    swapped in)."""
    def screen(depot: Depot) -> HttpResponse:
        subject = depot.registered_person(name)
        htmx = request.headers.get("HX-Request") == "true"
        try:
            subject = change(depot) or subject
        except EdepotError as error:
            context = {"subject": subject, **_choices(depot, request), "error": shown_error(error),
                       "failed": request.resolver_match.url_name if request.resolver_match else ""}
            if htmx:
                return render(request, "edepot/_roles.html", context)
            return render(request, "edepot/person.html", context, status=status_of(error))
        if htmx:
            return render(request, "edepot/_roles.html", {"subject": subject, **_choices(depot, request),
                                                          "done": done})
        messages.success(request, done)
        return redirect("person", name=subject.name)
    return _shown(request, screen)


@login_required
@require_POST
def grant(request: HttpRequest, name: str) -> HttpResponse:
    """Grant the person a role, for one organisation or every one (inline with htmx)."""
    role, organisation = request.POST.get("role", ""), _organisation(request.POST.get("organisation", ""))
    return _person_form(request, name, lambda depot: depot.grant_role(name, role=role, organisation=organisation),
                        done=_("De rol is toegekend."))


@login_required
@require_POST
def disable(request: HttpRequest, name: str) -> HttpResponse:
    """Disable the person: they sign in and act no more, their tokens stop working."""
    return _person_form(request, name, lambda depot: depot.disable_person(name),
                        done=_("De persoon is uitgeschakeld."))


@login_required
@require_POST
def set_password(request: HttpRequest, name: str) -> HttpResponse:
    """Give the person a new web password."""
    def change(depot: Depot) -> None:
        depot.set_password(name, request.POST.get("password", ""))
    return _person_form(request, name, change, done=_("Het wachtwoord is ingesteld."))


@never_cache
@login_required
@require_POST
def issue_token(request: HttpRequest, name: str) -> HttpResponse:
    """Issue the person a new personal token, shown on this page once (never kept, never cached)."""
    def screen(depot: Depot) -> HttpResponse:
        subject = depot.registered_person(name)
        token = depot.issue_token(name)
        return render(request, "edepot/token_issued.html", {"subject": subject, "token": token})
    return _shown(request, screen)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def organisations(request: HttpRequest) -> HttpResponse:
    """The organisations the administrator administers; the form to register one (an administrator for every
    organisation does that)."""
    def screen(depot: Depot) -> HttpResponse:
        context: dict[str, Any] = {**_choices(depot, request), "given": request.POST}
        if request.method == "POST":
            try:
                added = depot.add_organisation(request.POST.get("organisation_id", ""),
                                               name=request.POST.get("name", ""))
            except EdepotError as error:
                return render(request, "edepot/organisations.html", {**context, "error": shown_error(error)},
                              status=status_of(error))
            messages.success(request, _("%(name)s is geregistreerd.") % {"name": added.name})
            return redirect("organisations")
        return render(request, "edepot/organisations.html", context)
    return _shown(request, screen)
