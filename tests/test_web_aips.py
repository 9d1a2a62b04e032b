"""The AIP screens as their users meet them: a regional e-Depot serving two municipalities with real ingests (an
old record due for destruction, a record held with two versions, an iPhone export kept as a zip); the list's
filters and pages in the service, the AIP page, the archive's own DIP made by a worker and downloaded with its
original byte-identical, and a person of the other municipality seeing none of it."""
from __future__ import annotations

import contextlib
import io
import re
import sys
import time
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from edepot.service import Depot as Service
from edepot.service import Person
from ingest.sip import create_sip
from kernel.config import load_config
from kernel.errors import InputError, NotFound
from preservation.aip_listing import AipFilters
from tests.cli_runner import Depot
from tests.web_server import (
    PASSWORD,
    WebServer,
    api,
    check_screen,
    chromium,
    dutch_page,
    edepot,
    http_session,
    served,
    sign_in_page,
)

EEN, TWEE = ("gm0001", "Gemeente Een"), ("gm0002", "Gemeente Twee")
PEOPLE = {"A. Een": ["archivist@gm0001"], "R. Een": ["records-manager@gm0001"], "A. Twee": ["archivist@gm0002"],
          "R. Twee": ["records-manager@gm0002"], "A. Beide": ["archivist"]}
ADMIN = "A. Beheer"
IOS_EXPORT = Path(__file__).resolve().parents[1] / "samples" / "whatsapp-ios-nl" / "WhatsApp Chat - Herinrichting Marktplein.zip"


def _sip(root: Path, name: str, organisation: tuple[str, str], *, day: str, waardering: str = "V",
         export: Path | None = None) -> Path:
    if export is None:
        export = root / f"{name}.txt"
        export.write_text(f"{day} 10:15 - Petra de Vries: Gesprek {name} over de vergunning.\n", encoding="utf-8")
    meta = root / f"{name}.yaml"
    meta.write_text(yaml.safe_dump({
        "naam": f"Gesprek {name}", "waardering": waardering, "bewaartermijn": "P1Y",
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
class Regional:
    server: WebServer
    depot: Depot
    sips: dict[str, Path]

    def service(self, name: str) -> Service:
        return Service(load_config(self.depot.data), person=Person(name), token=self.depot.tokens[name])


@pytest.fixture(scope="module")
def regional(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regional]:
    """Een: an old record (2023, due for destruction), a held record in two versions (2024, waardering B), an
    iPhone export kept as a zip (2024); Twee: one record (2024). Served by `edepot serve`."""
    root = tmp_path_factory.mktemp("aips")
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
    sips = {"een-oud": _sip(root, "een-oud", EEN, day="01-03-2023"),
            "een-vast": _sip(root, "een-vast", EEN, day="02-06-2024", waardering="B"),
            "een-zip": _sip(root, "een-zip", EEN, day="", waardering="B", export=IOS_EXPORT),
            "twee": _sip(root, "twee", TWEE, day="03-06-2024")}
    for name, sip in sips.items():
        by = "R. Twee" if name == "twee" else "R. Een"
        depot.aips[name] = depot.ok(by, "ingest", str(sip))["aip_id"]
        depot.records[name] = depot.ok(by, "aip", "show", depot.aips[name])["record_id"]
    time.sleep(1)  # the catalogue keeps whole seconds: the newest is newest by its time alone
    depot.aips["een-vast-2"] = depot.ok("R. Een", "ingest", str(sips["een-vast"]), "--new-version")["aip_id"]
    depot.ok("R. Een", "hold", "add", "--record", depot.records["een-vast"], "--reason", "Woo-verzoek Een")
    with served(depot.data) as server:
        yield Regional(server, depot, sips)


def _listed(regional: Regional, name: str, **filters: Any) -> set[str]:
    """The names of the fixture's AIPs the person's list shows with `filters`."""
    with regional.service(name) as depot:
        page = depot.aip_page(AipFilters(**filters), limit=50)
    by_id = {v: k for k, v in regional.depot.aips.items()}
    assert page.count == len(page.aips) and not page.more
    return {by_id[a.aip_id] for a in page.aips}


def test_each_filter_of_the_list_narrows_it(regional: Regional) -> None:
    everything = {"een-oud", "een-vast", "een-vast-2", "een-zip", "twee"}
    assert _listed(regional, "A. Beide") == everything
    assert _listed(regional, "A. Beide", organisation=TWEE[0]) == {"twee"}
    assert _listed(regional, "A. Beide", organisation=EEN[0]) == everything - {"twee"}
    assert _listed(regional, "A. Beide", since=date(2023, 1, 1), until=date(2023, 12, 31)) == {"een-oud"}
    assert _listed(regional, "A. Beide", since=date(2024, 6, 2), until=date(2024, 6, 2)) == {"een-vast", "een-vast-2"}
    assert _listed(regional, "A. Beide", state="held") == {"een-vast", "een-vast-2"}
    assert _listed(regional, "A. Beide", state="due") == {"een-oud", "twee"}  # V, a year passed; B is not due
    assert _listed(regional, "A. Beide", state="kept") == everything
    assert _listed(regional, "A. Beide", state="destroyed") == set()
    assert _listed(regional, "A. Beide", format="x-fmt/263") == {"een-zip"}  # the iPhone export, a zip
    assert _listed(regional, "A. Beide", format="zip") == {"een-zip"}
    assert _listed(regional, "A. Beide", organisation=EEN[0], state="held", since=date(2024, 1, 1)) == {
        "een-vast", "een-vast-2"}
    assert _listed(regional, "A. Een") == everything - {"twee"}  # their own organisation's only
    assert _listed(regional, "A. Een", state="due") == {"een-oud"}
    with regional.service("A. Beide") as depot, pytest.raises(InputError):
        depot.aip_page(AipFilters(state="verloren"))


def test_the_list_is_paged_newest_first_with_its_count(regional: Regional) -> None:
    seen: list[Any] = []
    before = None
    with regional.service("A. Beide") as depot:
        while True:
            page = depot.aip_page(AipFilters(), before=before, limit=2)
            assert page.count == 5 and len(page.aips) <= 2
            seen += page.aips
            if not page.more:
                break
            before = page.aips[-1].aip_id
    assert {a.aip_id for a in seen} == set(regional.depot.aips.values()) and len(seen) == 5
    assert [(a.created, a.aip_id) for a in seen] == sorted(((a.created, a.aip_id) for a in seen), reverse=True)
    assert seen[0].aip_id == regional.depot.aips["een-vast-2"]  # ingested last (a second after the others)


def test_an_aips_events_and_files_come_a_page_at_a_time(regional: Regional) -> None:
    aip_id = regional.depot.aips["een-vast"]
    with regional.service("A. Een") as depot:
        queries, everything = depot.store.aip_queries, depot.catalogue.events(aip_id)
        paged: list[Any] = []
        before = None
        while True:
            page = queries.events(aip_id, before=before, limit=4)
            assert len(page.events) <= 4
            paged += [event for _, event in page.events]
            if not page.more:
                break
            before = page.events[-1][0]
        files = [queries.files(aip_id, offset=n, limit=3) for n in range(0, 30, 3)]
        every_file = depot.catalogue.files(aip_id)
    assert len(everything) > 8 and [e.identifier for e in paged] == [e.identifier for e in reversed(everything)]
    assert [f for page in files for f in page.files] == every_file and {p.count for p in files} == {len(every_file)}


def test_the_aip_page_shows_the_record_its_versions_files_replicas_and_events(regional: Regional) -> None:
    server, aips = regional.server, regional.depot.aips
    page = http_session(server, "A. Een").get(f"{server.url}/aips/{aips['een-vast']}/", timeout=60)
    assert page.status_code == 200
    text = page.text
    assert "Gesprek een-vast" in text and "Gemeente Een" in text and "gm0001" in text
    assert "2-6-2024" in text  # the period, from the MDTO
    assert f'href="/aips/{aips["een-vast-2"]}/"' in text and "Versie 2" in text and "Versie 1 (deze)" in text
    assert "data/original/een-vast.txt" in text and "x-fmt/111" in text and "origineel" in text
    assert "preserveringsversie" in text  # the PDF/A rendering beside the original
    assert text.count("in orde") >= 2  # a replica in each location, verified at ingest
    assert "ingestion" in text.casefold() or "ingest" in text and "R. Een" in text  # the events, with who did them
    assert "opgeschort" in text


def _csrf(text: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
    assert found
    return found.group(1)


def _work(regional: Regional) -> None:
    """A worker does the jobs queued (in a process of its own, as beside `edepot serve`)."""
    assert edepot(regional.depot.data, ["worker", "--once"], user="W. Orker")["exit"] == 0


def _made_dip(regional: Regional, session: Any, aip_id: str) -> str:
    """Ask for the archive's own DIP of the AIP on its page, let a worker make it; the download's URL."""
    url = f"{regional.server.url}/aips/{aip_id}/"
    csrf = _csrf(session.get(url, timeout=60).text)
    made = session.post(f"{url}dip/", data={"csrfmiddlewaretoken": csrf}, headers={"Referer": url},
                        allow_redirects=False, timeout=60)
    assert made.status_code == 302, made.text[:500]
    _work(regional)
    found = re.search(rf'href="(/aips/{aip_id}/dips/[^"]+/)"', session.get(url, timeout=60).text)
    assert found, "no DIP to download"
    return found.group(1)


def test_the_archives_own_dip_downloads_with_the_original_byte_identical(regional: Regional) -> None:
    server, aips = regional.server, regional.depot.aips
    session = http_session(server, "A. Een")
    link = _made_dip(regional, session, aips["een-oud"])
    answer = session.get(f"{server.url}{link}", timeout=120)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/zip"
    assert "attachment" in answer.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(answer.content)) as dip:
        assert dip.testzip() is None
        originals = [n for n in dip.namelist() if n.startswith("original/")]
        assert originals == ["original/een-oud.txt"]
        assert dip.read(originals[0]) == (regional.sips["een-oud"] / "data" / "original" / "een-oud.txt").read_bytes()
    with regional.service(ADMIN) as depot:
        log = depot.audit_log(action="dip download", limit=10)
    assert [(e.person, e.target, e.outcome) for e in log] == [("A. Een", aips["een-oud"], "done")]


@pytest.mark.crosses_organisations("aips", "aip", "aip-dip", "aip-dip-download")
def test_a_person_of_the_other_organisation_sees_none_of_its_aips(regional: Regional) -> None:
    server, aips = regional.server, regional.depot.aips
    een = [aips[n] for n in ("een-oud", "een-vast", "een-vast-2", "een-zip")]
    link = _made_dip(regional, http_session(server, "A. Een"), aips["een-zip"])
    twee = http_session(server, "A. Twee")
    for query in ("", "?organisation=gm0001", "?state=held", "?file_format=zip"):
        listed = twee.get(f"{server.url}/aips/{query}", timeout=60)
        assert listed.status_code == 200 and not any(a in listed.text for a in een), query
        assert "Gesprek een" not in listed.text
    assert aips["twee"] in twee.get(f"{server.url}/aips/", timeout=60).text
    for aip_id in een:
        assert twee.get(f"{server.url}/aips/{aip_id}/", timeout=60).status_code == 404
    csrf = _csrf(twee.get(f"{server.url}/aips/", timeout=60).text)
    refused = twee.post(f"{server.url}/aips/{aips['een-zip']}/dip/", data={"csrfmiddlewaretoken": csrf},
                        headers={"Referer": f"{server.url}/aips/"}, allow_redirects=False, timeout=60)
    assert refused.status_code == 404
    assert twee.get(f"{server.url}{link}", timeout=60).status_code == 404
    with regional.service("A. Twee") as depot:
        assert depot.aip_page(AipFilters(organisation=EEN[0])).count == 0
        with pytest.raises(NotFound):
            depot.own_dip_download(aips["een-zip"], link.rstrip("/").rsplit("/", 1)[1])


@pytest.mark.crosses_organisations("api-aips", "api-aip", "aips_list", "aip")
def test_the_api_lists_and_shows_the_aips_of_ones_own_organisation_only(regional: Regional) -> None:
    server, depot = regional.server, regional.depot
    een, twee = depot.tokens["A. Een"], depot.tokens["A. Twee"]
    page = api(server, een, "GET", "/api/v1/aips/?state=held&limit=1").json()
    assert page["count"] == 2 and len(page["aips"]) == 1 and page["more"] == page["aips"][0]["aip_id"]
    older = api(server, een, "GET", f"/api/v1/aips/?state=held&limit=1&before={page['more']}").json()
    assert {page["aips"][0]["aip_id"], older["aips"][0]["aip_id"]} == {depot.aips["een-vast"], depot.aips["een-vast-2"]}
    assert older["more"] is None
    shown = api(server, een, "GET", f"/api/v1/aips/{depot.aips['een-vast']}/").json()
    assert shown["description"]["archiefvormer"] == "Gemeente Een" and shown["held"] is True
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    assert any(f["puid"] == "x-fmt/111" and f["role"] == "original" for f in shown["files"])
    assert {r["status"] for r in shown["replicas"]} == {"intact"}
    assert any(e["type"] == "ingestion" and "person:R. Een" in e["agents"] for e in shown["events"])
    assert api(server, een, "GET", "/api/v1/aips/?state=lost").status_code == 400
    assert [a["aip_id"] for a in api(server, een, "GET", "/api/v1/aips/?file_format=x-fmt/263").json()["aips"]] == [
        depot.aips["een-zip"]]
    seen = api(server, twee, "GET", "/api/v1/aips/").json()
    assert [a["aip_id"] for a in seen["aips"]] == [depot.aips["twee"]]
    assert api(server, twee, "GET", "/api/v1/aips/?organisation=gm0001").json()["count"] == 0
    refused = api(server, twee, "GET", f"/api/v1/aips/{depot.aips['een-vast']}/")
    assert refused.status_code == 404 and refused.json()["error"]["reference"] == "E105"


def test_the_list_and_the_aip_page_in_the_browser(regional: Regional) -> None:
    server, aips = regional.server, regional.depot.aips
    with chromium() as browser:
        page = dutch_page(browser)
        sign_in_page(page, server, "A. Een")
        page.get_by_role("link", name="AIP's").first.click()
        page.get_by_label("Status").select_option("held")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_load_state()
        assert "2 AIP's gevonden" in page.content() and "(versie 2)" in page.content()
        check_screen(page, "aips-list-held")
        page.get_by_role("link", name="Gesprek een-vast").first.click()
        page.wait_for_load_state()
        assert aips["een-vast-2"] in page.url
        check_screen(page, "aips-aip")
        page.get_by_role("button", name="Maak een nieuwe DIP").click()
        page.wait_for_load_state()
        assert "De DIP wordt gemaakt" in page.content()
        _work(regional)
        page.reload()
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("downloaden")).first.click()
        with zipfile.ZipFile(download.value.path()) as dip:
            original = dip.read("original/een-vast.txt")
        assert original == (regional.sips["een-vast"] / "data" / "original" / "een-vast.txt").read_bytes()
        check_screen(page, "aips-aip-dip")
