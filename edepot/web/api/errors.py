"""Every API error in one JSON shape, carrying the command line's error reference:

    {"error": {"reference": "E114", "message": "...", "hint": "..."}}

with the HTTP status the reference stands for (not found 404, not permitted 403, bad input 400, a storage
failure 503, ...)."""
from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from kernel.errors import (
    AccessDenied,
    AlreadyIngested,
    CredentialNeeded,
    EdepotError,
    InputError,
    InvalidPackage,
    NoActingPerson,
    NotFound,
    NotPermitted,
    NotRegistered,
    RecordExists,
    StorageFailure,
)

# the most specific class first
STATUS_OF: list[tuple[type[EdepotError], int]] = [
    (NotFound, status.HTTP_404_NOT_FOUND),
    (NotPermitted, status.HTTP_403_FORBIDDEN),
    (CredentialNeeded, status.HTTP_403_FORBIDDEN),
    (NotRegistered, status.HTTP_403_FORBIDDEN),
    (AccessDenied, status.HTTP_403_FORBIDDEN),
    (NoActingPerson, status.HTTP_401_UNAUTHORIZED),
    (AlreadyIngested, status.HTTP_409_CONFLICT),
    (RecordExists, status.HTTP_409_CONFLICT),
    (InputError, status.HTTP_400_BAD_REQUEST),
    (InvalidPackage, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (StorageFailure, status.HTTP_503_SERVICE_UNAVAILABLE),
]

# the framework's own errors, by the reference of the edepot error they amount to
FRAMEWORK_REFERENCES: list[tuple[type[Exception], str]] = [
    (exceptions.NotAuthenticated, NoActingPerson.ref),
    (exceptions.AuthenticationFailed, NotRegistered.ref),
    (exceptions.PermissionDenied, NotPermitted.ref),
    (exceptions.NotFound, NotFound.ref),
]


def error_body(reference: str, message: str, hint: str = "") -> dict[str, Any]:
    """The one shape of an API error."""
    return {"error": {"reference": reference, "message": message, "hint": hint}}


def api_error(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler: edepot's errors by their reference, the framework's in the same shape."""
    if isinstance(exc, EdepotError):
        code = next((code for kind, code in STATUS_OF if isinstance(exc, kind)), status.HTTP_500_INTERNAL_SERVER_ERROR)
        return Response(error_body(exc.ref, str(exc), exc.hint or ""), status=code)
    response = exception_handler(exc, context)
    if response is None:
        return None
    reference = next((ref for kind, ref in FRAMEWORK_REFERENCES if isinstance(exc, kind)), InputError.ref)
    detail = response.data.get("detail") if isinstance(response.data, dict) else None
    message = str(detail) if detail is not None else _fields(response.data)
    response.data = error_body(reference, message)
    return response


def _fields(data: Any) -> str:
    """A validation error's fields in one line."""
    if isinstance(data, dict):
        return "; ".join(f"{field}: {' '.join(map(str, problems if isinstance(problems, list) else [problems]))}"
                         for field, problems in data.items())
    return " ".join(map(str, data)) if isinstance(data, list) else str(data)
