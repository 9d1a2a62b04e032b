"""The screens: each view asks the Depot service (through `edepot.web.auth.depot_for`) and renders a template;
no rule lives here."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """What needs the signed-in person's attention now."""
    return render(request, "edepot/dashboard.html", {})
