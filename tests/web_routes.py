"""Prints, as JSON, every route of the web application and every operation of its served OpenAPI schema; run by
tests/test_web_tenancy.py in a process of its own with the web's settings (DJANGO_SETTINGS_MODULE=
edepot.web.settings, EDEPOT_DATA a data directory with `[web] admin = true`, so that the admin's routes exist).

A route is named by its URL name (namespace:name), or by its pattern when it has none; every route under the
admin is the one family "admin".
"""
from __future__ import annotations

import json
import os

import django

assert os.environ.get("DJANGO_SETTINGS_MODULE") == "edepot.web.settings", "run by tests/test_web_tenancy.py"
django.setup()

from django.test import Client  # noqa: E402  (after django.setup)
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import URLPattern, URLResolver, get_resolver  # noqa: E402

ADMIN_FAMILY = "admin"


def routes(patterns: list[URLPattern | URLResolver], prefix: str = "", namespace: str = "") -> dict[str, str]:
    """Each route's name and its full pattern."""
    found: dict[str, str] = {}
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith("admin/"):
            found[ADMIN_FAMILY] = "admin/…"
        elif isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found.update(routes(pattern.url_patterns, route, inner))
        else:
            found[f"{namespace}{pattern.name}" if pattern.name else route] = route
    return found


def operations() -> dict[str, str]:
    """Each operation of the schema as /api/v1/schema/ serves it: its operationId and METHOD path."""
    setup_test_environment()
    served = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert served.status_code == 200, served.status_code
    schema = json.loads(served.content)
    return {operation.get("operationId", f"{method.upper()} {where}"): f"{method.upper()} {where}"
            for where, methods in schema["paths"].items() for method, operation in methods.items()
            if method in ("get", "put", "post", "patch", "delete", "head", "options")}


print(json.dumps({"routes": routes(get_resolver().url_patterns), "operations": operations()}, indent=1))
