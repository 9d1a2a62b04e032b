"""The retention screens as their users meet them through `edepot serve` (with its worker): records due by
selectielijst category, a destruction list drawn up by a records manager, the drafter's own approval refused, a
reviewer's review, an archivist's approval, the destruction as a job and the certificate downloaded; holds, the
transfer list, re-appraisal and openness; and a person of another organisation sees none of it."""
from __future__ import annotations

import contextlib
import io
import re
import sys
import time
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
    check_screen,
    chromium,
    dutch_page,
    http_session,
    served,
    sign_in_page,
)

EEN, TWEE = ("gm0001", "Gemeente Een"), ("gm0002", "Gemeente Twee")
PEOPLE = {"R. Een": "records-manager@gm0001", "V. Een": "reviewer@gm0001", "A. Een": "archivist@gm0001",
          "A. Twee": "archivist@gm0002", "R. Twee": "records-manager@gm0002"}
ADMIN = "A. Beheer"
RECORDS = {  # name → organisation, waardering, selectielijst category
    "een-brief": (EEN, "V", ("1.1", "Correspondentie")),
    "een-overleg": (EEN, "V", ("2.3", "Overleg")),
    "een-besluit": (EEN, "B", ("3.1", "Besluitvorming")),
    "twee-brief": (TWEE, "V", ("1.1", "Correspondentie")),
    "twee-besluit": (TWEE, "B", ("3.1", "Besluitvorming")),
}


def _sip(root: Path, name: str, organisation: tuple[str, str], waardering: str, category: tuple[str, str]) -> Path:
    export = root / f"{name}.txt"
    export.write_text(f"01-03-2024 10:15 - Petra de Vries: Gesprek {name} over de vergunning.\n", encoding="utf-8")
    meta = root / f"{name}.yaml"
    meta.write_text(yaml.safe_dump({
        "naam": f"Gesprek {name}", "waardering": waardering, "bewaartermijn": "P1Y",
        "informatiecategorie": {"code": category[0], "label": category[1], "begrippenlijst": "Selectielijst 2020"},
        "archiefvormer": {"naam": organisation[1], "identificatie": {"kenmerk": organisation[0], "bron": "TOOI"}},
    }, allow_unicode=True), encoding="utf-8")
    return create_sip([export], root / f"sip-{name}", load_config(root / "sip-config"), metadata_file=meta).path


@contextlib.contextmanager
def _stdin(text: str) -> Iterator[None]:
    saved, sys.stdin = sys.stdin, io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


@dataclass
class Archive:
    """The served data directory (reviewer then archivist required), its people's command line, and Twee's list."""

    server: WebServer
    depot: Depot
    twee_list: str


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    root = tmp_path_factory.mktemp("retention")
    depot = Depot(root / "data")
    depot.data.mkdir()
    (depot.data / "edepot.toml").write_text(
        '[scan]\nrequired = false\n[retention]\nrequired_roles = ["beoordelaar", "archivaris"]\n', encoding="utf-8")
    with _stdin(PASSWORD + "\n"):
        depot.tokens[ADMIN] = depot.ok(ADMIN, "user", "add", ADMIN, "--admin", "--password-stdin")["token"]
    for organisation in (EEN, TWEE):
        depot.ok(ADMIN, "organisation", "add", organisation[0], "--name", organisation[1])
    for name, role in PEOPLE.items():
        with _stdin(PASSWORD + "\n"):
            depot.tokens[name] = depot.ok(ADMIN, "user", "add", name, "--role", role, "--password-stdin")["token"]
    for name, (organisation, waardering, category) in RECORDS.items():
        by = "R. Een" if organisation == EEN else "R. Twee"
        ingested = depot.ok(by, "ingest", str(_sip(root, name, organisation, waardering, category)))
        depot.aips[name] = ingested["aip_id"]
        depot.records[name] = depot.ok(by, "aip", "show", ingested["aip_id"])["record_id"]
    twee_list = depot.ok("R. Twee", "retention", "due")["list_id"]
    depot.ok("R. Twee", "hold", "add", "--record", depot.records["twee-brief"], "--reason", "Woo-verzoek Twee")
    with served(depot.data, worker=True) as server:
        yield Archive(server, depot, twee_list)


def _state(page: Any) -> str:
    return str(page.locator("#list-state").inner_text()).strip()


def test_a_destruction_list_is_drawn_up_reviewed_approved_destroyed_and_its_certificate_downloaded(
        archive: Archive) -> None:
    server, depot = archive.server, archive.depot
    with chromium() as browser:
        # The records manager sees what is due by category, drills into one, and draws up a list of it.
        manager = dutch_page(browser)
        sign_in_page(manager, server, "R. Een")
        manager.get_by_role("link", name="Bewaren en vernietigen").click()
        table = manager.locator("table").first
        assert "2 records zijn nu te vernietigen" in table.inner_text()
        assert depot.records["twee-brief"] not in manager.content()
        check_screen(manager, "retention-overview")
        manager.get_by_role("row", name=re.compile("Overleg")).get_by_role("link").click()
        assert depot.records["een-overleg"] in manager.content() and depot.records["een-brief"] not in manager.content()
        check_screen(manager, "retention-due")
        manager.go_back()
        manager.get_by_label("1.1 Correspondentie").check()
        manager.get_by_role("button", name="Lijst opstellen").click()
        assert _state(manager) == "opgesteld"
        list_url = manager.url
        list_id = list_url.rstrip("/").rsplit("/", 1)[1]
        assert depot.records["een-brief"] in manager.content() and depot.records["een-overleg"] not in manager.content()
        check_screen(manager, "retention-list")
        # The drafter's own approval is refused, in one line, and nothing is recorded.
        manager.get_by_role("button", name="Goedkeuren").click()
        refusal = manager.get_by_role("alert")
        assert "drew the list up and may not approve it" in refusal.inner_text()
        assert refusal.inner_text().count("\n") == 0 and _state(manager) == "opgesteld"
        # The reviewer reviews; the archivist approves, then destroys it as a job.
        reviewer = dutch_page(browser)
        sign_in_page(reviewer, server, "V. Een")
        reviewer.goto(list_url)
        reviewer.get_by_role("button", name="Goedkeuren").click()
        assert _state(reviewer) == "beoordeeld" and "V. Een" in reviewer.content()
        archivist = dutch_page(browser, accept_downloads=True)
        sign_in_page(archivist, server, "A. Een")
        archivist.goto(list_url)
        archivist.get_by_role("button", name="Goedkeuren").click()
        assert _state(archivist) == "goedgekeurd"
        archivist.get_by_role("button", name="Vernietigen").click()
        job_link = archivist.locator("main a[href^='/jobs/']")
        assert re.fullmatch(r"/jobs/[0-9a-f-]{36}/", str(job_link.get_attribute("href")))
        deadline = time.monotonic() + 60
        certificate_link = archivist.get_by_role("link", name="Verklaring van vernietiging (PDF)")
        # (the list reads "vernietigd" from its first record destroyed; the certificate follows when the job ends)
        while _state(archivist) != "vernietigd" or not certificate_link.count():
            assert time.monotonic() < deadline, "the worker did not destroy the list in 60 s"
            time.sleep(0.5)
            archivist.goto(list_url)
        check_screen(archivist, "retention-list-destroyed")
        with archivist.expect_download() as download:
            certificate_link.click()
        certificate = Path(download.value.path()).read_bytes()
        assert certificate.startswith(b"%PDF-") and download.value.suggested_filename == (
            f"verklaring-van-vernietiging-{list_id}.pdf")
        # Holds, transfer, a record's re-appraisal and openness, each with its reason.
        archivist.goto(f"{server.url}/retention/holds/")
        archivist.get_by_label("Record (kenmerk)").fill(depot.records["een-overleg"])
        archivist.get_by_label("Reden").fill("Woo-verzoek Een")
        archivist.get_by_role("button", name="Blokkeren", exact=True).click()
        assert "Woo-verzoek Een" in archivist.locator("table").inner_text()
        assert "Woo-verzoek Twee" not in archivist.content()
        check_screen(archivist, "retention-holds")
        archivist.get_by_label("Record (kenmerk)").fill(depot.records["een-overleg"])
        archivist.get_by_role("button", name="Blokkering opheffen").click()  # no reason: refused, said beside the form
        assert "give the reason for lifting the hold" in archivist.get_by_role("alert").inner_text()
        archivist.get_by_label("Reden").fill("Woo-verzoek afgehandeld")
        archivist.get_by_role("button", name="Blokkering opheffen").click()
        assert "Geen actieve blokkeringen." in archivist.content()
        archivist.goto(f"{server.url}/retention/transfer/?before=2040-01-01")
        assert depot.records["een-besluit"] in archivist.content()
        assert depot.records["twee-besluit"] not in archivist.content()
        check_screen(archivist, "retention-transfer")
        archivist.get_by_role("link", name=depot.records["een-besluit"]).click()
        archivist.get_by_label("Bewaartermijn").fill("P20Y")
        archivist.get_by_role("button", name="Herwaarderen").click()
        assert "give the reason for the re-appraisal" in archivist.get_by_role("alert").inner_text()
        archivist.get_by_label("Bewaartermijn").fill("P20Y")
        archivist.locator("#reappraise-reason").fill("Selectielijst 2026")
        archivist.get_by_role("button", name="Herwaarderen").click()
        assert "De herwaardering is vastgelegd." in archivist.content() and "Selectielijst 2026" in archivist.content()
        archivist.get_by_label("Beperking").select_option("Geen beperking")
        archivist.locator("#access-reason").fill("openbaar na herbeoordeling")
        archivist.get_by_role("button", name="Besluit vastleggen").click()
        assert "Het besluit over de openbaarheid is vastgelegd." in archivist.content()
        check_screen(archivist, "retention-record")


@pytest.mark.crosses_organisations(
    "retention", "retention-due", "retention-draw-up", "retention-list", "retention-approve", "retention-reject",
    "retention-destroy", "retention-certificate", "retention-holds", "retention-transfer", "retention-transfer-csv",
    "retention-record", "retention-reappraise", "retention-access")
def test_a_person_of_another_organisation_sees_and_changes_none_of_it(archive: Archive) -> None:
    server, depot = archive.server, archive.depot
    een = http_session(server, "A. Een")
    een_list = next(line for line in een.get(f"{server.url}/retention/", timeout=60).text.splitlines()
                    if "/retention/lists/VL-" in line and archive.twee_list not in line)
    een_list_id = re.search(r"/retention/lists/([^/]+)/", een_list).group(1)  # type: ignore[union-attr]
    een_records = [depot.records[n] for n in ("een-brief", "een-overleg", "een-besluit")]
    hidden = [*een_records, een_list_id, "Woo-verzoek Een", "Gemeente Een"]
    twee = http_session(server, "A. Twee")
    for path in ("/retention/", "/retention/?organisation=gm0001", "/retention/due/",
                 "/retention/due/?organisation=gm0001", "/retention/due/?category=2.3", "/retention/holds/",
                 "/retention/transfer/?before=2040-01-01", "/retention/transfer.csv?before=2040-01-01"):
        answer = twee.get(f"{server.url}{path}", timeout=60)
        assert answer.status_code == 200, path
        assert not [h for h in hidden if h in answer.text], (path, [h for h in hidden if h in answer.text])
    assert depot.records["twee-besluit"] in twee.get(f"{server.url}/retention/transfer.csv?before=2040-01-01",
                                                     timeout=60).text  # their own is there
    assert "Woo-verzoek Twee" in twee.get(f"{server.url}/retention/holds/", timeout=60).text
    record = depot.records["een-besluit"]
    for path in (f"/retention/lists/{een_list_id}/", f"/retention/lists/{een_list_id}/certificate/",
                 f"/retention/records/{record}/"):
        assert twee.get(f"{server.url}{path}", timeout=60).status_code == 404, path
    form = f"{server.url}/retention/lists/{archive.twee_list}/"  # a form of their own, for its CSRF token
    for path, data in ((f"/retention/lists/{een_list_id}/approve/", {"role": "archivist"}),
                       (f"/retention/lists/{een_list_id}/reject/", {"role": "archivist", "reason": "nee"}),
                       (f"/retention/lists/{een_list_id}/destroy/", {}),
                       (f"/retention/records/{record}/reappraise/", {"waardering": "V", "reason": "weg ermee"}),
                       (f"/retention/records/{record}/access/", {"type": "Geen beperking", "reason": "open"})):
        answer = _post(twee, form, f"{server.url}{path}", data)
        assert answer.status_code == 404, path
    assert _post(twee, form, f"{server.url}/retention/holds/", {"record_id": record, "reason": "x"}).status_code == 404
    code, _out, err = depot.run("A. Twee", "retention", "destroy", een_list_id, "--queue")  # the service itself
    assert code == 2 and "E105" in err, err
    drawn = _post(twee, form, f"{server.url}/retention/lists/", {"organisation": "gm0001"})
    assert drawn.status_code == 302 and "Gemeente Een" not in twee.get(f"{server.url}/retention/", timeout=60).text
    assert depot.ok("A. Een", "retention", "show", "--record", record)["schedule"]["waardering"] == "B"  # nothing changed
    assert not [h for h in depot.ok("A. Een", "retention", "show", "--record", record)["holds"] if h["reason"] == "x"]


def _post(session: Any, form_url: str, url: str, data: dict[str, str]) -> Any:
    """Post `data` to `url` with the CSRF token of the form page at `form_url`."""
    page = session.get(form_url, timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf, page.text[:300]
    return session.post(url, data={"csrfmiddlewaretoken": csrf.group(1), **data}, headers={"Referer": form_url},
                        allow_redirects=False, timeout=30)
