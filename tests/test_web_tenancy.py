"""Tenancy: every route of the web application and every operation of its API has a test that shows a person of
one organisation sees and changes nothing of another's through it, or is on the list of public routes below.

The routes and operations are listed by the web itself, in a process of its own with the web's settings and the
admin on (tests/web_routes.py); the tests that cross organisations are found by their marker,
`@pytest.mark.crosses_organisations("url-name-or-operationId", ...)`, in the web's test modules. A new route
without such a test fails here, by name.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

# Routes that show and change nothing of any organisation, each with the reason it is public.
PUBLIC_ROUTES = {
    "sign-in": "the sign-in form",
    "sign-out": "ends the session of whoever is signed in",
    "set_language": "the language switch",
    "api-schema": "the API's description, the same for everybody",
    "sign-in-code": "the second step of a sign-in: a code, for the person who gave their password",
    "sign-in-enrol": "enrolling one's own second factor during a sign-in",
    "second-factor": "the signed-in person's own second factor, nothing of any organisation",
    "oidc_authentication_init": "sends a person to their organisation's provider to sign in",
    "oidc_authentication_callback": "the provider's answer: signs the person in with their mapped roles",
}
MARKER = "crosses_organisations"
TEST_MODULES = "test_web*.py"


def marked_routes(folder: Path = REPO / "tests") -> dict[str, list[str]]:
    """Every route and operation a test of the web's test modules is marked to cross organisations for, with the
    tests (module::function) that do."""
    found: dict[str, list[str]] = {}
    for module in sorted(folder.glob(TEST_MODULES)):
        tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for decorator in function.decorator_list:
                if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute) \
                        and decorator.func.attr == MARKER:
                    for arg in decorator.args:
                        assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), \
                            f"{module.name}::{function.name}: name routes with plain strings"
                        found.setdefault(arg.value, []).append(f"{module.name}::{function.name}")
    return found


def unguarded(served: dict[str, dict[str, str]], marked: dict[str, list[str]], public: dict[str, str]) -> list[str]:
    """Each route or operation with neither a cross-organisation test nor a place among the public routes, as a
    line naming it and where it is."""
    return [f"{kind[:-1]} {name!r} ({where})" for kind in ("routes", "operations")
            for name, where in served[kind].items() if name not in marked and name not in public]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """The web's routes (URL name: pattern) and its schema's operations (operationId: METHOD path)."""
    data_dir = tmp_path_factory.mktemp("tenancy") / "data"
    data_dir.mkdir()
    # the admin and single sign-on on, so that their routes exist too (the provider is never asked)
    (data_dir / "edepot.toml").write_text(
        '[web]\nadmin = true\n[web.oidc]\nclient_id = "edepot"\n'
        'discovery_url = "https://login.example.nl/.well-known/openid-configuration"\n'
        '[web.oidc.groups]\narchief = ["archivist"]\n', encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if k not in ("EDEPOT_TOKEN",)},
           "DJANGO_SETTINGS_MODULE": "edepot.web.settings", "EDEPOT_DATA": str(data_dir),
           "EDEPOT_OIDC_CLIENT_SECRET": "geheim"}
    listed = subprocess.run([sys.executable, "tests/web_routes.py"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    routes: dict[str, dict[str, str]] = json.loads(listed.stdout)
    return routes


def test_every_route_and_operation_has_a_cross_organisation_test_or_is_public(
        served: dict[str, dict[str, str]]) -> None:
    missing = unguarded(served, marked_routes(), PUBLIC_ROUTES)
    assert not missing, (
        "no test shows that one organisation sees nothing of another's through:\n  " + "\n  ".join(missing)
        + f"\nwrite one and mark it @pytest.mark.{MARKER}(NAME, ...) in tests/{TEST_MODULES}, or, when the route "
          "shows and changes nothing of any organisation, add it to PUBLIC_ROUTES in tests/test_web_tenancy.py")


def test_every_name_marked_or_listed_public_is_a_route_or_operation(served: dict[str, dict[str, str]]) -> None:
    known = set(served["routes"]) | set(served["operations"])
    stale = {name: tests for name, tests in marked_routes().items() if name not in known}
    assert not stale, f"marked for routes the web does not have (renamed or removed?): {stale}"
    assert not set(PUBLIC_ROUTES) - known, "PUBLIC_ROUTES names routes the web does not have"
    assert not set(PUBLIC_ROUTES) & set(marked_routes()), "a public route has a cross-organisation test: which is it?"


def test_the_walker_names_a_route_that_has_no_such_test(tmp_path: Path) -> None:
    served = {"routes": {"people": "people/", "new-screen": "new/<int:n>/"},
              "operations": {"people_list": "GET /api/v1/people/", "new_thing": "POST /api/v1/new/"}}
    (tmp_path / "test_web_example.py").write_text(
        "import pytest\n\n@pytest.mark.crosses_organisations('people', 'people_list')\ndef test_x():\n    pass\n",
        encoding="utf-8")
    marked = marked_routes(tmp_path)
    assert marked == {"people": ["test_web_example.py::test_x"], "people_list": ["test_web_example.py::test_x"]}
    assert unguarded(served, marked, {}) == ["route 'new-screen' (new/<int:n>/)",
                                             "operation 'new_thing' (POST /api/v1/new/)"]
    assert unguarded(served, marked, {"new-screen": "x", "new_thing": "y"}) == []
