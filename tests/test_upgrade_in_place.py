"""Upgrade in place: a data dir made by edepot 0.2.0 keeps every row, every PREMIS event and every answer.

`tests/fixtures/datadir-0.2.0/data` was made by edepot 0.2.0 through its command line
(`tests/fixtures/make_datadir_0_2_0.py`), and `expected.json` beside it holds what 0.2.0 answered on it. Today's
edepot runs the same commands on a copy (the read-only ones first; then `retention due`, `retention destroy` of the
approved list and `fixity run`, which write, each on a fresh copy) and must give the same answers, normalised only
where a run legitimately differs (`tests/datadir_answers.py`): the data dir's path, the fixity run's clock and the
new destruction list's id.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.datadir_answers import (
    ABSOLUTE_PATH_COLUMNS,
    ABSOLUTE_PATH_FILES,
    BUILT_AT,
    FIXTURE,
    FIXTURE_DATA,
    capture,
    columns_holding,
    read_expected,
)

EXPECTED = read_expected()
ANSWERS = EXPECTED["answers"]


@pytest.fixture(scope="module")
def answered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return capture(FIXTURE_DATA, tmp_path_factory.mktemp("upgrade") / "data", read_only=EXPECTED["read_only"],
                   writing=EXPECTED["writing"])


def test_every_table_keeps_its_rows(answered: dict[str, Any]) -> None:
    # A later catalogue may add tables; every table 0.2.0 had keeps its rows.
    assert {table: answered["tables"].get(table) for table in EXPECTED["tables"]} == EXPECTED["tables"]


def test_every_premis_event_is_still_there(answered: dict[str, Any]) -> None:
    assert answered["events"] == EXPECTED["events"]


@pytest.mark.parametrize("index", range(len(ANSWERS)), ids=[" ".join(a["argv"][:3]) for a in ANSWERS])
def test_the_same_answer(answered: dict[str, Any], index: int) -> None:
    assert answered["answers"][index] == ANSWERS[index]


def test_the_fixture_covers_what_an_upgrade_must_keep() -> None:
    """The fixture holds what the upgrade is about: two versions, a repair, a loss, holds, an executed and an
    approved destruction list with the certificate, a permit, a Woo delivery and a purged DIP."""
    tables, by_argv = EXPECTED["tables"], {" ".join(a["argv"]): a for a in ANSWERS}
    assert tables["aip_versions"] >= 2 and tables["file_losses"] == 1 and tables["access_permits"] == 1
    assert tables["tombstones"] == 1 and tables["destruction_lists"] == 2
    shown = [a["json"] for a in ANSWERS if a["argv"][:2] == ["aip", "show"] and a["exit"] == 0]
    statuses = {r["status"] for aip in shown for r in aip["replicas"]}
    assert {"repaired", "damaged"} <= statuses and any(aip["lost_files"] for aip in shown)
    dips = by_argv["dip list"]["json"]["dips"]
    assert {d["state"] for d in dips} >= {"delivered", "purged"} and any(d["role"] == "woo" for d in dips)
    lists = by_argv["retention lists"]["json"]["lists"]
    assert [len(x["approvals"]) for x in lists] == [2, 2] and [x["destroyed"] for x in lists] == [1, 0]
    assert any(Path(c).name.startswith("verklaring-van-vernietiging") for c in lists[0]["certificate"])
    holds = by_argv["hold list --all"]["json"]["holds"]
    assert any(h["lifted_at"] is None for h in holds) and any(h["lifted_at"] for h in holds)
    assert not list(FIXTURE_DATA.glob("catalogue.sqlite-*")), "the WAL was not checkpointed into the file"
    assert sum(p.stat().st_size for p in FIXTURE.rglob("*") if p.is_file()) < 3_000_000


def test_the_absolute_paths_0_2_0_stored_are_where_the_documentation_says() -> None:
    """Where a relocation must rewrite the data dir's old path (`datadir_answers.ABSOLUTE_PATH_COLUMNS`)."""
    assert columns_holding(FIXTURE_DATA / "catalogue.sqlite", str(BUILT_AT)) == sorted(ABSOLUTE_PATH_COLUMNS)
    holding = {p.relative_to(FIXTURE_DATA) for p in FIXTURE_DATA.rglob("*")
               if p.is_file() and p.suffix in {".json", ".html", ".xml", ".csv", ".txt", ".toml"}
               and str(BUILT_AT).encode() in p.read_bytes()}
    assert holding and all(any(p.match(pattern) for pattern in ABSOLUTE_PATH_FILES) for p in holding)
