"""The dashboard and the audit log screens, and their API, as their users meet them through `edepot serve`: a
regional e-Depot serving two municipalities with real ingests, a failed ingest job, fixity damage, destruction
lists, records due and holds in each; every person sees what needs their attention in their own organisations
and nothing of the other's."""
from __future__ import annotations

import contextlib
import io
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from ingest.sip import create_sip
from kernel.config import load_config
from tests.cli_runner import Depot
from tests.web_server import (
    PASSWORD,
    WebServer,
    api,
    check_screen,
    chromium,
    dutch_page,
    http_session,
    served,
    sign_in_by_keyboard,
    tab_to,
)

EEN, TWEE = ("gm0001", "Gemeente Een"), ("gm0002", "Gemeente Twee")
PEOPLE = {  # name → roles
    "A. Een": ["archivist@gm0001"],
    "R. Een": ["records-manager@gm0001"],
    "V. Een": ["reviewer@gm0001"],
    "A. Twee": ["archivist@gm0002"],
    "R. Twee": ["records-manager@gm0002"],
    "V. Twee": ["reviewer@gm0002"],
    "O. Zoeker": ["researcher"],
}
ADMIN = "A. Beheer"


def _sip(root: Path, name: str, organisation: tuple[str, str], day: int) -> Path:
    export = root / f"{name}.txt"
    export.write_text(f"{day:02d}-03-2024 10:15 - Petra de Vries: Gesprek {name} over de vergunning.\n",
                      encoding="utf-8")
    meta = root / f"{name}.yaml"
    meta.write_text(yaml.safe_dump({
        "naam": f"Gesprek {name}", "waardering": "V", "bewaartermijn": "P1Y",
        "archiefvormer": {"naam": organisation[1], "identificatie": {"kenmerk": organisation[0], "bron": "TOOI"}},
    }, allow_unicode=True), encoding="utf-8")
    return create_sip([export], root / f"sip-{name}", load_config(root / "sip-config"), metadata_file=meta).path


@dataclass
class Regional:
    """The served data directory, its people's command line, Een's jobs (an ingest failed, a packed SIP's ingest
    done, a fixity run and a destruction queued) and destruction list."""

    server: WebServer
    depot: Depot
    jobs: dict[str, str]
    een_list: str


@contextlib.contextmanager
def _stdin(text: str) -> Iterator[None]:
    saved, sys.stdin = sys.stdin, io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


@pytest.fixture(scope="module")
def regional(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regional]:
    """Two municipalities' records and what needs attention in each, served by `edepot serve`."""
    root = tmp_path_factory.mktemp("regional")
    depot = Depot(root / "data")
    depot.data.mkdir()
    (depot.data / "edepot.toml").write_text("[scan]\nrequired = false\n", encoding="utf-8")
    with _stdin(PASSWORD + "\n"):
        depot.tokens[ADMIN] = depot.ok(ADMIN, "user", "add", ADMIN, "--admin", "--password-stdin")["token"]
    for organisation in (EEN, TWEE):
        depot.ok(ADMIN, "organisation", "add", organisation[0], "--name", organisation[1])
    for name, roles in PEOPLE.items():
        with _stdin(PASSWORD + "\n"):
            added = depot.ok(ADMIN, "user", "add", name, *[a for r in roles for a in ("--role", r)], "--password-stdin")
        depot.tokens[name] = added["token"]
    for name, organisation, by, day in (("een-1", EEN, "R. Een", 1), ("een-2", EEN, "R. Een", 2),
                                        ("twee-1", TWEE, "R. Twee", 3), ("twee-2", TWEE, "R. Twee", 4)):
        ingested = depot.ok(by, "ingest", str(_sip(root, name, organisation, day)))
        depot.aips[name] = ingested["aip_id"]
        depot.records[name] = depot.ok(by, "aip", "show", ingested["aip_id"])["record_id"]
    # Een: a list drawn up by its records manager, a hold on one record, damage found by fixity, a failed ingest.
    lists = {by: depot.ok(by, "retention", "due")["list_id"] for by in ("R. Een", "R. Twee")}
    depot.ok("R. Een", "hold", "add", "--record", depot.records["een-1"], "--reason", "Woo-verzoek Een")
    depot.ok("R. Twee", "hold", "add", "--record", depot.records["twee-1"], "--reason", "Woo-verzoek Twee")
    for bag in sorted((depot.data / "storage").glob(f"*/*/{depot.aips['een-2']}")):
        original = next(p for p in (bag / "data" / "original").rglob("*") if p.is_file())
        original.write_bytes(b"beschadigd")
    assert depot.run("A. Een", "fixity", "run", "--aip", depot.aips["een-2"])[0] == 1  # damage found
    broken = _sip(root, "een-kapot", EEN, 5)
    (broken / "data" / "original" / "een-kapot.txt").write_bytes(b"anders dan het manifest zegt")
    jobs = {"failed": depot.ok("R. Een", "ingest", str(broken), "--queue")["job_id"]}
    packed = shutil.make_archive(str(root / "een-3"), "zip", _sip(root, "een-3", EEN, 6).parent, "sip-een-3")
    jobs["packed"] = depot.ok("R. Een", "ingest", packed, "--queue")["job_id"]
    depot.ok("W. Orker", "worker", "--once")
    jobs["fixity"] = depot.ok("A. Een", "fixity", "run", "--aip", depot.aips["een-1"], "--queue")["job_id"]
    jobs["destroy"] = depot.ok("A. Een", "retention", "destroy", lists["R. Een"], "--queue")["job_id"]
    with served(depot.data) as server:
        yield Regional(server, depot, jobs, lists["R. Een"])



def _dashboard(server: WebServer, name: str, query: str = "") -> str:
    answer = http_session(server, name).get(f"{server.url}/{query}", timeout=60)
    assert answer.status_code == 200, answer.text[:500]
    return str(answer.text)


def _een(regional: Regional) -> list[str]:
    """What of Gemeente Een a person of Gemeente Twee must never see: its records, AIPs, jobs, list and hold."""
    depot = regional.depot
    return [*(depot.records[n] for n in ("een-1", "een-2")), *(depot.aips[n] for n in ("een-1", "een-2")),
            *(j[:12] for j in regional.jobs.values()), regional.een_list, "Woo-verzoek Een", "een-kapot",
            "Gesprek een"]


def test_the_dashboard_shows_each_person_what_needs_their_attention(regional: Regional) -> None:
    server, depot, jobs = regional.server, regional.depot, regional.jobs
    archivist = api(server, depot.tokens["A. Een"], "GET", "/api/v1/dashboard/").json()
    assert [(j["job_id"], j["state"], j["organisation"]) for j in archivist["jobs"]["first"]] == [
        (jobs["failed"], "failed", "gm0001")]  # a SIP folder's organisation, read when it was queued
    assert {(d["aip_id"], d["what"]) for d in archivist["damage"]["first"]} == {(depot.aips["een-2"], "damaged")}
    assert archivist["damage"]["count"] == 2  # both replicas of the AIP whose original was changed
    assert [(a["organisation"], a["drawn_up_by"]) for a in archivist["approvals"]["first"]] == [("gm0001", "R. Een")]
    due = {r["record_id"] for r in archivist["due"]["first"]}
    assert depot.records["een-2"] in due and depot.records["een-1"] not in due  # een-1 is held
    assert [(h["record_id"], h["reason"]) for h in archivist["holds"]["first"]] == [
        (depot.records["een-1"], "Woo-verzoek Een")]
    page = _dashboard(server, "A. Een")
    for shown in (jobs["failed"][:12], "mislukt", "kopie beschadigd", depot.records["een-2"], "Woo-verzoek Een",
                  archivist["approvals"]["first"][0]["list_id"], 'hx-trigger="every 30s"'):
        assert shown in page, shown
    # The records manager drew the list up: it does not wait for them. Fixity damage is the archivist's to repair.
    manager = api(server, depot.tokens["R. Een"], "GET", "/api/v1/dashboard/").json()
    assert manager["approvals"] == {"count": 0, "first": []} and manager["damage"] is None
    assert [j["job_id"] for j in manager["jobs"]["first"]] == [jobs["failed"]]  # their own
    (failed,) = manager["jobs"]["first"]  # its error names the SIP in the data directory, not the server's path
    assert failed["error"].startswith(f"E300: the SIP at intake/{jobs['failed']}/") and str(server.data_dir) not in page
    reviewer = api(server, depot.tokens["V. Een"], "GET", "/api/v1/dashboard/").json()
    assert reviewer["jobs"] is None and reviewer["due"] is None and reviewer["approvals"]["count"] == 1
    assert "Mislukte taken" not in _dashboard(server, "V. Een")
    researcher = _dashboard(server, "O. Zoeker")
    assert "Uw rollen geven u hier niets te volgen." in researcher and "Auditlog" not in researcher
    # The administrator of every organisation follows every job, narrowed to one organisation on asking.
    admin = api(server, depot.tokens[ADMIN], "GET", "/api/v1/dashboard/").json()
    assert admin["jobs"]["count"] == 1 and admin["damage"] is None
    narrowed = api(server, depot.tokens[ADMIN], "GET", "/api/v1/dashboard/?organisation=gm0002").json()
    assert narrowed["jobs"] == {"count": 0, "first": []}
    # htmx refreshes the parts alone
    parts = http_session(server, "A. Een").get(f"{server.url}/", headers={"HX-Request": "true"}, timeout=60)
    assert parts.text.startswith('<div id="attention"') and "<html" not in parts.text
    assert "HX-Request" in parts.headers["Vary"]


def test_records_due_follow_a_hold_placed_and_lifted_at_once(regional: Regional) -> None:
    server, depot = regional.server, regional.depot
    record = depot.records["een-2"]

    def due() -> set[str]:
        answer = api(server, depot.tokens["A. Een"], "GET", "/api/v1/dashboard/").json()["due"]
        return {r["record_id"] for r in answer["first"]}

    assert record in due()
    depot.ok("R. Een", "hold", "add", "--record", record, "--reason", "Woo-verzoek Een, tweede")
    assert record not in due()  # what the server computed before is not shown again
    depot.ok("R. Een", "hold", "lift", "--record", record, "--reason", "afgehandeld")
    assert record in due()


def test_a_list_approved_by_the_reviewer_waits_for_nobody_else(regional: Regional) -> None:
    server, depot = regional.server, regional.depot
    ask = api(server, depot.tokens["V. Een"], "GET", "/api/v1/dashboard/").json()
    (waiting,) = ask["approvals"]["first"]
    depot.ok("V. Een", "retention", "approve", waiting["list_id"], "--role", "beoordelaar")
    for name in ("V. Een", "A. Een"):
        assert api(server, depot.tokens[name], "GET", "/api/v1/dashboard/").json()["approvals"]["count"] == 0


def test_every_job_on_one_organisations_records_is_that_organisations(regional: Regional) -> None:
    depot, jobs = regional.depot, regional.jobs
    followed = depot.ok("A. Een", "jobs", "list", "--organisation", "gm0001")["jobs"]
    assert {(j["job_id"], j["organisation"]) for j in followed} == {(job, "gm0001") for job in jobs.values()}
    assert depot.ok("A. Twee", "jobs", "list")["jobs"] == []


@pytest.mark.crosses_organisations("dashboard", "audit-log", "api-dashboard", "api-audit", "audit")
def test_a_person_of_one_organisation_sees_nothing_of_the_others_on_the_dashboard_and_in_the_audit_log(
        regional: Regional) -> None:
    server, depot = regional.server, regional.depot
    hidden = _een(regional)
    for name in ("A. Twee", "R. Twee", "V. Twee"):
        for query in ("", "?organisation=gm0001"):
            seen = [_dashboard(server, name, query),
                    api(server, depot.tokens[name], "GET", f"/api/v1/dashboard/{query}").text]
            if name == "A. Twee":
                audit_query = query or "?limit=500"
                seen += [http_session(server, name).get(f"{server.url}/audit/{audit_query}", timeout=60).text,
                         api(server, depot.tokens[name], "GET", f"/api/v1/audit/{audit_query}").text]
            for text in seen:
                assert not [h for h in hidden if h in text], (name, query, [h for h in hidden if h in text])
    twee = api(server, depot.tokens["A. Twee"], "GET", "/api/v1/dashboard/").json()
    assert [h["reason"] for h in twee["holds"]["first"]] == ["Woo-verzoek Twee"]  # their own is there
    assert [a["organisation"] for a in twee["approvals"]["first"]] == ["gm0002"]
    assert twee["jobs"]["count"] == 0 and twee["damage"]["count"] == 0
    entries = api(server, depot.tokens["A. Twee"], "GET", "/api/v1/audit/?limit=500").json()["entries"]
    assert entries and {e["organisation"] for e in entries} <= {"gm0002", ""}
    assert all(e["organisation"] == "gm0002" or e["person"] == "A. Twee" for e in entries)


def test_the_audit_log_filters_pages_and_shows_dutch_time(regional: Regional) -> None:
    server, depot = regional.server, regional.depot
    from datetime import datetime
    from zoneinfo import ZoneInfo

    token = depot.tokens[ADMIN]
    ingests = api(server, token, "GET", "/api/v1/audit/", params={"person": "r. een", "action": "ingest"}).json()
    assert ingests["entries"] and {(e["person"], e["action"].split()[0]) for e in ingests["entries"]} == {
        ("R. Een", "ingest")}
    first = api(server, token, "GET", "/api/v1/audit/?limit=3").json()
    second = api(server, token, "GET", f"/api/v1/audit/?limit=3&before={first['more']}").json()
    ids = [e["entry_id"] for e in first["entries"] + second["entries"]]
    assert len(ids) == 6 and ids == sorted(ids, reverse=True)  # newest first, the next page older, none twice
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date().isoformat()
    assert api(server, token, "GET", "/api/v1/audit/?until=2000-01-01").json()["entries"] == []
    assert api(server, token, "GET", f"/api/v1/audit/?since={today}&limit=1").json()["entries"]
    bad = api(server, token, "GET", "/api/v1/audit/?since=gisteren")
    assert bad.status_code == 400 and bad.json()["error"]["reference"] == "E100"
    refused = api(server, depot.tokens["R. Een"], "GET", "/api/v1/audit/")
    assert refused.status_code == 403 and refused.json()["error"]["reference"] == "E114"
    assert http_session(server, "R. Een").get(f"{server.url}/audit/", timeout=60).status_code == 403
    session = http_session(server, ADMIN)
    page = session.get(f"{server.url}/audit/", params={"person": "R. Een", "action": "hold"}, timeout=60).text
    entry = api(server, token, "GET", "/api/v1/audit/", params={"person": "R. Een", "action": "hold place"}).json()[
        "entries"][0]
    local = datetime.fromisoformat(entry["at"]).astimezone(ZoneInfo("Europe/Amsterdam"))
    assert f"{local.day}-{local.month}-{local.year} {local:%H:%M:%S}" in page  # Dutch time, not UTC
    assert "<caption" in page and 'scope="col"' in page and "Woo-verzoek" not in page
    assert "<td>hold place</td>" in page and "<td>ingest</td>" not in page  # only R. Een's holds
    many = session.get(f"{server.url}/audit/", timeout=60).text
    assert "Meer (oudere handelingen)" in many and "before=" in many
    signed_in = api(server, token, "GET", "/api/v1/audit/", params={"action": "sign in", "limit": 500}).json()
    assert signed_in["entries"] and not [e for e in signed_in["entries"] if PASSWORD in e["target"] + e["detail"]]
    wrong = session.get(f"{server.url}/audit/?since=gisteren", timeout=60).text
    assert 'role="alert"' in wrong and "since must be a date" in wrong


def test_the_dashboard_and_the_audit_log_in_a_browser_by_keyboard_only(regional: Regional) -> None:
    server, jobs = regional.server, regional.jobs
    with chromium() as browser:
        page: Any = dutch_page(browser)
        sign_in_by_keyboard(page, server, "A. Een")
        attention = page.locator("#attention")
        assert jobs["failed"][:12] in attention.inner_text() and "Woo-verzoek Een" in attention.inner_text()
        check_screen(page, "dashboard-archivist")
        tab_to(page, page.get_by_role("button", name="Vernieuwen"))
        with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as refreshed:
            page.keyboard.press("Enter")
        assert refreshed.value.status == 200
        page.wait_for_function("document.querySelectorAll('#attention').length === 1")
        assert "Woo-verzoek Een" in page.locator("#attention").inner_text()
        tab_to(page, page.get_by_role("link", name="Auditlog"))
        page.keyboard.press("Enter")
        page.wait_for_url(f"{server.url}/audit/")
        check_screen(page, "audit-log")
        tab_to(page, page.get_by_label("Persoon"))
        page.keyboard.type("R. Een")
        page.keyboard.press("Tab")
        page.keyboard.type("hold")
        page.keyboard.press("Enter")
        page.wait_for_url("**/audit/?person=R.+Een&action=hold*")
        people = page.locator("table.audit tbody td:nth-of-type(1)").all_inner_texts()
        actions = page.locator("table.audit tbody td:nth-of-type(2)").all_inner_texts()
        assert set(people) == {"R. Een"} and actions and all(a.startswith("hold ") for a in actions)
        check_screen(page, "audit-log-filtered")
        # The administrator narrows the dashboard to one organisation: htmx swaps the parts and keeps the address.
        admin: Any = dutch_page(browser)
        sign_in_by_keyboard(admin, server, ADMIN)
        assert "Mislukte taken (1)" in admin.locator("#attention").inner_text()
        tab_to(admin, admin.get_by_label("Organisatie"))
        admin.keyboard.type("Gemeente Twee")
        tab_to(admin, admin.get_by_role("button", name="Toon"))
        admin.keyboard.press("Enter")
        admin.wait_for_url(f"{server.url}/?organisation=gm0002")
        admin.wait_for_function("document.querySelector('#attention').innerText.includes('Mislukte taken (0)')")
        check_screen(admin, "dashboard-administrator-one-organisation")
