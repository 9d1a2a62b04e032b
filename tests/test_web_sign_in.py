"""Signing in to the web as people meet it through `edepot serve`: archivists and administrators enrol a TOTP
second factor at their first sign-in and give its code every time after; repeated failures lock a name out from an
address; an organisation's OpenID Connect provider (oidc-provider-mock on loopback) signs people in with the roles
their groups map to; sessions end when idle and after a maximum; every response carries the security headers.
Browser flows run in Debian's chromium, by mouse and by keyboard only, checked with axe."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from kernel.config import load_config
from kernel.errors import InputError
from tests.web_server import (
    ADMIN,
    PASSWORD,
    SECOND_FACTORS,
    People,
    WebServer,
    check_screen,
    chromium,
    dutch_page,
    edepot,
    enrolled_key,
    form_post,
    http_session,
    next_code,
    register,
    register_admin,
    served,
    sign_in_page,
    tab_to,
    totp,
)

ARCHIVIST = "B. Archivaris"
RESEARCHER = "R. Onderzoeker"
OFFICER = "W. Medewerker"
CLIENT_SECRET = "het-geheim-van-de-test-client"
OIDC_TOML = """
[web]
sign_in_failures = 3
lockout_seconds = 600

[web.oidc]
discovery_url = "http://localhost:{port}/.well-known/openid-configuration"
client_id = "edepot-test"
label = "Gemeente Voorbeeldstad"

[web.oidc.groups]
archief = ["archivist"]
"gm0363-informatiebeheer" = ["records-manager@gm0363"]
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[Any]:
    """An OpenID Connect provider on loopback, with people in and out of the mapped groups."""
    from oidc_provider_mock import User, run_server_in_thread

    people = [User(sub="jdevries", claims={"preferred_username": "J. de Vries",
                                           "groups": ["archief", "/gm0363-informatiebeheer", "kantine"]}),
              User(sub="niemand", claims={"preferred_username": "N. Iemand", "groups": ["kantine"]}),
              User(sub="overname", claims={"preferred_username": ARCHIVIST, "groups": ["archief"]})]
    with run_server_in_thread(user_claims=people) as server:
        yield server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, provider: Any) -> Iterator[tuple[WebServer, People]]:
    data_dir = tmp_path_factory.mktemp("sign-in") / "data"
    people = register_admin(data_dir)
    assert edepot(data_dir, ["organisation", "add", "gm0363", "--name", "Gemeente Amsterdam"],
                  token=people.admin_token)["exit"] == 0
    register(data_dir, people, ARCHIVIST, "archivist")
    register(data_dir, people, RESEARCHER, "researcher@gm0363")
    register(data_dir, people, OFFICER, "woo-officer@gm0363")
    (data_dir / "edepot.toml").write_text(OIDC_TOML.format(port=provider.server_port), encoding="utf-8")
    with served(data_dir, extra_env={"EDEPOT_OIDC_CLIENT_SECRET": CLIENT_SECRET}) as server:
        yield server, people


def audit_log(server: WebServer, people: People) -> list[dict[str, Any]]:
    """The audit log, read by the first administrator on the command line."""
    return list(edepot(server.data_dir, ["audit"], token=people.admin_token)["json"]["entries"])


def actions(log: list[dict[str, Any]], person: str, action: str = "sign in") -> list[tuple[str, str]]:
    """(action, outcome) of `person`'s entries in `log` whose action starts with `action`."""
    return [(e["action"], e["outcome"]) for e in log if e["person"] == person and e["action"].startswith(action)]


def roles(server: WebServer, people: People) -> dict[str, list[dict[str, Any]]]:
    """Everybody's roles, by name."""
    listed = edepot(server.data_dir, ["user", "list"], token=people.admin_token)["json"]["people"]
    return {p["name"]: p["roles"] for p in listed}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as started:
        yield started


def csp_watched(page: Any) -> list[str]:
    """The console's complaints about the content security policy on `page` (an inline script or style)."""
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(message.text)
            if "Content Security Policy" in message.text else None)
    return complaints


def test_an_archivist_enrols_a_second_factor_and_then_signs_in_with_its_codes(site: tuple[WebServer, People],
                                                                               browser: Any) -> None:
    server, people = site
    page: Any = dutch_page(browser)
    complaints = csp_watched(page)
    sign_in_page(page, server, ARCHIVIST, second_factor=False)
    page.wait_for_url(f"{server.url}/sign-in/enrol/")
    assert page.get_by_role("img", name="QR-code voor uw authenticator-app").is_visible()
    check_screen(page, "sign-in-enrol")
    key = enrolled_key(page.content())
    now = int(time.time()) // 30
    page.get_by_label("Code die de app nu toont").fill(totp(key, now + 5))  # not a code of now
    page.get_by_role("button", name="Instellen en aanmelden").click()
    assert "De code klopt niet" in page.get_by_role("alert").inner_text()
    page.get_by_label("Code die de app nu toont").fill(next_code(server, ARCHIVIST, enrol_key=key))
    page.get_by_role("button", name="Instellen en aanmelden").click()
    page.wait_for_url(f"{server.url}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Overzicht"
    page.get_by_role("button", name="Afmelden").click()
    page.wait_for_url(f"{server.url}/sign-in/")

    sign_in_page(page, server, ARCHIVIST, second_factor=False)
    page.wait_for_url(f"{server.url}/sign-in/code/")
    check_screen(page, "sign-in-code")
    used = SECOND_FACTORS[(server.data_dir, ARCHIVIST.casefold())].last_step
    page.get_by_label("Code").fill(totp(key, used))  # the code used to enrol: never accepted twice
    page.get_by_role("button", name="Bevestigen").click()
    assert "De code klopt niet, of is al gebruikt" in page.get_by_role("alert").inner_text()
    page.get_by_label("Code").fill(next_code(server, ARCHIVIST))
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_url(f"{server.url}/")
    assert complaints == []
    log = audit_log(server, people)
    assert actions(log, ARCHIVIST) == [
        ("sign in", "done"), ("sign in enrol second factor", "refused"), ("sign in enrol second factor", "done"),
        ("sign in", "done"), ("sign in second factor", "refused"), ("sign in second factor", "done")]
    assert actions(log, ARCHIVIST, "sign out") == [("sign out", "done")]
    # no credential is the target of an entry: not the password, the enrolled secret, nor a code
    assert {e["target"] for e in log if e["person"] == ARCHIVIST and e["action"].startswith("sign in")} == {""}


def test_an_administrator_enrols_and_signs_in_by_keyboard_only(site: tuple[WebServer, People],
                                                               browser: Any) -> None:
    server, _ = site
    page: Any = dutch_page(browser)
    page.goto(f"{server.url}/")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_username'")  # autofocus
    page.keyboard.type(ADMIN)  # the name field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/sign-in/enrol/")
    tab_to(page, "#id_code")
    page.keyboard.type(next_code(server, ADMIN, enrol_key=enrolled_key(page.content())))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/")
    tab_to(page, "form.sign-out button")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/sign-in/")
    tab_to(page, "#id_username")
    page.keyboard.type(ADMIN)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/sign-in/code/")
    page.keyboard.type(next_code(server, ADMIN))  # the code field has the focus
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Overzicht"


def test_the_organisations_provider_signs_people_in_with_the_roles_of_their_groups(
        site: tuple[WebServer, People], provider: Any, browser: Any) -> None:
    server, people = site
    page: Any = dutch_page(browser)
    complaints = csp_watched(page)
    page.goto(f"{server.url}/sign-in/")
    page.get_by_role("link", name="Aanmelden via Gemeente Voorbeeldstad").click()
    page.get_by_role("button", name="jdevries").click()  # the provider's own sign-in
    page.wait_for_url(f"{server.url}/")
    assert "Welkom, J. de Vries." in page.content()
    assert roles(server, people)["J. de Vries"] == [{"role": "archivist", "organisation": None},
                                                      {"role": "records-manager", "organisation": "gm0363"}]
    page.get_by_role("button", name="Afmelden").click()
    page.wait_for_url(f"{server.url}/sign-in/")

    # the provider takes them out of the archivists' group: the next sign-in takes the role (by keyboard)
    changed = requests.put(f"http://localhost:{provider.server_port}/users/jdevries", timeout=10,
                           json={"preferred_username": "J. de Vries", "groups": ["gm0363-informatiebeheer"]})
    assert changed.status_code == 204
    tab_to(page, "a.button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
    tab_to(page, "button[value=jdevries]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/")
    assert roles(server, people)["J. de Vries"] == [{"role": "records-manager", "organisation": "gm0363"}]
    page.get_by_role("button", name="Afmelden").click()

    for sub in ("niemand", "overname"):  # in no mapped group; a name that signs in here with a password
        page.goto(f"{server.url}/sign-in/")
        page.get_by_role("link", name="Aanmelden via Gemeente Voorbeeldstad").click()
        page.get_by_role("button", name=sub).click()
        page.wait_for_url(f"{server.url}/sign-in/?sso=refused")
        assert "Aanmelden via uw organisatie is niet gelukt" in page.get_by_role("alert").inner_text()
    check_screen(page, "sign-in-refused-by-provider")
    assert complaints == []
    log = audit_log(server, people)
    assert actions(log, "J. de Vries", "sign in oidc") == [("sign in oidc", "done")] * 2
    assert actions(log, "N. Iemand", "sign in oidc") == [("sign in oidc", "refused")]
    assert actions(log, ARCHIVIST, "sign in oidc") == [("sign in oidc", "refused")]
    everybody = roles(server, people)
    assert [r["role"] for r in everybody[ARCHIVIST]] == ["archivist"] and "N. Iemand" not in everybody


def test_a_researcher_enrols_a_second_factor_of_their_own_accord(site: tuple[WebServer, People],
                                                                 browser: Any) -> None:
    server, people = site
    page: Any = dutch_page(browser)
    sign_in_page(page, server, RESEARCHER)
    page.wait_for_url(f"{server.url}/")  # a researcher's role asks no second factor
    page.goto(f"{server.url}/second-factor/")
    check_screen(page, "second-factor")
    page.get_by_label("Code die de app nu toont").fill(
        next_code(server, RESEARCHER, enrol_key=enrolled_key(page.content())))
    page.get_by_role("button", name="Instellen").click()
    page.wait_for_url(f"{server.url}/")
    assert "Uw tweede stap is ingesteld" in page.get_by_role("status").inner_text()
    page.get_by_role("button", name="Afmelden").click()
    sign_in_page(page, server, RESEARCHER, second_factor=False)
    page.wait_for_url(f"{server.url}/sign-in/code/")  # asked from now on
    assert ("sign in enrol second factor", "done") in actions(audit_log(server, people), RESEARCHER)


def test_failed_sign_ins_lock_the_name_out_from_that_address(site: tuple[WebServer, People],
                                                             browser: Any) -> None:
    server, people = site
    page: Any = dutch_page(browser)
    for _ in range(3):
        sign_in_page(page, server, RESEARCHER, "niet-het-wachtwoord")
    alert = page.get_by_role("alert").inner_text()
    assert alert == "Te veel mislukte pogingen om aan te melden. Probeer het over 10 minuten opnieuw."
    check_screen(page, "sign-in-locked-out")
    right, _ = form_post(requests.Session(), f"{server.url}/sign-in/",
                         {"username": RESEARCHER.upper(), "password": PASSWORD})
    assert right.status_code == 429 and "Te veel mislukte pogingen" in right.text  # even the right password
    assert http_session(server, OFFICER).get(f"{server.url}/", timeout=30).status_code == 200  # another name

    # wrong codes count as wrong passwords do
    session = requests.Session()
    answer, _ = form_post(session, f"{server.url}/sign-in/", {"username": ADMIN, "password": PASSWORD})
    assert answer.headers["Location"] == "/sign-in/code/"
    key = SECOND_FACTORS[(server.data_dir, ADMIN.casefold())].key
    for _attempt in range(3):
        answer, _ = form_post(session, f"{server.url}/sign-in/code/", {"code": totp(key, int(time.time()) // 30 + 9)})
    assert answer.status_code == 429 and "Te veel mislukte pogingen" in answer.text
    log = audit_log(server, people)
    assert ("sign in locked out", "refused") in actions(log, RESEARCHER)
    assert actions(log, ADMIN)[-4:] == [("sign in second factor", "refused")] * 3 + [("sign in locked out", "refused")]


def test_a_new_role_or_a_reset_asks_for_the_second_factor_again(site: tuple[WebServer, People]) -> None:
    server, people = site
    session = http_session(server, OFFICER)
    assert session.get(f"{server.url}/", allow_redirects=False, timeout=30).status_code == 200
    assert edepot(server.data_dir, ["user", "grant", OFFICER, "--role", "archivist"],
                  token=people.admin_token)["exit"] == 0
    signed_out = session.get(f"{server.url}/", allow_redirects=False, timeout=30)
    assert signed_out.status_code == 302 and "/sign-in/" in signed_out.headers["Location"]

    done = edepot(server.data_dir, ["user", "reset-second-factor", ARCHIVIST], user=ARCHIVIST,
                  token=people.token(ARCHIVIST))
    assert done["exit"] == 2 and "E114" in done["error"]  # only administrators reset a second factor
    done = edepot(server.data_dir, ["user", "reset-second-factor", ARCHIVIST], token=people.admin_token)
    assert done["exit"] == 0, done["error"]
    answer, _ = form_post(requests.Session(), f"{server.url}/sign-in/", {"username": ARCHIVIST, "password": PASSWORD})
    assert answer.status_code == 302 and answer.headers["Location"] == "/sign-in/enrol/"
    assert ("user reset second factor", "done") in actions(audit_log(server, people), ADMIN, "user reset")


def test_sessions_end_when_idle_and_after_their_maximum(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    people = register_admin(data_dir)
    register(data_dir, people, RESEARCHER, "researcher")
    (data_dir / "edepot.toml").write_text("[web]\nsession_idle_seconds = 3\nsession_max_seconds = 6\n")
    with served(data_dir) as server:
        idle = http_session(server, RESEARCHER)
        busy = http_session(server, RESEARCHER)
        started = time.monotonic()
        for second in range(6):  # a request every second: never idle for 3 seconds
            time.sleep(max(0.0, started + second - time.monotonic()))
            assert busy.get(f"{server.url}/", allow_redirects=False, timeout=30).status_code == 200
            if second == 4:
                assert idle.get(f"{server.url}/", allow_redirects=False, timeout=30).status_code == 302
        time.sleep(max(0.0, started + 6.5 - time.monotonic()))  # but 6 seconds after signing in
        ended = busy.get(f"{server.url}/", timeout=30)
        assert ended.url.startswith(f"{server.url}/sign-in/") and "Uw sessie is verlopen" in ended.text


def test_every_response_carries_the_security_headers_and_forms_need_their_token(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "edepot.toml").write_text("[web]\nhttps = true\n")
    with served(data_dir) as server:
        page = requests.get(f"{server.url}/sign-in/", timeout=30)
        policy = page.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert "style-src 'self'" in policy and "unsafe-inline" not in policy
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["Referrer-Policy"] == "same-origin"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert re.search(r"csrftoken=[^;]+;.*Secure", page.headers["Set-Cookie"])
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text) and " style=" not in page.text
        assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>' in page.text
        forged = requests.post(f"{server.url}/sign-in/", data={"username": ADMIN, "password": PASSWORD},
                               headers={"Referer": f"{server.url}/sign-in/"}, allow_redirects=False, timeout=30)
        assert forged.status_code == 403
        for path in ("/api/v1/me/", "/static/edepot/edepot.css"):
            assert "frame-ancestors 'none'" in requests.get(f"{server.url}{path}", timeout=30).headers[
                "Content-Security-Policy"]


def test_the_single_sign_on_settings_are_checked_when_read(tmp_path: Path) -> None:
    (tmp_path / "edepot.toml").write_text('[web.oidc]\nclient_id = "edepot"\n[web.oidc.groups]\na = ["archivist"]\n')
    with pytest.raises(InputError, match="discovery_url or all of"):
        load_config(tmp_path)
    (tmp_path / "oidc.toml").write_text('client_secret = "uit-het-bestand"\n')
    (tmp_path / "edepot.toml").write_text(
        '[web]\nsession_idle_seconds = 60\n[web.oidc]\nclient_id = "edepot"\n'
        f'discovery_url = "https://login.example.nl/.well-known/openid-configuration"\nsecrets = "{tmp_path}/oidc.toml"\n'
        '[web.oidc.groups]\narchief = ["archivist", "reviewer@gm0363"]\n')
    web = load_config(tmp_path).web
    assert web.session_idle_seconds == 60 and web.session_max_seconds == 12 * 3600 and web.sign_in_failures == 5
    assert web.oidc is not None and web.oidc.groups == {"archief": ("archivist", "reviewer@gm0363")}
    assert web.oidc.client_secret() == "uit-het-bestand"
    (tmp_path / "edepot.toml").write_text('[web]\nsession_max_seconds = 0\n')
    with pytest.raises(InputError, match="session_max_seconds must be a positive"):
        load_config(tmp_path)
