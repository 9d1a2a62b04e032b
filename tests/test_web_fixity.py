"""The fixity screen, its service and its actions, as their users meet them: a regional e-Depot serving two
municipalities, each with real ingests on two storage locations. The figures per location follow what happens to
the files (damaged, verified, restored, declared lost); an archivist sees only their own organisation's AIPs; in
the browser an archivist runs fixity, finds the damage, restores it from an uploaded outside copy and declares a
loss."""
from __future__ import annotations

import dataclasses
import re
import shutil
import time
import zipfile
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from typing import Any, Iterator

import pytest

from edepot.service import Depot as Service
from edepot.service.person import Person
from kernel.config import load_config
from kernel.errors import InputError, NotFound, NotPermitted, StorageFailure
from tests.cli_runner import Depot
from tests.test_faults import tmpfs
from tests.test_web_dashboard import _sip, _stdin
from tests.web_server import (
    PASSWORD,
    WebServer,
    check_screen,
    chromium,
    dutch_page,
    edepot,
    http_session,
    served,
    sign_in_page,
)

EEN, TWEE = ("gm0001", "Gemeente Een"), ("gm0002", "Gemeente Twee")
OPERATOR = "Nachtelijke controle"  # whom the scheduled runs act as
PEOPLE = {"A. Een": "archivist@gm0001", "R. Een": "records-manager@gm0001", "A. Twee": "archivist@gm0002",
          "R. Twee": "records-manager@gm0002", OPERATOR: "archivist"}
ADMIN = "A. Beheer"


@dataclasses.dataclass
class Regional:
    """The data directory, its people's command line, and each AIP's original (path in the AIP, bytes)."""

    depot: Depot
    originals: dict[str, tuple[str, bytes]]

    def service(self, name: str, *, days: float = 0) -> Service:
        """The Depot service acting as `name` (signed in: their credential given), `days` from now."""
        moment = datetime.now(timezone.utc) + timedelta(days=days)
        config = dataclasses.replace(load_config(self.depot.data), clock=lambda: moment)
        return Service(config, person=Person(name), vouched=True)

    def damage(self, name: str, *, locations: int = 2) -> None:
        """Change the original of AIP `name` on disk, in the first `locations` storage locations."""
        for bag in sorted((self.depot.data / "storage").glob(f"*/*/{self.depot.aips[name]}"))[:locations]:
            (bag / self.originals[name][0]).write_bytes(b"beschadigd")


@pytest.fixture(scope="module")
def regional(tmp_path_factory: pytest.TempPathFactory) -> Regional:
    """Two municipalities' records, ingested by their records managers, on two storage locations."""
    root = tmp_path_factory.mktemp("fixity")
    depot = Depot(root / "data")
    depot.data.mkdir()
    (depot.data / "edepot.toml").write_text("[scan]\nrequired = false\n[operator]\nname = \"Nachtelijke controle\"\n",
                                            encoding="utf-8")
    with _stdin(PASSWORD + "\n"):
        depot.tokens[ADMIN] = depot.ok(ADMIN, "user", "add", ADMIN, "--admin", "--password-stdin")["token"]
    for organisation in (EEN, TWEE):
        depot.ok(ADMIN, "organisation", "add", organisation[0], "--name", organisation[1])
    for name, role in PEOPLE.items():
        with _stdin(PASSWORD + "\n"):
            depot.tokens[name] = depot.ok(ADMIN, "user", "add", name, "--role", role, "--password-stdin")["token"]
    originals = {}
    for name, organisation, by, day in (("een-1", EEN, "R. Een", 1), ("een-2", EEN, "R. Een", 2),
                                        ("een-3", EEN, "R. Een", 3), ("twee-1", TWEE, "R. Twee", 4)):
        sip = _sip(root, name, organisation, day)
        depot.aips[name] = depot.ok(by, "ingest", str(sip))["aip_id"]
        original = next(p for p in sorted((sip / "data" / "original").rglob("*")) if p.is_file())
        originals[name] = (str(original.relative_to(sip)), original.read_bytes())
    return Regional(depot, originals)


def _figures(regional: Regional, name: str, *, days: float) -> dict[str, Any]:
    """Per location: (replicas, bytes, verified bytes, damaged, repairs, losses, last run's (by, found, mended,
    left) or None)."""
    with regional.service(name, days=days) as depot:
        shown = depot.fixity_overview()
    return {loc.location_id: (loc.figures.replicas, loc.figures.bytes, loc.figures.verified_bytes, loc.figures.damaged,
                            loc.figures.repairs, loc.figures.losses,
                            None if loc.figures.last_run is None else (loc.figures.last_run.by, loc.figures.last_run.found,
                                                                     loc.figures.last_run.repaired,
                                                                     loc.figures.last_run.unrepaired))
            for loc in shown.locations}


def test_the_figures_follow_damage_verification_restore_and_loss(regional: Regional) -> None:
    depot, aips = regional.depot, regional.depot.aips
    with regional.service("A. Een") as service:
        sizes = {n: service.catalogue.aip(aips[n]).payload_bytes for n in ("een-1", "een-2", "een-3")}
    total = sum(sizes.values())
    # Ingested today: every replica verified. 40 days on, nothing was verified in the last 30 days.
    assert _figures(regional, "A. Een", days=0) == {loc: (3, total, total, 0, 0, 0, None)
                                                    for loc in ("location-1", "location-2")}
    assert {v[2] for v in _figures(regional, "A. Een", days=40).values()} == {0}
    with regional.service("A. Een", days=40) as service:  # one AIP verified: its bytes are covered
        service.run_fixity([aips["een-1"]])
    later = _figures(regional, "A. Een", days=40)
    assert later["location-1"] == (3, total, sizes["een-1"], 0, 0, 0, ("A. Een", 0, 0, 0))
    # One copy damaged: the run repairs it from the other location, and counts the repair there.
    regional.damage("een-2", locations=1)
    with regional.service("A. Een", days=41) as service:
        service.run_fixity(organisations=["gm0001"])
    mended = _figures(regional, "A. Een", days=41)
    assert mended["location-1"] == (3, total, total, 0, 1, 0, ("A. Een", 1, 1, 0))
    assert mended["location-2"] == (3, total, total, 0, 0, 0, ("A. Een", 0, 0, 0))
    # Both copies damaged: not repaired, open at both locations until an outside copy restores it.
    regional.damage("een-2")
    with regional.service("A. Een", days=42) as service:
        service.run_fixity([aips["een-2"]])
        assert [(d.aip_id, d.location) for d in service.fixity_overview().damage.first] == [
            (aips["een-2"], "location-1"), (aips["een-2"], "location-2")]
        assert [d.path for d in service.aip_fixity(aips["een-2"]).damaged] == [regional.originals["een-2"][0]]
    broken = _figures(regional, "A. Een", days=42)
    assert {k: v[3:] for k, v in broken.items()} == {"location-1": (1, 1, 0, ("A. Een", 1, 0, 1)),
                                                     "location-2": (1, 0, 0, ("A. Een", 1, 0, 1))}
    path, original = regional.originals["een-2"]
    with regional.service("A. Een", days=42) as service:
        with pytest.raises(InputError, match="none of the uploaded files"):
            service.restore_uploaded(aips["een-2"], [("kopie.txt", BytesIO(b"iets anders"))])
        packed = BytesIO()  # a copy of the SIP as the producer kept it, in a zip: its layout is not the AIP's
        with zipfile.ZipFile(packed, "w") as archive:
            archive.writestr(f"sip-een-2/{path}", original)
            archive.writestr("sip-een-2/bagit.txt", "BagIt-Version: 1.0\n")
        packed.seek(0)
        restored = service.restore_uploaded(aips["een-2"], [("kopie.zip", packed)])
    assert [(r.path, r.locations) for r in restored.restored] == [(path, ("location-1", "location-2"))]
    assert {k: v[3:6] for k, v in _figures(regional, "A. Een", days=42).items()} == {
        "location-1": (0, 2, 0), "location-2": (0, 1, 0)}
    assert not list((depot.data / "intake").glob("restore-*"))  # the received copy is gone
    with regional.service("A. Een") as service:
        (recovery,) = [e for e in service.catalogue.events(aips["een-2"]) if e.type == "recovery"]
    assert "person:A. Een" in recovery.agents and "from an outside copy (uploaded: kopie.zip)" in recovery.detail
    # No copy anywhere: the loss is declared (with a reason) and counted at both locations; no damage stays open.
    regional.damage("een-3")
    with regional.service("A. Een", days=43) as service:
        service.run_fixity([aips["een-3"]])
        lost = regional.originals["een-3"][0]
        with pytest.raises(InputError, match="reason"):
            service.declared_loss_preview(aips["een-3"], [lost], reason=" ")
        assert [f.path for f in service.declared_loss_preview(aips["een-3"], [lost], reason="geen kopie")] == [lost]
        service.declare_loss(aips["een-3"], paths=[lost], reason="geen kopie meer bij de gemeente")
        assert [(x.aip_id, x.path, x.declared_by) for x in service.fixity_overview().losses.first] == [
            (aips["een-3"], lost, "A. Een")]
        events = service.catalogue.events(aips["een-3"])
    assert any(e.type == "loss declaration" and "person:A. Een" in e.agents for e in events)
    assert {k: v[3:6] for k, v in _figures(regional, "A. Een", days=43).items()} == {
        "location-1": (0, 2, 1), "location-2": (0, 1, 1)}


def test_an_upload_the_data_directory_cannot_hold_is_a_storage_failure_leaving_nothing(regional: Regional) -> None:
    intake = regional.depot.data / "intake"
    with tmpfs(intake, "64k"), regional.service("A. Twee") as service:
        with pytest.raises(StorageFailure, match="could not be received in the data directory"):
            service.restore_uploaded(regional.depot.aips["twee-1"], [("groot.bin", BytesIO(b"x" * 200_000))])
        assert list(intake.iterdir()) == []


def test_a_person_of_another_organisation_sees_and_touches_none_of_it(regional: Regional) -> None:
    aips = regional.depot.aips
    with regional.service("A. Twee") as service:
        twee = service.catalogue.aip(aips["twee-1"]).payload_bytes
        shown = service.fixity_overview()
        assert {(loc.location_id, loc.figures.replicas, loc.figures.bytes) for loc in shown.locations} == {
            ("location-1", 1, twee), ("location-2", 1, twee)}
        assert shown.damage.count == 0 and shown.losses.count == 0
        for act in (lambda: service.aip_fixity(aips["een-2"]), lambda: service.queue_fixity(aips["een-2"]),
                    lambda: service.restore_uploaded(aips["een-2"], [("x", BytesIO(b"x"))]),
                    lambda: service.declared_loss_preview(aips["een-2"], ["x"], reason="r")):
            with pytest.raises(NotFound):
                act()
    with regional.service("R. Een") as service, pytest.raises(NotPermitted):
        service.fixity_overview()


def test_the_schedule_shows_the_operators_last_run_of_ones_own_aips(regional: Regional) -> None:
    with regional.service(OPERATOR) as service:
        service.run_fixity([regional.depot.aips["twee-1"]])
    with regional.service("A. Twee", days=0.01) as service:
        service.run_fixity([regional.depot.aips["twee-1"]])  # a person's run is no scheduled run
        shown = service.fixity_overview()
    assert shown.schedule.operator == OPERATOR and shown.schedule.last_run is not None
    assert shown.schedule.last_run.by == OPERATOR and shown.schedule.last_run.scheduled
    assert {(loc.figures.last_run.by, loc.figures.last_run.scheduled) for loc in shown.locations
            if loc.figures.last_run} == {("A. Twee", False)}
    with regional.service("A. Een") as service:  # it checked none of Een's AIPs
        assert service.fixity_overview().schedule.last_run is None


# -- the screen, served with its worker


@pytest.fixture(scope="module")
def server(regional: Regional) -> Iterator[WebServer]:
    with served(regional.depot.data, worker=True) as running:
        yield running


def _csrf(session: Any, server: WebServer) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', session.get(f"{server.url}/fixity/").text)
    assert found
    return found.group(1)


@pytest.mark.crosses_organisations("fixity", "fixity-run", "fixity-aip", "fixity-restore", "fixity-declare-loss")
def test_the_screen_shows_a_person_of_another_organisation_nothing_of_it(regional: Regional,
                                                                         server: WebServer) -> None:
    aips, url = regional.depot.aips, server.url
    een = [aips[n] for n in ("een-1", "een-2", "een-3")] + [regional.originals[n][0] for n in ("een-2", "een-3")]
    session = http_session(server, "A. Twee")
    page = session.get(f"{url}/fixity/")
    assert page.status_code == 200 and "location-1" in page.text
    assert not [x for x in een if x in page.text]
    assert session.get(f"{url}/fixity/aip/{aips['een-2']}/").status_code == 404
    headers = {"Referer": f"{url}/fixity/"}
    for target, data in ((f"{url}/fixity/run/", {"scope": "aip", "aip_id": aips["een-2"], "back": "aip"}),
                         (f"{url}/fixity/aip/{aips['een-2']}/restore/", {}),
                         (f"{url}/fixity/aip/{aips['een-2']}/loss/", {"path": "x", "reason": "r", "confirm": "yes"})):
        answer = session.post(target, data={"csrfmiddlewaretoken": _csrf(session, server), **data}, headers=headers,
                              files={"copy": ("x.txt", b"x")} if target.endswith("/restore/") else None)
        assert answer.status_code == 404, target  # as for an AIP that does not exist, whose id it repeats
        assert not [x for x in een if x in answer.text and x != aips["een-2"]]
    refused = http_session(server, "R. Een").get(f"{url}/fixity/")
    assert refused.status_code == 403 and "E114" in refused.text


def _wait_for_job(regional: Regional, text: str) -> str:
    """The job id the page's notice links to, once the worker finished it."""
    job = re.search(r'href="/jobs/([0-9a-f-]{36})/"', text)
    assert job, text[:2000]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        shown = edepot(regional.depot.data, ["jobs", "show", job.group(1)], user="A. Een",
                       token=regional.depot.tokens["A. Een"])  # in a process of its own: Playwright runs here
        state = shown["json"]["state"]
        if state not in ("queued", "running"):
            assert state == "done", state
            return job.group(1)
        time.sleep(0.3)
    raise AssertionError(f"job {job.group(1)} still {state}")


def test_an_archivist_runs_fixity_restores_and_declares_a_loss_in_the_browser(regional: Regional, server: WebServer,
                                                                               tmp_path: Path) -> None:
    aips, url = regional.depot.aips, server.url
    with chromium() as browser:
        page: Any = dutch_page(browser)
        sign_in_page(page, server, "A. Een")
        page.get_by_role("link", name="Integriteit").click()
        page.wait_for_url(f"{url}/fixity/")
        check_screen(page, "fixity-overview")
        page.get_by_role("button", name="Nu controleren").click()
        page.wait_for_url(f"{url}/fixity/")
        _wait_for_job(regional, page.content())
        # Both copies of een-1's original changed on disk: the next run finds damage it cannot repair.
        regional.damage("een-1")
        page.get_by_label("Eén AIP").check()
        page.get_by_label("AIP-identificatie (bij één AIP)").fill(aips["een-1"])
        page.get_by_role("button", name="Nu controleren").click()
        _wait_for_job(regional, page.content())
        page.reload()
        damage = page.locator("#damage-heading").locator("xpath=..")
        assert "Open schade (2)" in damage.inner_text() and "kopie beschadigd" in damage.inner_text()
        damage.get_by_role("link").first.click()
        page.wait_for_url(f"{url}/fixity/aip/{aips['een-1']}/")
        path, original = regional.originals["een-1"]
        assert path in page.locator("ul.damaged-files").inner_text()
        check_screen(page, "fixity-aip-damaged")
        copy = tmp_path / "buiten" / Path(path).name
        copy.parent.mkdir()
        copy.write_bytes(original)
        page.get_by_label("Bestanden of zip").set_input_files(str(copy))
        page.get_by_role("button", name="Herstellen").click()
        page.wait_for_url(f"{url}/fixity/aip/{aips['een-1']}/")
        assert f"Hersteld: {path}." in page.locator("ul.messages").inner_text()
        assert "in orde" in page.locator("main").inner_text()
        assert "herstel van buiten" in page.content() and str(regional.depot.data) not in page.content()  # no path
        for bag in sorted((regional.depot.data / "storage").glob(f"*/*/{aips['een-1']}")):
            assert (bag / path).read_bytes() == original
        # Another AIP with no copy left anywhere: its loss is declared, after a confirmation.
        regional.damage("een-2")
        page.goto(f"{url}/fixity/aip/{aips['een-2']}/")
        page.get_by_role("button", name="Deze AIP nu controleren").click()
        page.wait_for_url(f"{url}/fixity/aip/{aips['een-2']}/")
        _wait_for_job(regional, page.content())
        page.reload()
        lost = regional.originals["een-2"][0]
        page.get_by_label(lost).check()
        page.get_by_role("button", name="Verlies verklaren…").click()
        assert "needs a reason" in page.locator('[role="alert"]').inner_text()  # refused in one line
        page.get_by_label(lost).check()
        page.get_by_label("Reden").fill("Geen kopie meer, ook niet bij de gemeente")
        page.get_by_role("button", name="Verlies verklaren…").click()
        check_screen(page, "fixity-confirm-loss")
        page.get_by_role("button", name="Ja, verloren verklaren").click()
        page.wait_for_url(f"{url}/fixity/aip/{aips['een-2']}/")
        assert f"Verloren verklaard: {lost}." in page.locator("ul.messages").inner_text()
        page.get_by_role("link", name="Integriteit van de opslag").click()
        losses = page.locator("#losses-heading").locator("xpath=..").inner_text()
        assert lost in losses
        assert "Open schade (0)" in page.locator("main").inner_text()
        check_screen(page, "fixity-overview-after")
    shutil.rmtree(tmp_path / "buiten")
