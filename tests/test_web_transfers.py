"""Transfers and the ingest monitor as their users meet them through `edepot serve` with its worker: SIPs uploaded
over tus 1.0 in chunks (offsets that conflict, a resume by HEAD, the size limit, termination, a refusal that says
why), queued and ingested, each job followed on its page; a person of another organisation sees none of it. The
upload area's own rules (a chunk cut short adds nothing, expiry) are tested on it directly."""
from __future__ import annotations

import base64
import io
import json
import re
import shutil
import time
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from edepot.service import Depot
from edepot.service.person import Person
from edepot.service.transfers import expired_uploads
from ingest.sip import create_sip
from ingest.uploads import UploadArea
from kernel.config import load_config
from kernel.errors import InputError, UploadConflict
from preservation.job_register import ERROR, JobRecord
from tests.web_server import (
    People,
    WebServer,
    check_screen,
    chromium,
    dutch_page,
    edepot,
    http_session,
    register,
    register_admin,
    served,
    sign_in_page,
)

EEN, TWEE = ("gm0001", "Gemeente Een"), ("gm0002", "Gemeente Twee")
MAX_BYTES = 4 * 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def _sip_zip(root: Path, name: str, organisation: tuple[str, str], *, broken: bool = False) -> Path:
    """A small SIP of `organisation` packed as zip (`broken`: a payload file that is not what its manifest says)."""
    export = root / f"{name}.txt"
    export.write_text("".join(f"0{d}-03-2024 10:1{d} - Petra de Vries: Bericht {d} van {name} over de vergunning.\n"
                              for d in range(1, 8)), encoding="utf-8")
    meta = root / f"{name}.yaml"
    meta.write_text(yaml.safe_dump({
        "naam": f"Gesprek {name}", "waardering": "V", "bewaartermijn": "P1Y",
        "archiefvormer": {"naam": organisation[1], "identificatie": {"kenmerk": organisation[0], "bron": "TOOI"}},
    }, allow_unicode=True), encoding="utf-8")
    sip = create_sip([export], root / f"sip-{name}", load_config(root / "sip-config"), metadata_file=meta).path
    if broken:
        (sip / "data" / "original" / f"{name}.txt").write_bytes(b"anders dan het manifest zegt")
    return Path(shutil.make_archive(str(root / name), "zip", sip.parent, sip.name))


@dataclass
class Transfers:
    server: WebServer
    people: People
    root: Path


@pytest.fixture(scope="module")
def transfers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Transfers]:
    """Two municipalities, a records manager and an archivist in each (and a second records manager in Een),
    served with a worker; uploads up to 4 MiB."""
    root = tmp_path_factory.mktemp("transfers")
    data = root / "data"
    data.mkdir()
    (data / "edepot.toml").write_text(f"[scan]\nrequired = false\n[transfers]\nmax_bytes = {MAX_BYTES}\n",
                                      encoding="utf-8")
    people = register_admin(data)
    for organisation in (EEN, TWEE):
        assert edepot(data, ["organisation", "add", organisation[0], "--name", organisation[1]],
                      token=people.admin_token)["exit"] == 0
    for name, role in (("R. Een", "records-manager@gm0001"), ("Q. Een", "records-manager@gm0001"),
                       ("A. Een", "archivist@gm0001"), ("R. Twee", "records-manager@gm0002"),
                       ("A. Twee", "archivist@gm0002")):
        register(data, people, name, role)
    with served(data, worker=True) as server:
        yield Transfers(server, people, root)


def _session(transfers: Transfers, name: str) -> Any:
    session = http_session(transfers.server, name)
    session.headers.update({**TUS, "X-CSRFToken": session.cookies["csrftoken"]})
    return session


def _metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _start(session: Any, server: WebServer, *, length: int, name: str = "sip.zip",
           organisation: str = EEN[0]) -> Any:
    return session.post(f"{server.url}/transfers/uploads/", headers={
        "Upload-Length": str(length), "Upload-Metadata": _metadata(filename=name, organisation=organisation)},
        timeout=30)


def _patch(session: Any, url: str, *, offset: int, body: bytes) -> Any:
    return session.patch(url, data=body, timeout=60, headers={
        "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})


def _job_state(session: Any, server: WebServer, job: str, *, until: tuple[str, ...]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page = session.get(f"{server.url}{job}", headers={"HX-Request": "true"}, timeout=30)
        state = re.search(r'class="state state-(\w+)"', page.text)
        if state and state.group(1) in until:
            return state.group(1)
        time.sleep(0.5)
    raise AssertionError(f"{job} did not end")


def _erred_job(server: WebServer) -> JobRecord:
    """An ingest job of R. Een's that ended in an error of the system, recorded as a worker records one."""
    with Depot(load_config(server.data_dir), person=None) as depot:
        erred = JobRecord(uuid.uuid4().hex, "ingest", {"sip": "intake/x/x.zip"}, ERROR, "R. Een", EEN[0],
                          depot.now(), error="OSError: [Errno 5] Input/output error", finished=depot.now())
        depot.store.jobs.add(erred)
    return erred


def test_the_server_says_what_it_takes_and_refuses_what_the_protocol_forbids(transfers: Transfers) -> None:
    server, session = transfers.server, _session(transfers, "R. Een")
    told = session.options(f"{server.url}/transfers/uploads/", timeout=30)
    assert told.status_code == 204
    assert (told.headers["Tus-Version"], told.headers["Tus-Max-Size"]) == ("1.0.0", str(MAX_BYTES))
    assert "creation" in told.headers["Tus-Extension"] and "termination" in told.headers["Tus-Extension"]
    no_version = session.post(f"{server.url}/transfers/uploads/", headers={"Tus-Resumable": "0.2.2",
                                                                           "Upload-Length": "10"}, timeout=30)
    assert no_version.status_code == 412
    assert session.post(f"{server.url}/transfers/uploads/", timeout=30).status_code == 400  # no Upload-Length
    too_large = _start(session, server, length=MAX_BYTES + 1)
    assert too_large.status_code == 413 and "E131" in too_large.text
    assert _start(session, server, length=0).status_code == 422  # an empty file is no SIP


def test_an_upload_resumes_from_the_servers_offset_and_is_queued_as_an_ingest(transfers: Transfers) -> None:
    server, session = transfers.server, _session(transfers, "R. Een")
    body = _sip_zip(transfers.root, "een-hervat", EEN).read_bytes()
    started = _start(session, server, length=len(body), name="een-hervat.zip")
    assert started.status_code == 201, started.text
    url = started.headers["Location"]
    assert started.headers["Upload-Offset"] == "0" and started.headers["Upload-Expires"]
    half = len(body) // 2
    first = _patch(session, url, offset=0, body=body[:half])
    assert (first.status_code, first.headers["Upload-Offset"]) == (204, str(half))
    again = _patch(session, url, offset=0, body=body[:half])  # the same chunk again, as after a lost answer
    assert again.status_code == 409 and "E130" in again.text
    assert _patch(session, url, offset=half + 5, body=body[half + 5:]).status_code == 409
    asked = session.head(url, timeout=30)
    assert (asked.status_code, asked.headers["Upload-Offset"], asked.headers["Upload-Length"]) == (
        200, str(half), str(len(body)))
    assert _patch(session, url, offset=half, body=body[half:] + b"x").status_code == 413  # past the announced length
    unframed = session.patch(url, data=body[half:], timeout=30, headers={"Upload-Offset": str(half)})
    assert unframed.status_code == 415
    last = _patch(session, url, offset=half, body=body[half:])
    assert last.status_code == 204, last.text
    job = last.headers["Edepot-Job"]
    assert session.head(url, timeout=30).headers["Edepot-Job"] == job
    asked_again = _patch(session, url, offset=len(body), body=b"")  # the last answer lost: an empty chunk asks for it
    assert (asked_again.status_code, asked_again.headers["Edepot-Job"]) == (204, job)
    assert _job_state(session, server, job, until=("done", "failed", "error")) == "done"
    page = session.get(f"{server.url}{job}", timeout=30).text
    aip = re.search(r'href="/aips/([^/"]+)/"', page)
    assert aip and "Ingestrapport" in page and "aanvaard" in page
    report = session.get(f"{server.url}{job}report.json", timeout=30)
    assert report.headers["Content-Disposition"].startswith("attachment")
    assert report.json()["aip_id"] == aip.group(1) and str(server.data_dir) not in report.text
    assert json.loads(report.text)["status"] == "accepted"


def test_a_file_that_is_no_archive_is_refused_in_one_line_and_its_bytes_removed(transfers: Transfers) -> None:
    server, session = transfers.server, _session(transfers, "R. Een")
    body = b"Dit is geen zip maar een brief.\n" * 40
    url = _start(session, server, length=len(body), name="brief.zip").headers["Location"]
    refused = _patch(session, url, offset=0, body=body)
    assert refused.status_code == 422
    assert "\n" not in refused.text and "brief.zip is not a zip, 7z or tar archive" in refused.text
    assert session.head(url, timeout=30).headers["Edepot-Refused"] == "1"
    again = _patch(session, url, offset=len(body), body=b"")
    assert again.status_code == 422 and "brief.zip is not a zip, 7z or tar archive" in again.text
    upload_id = url.rstrip("/").rsplit("/", 1)[-1]
    folder = next((server.data_dir / "uploads").glob(f"*/{upload_id}"))
    assert not (folder / "data").exists() and not (folder / "sip").exists()
    listed = session.get(f"{server.url}/transfers/", timeout=30).text
    assert "afgewezen" in listed and "brief.zip is not a zip, 7z or tar archive" in listed


def test_an_upload_is_terminated_by_its_starter(transfers: Transfers) -> None:
    server, session = transfers.server, _session(transfers, "R. Een")
    url = _start(session, server, length=1000).headers["Location"]
    assert _patch(session, url, offset=0, body=b"PK\x03\x04" + b"0" * 96).status_code == 204
    assert session.delete(url, timeout=30).status_code == 204
    assert session.head(url, timeout=30).status_code == 404
    assert _patch(session, url, offset=100, body=b"1" * 10).status_code == 404


def test_a_failed_ingest_is_told_from_a_system_error_with_its_report_and_a_retry(transfers: Transfers) -> None:
    server, session = transfers.server, _session(transfers, "R. Een")
    body = _sip_zip(transfers.root, "een-kapot", EEN, broken=True).read_bytes()
    url = _start(session, server, length=len(body), name="een-kapot.zip").headers["Location"]
    job = _patch(session, url, offset=0, body=body).headers["Edepot-Job"]
    assert _job_state(session, server, job, until=("done", "failed", "error")) == "failed"
    page = session.get(f"{server.url}{job}", timeout=30).text
    assert "Afgewezen om de inhoud" in page and "Fout in het systeem" not in page
    assert "afgewezen" in page and "E300" in page and 'action="' + job + 'retry/"' in page
    assert 'hx-trigger' not in page  # ended: no more polling
    report = session.get(f"{server.url}{job}report.json", timeout=30).json()
    assert report["status"] == "rejected" and report["error"]["problems"]
    erred = _erred_job(server)  # a job the system failed, on the same page, in other words
    page = session.get(f"{server.url}/jobs/{erred.job_id}/", timeout=30).text
    assert "Fout in het systeem" in page and "Afgewezen om de inhoud" not in page and "Input/output" in page
    retried = session.post(f"{server.url}/jobs/{erred.job_id}/retry/", timeout=30, allow_redirects=False)
    assert retried.status_code == 302
    assert _job_state(session, server, f"/jobs/{erred.job_id}/", until=("failed", "error")) == "failed"


@pytest.mark.crosses_organisations("transfers", "upload-create", "upload", "jobs", "job", "job-report",
                                   "job-retry", "job-cancel")
def test_a_person_of_another_organisation_sees_none_of_it(transfers: Transfers) -> None:
    server, een = transfers.server, _session(transfers, "R. Een")
    body = _sip_zip(transfers.root, "een-geheim", EEN).read_bytes()
    url = _start(een, server, length=len(body), name="een-geheim.zip").headers["Location"]
    assert _patch(een, url, offset=0, body=body[:100]).status_code == 204
    unfinished = url.rstrip("/").rsplit("/", 1)[-1]
    queued = _start(een, server, length=len(body), name="een-geheim-2.zip").headers["Location"]
    job = _patch(een, queued, offset=0, body=body).headers["Edepot-Job"]
    _job_state(een, server, job, until=("done", "failed", "error"))
    job_id = job.strip("/").rsplit("/", 1)[-1]
    archivist = _session(transfers, "A. Een")
    assert job_id in archivist.get(f"{server.url}/jobs/", timeout=30).text  # the organisation's archivist follows it
    for name in ("R. Twee", "A. Twee", "Q. Een"):  # another organisation; a colleague, for the upload itself
        other = _session(transfers, name)
        assert other.head(url, timeout=30).status_code == 404
        assert _patch(other, url, offset=100, body=body[100:]).status_code == 404
        assert other.delete(url, timeout=30).status_code == 404
        listed = other.get(f"{server.url}/transfers/", timeout=30).text
        assert unfinished not in listed and "een-geheim" not in listed
        if name == "Q. Een":
            continue
        assert _start(other, server, length=len(body), organisation=EEN[0]).status_code == 404
        assert job_id not in other.get(f"{server.url}/jobs/", timeout=30).text
        for path in (job, f"{job}report.json"):
            assert other.get(f"{server.url}{path}", timeout=30).status_code == 404, path
        for path in (f"{job}retry/", f"{job}cancel/"):
            assert other.post(f"{server.url}{path}", timeout=30).status_code == 404, path
    assert een.head(url, timeout=30).status_code == 200  # still there, untouched
    assert een.head(url, timeout=30).headers["Upload-Offset"] == "100"


def test_in_the_browser_an_upload_survives_a_broken_connection_and_a_reload(transfers: Transfers) -> None:
    server = transfers.server
    sip = _sip_zip(transfers.root, "een-browser", EEN)
    bogus = transfers.root / "geen-sip.zip"
    bogus.write_bytes(b"Geen archief, wel een bestand met een zip-naam.\n" * 100)
    erred = _erred_job(server)  # (before the browser: Playwright's event loop keeps Django's ORM out)
    with chromium() as browser:
        page = dutch_page(browser)
        sign_in_page(page, server, "R. Een")
        page.goto(f"{server.url}/transfers/")
        check_screen(page, "transfers")
        small_chunks = "document.getElementById('upload-form').dataset.chunk = '1024'"
        page.evaluate(small_chunks)
        patches: list[str] = []

        def break_second(route: Any) -> None:  # the connection breaks under the second chunk, once
            patches.append(route.request.method)
            if route.request.method == "PATCH" and patches.count("PATCH") == 2:
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route("**/transfers/uploads/**", break_second)
        page.set_input_files("#sip-file", str(sip))
        page.get_by_role("button", name="Uploaden").click()
        page.locator("#upload-done").wait_for(state="visible", timeout=60_000)
        assert patches.count("HEAD") >= 1 and patches.count("PATCH") > sip.stat().st_size // 1024
        assert page.locator("#upload-progress").get_attribute("value") == "100"
        assert "wachtrij voor ingest" in page.locator("#upload-status").inner_text()
        page.unroute("**/transfers/uploads/**")
        # a reload in the middle: the same file chosen again resumes where the server is
        page.goto(f"{server.url}/transfers/")
        page.evaluate(small_chunks)
        cut: list[int] = []

        def cut_off(route: Any) -> None:
            if route.request.method == "PATCH":
                cut.append(1)
                if len(cut) >= 3:
                    route.abort("internetdisconnected")
                    return
            route.continue_()

        page.route("**/transfers/uploads/**", cut_off)
        page.set_input_files("#sip-file", str(bogus))
        page.get_by_role("button", name="Uploaden").click()
        page.get_by_text("De verbinding is weggevallen").wait_for(timeout=30_000)
        page.reload()  # while the client waits to retry (the route still breaks the uploads' requests)
        page.unroute("**/transfers/uploads/**")
        assert "onderbroken" in page.locator("table.uploads").inner_text()
        check_screen(page, "transfers-interrupted")
        page.evaluate(small_chunks)
        offsets: list[str] = []
        page.on("request", lambda r: offsets.append(r.headers.get("upload-offset", "")) if r.method == "PATCH" else None)
        page.set_input_files("#sip-file", str(bogus))
        page.get_by_role("button", name="Uploaden").click()
        page.locator("#upload-error").wait_for(state="visible", timeout=60_000)
        assert offsets[0] == "2048"  # two chunks were in before the connection broke: resumed, not restarted
        assert "geen-sip.zip is not a zip, 7z or tar archive" in page.locator("#upload-error").inner_text()
        # the SIP's job, followed until its AIP is there
        page.goto(f"{server.url}/jobs/")
        check_screen(page, "jobs")
        page.locator("table.jobs a").first.click()
        page.locator(".state-done").wait_for(timeout=120_000)
        assert page.locator("#job-status").get_attribute("hx-get") is None  # the polling stopped
        check_screen(page, "job-done")
        link = page.get_by_role("link", name=re.compile("Open het AIP"))
        href = link.get_attribute("href")
        assert href and re.fullmatch(r"/aips/[^/]+/", href)
        link.click()
        page.wait_for_url(f"{server.url}{href}")
        page.goto(f"{server.url}/jobs/{erred.job_id}/")
        assert page.locator(".verdict-error h2").inner_text() == "Fout in het systeem"
        check_screen(page, "job-error")
        page.close()


def test_a_chunk_cut_short_adds_nothing_and_two_senders_never_interleave(tmp_path: Path) -> None:
    area = UploadArea(tmp_path / "uploads")
    now = load_config(tmp_path).clock()
    upload = area.create(owner="R. Een", organisation="gm0001", length=100, filename="../../x.zip", now=now)
    assert upload.filename == "x.zip" and upload.folder.parent.name == "gm0001"
    upload = area.append(upload, io.BytesIO(b"a" * 40), offset=0, count=40, now=now)
    with pytest.raises(InputError, match="ended after 10 of 30 bytes"):
        area.append(upload, io.BytesIO(b"b" * 10), offset=40, count=30, now=now)
    assert upload.data.stat().st_size == 40 and area.find(upload.upload_id).offset == 40  # type: ignore[union-attr]

    class Interleaving(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:  # a second sender arrives while this chunk is received
            with pytest.raises(UploadConflict, match="being received"):
                area.append(upload, io.BytesIO(b"c"), offset=40, count=1, now=now)
            return super().read(size)

    grown = area.append(upload, Interleaving(b"d" * 60), offset=40, count=60, now=now)
    assert grown.complete and upload.data.read_bytes() == b"a" * 40 + b"d" * 60


def test_an_abandoned_upload_expires(tmp_path: Path) -> None:
    config = load_config(tmp_path / "data")
    (tmp_path / "data").mkdir()
    area = UploadArea(config.data_dir / "uploads")
    old = area.create(owner="R. Een", organisation="", length=10, filename="a.zip", now=config.clock())
    later = replace(config, clock=lambda: config.clock() + timedelta(hours=23))
    with Depot(later, person=Person("R. Een")) as depot:
        assert expired_uploads(depot) == []
    fresh = area.create(owner="R. Een", organisation="", length=10, filename="b.zip", now=later.clock())
    much_later = replace(config, clock=lambda: config.clock() + timedelta(hours=25))
    with Depot(much_later, person=Person("R. Een")) as depot:
        found = expired_uploads(depot, dry_run=True)
        assert [f.subject for f in found] == [str(old.folder)] and old.folder.exists()
        assert [f.status.value for f in expired_uploads(depot)] == ["removed"]
    assert not old.folder.exists() and area.find(fresh.upload_id) is not None
