"""The administrators' screens and API of people and organisations, through a running `edepot serve`: an
administrator for every organisation registers, grants, disables, issues tokens and sets passwords; an
administrator of one organisation sees and changes that organisation's people only; anybody else gets no such
screen. In Debian's chromium too, by mouse and by keyboard only, with axe on every screen."""
from __future__ import annotations

import re
from typing import Any, Iterator
from urllib.parse import quote

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
    http_session,
    register_admin,
    served,
    sign_in_by_keyboard,
    sign_in_page,
    tab_to,
)

ONE, TWO = "gm0001", "gm0002"
PEOPLE = {"A. Archivaris": [("archivist", ONE)], "B. Beheerder": [("administrator", TWO)],
          "B. Medewerker": [("records-manager", TWO)], "G. Gedeeld": [("archivist", ONE), ("archivist", TWO)]}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebServer, People]]:
    """Two organisations; an archivist of the first, an administrator and a records manager of the second, and an
    archivist of both; the admin on."""
    data_dir = tmp_path_factory.mktemp("web") / "data"
    people = register_admin(data_dir)
    (data_dir / "edepot.toml").write_text("[web]\nadmin = true\n", encoding="utf-8")
    with served(data_dir) as server:
        for identifier, name in ((ONE, "Gemeente Een"), (TWO, "Gemeente Twee")):
            answer = api(server, people.admin_token, "POST", "/api/v1/organisations/",
                         json={"organisation_id": identifier, "name": name})
            assert answer.status_code == 201, answer.text
        for name, roles in PEOPLE.items():
            answer = api(server, people.admin_token, "POST", "/api/v1/people/",
                         json={"name": name, "roles": [{"role": r, "organisation": o} for r, o in roles],
                               "password": PASSWORD})
            assert answer.status_code == 201, answer.text
            people.tokens[name] = answer.json()["token"]
        yield server, people


def page_of(name: str, action: str = "") -> str:
    return f"/people/{quote(name)}/" + (f"{action}/" if action else "")


def form_post(session: Any, server: WebServer, path: str, data: dict[str, Any], **headers: str) -> Any:
    """A form's POST from a signed-in session, with its CSRF token."""
    return session.post(f"{server.url}{path}", data={"csrfmiddlewaretoken": session.cookies["csrftoken"], **data},
                        headers={"Referer": f"{server.url}{path}", **headers}, allow_redirects=False, timeout=30)


def error_of(answer: Any) -> str:
    """The error a page shows, in words."""
    found = re.search(r'<div class="error".*?</div>', answer.text, re.S)
    assert found, answer.text[:2000]
    return found.group(0)


def listed(server: WebServer, people: People) -> dict[str, Any]:
    """Everybody as the administrator for every organisation sees them, by name."""
    answer = api(server, people.admin_token, "GET", "/api/v1/people/")
    assert answer.status_code == 200
    return {p["name"]: p for p in answer.json()}


def untouched(server: WebServer, people: People) -> None:
    """The first organisation's people are as the fixture registered them, and still work."""
    everybody = listed(server, people)
    assert everybody["A. Archivaris"] == {"name": "A. Archivaris", "active": True,
                                          "roles": [{"role": "archivist", "organisation": ONE}]}
    assert everybody["G. Gedeeld"]["active"] and len(everybody["G. Gedeeld"]["roles"]) == 2
    assert api(server, people.token("A. Archivaris"), "GET", "/api/v1/me/").status_code == 200


@pytest.mark.crosses_organisations("people", "person", "person-grant", "person-disable", "person-token",
                                   "person-password", "organisations", "admin")
def test_an_organisations_administrator_sees_and_changes_only_its_people_on_the_screens(
        site: tuple[WebServer, People]) -> None:
    server, people = site
    b = http_session(server, "B. Beheerder")
    shown = b.get(f"{server.url}/people/", timeout=30)
    assert shown.status_code == 200
    for name in ("B. Beheerder", "B. Medewerker", "G. Gedeeld"):
        assert name in shown.text
    assert "A. Archivaris" not in shown.text and ADMIN not in shown.text and ONE not in shown.text
    shared = b.get(f"{server.url}{page_of('G. Gedeeld')}", timeout=30)
    assert shared.status_code == 200 and TWO in shared.text and ONE not in shared.text
    organisations = b.get(f"{server.url}/organisations/", timeout=30)
    assert "Gemeente Twee" in organisations.text and "Gemeente Een" not in organisations.text
    assert 'name="organisation_id"' not in organisations.text  # registering organisations is not theirs
    for path in (page_of("A. Archivaris"), page_of(ADMIN)):
        assert b.get(f"{server.url}{path}", timeout=30).status_code == 404, path
    refusals = [  # (path, form, status): somebody of the other organisation is not found, as if not registered
        (page_of("A. Archivaris", "roles"), {"role": "researcher", "organisation": TWO}, 404),
        (page_of("A. Archivaris", "disable"), {}, 404),
        (page_of("A. Archivaris", "tokens"), {}, 404),
        (page_of("A. Archivaris", "password"), {"password": "een-ander-wachtwoord-1"}, 404),
        (page_of(ADMIN, "disable"), {}, 404),
        # a role for the other organisation, or for every one, is not theirs to give
        (page_of("B. Medewerker", "roles"), {"role": "archivist", "organisation": ONE}, 403),
        (page_of("B. Medewerker", "roles"), {"role": "administrator", "organisation": ""}, 403),
        # somebody who also works for the other organisation is changed by an administrator of every one
        (page_of("G. Gedeeld", "disable"), {}, 403),
        (page_of("G. Gedeeld", "tokens"), {}, 403),
        (page_of("G. Gedeeld", "password"), {"password": "een-ander-wachtwoord-1"}, 403),
        ("/people/", {"name": "N. Nieuw", "role": ["archivist"], "organisation": ONE}, 403),
        ("/people/", {"name": "N. Nieuw", "role": ["archivist"], "organisation": ""}, 403),
        ("/organisations/", {"organisation_id": "gm0003", "name": "Gemeente Drie"}, 403),
    ]
    for path, form, status in refusals:
        answer = form_post(b, server, path, form)
        assert answer.status_code == status, (path, form, answer.status_code)
        assert "Traceback" not in answer.text and ("Dat mag u niet doen." if status == 403 else "Niet gevonden") \
            in answer.text, (path, form)
        if "A.%20Archivaris" in path:  # answered as for a name nobody has
            nobody = form_post(b, server, path.replace("A.%20Archivaris", "Z.%20Niemand"), form)
            assert nobody.status_code == status and error_of(nobody).replace("Z. Niemand", "A. Archivaris") \
                == error_of(answer), path
    untouched(server, people)
    assert "N. Nieuw" not in listed(server, people)
    assert b.get(f"{server.url}/admin/", timeout=30).status_code == 403  # the admin: for every organisation only
    assert http_session(server, ADMIN).get(f"{server.url}/admin/", timeout=30).status_code == 200
    # what is theirs they do change
    granted = form_post(b, server, page_of("B. Medewerker", "roles"), {"role": "reviewer", "organisation": TWO})
    assert granted.status_code == 302
    assert {"role": "reviewer", "organisation": TWO} in listed(server, people)["B. Medewerker"]["roles"]


@pytest.mark.crosses_organisations("api-people", "api-person-grant", "api-person-disable", "api-person-token",
                                   "api-person-password", "api-organisations", "people_list", "people_register",
                                   "person_grant", "person_disable", "person_token_issue", "person_password_set",
                                   "organisations_list", "organisations_register")
def test_an_organisations_administrator_sees_and_changes_only_its_people_in_the_api(
        site: tuple[WebServer, People]) -> None:
    server, people = site
    token = people.token("B. Beheerder")
    seen = api(server, token, "GET", "/api/v1/people/").json()
    assert {p["name"] for p in seen} >= {"B. Beheerder", "B. Medewerker", "G. Gedeeld"}
    assert not {p["name"] for p in seen} & {"A. Archivaris", ADMIN}
    assert next(p for p in seen if p["name"] == "G. Gedeeld")["roles"] == [{"role": "archivist", "organisation": TWO}]
    assert api(server, token, "GET", "/api/v1/organisations/").json() == [{"organisation_id": TWO,
                                                                           "name": "Gemeente Twee"}]
    a = quote("A. Archivaris")
    calls = [
        ("POST", f"/api/v1/people/{a}/roles/", {"role": "researcher", "organisation": TWO}, 404, "E105"),
        ("POST", f"/api/v1/people/{a}/disable/", None, 404, "E105"),
        ("POST", f"/api/v1/people/{a}/tokens/", None, 400, "E100"),  # as for a name nobody has
        ("POST", f"/api/v1/people/{quote('Niemand')}/tokens/", None, 400, "E100"),
        ("POST", f"/api/v1/people/{a}/password/", {"password": "een-ander-wachtwoord-1"}, 400, "E100"),
        ("POST", "/api/v1/people/B.%20Medewerker/roles/", {"role": "archivist", "organisation": ONE}, 403, "E114"),
        ("POST", "/api/v1/people/B.%20Medewerker/roles/", {"role": "administrator"}, 403, "E114"),
        ("POST", "/api/v1/people/G.%20Gedeeld/disable/", None, 403, "E114"),
        ("POST", "/api/v1/people/G.%20Gedeeld/tokens/", None, 403, "E114"),
        ("POST", "/api/v1/people/", {"name": "N. Nieuw", "roles": [{"role": "archivist", "organisation": ONE}]},
         403, "E114"),
        ("POST", "/api/v1/organisations/", {"organisation_id": "gm0003", "name": "Gemeente Drie"}, 403, "E114"),
    ]
    for method, path, body, status, reference in calls:
        answer = api(server, token, method, path, json=body)
        assert (answer.status_code, answer.json()["error"]["reference"]) == (status, reference), (path, answer.text)
    untouched(server, people)
    assert api(server, people.admin_token, "GET", "/api/v1/organisations/").json()[-1]["organisation_id"] == TWO
    made = api(server, token, "POST", "/api/v1/people/",
               json={"name": "B. Nieuw", "roles": [{"role": "reviewer", "organisation": TWO}]})
    assert made.status_code == 201 and made.json()["person"]["roles"] == [{"role": "reviewer", "organisation": TWO}]
    assert api(server, made.json()["token"], "GET", "/api/v1/me/").json()["name"] == "B. Nieuw"


def test_someone_who_is_no_administrator_gets_no_such_screen(site: tuple[WebServer, People]) -> None:
    server, people = site
    worker = http_session(server, "B. Medewerker")
    dashboard = worker.get(f"{server.url}/", timeout=30).text
    assert 'href="/people/"' not in dashboard and 'href="/organisations/"' not in dashboard
    assert 'href="/people/"' in http_session(server, ADMIN).get(f"{server.url}/", timeout=30).text
    for path in ("/people/", "/organisations/", page_of("B. Medewerker")):
        answer = worker.get(f"{server.url}{path}", timeout=30)
        assert answer.status_code == 403 and "Geen toegang" in answer.text and "Dat mag u niet doen." in answer.text
        assert "E114" in answer.text and "Traceback" not in answer.text
    answer = form_post(worker, server, "/people/", {"name": "X", "role": ["administrator"]})
    assert answer.status_code == 403 and "X" not in listed(server, people)
    refused = api(server, people.token("B. Medewerker"), "GET", "/api/v1/people/")
    assert refused.status_code == 403 and refused.json()["error"]["reference"] == "E114"
    own = api(server, people.token("B. Medewerker"), "POST", "/api/v1/people/B.%20Medewerker/tokens/")
    assert own.status_code == 201  # a person issues their own token
    assert api(server, own.json()["token"], "GET", "/api/v1/me/").json()["name"] == "B. Medewerker"


def test_an_administrator_registers_grants_sets_a_password_and_disables_on_the_screens(
        site: tuple[WebServer, People]) -> None:
    server, people = site
    admin = http_session(server, ADMIN)
    weak = form_post(admin, server, "/people/", {"name": "C. Nieuw", "role": ["researcher"], "organisation": ONE,
                                                 "password": "kort"})
    assert weak.status_code == 400 and "Dat kan zo niet." in weak.text and "at least 12 characters" in weak.text
    assert 'value="C. Nieuw"' in weak.text and "C. Nieuw" not in listed(server, people)
    made = form_post(admin, server, "/people/", {"name": "C. Nieuw", "role": ["researcher", "reviewer"],
                                                 "organisation": ONE, "password": PASSWORD})
    assert made.status_code == 200 and "C. Nieuw is geregistreerd" in made.text
    assert made.headers["Cache-Control"].startswith("max-age=0") and "no-store" in made.headers["Cache-Control"]
    token = re.search(r'<code id="token"[^>]*>([^<]+)</code>', made.text)
    assert token and api(server, token.group(1), "GET", "/api/v1/me/").json()["roles"] == [
        {"role": "researcher", "organisation": ONE}, {"role": "reviewer", "organisation": ONE}]
    assert token.group(1) not in admin.get(f"{server.url}{page_of('C. Nieuw')}", timeout=30).text
    http_session(server, "C. Nieuw")  # the first password signs in
    inline = form_post(admin, server, page_of("C. Nieuw", "roles"), {"role": "archivist", "organisation": TWO},
                       **{"HX-Request": "true"})
    assert inline.status_code == 200 and inline.text.lstrip().startswith("<section id=\"roles\"")
    assert "De rol is toegekend." in inline.text and f"Archivaris voor {TWO}" in inline.text
    unknown = form_post(admin, server, page_of("C. Nieuw", "roles"), {"role": "koning", "organisation": TWO},
                        **{"HX-Request": "true"})
    assert unknown.status_code == 200 and "Dat kan zo niet." in unknown.text and "unknown role" in unknown.text
    changed = form_post(admin, server, page_of("C. Nieuw", "password"), {"password": "een-nieuw-wachtwoord-9"})
    assert changed.status_code == 302
    http_session(server, "C. Nieuw", "een-nieuw-wachtwoord-9")
    issued = form_post(admin, server, page_of("C. Nieuw", "tokens"), {})
    second = re.search(r'<code id="token"[^>]*>([^<]+)</code>', issued.text)
    assert issued.status_code == 200 and second and second.group(1) != token.group(1)
    disabled = form_post(admin, server, page_of("C. Nieuw", "disable"), {})
    assert disabled.status_code == 302
    assert "Uitgeschakeld" in admin.get(f"{server.url}{page_of('C. Nieuw')}", timeout=30).text
    assert api(server, second.group(1), "GET", "/api/v1/me/").status_code in (401, 403)
    themselves = form_post(admin, server, page_of(ADMIN, "disable"), {})
    assert themselves.status_code == 400 and "does not disable themselves" in themselves.text
    added = form_post(admin, server, "/organisations/", {"organisation_id": "gm0003", "name": "Gemeente Drie"})
    assert added.status_code == 302
    again = form_post(admin, server, "/organisations/", {"organisation_id": "gm0003", "name": "Gemeente Drie"})
    assert again.status_code == 400 and "registered already" in again.text and "Foutcode E100" in again.text


def test_the_api_registers_grants_issues_and_disables_in_the_documented_shapes(site: tuple[WebServer, People]) -> None:
    server, people = site
    token = people.admin_token
    made = api(server, token, "POST", "/api/v1/people/", json={"name": "D. Script", "roles": [{"role": "archivist"}],
                                                              "password": PASSWORD})
    assert made.status_code == 201 and made.json()["person"] == {
        "name": "D. Script", "active": True, "roles": [{"role": "archivist", "organisation": None}]}
    again = api(server, token, "POST", "/api/v1/people/", json={"name": "d.  script", "roles": [{"role": "archivist"}]})
    assert again.status_code == 400 and again.json()["error"]["reference"] == "E100"
    bad = api(server, token, "POST", "/api/v1/people/", json={"name": "E", "roles": []})
    assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("roles:")
    granted = api(server, token, "POST", "/api/v1/people/D.%20Script/roles/", json={"role": "reviewer",
                                                                                  "organisation": ONE})
    assert granted.status_code == 200 and {"role": "reviewer", "organisation": ONE} in granted.json()["roles"]
    issued = api(server, token, "POST", "/api/v1/people/D.%20Script/tokens/")
    assert issued.status_code == 201 and api(server, issued.json()["token"], "GET", "/api/v1/me/").status_code == 200
    assert api(server, token, "POST", "/api/v1/people/D.%20Script/password/",
               json={"password": "0123456789012"}).json()["error"]["reference"] == "E100"
    assert api(server, token, "POST", "/api/v1/people/D.%20Script/password/",
               json={"password": "een-nieuw-wachtwoord-9"}).status_code == 204
    disabled = api(server, token, "POST", "/api/v1/people/D.%20Script/disable/")
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert api(server, issued.json()["token"], "GET", "/api/v1/me/").status_code in (401, 403)
    odd = api(server, token, "POST", "/api/v1/people/", json={"name": "Ö/ 50% zeker", "roles": [{"role": "researcher"}]})
    assert odd.status_code == 201  # a name with a slash and a percent sign has its address too
    segment = quote("Ö%2F 50%25 zeker")  # a slash and a percent sign escaped in the name, then the whole quoted
    assert api(server, token, "POST", f"/api/v1/people/{segment}/disable/").status_code == 200
    assert "Ö/ 50% zeker" in http_session(server, ADMIN).get(f"{server.url}/people/{segment}/", timeout=30).text
    schema = api(server, None, "GET", "/api/v1/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}).json()
    register = schema["paths"]["/api/v1/people/"]["post"]
    assert register["operationId"] == "people_register" and {"201", "400", "403"} <= set(register["responses"])
    assert schema["paths"]["/api/v1/people/{name}/roles/"]["post"]["responses"]["404"]["content"][
        "application/json"]["schema"]["$ref"] == "#/components/schemas/Error"


def test_an_administrator_registers_grants_and_disables_in_a_browser(site: tuple[WebServer, People]) -> None:
    server, _ = site
    with chromium() as browser:
        page: Any = dutch_page(browser)
        sign_in_page(page, server, ADMIN)
        page.get_by_role("link", name="Mensen").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Mensen"
        check_screen(page, "people")
        page.get_by_label("Naam", exact=True).fill("E. Browser")
        page.get_by_label("Archivaris").check()
        page.get_by_label("Voor organisatie").select_option(ONE)
        page.get_by_label("Eerste wachtwoord voor het web").fill("kort")
        page.get_by_role("button", name="Registreren").click()
        assert "Dat kan zo niet." in page.get_by_role("alert").inner_text()
        check_screen(page, "people-refused")
        page.get_by_label("Eerste wachtwoord voor het web").fill(PASSWORD)
        page.get_by_role("button", name="Registreren").click()
        assert page.get_by_role("heading", level=1).inner_text() == "E. Browser is geregistreerd"
        token = page.locator("#token").inner_text()
        assert len(token) > 30
        check_screen(page, "token-issued")
        page.get_by_role("link", name="Naar E. Browser").click()
        assert token not in page.content()  # shown once
        check_screen(page, "person")
        page.get_by_label("Rol", exact=True).select_option("reviewer")
        page.locator("#grant-organisation").select_option(TWO)
        page.get_by_role("button", name="Rol toekennen").click()
        page.get_by_role("status").filter(has_text="De rol is toegekend.").wait_for()
        assert "Beoordelaar voor gm0002" in page.locator("#roles").inner_text()
        page.get_by_role("button", name="E. Browser uitschakelen").click()
        page.get_by_text("De persoon is uitgeschakeld.").wait_for()
        assert "Uitgeschakeld" in page.get_by_role("main").inner_text()
        page.get_by_role("link", name="Organisaties").click()
        check_screen(page, "organisations")
        page.get_by_role("button", name="Afmelden").click()
        sign_in_page(page, server, "B. Medewerker")
        page.wait_for_url(f"{server.url}/")
        assert page.get_by_role("link", name="Mensen").count() == 0
        page.goto(f"{server.url}/people/")
        assert page.get_by_role("heading", level=1).inner_text() == "Geen toegang"
        check_screen(page, "people-no-access")


def test_an_administrator_does_it_all_by_keyboard_only(site: tuple[WebServer, People]) -> None:
    server, people = site
    with chromium() as browser:
        page: Any = dutch_page(browser)
        sign_in_by_keyboard(page, server, ADMIN)
        page.wait_for_url(f"{server.url}/")
        tab_to(page, "a[href='/people/']")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{server.url}/people/")
        tab_to(page, "#register-name")
        page.keyboard.type("K. Toetsenbord")
        tab_to(page, "#register-role-researcher")
        page.keyboard.press("Space")
        tab_to(page, "#register-organisation")
        page.keyboard.type("Gemeente Een")
        tab_to(page, "#register-password")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="K. Toetsenbord is geregistreerd").wait_for()
        token = page.locator("#token").inner_text()
        tab_to(page, "main a")
        page.keyboard.press("Enter")
        page.get_by_role("heading", level=1, name="K. Toetsenbord").wait_for()
        tab_to(page, "#grant-role")
        page.keyboard.type("Beoordelaar")
        tab_to(page, "#grant-organisation")
        page.keyboard.type("Gemeente Twee")
        tab_to(page, "#roles button")
        page.keyboard.press("Enter")
        page.get_by_role("status").filter(has_text="De rol is toegekend.").wait_for()
        assert page.evaluate("document.activeElement.textContent") == "De rol is toegekend."  # focus kept near
        tab_to(page, "button.danger")
        page.keyboard.press("Enter")
        page.get_by_text("De persoon is uitgeschakeld.").wait_for()
    found = listed(server, people)["K. Toetsenbord"]
    assert found["active"] is False and found["roles"] == [{"role": "researcher", "organisation": ONE},
                                                           {"role": "reviewer", "organisation": TWO}]
    assert api(server, token, "GET", "/api/v1/me/").status_code in (401, 403)
