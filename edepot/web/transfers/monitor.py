"""The ingest monitor: the jobs a person follows (their own; an archivist's or administrator's, their
organisations'), a page per job that htmx polls every two seconds while it runs (one query, by the job's id),
its ingest report (readable, and as JSON to download), and retry and cancel where the service allows them.

A job that ended `failed` was refused for its content (the ingest's verdict on the SIP); one that ended `error`
met a failure of the system (storage, a tool, a crash): the screens say which in words, not only by colour.
"""
from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from edepot.web.auth import depot_for
from edepot.web.directory_views import refused
from edepot.web.error_text import shown_error
from kernel.errors import EdepotError
from preservation.job_register import CANCELLED, ERROR, FAILED, FINISHED, QUEUED, JobRecord

PAGE = 50  # jobs a page of the monitor lists
POLL_SECONDS = 2


@never_cache
@login_required
def jobs(request: HttpRequest) -> HttpResponse:
    """The jobs the person follows, newest first, a page at a time (bounded in the query)."""
    after = request.GET.get("after") or None
    with depot_for(request) as depot:
        try:
            listed = depot.followed_jobs(limit=PAGE + 1, before=after)
        except EdepotError as error:
            return refused(request, error)
    more = listed[PAGE - 1].job_id if len(listed) > PAGE else ""
    return render(request, "edepot/transfers/jobs.html", {"jobs": listed[:PAGE], "more": more, "paged": bool(after)})


@never_cache
@login_required
def job(request: HttpRequest, job_id: str) -> HttpResponse:
    """One job: kind, state in words, stage and progress, who queued it, its error, its report when it ended,
    retry or cancel. htmx asks for the status part alone (one query by the job's id) every two seconds while the
    job runs; the part it gets once the job ended no longer asks."""
    polling = request.headers.get("HX-Request") == "true"
    with depot_for(request) as depot:
        try:
            found = depot.job_status(job_id) if polling else depot.job(job_id)
            report = depot.ingest_report(job_id) if found.state in FINISHED else None
        except EdepotError as error:
            return refused(request, error)
    context = {"job": found, "report": report, **_job_words(found), "csrf": get_token(request),
               "poll_seconds": POLL_SECONDS}
    if polling:  # rendered without the request: no menu, no context processors, for a cheap poll
        return HttpResponse(render_to_string("edepot/transfers/_job_status.html", context))
    return render(request, "edepot/transfers/job.html", context)


@never_cache
@login_required
def job_report(request: HttpRequest, job_id: str) -> HttpResponse:
    """The job's ingest report as JSON, to download (the job's own report when the ingest wrote none)."""
    with depot_for(request) as depot:
        try:
            found = depot.job(job_id)
            document: Any = depot.ingest_report(job_id) or found.report or {}
        except EdepotError as error:
            return refused(request, error)
    response = HttpResponse(json.dumps(document, ensure_ascii=False, indent=2),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ingestrapport-{job_id}.json"'
    return response


@login_required
@require_POST
def job_retry(request: HttpRequest, job_id: str) -> HttpResponse:
    """Queue a failed, erred or cancelled job once more."""
    return _act(request, job_id, action=lambda depot: depot.retry_job(job_id),
                done=_("De taak staat opnieuw in de wachtrij."))


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: str) -> HttpResponse:
    """Cancel a job still waiting in the queue."""
    return _act(request, job_id, action=lambda depot: depot.cancel_job(job_id), done=_("De taak is geannuleerd."))


def _act(request: HttpRequest, job_id: str, *, action: Any, done: str) -> HttpResponse:
    """`action` on the job, said in a message on its page (a refusal of the action too); 404 for a job not seen."""
    with depot_for(request) as depot:
        try:
            depot.job(job_id)
        except EdepotError as error:
            return refused(request, error)
        try:
            action(depot)
        except EdepotError as error:
            shown = shown_error(error)
            messages.error(request, f"{shown.text} {shown.message}")
        else:
            messages.success(request, done)
    return redirect("job", job_id=job_id)


def _job_words(job: JobRecord) -> dict[str, Any]:
    """What the templates say of the job's state beyond its name: which ended badly and why, and what may be
    done with it now."""
    return {"finished": job.state in FINISHED, "may_retry": job.state in (FAILED, ERROR, CANCELLED),
            "may_cancel": job.state == QUEUED, "aip_id": (job.report or {}).get("aip_id", "")}

