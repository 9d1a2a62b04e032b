"""The AIP screens: the list (filtered and paged by the Depot service), one AIP's page, making the archive's own
DIP of it (a job) and downloading that DIP. Each view is a thin call of the service acting as the signed-in
person; another organisation's AIP is not found (404), a person without the role is refused (403)."""
from __future__ import annotations

from typing import Any, Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from edepot.service import Depot
from edepot.service.aip_pages import STATES
from edepot.web.aips.query import AipQuery, aip_query, place
from edepot.web.auth import depot_for
from edepot.web.directory_views import refused
from edepot.web.error_text import shown_error
from kernel.errors import EdepotError, InputError
from preservation.aip_listing import AipFilters


def state_names() -> dict[str, str]:
    """Each state the list can be filtered by, with its name on the screens."""
    return {"kept": _("Bewaard (alle)"), "stored": _("In orde"), "damaged": _("Beschadigd"),
            "incomplete": _("Onvolledig (verlies verklaard)"), "held": _("Opgeschort (hold)"),
            "due": _("Te vernietigen of over te brengen"), "destroyed": _("Vernietigd"),
            "destroying": _("Wordt vernietigd")}


def _shown(request: HttpRequest, action: Callable[[Depot], HttpResponse]) -> HttpResponse:
    """`action` on the Depot acting as the signed-in person; a refusal of the service as its page."""
    with depot_for(request) as depot:
        try:
            return action(depot)
        except EdepotError as error:
            return refused(request, error)


@login_required
@require_GET
def aip_list(request: HttpRequest) -> HttpResponse:
    """The AIPs of the person's organisations, newest first, a page at a time, with the form's filters."""
    problem: Any = None
    try:
        query = aip_query(request.GET)
    except InputError as error:
        query, problem = AipQuery(AipFilters()), shown_error(error)

    def screen(depot: Depot) -> HttpResponse:
        nonlocal problem
        organisations = depot.served_organisations()
        try:
            page = depot.aip_page(query.filters, before=query.before, limit=query.limit)
        except InputError as error:
            page, problem = depot.aip_page(AipFilters(), limit=query.limit), shown_error(error)
        kept = {k: v for k, v in request.GET.items() if k != "before" and v}
        more = "?" + urlencode({**kept, "before": page.aips[-1].aip_id}) if page.more else ""
        names = {o.organisation_id: o.name for o in organisations}
        return render(request, "edepot/aips/list.html", {
            "page": page, "rows": [(a, names.get(a.organisation, a.organisation), page.versions.get(a.aip_id))
                                   for a in page.aips],
            "organisations": organisations, "query": request.GET, "problem": problem, "more": more,
            "paged": query.before is not None, "states": [(s, state_names()[s]) for s in STATES],
            "state_names": state_names()})
    return _shown(request, screen)


@never_cache
@login_required
@require_GET
def aip(request: HttpRequest, aip_id: str) -> HttpResponse:
    """One AIP: its record's description, versions, files, replicas, events and the archive's own DIPs."""
    events_before, files_from = place(request.GET.get("events_before", "")), place(request.GET.get("files_from", ""))

    def screen(depot: Depot) -> HttpResponse:
        overview = depot.aip_overview(aip_id, events_before=events_before, files_from=files_from or 0)
        events = [(place, event, [a.removeprefix("person:") for a in event.agents if a.startswith("person:")])
                  for place, event in overview.events.events]
        files = overview.files
        return render(request, "edepot/aips/aip.html", {
            "o": overview, "aip": overview.aip, "events": events, "state_names": state_names(),
            "older_events": events[-1][0] if overview.events.more else None,
            "next_files": files.offset + len(files.files) if files.offset + len(files.files) < files.count else None,
            "files_to": files.offset + len(files.files)})
    return _shown(request, screen)


@login_required
@require_POST
def make_dip(request: HttpRequest, aip_id: str) -> HttpResponse:
    """Queue the archive's own DIP of the whole AIP; back to its page, which offers it once a worker made it."""
    def screen(depot: Depot) -> HttpResponse:
        job = depot.queue_own_dip(aip_id)
        messages.success(request, _("De DIP wordt gemaakt (taak %(job)s). Vernieuw de pagina straks om hem te "
                                    "downloaden.") % {"job": job.job_id[:8]})
        return redirect("aip", aip_id=aip_id)
    return _shown(request, screen)


@never_cache
@login_required
@require_GET
def download_dip(request: HttpRequest, aip_id: str, dip_id: str) -> HttpResponse:
    """The archive's own DIP of the AIP as a zip file (streamed from a temporary file that goes when sent)."""
    def screen(depot: Depot) -> HttpResponse:
        download = depot.own_dip_download(aip_id, dip_id)
        response = FileResponse(download.file, as_attachment=True, filename=download.name,
                                content_type="application/zip")
        response["Content-Length"] = str(download.size)
        return response
    return _shown(request, screen)
