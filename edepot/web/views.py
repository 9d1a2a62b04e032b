"""The screens: each view asks the Depot service (through `edepot.web.auth.depot_for`) and renders a template;
no rule lives here."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode

from edepot.web.auth import depot_for
from edepot.web.filters import AuditQuery, audit_query
from kernel.errors import InputError, NotPermitted


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """What needs the signed-in person's attention now, for all their organisations or the one chosen; htmx asks
    for the parts alone when it refreshes them."""
    organisation = request.GET.get("organisation") or None
    refreshing = request.headers.get("HX-Request") == "true"
    with depot_for(request) as depot:
        context = {"attention": depot.attention(organisation=organisation), "organisation": organisation,
                   "organisations": [] if refreshing else depot.served_organisations()}
    response = render(request, "edepot/_attention.html" if refreshing else "edepot/dashboard.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    """The audit log, newest first, a page at a time, with the filters of the form."""
    problem = ""
    try:
        query = audit_query(request.GET)
    except InputError as error:
        query, problem = AuditQuery(), str(error)
    with depot_for(request) as depot:
        try:
            entries = depot.audit_log(**query.filters())
        except NotPermitted as refused:
            raise PermissionDenied(str(refused)) from None
        organisations = depot.served_organisations()
    more = ""
    if len(entries) > query.limit:
        entries = entries[:query.limit]
        kept = {k: v for k, v in request.GET.items() if k != "before" and v}
        more = "?" + urlencode({**kept, "before": entries[-1].entry_id})
    return render(request, "edepot/audit.html", {"entries": entries, "organisations": organisations,
                                                 "query": request.GET, "problem": problem, "more": more,
                                                 "paged": query.before is not None})

