"""Access and delivery through the Depot service: the rules of a DIP order, a permit and a restriction live in
the service (called here without the command line); every DIP, purge, permit, hold and restriction names the
acting person in its PREMIS event and register entry; nothing is done when nobody is named (E112); a
researcher's search takes the acting person as the researcher."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from access_factory import Archive, archive_on_backend

from access.search import SearchRequest
from edepot.cli import main
from edepot.service import Depot, Person
from edepot.service.access_and_delivery import DipOrder
from kernel.errors import InputError, NoActingPerson, NotFound
from kernel.version import EDEPOT_AGENT_ID
from preservation.access_register import open_register
from preservation.catalogue import open_catalogue

ON = date(2026, 11, 23)  # the request date of these tests (the archive's clock says so too)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def archive(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Archive:
    """The shared archive, its catalogue on SQLite and then on PostgreSQL."""
    return archive_on_backend(request, tmp_path_factory)


def depot(archive: Archive, name: str | None) -> Depot:
    return Depot(archive.config, person=Person(name) if name else None)


def events_of(archive: Archive, aip_id: str) -> list:
    catalogue = open_catalogue(archive.config.catalogue_url)
    try:
        return catalogue.events(aip_id)
    finally:
        catalogue.close()


@pytest.mark.parametrize(("order", "says"), [
    (DipOrder(), "name the records to deliver, or a query"),
    (DipOrder(records=("a", "b"), query="vergunning"), "at most one"),
    (DipOrder(records=("a",), requester="K. Lezer"), "the requester and the purpose"),
    (DipOrder(records=("a",), requester="K. Lezer", purpose="inzage", view="archivist"), "whoever makes it"),
    (DipOrder(records=("a",), woo_request="2026-041"), "own DIP answers no Woo request"),
    (DipOrder(records=("a",), requester="K. Lezer", purpose="inzage", woo_request=" "), "request's identifier"),
    (DipOrder(records=("a",), requester="Eigen gebruik archief", purpose="inzage"), "is not a requester"),
    (DipOrder(records=("a",), requester="K. Lezer", purpose="inzage", on=ON, expires=date(2026, 11, 22)),
     "expire (2026-11-22) before its request date 2026-11-23"),
])
def test_the_service_refuses_a_dip_order_that_makes_no_sense(archive: Archive, tmp_path: Path, order: DipOrder,
                                                             says: str) -> None:
    with pytest.raises(InputError) as refused:
        depot(archive, "A. Archivaris").create_dip(order, out=tmp_path / "dip")
    assert says in refused.value.message and refused.value.ref == "E100"
    assert "--" not in refused.value.one_line()  # the service's words name no flag of the command line
    assert not (tmp_path / "dip").exists()


def test_a_dip_its_woo_holds_and_its_purge_name_the_people_who_did_them(archive: Archive, tmp_path: Path) -> None:
    made = depot(archive, "D. Levering").create_dip(
        DipOrder(records=(archive.open,), requester="K. Lezer", purpose="Woo-verzoek", woo_request="2026-099",
                 on=ON, expires=ON), out=tmp_path / "woo")
    assert made.records[0].decision.allowed
    dissemination = [e for e in events_of(archive, archive.open)
                     if e.type == "dissemination" and made.dip_id in e.detail]
    assert [e.agents for e in dissemination] == [(EDEPOT_AGENT_ID, "person:D. Levering")]
    catalogue = open_catalogue(archive.config.catalogue_url)
    try:
        holds = [h for h in catalogue.holds(active_only=True) if h.reason == "Woo-verzoek 2026-099"]
    finally:
        catalogue.close()
    assert [h.placed_by for h in holds] == ["D. Levering"]

    purge = depot(archive, "P. Opruimer").purge_dips(on=date(2026, 11, 24))  # the day after its last day
    assert [r.dip_id for r in purge.removals] == [made.dip_id] and not made.path.exists()
    with open_register(archive.config.catalogue_url) as register:
        acts = [(e.action, e.actor) for e in register.log(dip_id=made.dip_id)]
    assert acts == [("dip-delivered", "D. Levering"), ("dip-purged", "P. Opruimer")]


def test_a_permit_and_a_decided_restriction_name_the_person_and_keep_their_rules(archive: Archive) -> None:
    archivist = depot(archive, "V. Verlener")
    with pytest.raises(InputError, match="would have ended already"):
        archivist.grant_permit(archive.closed, to="Z. Onderzoeker", until=date(2026, 11, 22), reason="studie")
    with pytest.raises(InputError, match="names the person it is for and the reason"):
        archivist.grant_permit(archive.closed, to=" ", until=date(2027, 1, 1), reason="studie")
    with pytest.raises(NotFound):
        archivist.grant_permit("GEEN-RECORD", to="Z. Onderzoeker", until=date(2027, 1, 1), reason="studie")
    permit = archivist.grant_permit(archive.closed, to="Z. Onderzoeker", until=date(2027, 1, 1), reason="studie")
    assert permit.granted_by == "V. Verlener"
    entries = [e for e in archivist.access_log(requester="Z. Onderzoeker") if e.action == "permit"]
    assert [e.actor for e in entries] == ["V. Verlener"]

    with pytest.raises(InputError, match="needs its reason"):
        archivist.set_restriction(archive.open, label="Geen beperking", reason=" ")
    with pytest.raises(InputError, match="legal ground"):
        archivist.set_restriction(archive.open, label="Overig", reason="toets")
    change = archivist.set_restriction(archive.open, label="Geen beperking", reason="getoetst")  # open, as it was
    assert change.by == "V. Verlener"
    decided = [e for e in events_of(archive, archive.open) if e.type == "metadata modification"]
    assert decided and decided[-1].agents == (EDEPOT_AGENT_ID, "person:V. Verlener")


def test_nothing_is_done_without_an_acting_person(archive: Archive, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    nobody = depot(archive, None)
    permits = len(nobody.permits())
    attempts = [
        lambda: nobody.create_dip(DipOrder(records=(archive.open,), requester="K. Lezer", purpose="inzage"),
                                  out=tmp_path / "dip"),
        lambda: nobody.purge_dips(),
        lambda: nobody.grant_permit(archive.closed, to="N. Iemand", until=date(2027, 1, 1), reason="studie"),
        lambda: nobody.set_restriction(archive.open, label="Geen beperking", reason="getoetst"),
    ]
    for attempt in attempts:
        with pytest.raises(NoActingPerson):
            attempt()
    assert not (tmp_path / "dip").exists() and len(nobody.permits()) == permits
    assert nobody.search(SearchRequest("vergunning", role="researcher", on=ON)).hits  # a search records nothing

    monkeypatch.delenv("EDEPOT_USER")
    code = main(["--data-dir", str(archive.config.data_dir), "dip", "create", "--aip", archive.open, "--out",
                 str(tmp_path / "cli")])
    err = capsys.readouterr().err
    assert code == 2 and "E112" in err and "--user" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "cli").exists()


def test_a_researchers_search_is_the_acting_persons_with_their_permits(archive: Archive,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(archive.config.data_dir), "access", "permit", "--record", archive.restricted,
                 "--to", "S. Zoeker", "--until", "2027-01-31", "--reason", "promotie", "--user", "V. Verlener",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["granted_by"] == "V. Verlener"
    request = SearchRequest("zwaluwnest", role="researcher", on=ON)
    assert len(depot(archive, "S. Zoeker").search(request).hits) == 2
    assert depot(archive, "Iemand Anders").search(request).hits == ()
    assert main(["--data-dir", str(archive.config.data_dir), "search", "zwaluwnest", "--date", "2026-11-23",
                 "--user", "S. Zoeker", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 2
