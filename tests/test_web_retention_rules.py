"""The Depot service's rules behind the retention screens, on real AIPs: approvals in the order of
`[retention] required_roles` (a reviewer reviews, then an archivist approves), a list rejected with a reason,
records due selected by category, and the dates the catalogue keeps for that."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from kernel.config import Config
from kernel.errors import InputError
from tests.conftest import on_catalogue
from tests.test_destruction import acting, catalogue_of, ingest_record, require_roles

CORRESPONDENTIE = {"waardering": "V", "bewaartermijn": "P1Y",
                   "informatiecategorie": {"code": "1.1", "label": "Correspondentie", "begrippenlijst": "SL 2020"}}


OVERLEG = {"waardering": "V", "bewaartermijn": "P1Y",
           "informatiecategorie": {"code": "2.3", "label": "Overleg", "begrippenlijst": "SL 2020"}}


@pytest.fixture
def config(config: Config, catalogue_url: str) -> Config:
    """Each test on a catalogue in SQLite and in PostgreSQL (the records due are selected and grouped there)."""
    return on_catalogue(config, catalogue_url)


SQLITE_ONLY = pytest.mark.parametrize("catalogue_url", ["sqlite"], indirect=True)  # rules of the service alone


@SQLITE_ONLY
def test_the_archivist_approves_only_after_the_reviewer_and_names_of_roles_in_either_language_match(
        config: Config, tmp_path: Path) -> None:
    result, _ = ingest_record(config, tmp_path)
    require_roles(config, "beoordelaar", "archivaris")
    drafter = acting(config, "R. Opsteller")
    drawn = drafter.draw_up_destruction_list()
    assert drawn is not None
    assert drafter.destruction_list_state(drawn.list_id).state == "drawn-up"
    with pytest.raises(InputError, match="comes after the approval of: beoordelaar"):
        acting(config, "A. Archivaris").approve_destruction_list(drawn.list_id, role="archivist")
    acting(config, "V. Beoordelaar").approve_destruction_list(drawn.list_id, role="reviewer")
    assert drafter.destruction_list_state(drawn.list_id).state == "reviewed"
    with pytest.raises(InputError, match="lacks the approval of: archivaris"):
        drafter.destroy_destruction_list(drawn.list_id)
    acting(config, "A. Archivaris").approve_destruction_list(drawn.list_id, role="archivist")
    assert drafter.destruction_list_state(drawn.list_id).state == "approved"
    assert drafter.destroy_destruction_list(drawn.list_id).destroyed == [result.record_id]
    state = drafter.destruction_list_state(drawn.list_id)
    assert state.state == "destroyed" and drafter.destruction_certificate(drawn.list_id).read_bytes()[:5] == b"%PDF-"


@SQLITE_ONLY
def test_a_rejected_list_is_neither_approved_nor_destroyed_and_a_new_one_can_be_drawn_up(
        config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from edepot.cli import main

    result, _ = ingest_record(config, tmp_path)
    drafter, reviewer = acting(config, "R. Opsteller"), acting(config, "V. Beoordelaar")
    drawn = drafter.draw_up_destruction_list()
    assert drawn is not None
    with pytest.raises(InputError, match="reason"):
        reviewer.reject_destruction_list(drawn.list_id, role="reviewer", reason=" ")
    with pytest.raises(InputError, match="drew the list up"):
        acting(config, "r. opsteller").reject_destruction_list(drawn.list_id, role="records-manager",
                                                               reason="toch niet")
    assert main(["--data-dir", str(config.data_dir), "retention", "reject", drawn.list_id, "--user", "V. Beoordelaar",
                 "--role", "beoordelaar", "--reason", "dossier loopt nog", "--json"]) == 0  # on the command line too
    assert json.loads(capsys.readouterr().out)["reason"] == "dossier loopt nog"
    state = drafter.destruction_list_state(drawn.list_id)
    assert state.state == "rejected" and [(r.approval.by, r.reason) for r in state.rejections] == [
        ("V. Beoordelaar", "dossier loopt nog")]
    assert state.rejections[0].approval.role == "beoordelaar"
    with pytest.raises(InputError, match="was rejected by V. Beoordelaar"):
        acting(config, "A. Archivaris").approve_destruction_list(drawn.list_id, role="archivaris")
    with pytest.raises(InputError, match="rejected.*nothing was destroyed"):
        drafter.destroy_destruction_list(drawn.list_id)
    with catalogue_of(config) as catalogue:
        assert catalogue.tombstone(result.record_id) is None
        assert any("rejected by V. Beoordelaar (beoordelaar): dossier loopt nog" in e.detail
                   for e in catalogue.events(result.aip_id))
    again = drafter.draw_up_destruction_list()
    assert again is not None and again.list_id != drawn.list_id
    assert [i["record_id"] for i in again.content["items"]] == [result.record_id]


def test_records_due_are_counted_by_category_and_a_list_can_be_limited_to_categories(
        config: Config, tmp_path: Path) -> None:
    first, _ = ingest_record(config, tmp_path, CORRESPONDENTIE)
    second, _ = ingest_record(config, tmp_path, OVERLEG)
    held, _ = ingest_record(config, tmp_path, OVERLEG)
    beheer = acting(config, "R. Opsteller")
    beheer.place_hold(held.record_id, reason="Woo-verzoek")
    groups = beheer.due_groups()
    assert [(g.category, g.label, g.count) for g in groups] == [("1.1", "Correspondentie", 1), ("2.3", "Overleg", 1)]
    assert [s.record_id for s, _ in beheer.due_records(category="2.3")] == [second.record_id]
    assert beheer.due_groups(organisation="elders") == []
    drawn = beheer.draw_up_destruction_list(categories=["2.3"])
    assert drawn is not None and [i["record_id"] for i in drawn.content["items"]] == [second.record_id]
    assert drawn.content["categories"] == ["2.3"]
    # A re-appraisal to B takes the record off the records due at once: its dates are kept with its appraisal.
    acting(config, "A. Archivaris").reappraise(first.record_id, reason="toch blijvend", waardering="B")
    assert [g.category for g in beheer.due_groups()] == ["2.3"]
    assert [s.record_id for s in beheer.due_for_transfer(date(2040, 1, 1))] == [first.record_id]
    assert beheer.due_for_transfer(date(2034, 3, 14)) == []  # its transfer date: last message plus ten years
