"""Signing in to the web: the password, then (for archivists, administrators and whoever enrolled one) the code of
a second factor, enrolled at the first sign-in; throttled by django-axes; sessions with an idle and an overall
limit. The rules are the Depot service's (`edepot.service.sign_in`); these views ask it and keep the half-done
sign-in in the session until the second step is done.
"""
from __future__ import annotations

import time
from typing import Any, Callable
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from edepot.service import Depot
from edepot.service.sign_in import new_totp_secret, second_factor_required
from edepot.web.auth import depot_for, shadow_user
from kernel.errors import EdepotError
from preservation.directory import RegisteredPerson, person_key

PENDING = "edepot.sign_in.pending"  # {"name", "next", "at"}: the password was right; the second step is due
ENROL_SECRET = "edepot.sign_in.enrol_secret"  # the secret offered for enrolment, until a code confirms it
SINCE = "edepot.sign_in.since"  # when the session was signed in (seconds since the epoch)
SECOND_FACTOR = "edepot.sign_in.second_factor"  # the session was signed in with a second factor (or the provider)
PENDING_SECONDS = 300  # the second step is done within five minutes of the password, or the sign-in starts over
PASSWORD_BACKEND = "edepot.web.auth.DirectoryBackend"
PROVIDER_BACKEND = "edepot.web.oidc.ProviderBackend"
ISSUER = "edepot"


class SignInView(auth_views.LoginView):
    """Sign in with a name and password from the directory; then the second step when it is due."""

    template_name = "edepot/sign_in.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        oidc = settings.EDEPOT_CONFIG.web.oidc
        return {**super().get_context_data(**kwargs), "oidc_label": oidc.label if oidc else None,
                "provider_refused": self.request.GET.get("sso") == "refused"}

    def form_valid(self, form: Any) -> HttpResponse:
        name = form.get_user().get_username()
        with depot_for(self.request, name=name) as depot:
            step = depot.second_step(name)
        if not step:
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING] = {"name": name, "next": self.get_success_url(), "at": time.time()}
        return redirect("sign-in-code" if step == "code" else "sign-in-enrol")


def pending_person(request: HttpRequest) -> str | None:
    """The name whose password was right in this session in the last five minutes, the second step not yet done."""
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        return None
    return str(pending["name"])


def _finish(request: HttpRequest, person: RegisteredPerson) -> HttpResponse:
    """Sign `person` in, with their second factor; on to where they were going."""
    pending = request.session.pop(PENDING)
    request.session.pop(ENROL_SECRET, None)
    login(request, shadow_user(person), backend=PASSWORD_BACKEND)
    request.session[SECOND_FACTOR] = True
    wanted = pending.get("next") or ""
    if not url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        wanted = reverse(settings.LOGIN_REDIRECT_URL)
    return HttpResponseRedirect(wanted)


def _throttled(request: HttpRequest, name: str) -> bool:
    """Whether the name is locked out from this address (too many wrong passwords or codes)."""
    from axes.handlers.proxy import AxesProxyHandler

    return not AxesProxyHandler.is_allowed(request, {"username": name})


def _wrong_code(request: HttpRequest, name: str) -> None:
    """A wrong code counts as a failed sign-in towards the lockout, as a wrong password does."""
    user_login_failed.send(sender=__name__, credentials={"username": name}, request=request)


def second_step(view: Callable[[HttpRequest, str], HttpResponse]) -> Callable[[HttpRequest], HttpResponseBase]:
    """A view of the second step: only for a pending sign-in (else back to the password), never cached, with CSRF
    checked, and refused while the name is locked out."""

    @never_cache
    @csrf_protect
    @sensitive_post_parameters("code")
    def run(request: HttpRequest) -> HttpResponseBase:
        name = pending_person(request)
        if name is None:
            request.session.pop(PENDING, None)
            return redirect("sign-in")
        if request.method == "POST" and _throttled(request, name):
            return locked_out(request, None, {"username": name})
        return view(request, name)

    return run


@second_step
def sign_in_code(request: HttpRequest, name: str) -> HttpResponse:
    """The code of the person's second factor, after their password."""
    code = request.POST.get("code", "")
    done = _confirmed(request, name, lambda depot: depot.check_second_factor(code))
    if done is not None:
        return done
    return render(request, "edepot/sign_in_code.html", {"wrong": request.method == "POST"})


@second_step
def sign_in_enrol(request: HttpRequest, name: str) -> HttpResponse:
    """Enrol a second factor at the first sign-in: a new secret shown as a QR code and as text, confirmed by the
    app's first code."""
    secret = request.session.get(ENROL_SECRET) or new_totp_secret()
    request.session[ENROL_SECRET] = secret
    code = request.POST.get("code", "")
    done = _confirmed(request, name, lambda depot: depot.enrol_second_factor(secret, code))
    if done is not None:
        return done
    return render(request, "edepot/sign_in_enrol.html", {"wrong": request.method == "POST", **enrolment(name, secret)})


def _confirmed(request: HttpRequest, name: str, step: Callable[[Depot], RegisteredPerson]) -> HttpResponse | None:
    """On a POST, the second step `step` done by the service as `name`: the sign-in finished when it passed; a
    wrong code counted (towards the lockout) when it did not, and None then, as for a GET."""
    if request.method != "POST":
        return None
    with depot_for(request, name=name) as depot:
        try:
            person = step(depot)
        except EdepotError:
            person = None
    if person is not None:
        return _finish(request, person)
    _wrong_code(request, name)
    return None


@login_required
@never_cache
def second_factor(request: HttpRequest) -> HttpResponse:
    """A signed-in person whose role does not ask for it enrols a second factor of their own accord (asked at
    every sign-in from then on); one who has one is told so."""
    name = request.person.name
    with depot_for(request) as depot:
        enrolled = depot.has_second_factor(name)
    if enrolled:
        return render(request, "edepot/sign_in_enrol.html", {"enrolled": True})
    secret = request.session.get(ENROL_SECRET) or new_totp_secret()
    request.session[ENROL_SECRET] = secret
    wrong = False
    if request.method == "POST":
        with depot_for(request) as depot:
            try:
                depot.enrol_second_factor(secret, request.POST.get("code", ""))
            except EdepotError:
                wrong = True
        if not wrong:
            request.session.pop(ENROL_SECRET, None)
            request.session[SECOND_FACTOR] = True
            messages.success(request, _("Uw tweede stap is ingesteld: voortaan vraagt edepot na uw wachtwoord een "
                                        "code uit uw app."))
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "edepot/sign_in_enrol.html", {"wrong": wrong, "own_accord": True,
                                                         **enrolment(name, secret)})


def enrolment(name: str, secret: str) -> dict[str, str]:
    """What an authenticator app is given: the otpauth URI as a QR code (inline SVG: nothing is fetched) and the
    secret as text (base32, in groups of four) for typing in."""
    import base64

    import segno

    key = base64.b32encode(bytes.fromhex(secret)).decode("ascii").rstrip("=")
    uri = (f"otpauth://totp/{quote(ISSUER)}:{quote(name)}?secret={key}&issuer={quote(ISSUER)}"
           "&algorithm=SHA1&digits=6&period=30")
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=4, light="#fff", svgclass="qr",
                                                 title=_("QR-code voor uw authenticator-app"))
    return {"qr": svg.replace("<svg ", '<svg role="img" ', 1), "key": " ".join(key[i:i + 4]
                                                                          for i in range(0, len(key), 4))}


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
               credentials: dict[str, Any] | None = None) -> HttpResponse:
    """django-axes' answer to a locked-out name and address: the sign-in form with a message in Dutch (HTTP 429),
    the refusal written to the audit log."""
    name = (credentials or {}).get("username") or request.POST.get("username", "")
    web = settings.EDEPOT_CONFIG.web
    if name:
        with depot_for(request, name=name) as depot:
            try:
                depot.refuse_locked_out(failures=web.sign_in_failures, seconds=web.lockout_seconds)
            except EdepotError:
                pass
    request.session.pop(PENDING, None)
    minutes = max(1, round(web.lockout_seconds / 60))
    return render(request, "edepot/sign_in.html", {
        "locked_out": _("Te veel mislukte pogingen om aan te melden. Probeer het over %(minutes)d minuten opnieuw.")
        % {"minutes": minutes}, "form": None, "next": "", "oidc_label": web.oidc.label if web.oidc else None},
        status=429)


def throttled_name(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The name django-axes counts failures of: as the directory knows people, case and spacing folded."""
    given = (credentials or {}).get("username") if credentials else request.POST.get("username")
    return person_key(str(given or ""))


@receiver(user_logged_in)
def stamp_session(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Note when the session was signed in, for its overall limit (and that the provider signed it in: its own
    second factor counts)."""
    if request is not None:
        request.session[SINCE] = time.time()
        if getattr(user, "backend", "") == PROVIDER_BACKEND:
            request.session[SECOND_FACTOR] = True


@receiver(user_logged_out)
def audit_sign_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Write signing out (or being signed out) to the audit log."""
    if request is not None and user is not None:
        with depot_for(request, name=user.get_username()) as depot:
            try:
                depot.sign_out()
            except EdepotError:
                pass


class SessionLimitsMiddleware:
    """Signs out a session signed in longer ago than `[web] session_max_seconds`, and one of a person who must
    sign in with a second factor (they were given such a role since) that was signed in without one. (The idle
    limit is the session's own expiry, renewed on every request.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        person = getattr(request, "person", None)
        if person is not None:
            since = request.session.get(SINCE, 0)
            if time.time() - since > settings.EDEPOT_CONFIG.web.session_max_seconds:
                logout(request)
                request.person = None
                messages.info(request, _("Uw sessie is verlopen. Meld u opnieuw aan."))
            elif second_factor_required(person) and not request.session.get(SECOND_FACTOR):
                logout(request)
                request.person = None
                messages.info(request, _("Uw rol vraagt een tweede stap bij het aanmelden. Meld u opnieuw aan."))
        return self.get_response(request)
