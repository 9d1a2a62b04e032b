"""The server's own time for each response, as a `Server-Timing: app;dur=<ms>` header: from the first middleware
to the response made (not the application server's queue, nor sending the body). Off unless $EDEPOT_SERVER_TIMING
is set (benchmarks/desk_bench.py sets it): it tells a client how long the server worked."""
from __future__ import annotations

import time
from typing import Callable

from django.http import HttpRequest, HttpResponse


class ServerTimingMiddleware:
    """Adds the milliseconds the request took in Django to its response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        began = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - began) * 1000:.2f}"
        return response
