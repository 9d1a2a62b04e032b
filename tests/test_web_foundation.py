"""The web application's foundation, as its users meet it through `edepot serve`: the first administrator made on
the command line signs in with their password, the API answers personal tokens in one error shape, the schema is
served, and the screens pass axe in Debian's chromium."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.web_server import (
    ADMIN,
    PASSWORD,
    People,
    WebServer,
    api,
    check_screen,
    chromium,
    dutch_page,
    edepot,
    http_session,
    register_admin,
    served,
    sign_in_page,
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebServer, People]]:
    data_dir = tmp_path_factory.mktemp("web") / "data"
    people = register_admin(data_dir)
    with served(data_dir) as server:
        yield server, people


def test_the_first_administrator_gets_a_password_shown_once(tmp_path: Path) -> None:
    done = edepot(tmp_path / "data", ["user", "add", "B. Eerste", "--admin"], user=None)
    assert done["exit"] == 0, done["error"]
    assert len(done["json"]["password"]) >= 12 and done["json"]["roles"] == [
        {"role": "administrator", "organisation": None}]
    log = edepot(tmp_path / "data", ["audit"], user="B. Eerste", token=done["json"]["token"])["json"]["entries"]
    assert [(e["person"], e["action"], e["target"], e["outcome"]) for e in log][:1] == [
        ("B. Eerste", "user add", "B. Eerste", "done")]


def test_a_weak_password_is_refused_in_one_line(tmp_path: Path) -> None:
    done = edepot(tmp_path / "data", ["user", "add", "B. Eerste", "--admin", "--password-stdin"], stdin="123456789012\n",
                  user=None)
    assert done["exit"] == 2 and done["error"].startswith("edepot: error E100: a password needs at least 12")
    assert "Traceback" not in done["error"]


def test_the_screens_speak_dutch_first_and_english_when_asked(site: tuple[WebServer, People]) -> None:
    import requests

    server, _ = site
    dutch = requests.get(f"{server.url}/sign-in/", timeout=30)
    assert '<html lang="nl">' in dutch.text and "<h1>Aanmelden</h1>" in dutch.text
    english = requests.get(f"{server.url}/sign-in/", headers={"Accept-Language": "en-GB,en;q=0.9"}, timeout=30)
    assert '<html lang="en">' in english.text and "<h1>Sign in</h1>" in english.text
    assert "Naam" not in english.text and ">Password</label>" in english.text


def test_a_person_signs_in_with_their_password_and_a_wrong_one_is_audited(site: tuple[WebServer, People]) -> None:
    server, people = site
    session = http_session(server, ADMIN.lower())  # the name as typed: case and spacing do not matter
    assert "Welkom, A. Beheerder." in session.get(f"{server.url}/", timeout=30).text
    import requests

    anonymous = requests.get(f"{server.url}/", allow_redirects=False, timeout=30)
    assert anonymous.status_code == 302 and "/sign-in/" in anonymous.headers["Location"]
    form = requests.Session()
    page = form.get(f"{server.url}/sign-in/", timeout=30)
    csrf = page.cookies.get("csrftoken") or form.cookies.get("csrftoken")
    wrong = form.post(f"{server.url}/sign-in/", data={"csrfmiddlewaretoken": csrf, "username": ADMIN,
                                                      "password": "niet-het-wachtwoord"},
                      headers={"Referer": f"{server.url}/sign-in/"}, timeout=30)
    assert wrong.status_code == 200 and "Naam of wachtwoord klopt niet." in wrong.text
    log = edepot(server.data_dir, ["audit", "--action", "sign in"], token=people.admin_token)["json"]["entries"]
    assert [(e["person"], e["action"], e["outcome"]) for e in log][-3:] == [
        ("a. beheerder", "sign in", "done"), (ADMIN, "sign in enrol second factor", "done"),
        (ADMIN, "sign in", "refused")]
    assert log[-1]["address"].startswith("web from 127.0.0.1")


@pytest.mark.crosses_organisations("api-me", "me")
def test_the_api_answers_a_personal_token_and_refuses_in_one_shape(site: tuple[WebServer, People]) -> None:
    server, people = site
    me = api(server, people.admin_token, "GET", "/api/v1/me/")
    assert me.status_code == 200 and me.json() == {"name": ADMIN, "active": True,
                                                   "roles": [{"role": "administrator", "organisation": None}]}
    nobody = api(server, None, "GET", "/api/v1/me/")
    assert nobody.status_code == 401 and nobody.json()["error"]["reference"] == "E112"
    stranger = api(server, "not-a-token", "GET", "/api/v1/me/")
    assert stranger.status_code in (401, 403) and stranger.json()["error"]["reference"] == "E113"
    schema = api(server, None, "GET", "/api/v1/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert schema.status_code == 200
    assert "personalToken" in schema.text and "/api/v1/me/" in schema.text


def test_sign_in_and_out_in_a_browser(site: tuple[WebServer, People]) -> None:
    server, _ = site
    with chromium() as browser:
        page: Any = dutch_page(browser)
        page.goto(f"{server.url}/")
        assert page.url.endswith("/sign-in/?next=/")
        check_screen(page, "sign-in")
        sign_in_page(page, server, ADMIN, "niet-het-wachtwoord")
        assert page.get_by_role("alert").inner_text() == "Naam of wachtwoord klopt niet."
        check_screen(page, "sign-in-refused")
        sign_in_page(page, server, ADMIN, PASSWORD)
        page.wait_for_url(f"{server.url}/")
        assert page.get_by_role("heading", level=1).inner_text() == "Overzicht"
        check_screen(page, "dashboard")
        page.get_by_role("button", name="Afmelden").click()
        page.wait_for_url(f"{server.url}/sign-in/")


def test_serve_starts_one_worker_that_does_the_queued_jobs_and_stops_with_it(tmp_path: Path) -> None:
    import time

    data_dir = tmp_path / "data"
    queued = edepot(data_dir, ["fixity", "run", "--queue"], user="A. Rchivaris")
    assert queued["exit"] == 0, queued["error"]
    with served(data_dir, worker=True) as server:
        deadline = time.monotonic() + 60
        while (shown := edepot(data_dir, ["jobs", "show", queued["json"]["job_id"]]))["json"]["state"] != "done":
            assert time.monotonic() < deadline, shown
            time.sleep(0.5)
        workers = subprocess.run(["pgrep", "-f", "--", f"--data-dir {data_dir} worker"], capture_output=True, text=True)
        assert len(workers.stdout.split()) == 1
    assert server.process.returncode == 0
    time.sleep(1)
    assert subprocess.run(["pgrep", "-f", "--", f"--data-dir {data_dir} worker"]).returncode == 1  # stopped with it
