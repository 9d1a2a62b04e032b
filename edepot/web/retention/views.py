"""The retention screens: records due by selectielijst category, destruction lists (drawn up, reviewed, approved
or rejected, destroyed as a job, with their certificate), holds, the transfer list, and a record's re-appraisal
and openness.

Each view is a thin call of the Depot service acting as the signed-in person (edepot/service/
retention_and_holds.py holds every rule: who may, which organisation, four eyes and the order of approvals); a
refusal is shown in words on the page it came from, or as the page that says why.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any, Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from edepot.service import Depot
from edepot.web.auth import depot_for
from edepot.web.directory_views import refused, role_choices, status_of
from edepot.web.error_text import shown_error
from kernel.errors import EdepotError, InputError
from preservation.directory import ARCHIVIST, RECORDS_MANAGER, REVIEWER
from preservation.metadata.record import BEPERKING_GEBRUIK_TYPES, WAARDERINGEN

PAGE = 50
LISTS = 20  # the newest destruction lists shown
JUDGING_ROLES = (REVIEWER, ARCHIVIST, RECORDS_MANAGER)


def _shown(request: HttpRequest, action: Callable[[Depot], HttpResponse]) -> HttpResponse:
    """`action` on the Depot acting as the signed-in person; a refusal of the service as its page."""
    with depot_for(request) as depot:
        try:
            return action(depot)
        except EdepotError as error:
            return refused(request, error)


def _organisation_names(depot: Depot) -> dict[str, str]:
    return {o.organisation_id: o.name for o in depot.served_organisations()}


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Records due for destruction per selectielijst category and organisation, the form to draw up a list, and
    the destruction lists with their state."""
    def screen(depot: Depot) -> HttpResponse:
        organisation = request.GET.get("organisation") or None
        names = _organisation_names(depot)
        groups = depot.due_groups(organisation=organisation)
        rows = [{"group": g, "organisation": names.get(g.organisation, g.organisation)} for g in groups]
        return render(request, "edepot/retention/overview.html", {
            "rows": rows, "total": sum(g.count for g in groups), "names": names, "organisation": organisation,
            "categories": sorted({(g.category, g.label) for g in groups}),
            "lists": list(reversed(depot.destruction_lists(newest=LISTS))),
            "may_draw_up": depot.may("draw up a destruction list"), "steps": depot.approval_steps()})
    return _shown(request, screen)


@login_required
def due(request: HttpRequest) -> HttpResponse:
    """The records due of one category (and organisation), a page at a time by record identifier."""
    def screen(depot: Depot) -> HttpResponse:
        category, organisation = request.GET.get("category"), request.GET.get("organisation") or None
        after = request.GET.get("after", "")
        found = depot.due_records(category=category, organisation=organisation, after=after, limit=PAGE + 1)
        more = found[PAGE - 1][0].record_id if len(found) > PAGE else ""
        names = _organisation_names(depot)
        return render(request, "edepot/retention/due.html", {
            "records": [(s, names.get(o, o)) for s, o in found[:PAGE]], "category": category,
            "organisation": organisation, "after": after, "more": more})
    return _shown(request, screen)


@login_required
@require_POST
def draw_up(request: HttpRequest) -> HttpResponse:
    """Draw up a destruction list of one organisation's records due (of the chosen categories, when any)."""
    def screen(depot: Depot) -> HttpResponse:
        try:
            drawn = depot.draw_up_destruction_list(organisation=request.POST.get("organisation") or None,
                                                   categories=request.POST.getlist("category") or None)
        except EdepotError as error:
            messages.error(request, _one_line(error))
            return redirect("retention")
        if drawn is None:
            messages.info(request, _("Er is niets te vernietigen: geen lijst opgesteld."))
            return redirect("retention")
        messages.success(request, _("Vernietigingslijst %(id)s is opgesteld.") % {"id": drawn.list_id})
        return redirect("retention-list", list_id=drawn.list_id)
    return _shown(request, screen)

JOB_ID = re.compile(r"[0-9A-Za-z-]{1,64}")  # the job a redirect after queueing names (anything else is not shown)


def _one_line(error: EdepotError) -> str:
    shown = shown_error(error)
    return f"{shown.text} {shown.message} ({_('Foutcode')} {shown.reference})"


def _judging_roles(request: HttpRequest, organisation: str) -> list[tuple[str, str]]:
    """The roles in which the signed-in person may judge a list of `organisation`, with their names."""
    held = {g.role for g in request.person.roles if g.role in JUDGING_ROLES and g.covers(organisation)}
    return [(role, name) for role, name in role_choices() if role in held]


def _list_page(request: HttpRequest, depot: Depot, list_id: str, *, error: EdepotError | None = None) -> HttpResponse:
    state = depot.destruction_list_state(list_id)
    content = state.stored.content
    organisation = content.get("organisation", "")
    context = {"state": state, "content": content, "items": content["items"],
               "organisation_name": _organisation_names(depot).get(organisation, organisation),
               "roles": _judging_roles(request, organisation), "steps": depot.approval_steps(),
               "may_destroy": state.state == "approved" and depot.may("destroy records"),
               "certificate": any(p.endswith(".pdf") for p in state.certificate),
               "error": shown_error(error) if error else None,
               "queued_job": queued if JOB_ID.fullmatch(queued := request.GET.get("job", "")) else ""}
    return render(request, "edepot/retention/list.html", context, status=status_of(error) if error else 200)


@never_cache
@login_required
def destruction_list(request: HttpRequest, list_id: str) -> HttpResponse:
    """One destruction list: its state, records, approvals (who, role, when), digest, and what may be done next."""
    return _shown(request, lambda depot: _list_page(request, depot, list_id))


def _judge(request: HttpRequest, list_id: str, verdict: Callable[[Depot], object], done: str) -> HttpResponse:
    def screen(depot: Depot) -> HttpResponse:
        try:
            verdict(depot)
        except InputError as error:  # four eyes, order, a reason missing: said on the list's page
            return _list_page(request, depot, list_id, error=error)
        messages.success(request, done)
        return redirect("retention-list", list_id=list_id)
    return _shown(request, screen)


@login_required
@require_POST
def approve(request: HttpRequest, list_id: str) -> HttpResponse:
    """Approve the list in the role chosen (a reviewer's review, an archivist's approval)."""
    return _judge(request, list_id, lambda depot: depot.approve_destruction_list(
        list_id, role=request.POST.get("role", "")), _("Uw goedkeuring is vastgelegd."))


@login_required
@require_POST
def reject(request: HttpRequest, list_id: str) -> HttpResponse:
    """Reject the list, with the reason: it goes back to its drafter."""
    return _judge(request, list_id, lambda depot: depot.reject_destruction_list(
        list_id, role=request.POST.get("role", ""), reason=request.POST.get("reason", "")),
        _("De lijst is afgewezen en gaat terug naar de opsteller."))


@login_required
@require_POST
def destroy(request: HttpRequest, list_id: str) -> HttpResponse:
    """Queue the destruction of an approved list as a job, done by a worker as the signed-in person."""
    def screen(depot: Depot) -> HttpResponse:
        depot.destruction_list_state(list_id)  # not found for another organisation's list
        job = depot.queue("destruction", {"list": list_id})
        messages.success(request, _("De vernietiging is in de wachtrij gezet als taak %(job)s.") % {"job": job.job_id})
        return redirect(reverse("retention-list", kwargs={"list_id": list_id}) + f"?job={job.job_id}")
    return _shown(request, screen)


@login_required
def certificate(request: HttpRequest, list_id: str) -> HttpResponse:
    """The verklaring van vernietiging (PDF/A) of an executed list, to download."""
    def screen(depot: Depot) -> HttpResponse:
        path = depot.destruction_certificate(list_id)
        return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="application/pdf")
    return _shown(request, screen)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def holds(request: HttpRequest) -> HttpResponse:
    """The active holds; the forms to place a hold on a record and to lift a record's holds, each with a reason."""
    def screen(depot: Depot) -> HttpResponse:
        error = None
        if request.method == "POST":
            record_id, reason = request.POST.get("record_id", "").strip(), request.POST.get("reason", "")
            try:
                if request.POST.get("action") == "lift":
                    depot.lift_holds(record_id, reason=reason)
                    messages.success(request, _("De blokkering van %(record)s is opgeheven.") % {"record": record_id})
                else:
                    depot.place_hold(record_id, reason=reason)
                    messages.success(request, _("%(record)s is geblokkeerd voor vernietiging.") % {"record": record_id})
                return redirect("retention-holds")
            except EdepotError as error_found:
                error = error_found
        found, names = depot.active_holds(), _organisation_names(depot)
        return render(request, "edepot/retention/holds.html", {
            "count": found.count, "holds": [(h.hold, names.get(h.organisation, h.organisation)) for h in found.first],
            "given": request.POST,
            "may_hold": depot.may("hold records"), "error": shown_error(error) if error else None},
            status=status_of(error) if error else 200)
    return _shown(request, screen)


def _transfer_before(request: HttpRequest, depot: Depot) -> date:
    text = request.GET.get("before", "")
    if text:
        from preservation.retention import parse_day

        return parse_day(text, "the day before which transfer is due")
    return depot.due_before()


@login_required
def transfer(request: HttpRequest) -> HttpResponse:
    """The transfer list (overbrenging): B records whose transfer date lies before the day given (default:
    tomorrow), oldest first."""
    def screen(depot: Depot) -> HttpResponse:
        before = _transfer_before(request, depot)
        found = depot.due_for_transfer(before, limit=PAGE * 4 + 1, schedule_missing=False)
        return render(request, "edepot/retention/transfer.html", {
            "records": found[:PAGE * 4], "more": len(found) > PAGE * 4, "before": before,
            "term": depot.retention_settings.transfer_term})
    return _shown(request, screen)


@login_required
def transfer_csv(request: HttpRequest) -> HttpResponse:
    """The transfer list as CSV, every record of it."""
    def screen(depot: Depot) -> HttpResponse:
        before = _transfer_before(request, depot)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(["record_id", "titel", "aip", "waardering", "start", "overbrengingsdatum", "categorie_code",
                         "categorie", "reden"])
        for s in depot.due_for_transfer(before, schedule_missing=False):
            writer.writerow([s.record_id, s.title, s.aip_id, s.waardering, s.start or "", s.transfer_date or "",
                             s.category.get("code") or "", s.category.get("label") or "", s.why])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="overbrengingslijst-{before.isoformat()}.csv"'
        return response
    return _shown(request, screen)


def _record_page(request: HttpRequest, depot: Depot, record_id: str, *, error: EdepotError | None = None,
                 failed: str = "") -> HttpResponse:
    context: dict[str, Any] = {
        "record_id": record_id, "retention": depot.retention_of(record_id), "waarderingen": WAARDERINGEN,
        "types": BEPERKING_GEBRUIK_TYPES, "may_reappraise": depot.may("change an appraisal"),
        "may_decide": depot.may("decide openness"), "may_hold": depot.may("hold records"), "given": request.POST,
        "error": shown_error(error) if error else None, "failed": failed}
    return render(request, "edepot/retention/record.html", context, status=status_of(error) if error else 200)


@never_cache
@login_required
def record(request: HttpRequest, record_id: str) -> HttpResponse:
    """One record's retention: schedule, appraisal history, holds; the forms to re-appraise it and to decide its
    openness, each with a reason."""
    return _shown(request, lambda depot: _record_page(request, depot, record_id))


def _record_change(request: HttpRequest, record_id: str, change: Callable[[Depot], object], *, done: str,
                   form: str) -> HttpResponse:
    def screen(depot: Depot) -> HttpResponse:
        depot.retention_of(record_id)  # not found for another organisation's record, before anything is said
        try:
            change(depot)
        except InputError as error:
            return _record_page(request, depot, record_id, error=error, failed=form)
        messages.success(request, done)
        return redirect("retention-record", record_id=record_id)
    return _shown(request, screen)


@login_required
@require_POST
def reappraise(request: HttpRequest, record_id: str) -> HttpResponse:
    """Change the record's waardering and/or bewaartermijn, with the reason."""
    post = request.POST
    return _record_change(request, record_id, lambda depot: depot.reappraise(
        record_id, reason=post.get("reason", ""), waardering=post.get("waardering") or None,
        bewaartermijn=post.get("bewaartermijn", "").strip() or None), done=_("De herwaardering is vastgelegd."),
        form="reappraise")


@login_required
@require_POST
def access(request: HttpRequest, record_id: str) -> HttpResponse:
    """Decide the record's openness (type, legal ground, last day), with the reason."""
    post = request.POST

    def change(depot: Depot) -> object:
        until = post.get("until", "").strip()
        from preservation.retention import parse_day

        ground = post.get("ground", "").strip()
        return depot.set_restriction(record_id, label=post.get("type", ""), grounds=[ground] if ground else [],
                                     until=parse_day(until, "the last day of the restriction") if until else None,
                                     reason=post.get("reason", ""))
    return _record_change(request, record_id, change, done=_("Het besluit over de openbaarheid is vastgelegd."),
                          form="access")
