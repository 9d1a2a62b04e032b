"""The fixity screen's views: each a thin call of the Depot service acting as the signed-in person (who may, which
organisation's AIPs, what a restore takes, the reason of a loss: `edepot.service.fixity` and the command line's own
service methods). A refusal is said in one line on the page, with its error reference; an AIP of another
organisation is not found (404), as one that does not exist."""
from __future__ import annotations

from typing import Any, Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from edepot.service import Depot
from edepot.web.auth import depot_for
from edepot.web.directory_views import refused, status_of
from edepot.web.error_text import shown_error
from kernel.errors import EdepotError, NotFound

QUEUED = "fixity-queued-job"  # the session's note of the job just queued, shown once on the overview


def _screen(request: HttpRequest, show: Callable[[Depot], HttpResponse]) -> HttpResponse:
    """`show` on the Depot acting as the signed-in person; a refusal of the service as its page."""
    with depot_for(request) as depot:
        try:
            return show(depot)
        except EdepotError as error:
            return refused(request, error)


def _overview_page(request: HttpRequest, depot: Depot, *, error: EdepotError | None = None) -> HttpResponse:
    """The overview; with `error`, the refusal of the "run now" form said beside it, the form as it was given."""
    context: dict[str, Any] = {"overview": depot.fixity_overview(), "queued": request.session.pop(QUEUED, None),
                               "given": request.POST}
    if error is not None:
        context["error"] = shown_error(error)
    return render(request, "edepot/fixity/overview.html", context, status=status_of(error) if error else 200)


@never_cache
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Each storage location with its last run, coverage, open damage, repairs and known losses (of the signed-in
    archivist's organisations), the first open damage and known losses, the schedule, and "run now"."""
    return _screen(request, lambda depot: _overview_page(request, depot))


@login_required
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    """Queue a fixity run of the person's organisations' AIPs, or of one AIP; back to where it was asked, which
    shows the job."""
    aip_id = request.POST.get("aip_id", "").strip() if request.POST.get("scope") == "aip" else ""
    back_to_aip = request.POST.get("back") == "aip" and bool(aip_id)  # asked on the AIP's own page

    def queue(depot: Depot) -> HttpResponse:
        try:
            job = depot.queue_fixity(aip_id or None)
        except EdepotError as error:
            if not back_to_aip:
                return _overview_page(request, depot, error=error)
            if isinstance(error, NotFound):
                raise
            return _aip_page(request, depot, aip_id, error=error, failed="run")
        request.session[QUEUED] = job.job_id
        return redirect("fixity-aip", aip_id=aip_id) if back_to_aip else redirect("fixity")
    return _screen(request, queue)


def _aip_page(request: HttpRequest, depot: Depot, aip_id: str, *, error: EdepotError | None = None,
              failed: str = "") -> HttpResponse:
    context = {"shown": depot.aip_fixity(aip_id), "queued": request.session.pop(QUEUED, None), "failed": failed,
               "given": request.POST}
    if error is not None:
        context["error"] = shown_error(error)
    return render(request, "edepot/fixity/aip.html", context, status=status_of(error) if error else 200)


@never_cache
@login_required
def aip(request: HttpRequest, aip_id: str) -> HttpResponse:
    """One AIP as fixity sees it: replicas, damaged files, declared losses, recent events; run fixity of it,
    restore it from an uploaded outside copy, declare a loss."""
    return _screen(request, lambda depot: _aip_page(request, depot, aip_id))


@login_required
@require_POST
def restore(request: HttpRequest, aip_id: str) -> HttpResponse:
    """Restore the AIP's damaged files from the uploaded outside copy (files, or a zip of them)."""
    def act(depot: Depot) -> HttpResponse:
        uploads = [(f.name, f) for f in request.FILES.getlist("copy")]
        try:
            result = depot.restore_uploaded(aip_id, uploads)
        except NotFound:
            raise
        except EdepotError as error:
            return _aip_page(request, depot, aip_id, error=error, failed="restore")
        if result.restored:
            messages.success(request, _("Hersteld: %(files)s.") % {"files": ", ".join(r.path for r in result.restored)})
        else:
            messages.info(request, _("Er was niets te herstellen: elke kopie van deze AIP is in orde."))
        if result.still_damaged:
            messages.warning(request, _("Nog beschadigd (niet in de geüploade kopie): %(files)s.")
                             % {"files": ", ".join(result.still_damaged)})
        return redirect("fixity-aip", aip_id=aip_id)
    return _screen(request, act)


@login_required
@require_POST
def declare_loss(request: HttpRequest, aip_id: str) -> HttpResponse:
    """Declare files of the AIP lost, with a reason: first a page to confirm what will be declared, then (with
    `confirm`) the declaration itself."""
    paths, reason = request.POST.getlist("path"), request.POST.get("reason", "").strip()

    def act(depot: Depot) -> HttpResponse:
        try:
            if request.POST.get("confirm") != "yes":
                files = depot.declared_loss_preview(aip_id, paths, reason=reason)
                return render(request, "edepot/fixity/confirm_loss.html",
                              {"aip": depot.visible_aip(aip_id, "declare a loss"), "files": files,
                               "reason": reason})
            declared = depot.declare_loss(aip_id, paths=paths, reason=reason)
        except NotFound:
            raise
        except EdepotError as error:
            return _aip_page(request, depot, aip_id, error=error, failed="loss")
        messages.success(request, _("Verloren verklaard: %(files)s.") % {"files": ", ".join(d.path for d in declared)})
        return redirect("fixity-aip", aip_id=aip_id)
    return _screen(request, act)
