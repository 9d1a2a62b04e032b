"""Transfers: the screen that uploads SIPs (edepot/web/static/edepot/transfers.js does the sending), and the
upload endpoint, tus 1.0 (core, creation, termination, expiration; https://tus.io/protocols/resumable-upload):

    OPTIONS /transfers/uploads/          what the server takes: Tus-Version, Tus-Extension, Tus-Max-Size
    POST    /transfers/uploads/          Upload-Length, Upload-Metadata (filename, organisation): 201, Location
    HEAD    /transfers/uploads/<id>/     Upload-Offset, Upload-Length, Upload-Expires (and Edepot-Job once queued)
    PATCH   /transfers/uploads/<id>/     application/offset+octet-stream at Upload-Offset: 204 with the new offset;
                                         409 at another offset; the last chunk answers with the job (Edepot-Job)
                                         or 422 with the one-line reason the SIP was refused
    DELETE  /transfers/uploads/<id>/     the upload removed: 204

for the signed-in person (their session, with the CSRF token in X-CSRFToken). Every rule is the service's
(`edepot.service.transfers`); a body is streamed to disk in blocks, never read whole (so Django's body limits,
which apply to `request.body`, are never reached). An error answers with its status and one line of text.
"""
from __future__ import annotations

import base64
import binascii
from functools import wraps
from typing import Any, Callable

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import http_date
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from edepot.service import Depot
from edepot.service.transfers import upload_expires
from edepot.web.auth import depot_for
from edepot.web.directory_views import refused, status_of
from edepot.web.error_text import shown_error
from ingest.uploads import Upload
from kernel.errors import EdepotError, UploadConflict, UploadTooLarge

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration"
CHUNK_BYTES = 8 * 1024 * 1024  # what the screen's client sends at a time
_STATUS = {UploadConflict: 409, UploadTooLarge: 413}


@never_cache
@login_required
def transfers(request: HttpRequest) -> HttpResponse:
    """The upload form (organisation, file), the progress of the upload under way, and the person's own uploads:
    unfinished (chosen again, the file resumes), queued (with their job) or refused (with the reason)."""
    with depot_for(request) as depot:
        try:
            organisations = depot.upload_organisations()
            uploads = [(u, upload_expires(depot.config, u)) for u in depot.own_uploads()]
        except EdepotError as error:
            return refused(request, error)
        limit = depot.config.transfers.max_bytes
    return render(request, "edepot/transfers/transfers.html", {
        "organisations": organisations, "uploads": uploads, "max_bytes": limit, "chunk_bytes": CHUNK_BYTES})


def _tus(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The protocol's frame around `view`: OPTIONS answered, a signed-in person and Tus-Resumable 1.0.0 asked
    (401, 412), every answer with Tus-Resumable and not to be cached."""
    @wraps(view)
    def framed(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Tus-Version"] = TUS_VERSION
            response["Tus-Extension"] = EXTENSIONS
            with depot_for(request) as depot:
                response["Tus-Max-Size"] = str(depot.config.transfers.max_bytes)
        elif not request.user.is_authenticated:
            response = _text(401, "Meld u eerst aan.")
        elif request.headers.get("Tus-Resumable") != TUS_VERSION:
            response = _text(412, f"Tus-Resumable {TUS_VERSION} is required")
            response["Tus-Version"] = TUS_VERSION
        else:
            response = view(request, *args, **kwargs)
        if request.method == "HEAD":  # never a body (the server would send one, and break the connection's next answer)
            response.content = b""
        response["Tus-Resumable"] = TUS_VERSION
        response["Cache-Control"] = "no-store"
        return response
    return framed


@require_http_methods(["OPTIONS", "POST"])
@_tus
def upload_create(request: HttpRequest) -> HttpResponse:
    """Start an upload (tus creation): its length and metadata (filename, organisation) in the headers."""
    try:
        length = int(request.headers.get("Upload-Length", ""))
        metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
    except ValueError:
        return _text(400, "Upload-Length (a whole number) and Upload-Metadata (key base64-value pairs) are required")
    with depot_for(request) as depot:
        try:
            upload = depot.start_upload(metadata.get("filename", ""), length=length,
                                        organisation=metadata.get("organisation", ""))
        except EdepotError as error:
            return _error(error)
        response = _state(HttpResponse(status=201), upload, depot=depot)
    response["Location"] = request.build_absolute_uri(reverse("upload", args=[upload.upload_id]))
    return response


@require_http_methods(["OPTIONS", "HEAD", "PATCH", "DELETE"])
@_tus
def upload(request: HttpRequest, upload_id: str) -> HttpResponse:
    """One upload of the signed-in person: its offset (HEAD), a chunk added (PATCH), removed (DELETE)."""
    with depot_for(request) as depot:
        try:
            if request.method == "DELETE":
                depot.delete_upload(upload_id)
                return HttpResponse(status=204)
            if request.method == "HEAD":
                return _state(HttpResponse(status=200), depot.own_upload(upload_id), depot=depot)
            return _patch(request, depot, upload_id)
        except EdepotError as error:
            return _error(error)


def _patch(request: HttpRequest, depot: Depot, upload_id: str) -> HttpResponse:
    if request.content_type != "application/offset+octet-stream":
        return _text(415, "a chunk is sent as application/offset+octet-stream")
    try:
        offset, count = int(request.headers.get("Upload-Offset", "")), int(request.headers.get("Content-Length", ""))
    except ValueError:
        return _text(400, "Upload-Offset and Content-Length (whole numbers) are required")
    grown = depot.receive_chunk(upload_id, request, offset=offset, count=count)
    return _state(HttpResponse(status=204), grown, depot=depot)


def _state(response: HttpResponse, upload: Upload, *, depot: Depot) -> HttpResponse:
    """`response` with the upload's offset, length, expiry, and the page of its job once it is queued."""
    response["Upload-Offset"] = str(upload.offset)
    response["Upload-Length"] = str(upload.length)
    response["Upload-Expires"] = http_date(upload_expires(depot.config, upload).timestamp())
    if upload.job_id:
        response["Edepot-Job"] = reverse("job", args=[upload.job_id])
    if upload.refused:
        response["Edepot-Refused"] = "1"
    return response


def _error(error: EdepotError) -> HttpResponse:
    shown = shown_error(error)
    status = next((code for kind, code in _STATUS.items() if isinstance(error, kind)), status_of(error))
    return _text(status, f"{shown.text} {shown.message} ({shown.reference})")


def _text(status: int, line: str) -> HttpResponse:
    return HttpResponse(" ".join(line.split()), status=status, content_type="text/plain; charset=utf-8")


def parse_metadata(header: str) -> dict[str, str]:
    """tus's Upload-Metadata: comma-separated `key base64value` pairs (a key alone has an empty value)."""
    found = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, value = pair.partition(" ")
        try:
            found[key] = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError(f"Upload-Metadata {key}: not base64 of UTF-8 text") from None
    return found
