"""Upgrade in place: a data dir made by edepot 0.2.0 keeps every row, every PREMIS event and every answer.

`tests/fixtures/datadir-0.2.0/data` was made by edepot 0.2.0 through its command line
(`tests/fixtures/make_datadir_0_2_0.py`), and `expected.json` beside it holds what 0.2.0 answered on it. Today's
edepot runs the same commands on a copy (the read-only ones first; then `retention due`, `retention destroy` of the
approved list and `fixity run`, which write, each on a fresh copy) and must give the same answers, normalised only
where a run legitimately differs (`tests/datadir_answers.py`): the data dir's path, the fixity run's clock and the
new destruction list's id.
"""
from __future__ import annotations

from datetime import datetime, timezone
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
NOW = datetime(2026, 12, 6, tzinfo=timezone.utc)
ANSWERS = EXPECTED["answers"]


@pytest.fixture(scope="module")
def answered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return capture(FIXTURE_DATA, tmp_path_factory.mktemp("upgrade") / "data", read_only=EXPECTED["read_only"],
                   writing=EXPECTED["writing"], prepare=["upgrade", "--user", "A. Archivaris"])


# The full-text index's own storage: rebuilt by the upgrade, so its segments may be laid out otherwise
FTS_STORAGE = ("search_fts_data", "search_fts_idx", "search_fts_config")


def test_every_table_keeps_its_rows(answered: dict[str, Any]) -> None:
    # A later catalogue may add tables; every table 0.2.0 had keeps its rows; the upgrade adds one event.
    kept = {t: n for t, n in EXPECTED["tables"].items() if t not in FTS_STORAGE}
    assert {t: answered["tables"].get(t) for t in kept} == {**kept, "events": kept["events"] + 1}


def test_every_premis_event_is_still_there_and_the_upgrade_is_one_more(answered: dict[str, Any]) -> None:
    added = {k: v for k, v in answered["events"].items() if k not in EXPECTED["events"]}
    assert {k: v for k, v in answered["events"].items() if k in EXPECTED["events"]} == EXPECTED["events"]
    assert [v[:2] for v in added.values()] == [[None, "metadata modification"]]


@pytest.mark.parametrize("index", range(len(ANSWERS)), ids=[" ".join(a["argv"][:3]) for a in ANSWERS])
def test_the_same_answer(answered: dict[str, Any], index: int) -> None:
    # The same answer: every key 0.2.0 gave, with the same value; a newer edepot may add keys (the contract)
    assert keeps(answered["answers"][index], ANSWERS[index])


def keeps(now: Any, then: Any) -> bool:
    """Whether `now` says everything `then` said: equal, with dictionaries allowed to have gained keys."""
    if isinstance(then, dict):
        return isinstance(now, dict) and all(k in now and keeps(now[k], v) for k, v in then.items())
    if isinstance(then, list):
        return isinstance(now, list) and len(now) == len(then) and all(map(keeps, now, then))
    return bool(now == then)


def test_an_answer_that_lost_or_changed_a_key_is_not_the_same() -> None:
    then = {"events": [{"type": "ingestion", "outcome": "success"}]}
    assert keeps({"events": [{"type": "ingestion", "outcome": "success", "agents": ["person:A"]}]}, then)
    assert not keeps({"events": [{"type": "ingestion"}]}, then)
    assert not keeps({"events": [{"type": "ingestion", "outcome": "failure"}]}, then)
    assert not keeps({"events": []}, then)


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


def test_an_upgrade_killed_before_its_last_step_leaves_the_old_catalogue_and_a_rerun_finishes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import shutil

    import preservation.catalogue_db.upgrade as upgrade
    from kernel.errors import CatalogueUpgradeNeeded
    from preservation.catalogue import open_catalogue

    catalogue = tmp_path / "catalogue.sqlite"
    shutil.copyfile(FIXTURE_DATA / "catalogue.sqlite", catalogue)
    before = catalogue.read_bytes()
    url = f"sqlite:///{catalogue}"
    real_replace = os.replace

    def crash_on_the_swap(source: Any, target: Any) -> None:
        if Path(target) == catalogue:
            raise KeyboardInterrupt  # killed between building the new catalogue and putting it in place
        real_replace(source, target)

    monkeypatch.setattr(upgrade.os, "replace", crash_on_the_swap)
    now = datetime(2026, 12, 6, tzinfo=timezone.utc)
    with pytest.raises(KeyboardInterrupt):
        upgrade.upgrade_catalogue(url, by="person:A. Archivaris", now=now)
    assert catalogue.read_bytes() == before
    with pytest.raises(CatalogueUpgradeNeeded):
        open_catalogue(url)
    monkeypatch.setattr(upgrade.os, "replace", real_replace)
    result = upgrade.upgrade_catalogue(url, by="person:A. Archivaris", now=now)
    assert result.upgraded_from == "0.2.0" and result.rows["events"] == EXPECTED["tables"]["events"]
    assert result.backup is not None and _dump(result.backup) == _dump(FIXTURE_DATA / "catalogue.sqlite")
    done = open_catalogue(url)
    assert len(done.aips()) == 3 and done.holds(active_only=True)  # the fourth was destroyed
    assert upgrade.upgrade_catalogue(url, by="person:A. Archivaris", now=now).upgraded_from == "current"


def _dump(catalogue: Path) -> list[tuple[str, list[Any]]]:
    import sqlite3

    db = sqlite3.connect(f"file:{catalogue}?mode=ro&immutable=1", uri=True)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                           "name NOT LIKE 'search_fts%' ORDER BY name")]
        return [(t, db.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall()) for t in tables]
    finally:
        db.close()


def test_a_postgresql_catalogue_behind_on_migrations_is_upgraded_in_one_transaction(
        tmp_path: Path, postgres: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A PostgreSQL catalogue an earlier edepot migrated is refused (E111) until `edepot upgrade` applies the
    missing migrations and records the upgrade; killed halfway, it leaves the database as it was."""
    import json

    import psycopg
    from django.core.management import call_command

    import preservation.catalogue_db.upgrade as upgrade
    from edepot.cli import main
    from preservation.catalogue_db.database import migration_names, register_postgres
    from preservation.catalogue_db.models import Event

    url = postgres.empty_database()
    alias = register_postgres(url)
    call_command("migrate", "catalogue", "0004_storage_identity", database=alias, verbosity=0)
    Event.objects.using(alias).create(event_id="before", aip=None, type="ingestion", date_time=NOW,
                                      outcome="success", detail="", outcome_detail="", agents=[], source_objects=[],
                                      outcome_objects=[])
    data = tmp_path / "data"
    data.mkdir()
    (data / "edepot.toml").write_text(f'[catalogue]\nurl = "{url}"\n', encoding="utf-8")

    def tables() -> set[str]:
        with psycopg.connect(url) as connection:
            return {r[0] for r in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}

    assert main(["--data-dir", str(data), "retention", "due"]) == 2
    assert "E111" in capsys.readouterr().err and "jobs" not in tables()

    def killed(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # killed after the migrations ran, before the upgrade was recorded

    monkeypatch.setattr(upgrade, "_record_event", killed)
    with pytest.raises(KeyboardInterrupt):
        upgrade.upgrade_catalogue(url, by="person:A. Archivaris", now=NOW)
    assert "jobs" not in tables()
    monkeypatch.undo()

    assert main(["--data-dir", str(data), "upgrade", "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["from"] == "0004_storage_identity" and done["to"] == migration_names()[-1]
    assert done["rows"]["events"] == 2 and done["backup"] is None
    assert "jobs" in tables() and "search_fts" not in tables()  # 0005 made it, 0020 moved it
    with psycopg.connect(url) as connection:
        triggers = {r[0] for r in connection.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
        recorded = connection.execute("SELECT agents FROM events WHERE detail LIKE 'catalogue upgraded%%'").fetchall()
    assert {"audit_log_append_only_delete", "audit_log_append_only_update"} <= triggers
    assert len(recorded) == 1 and "person:T. Beheerder" in json.dumps(recorded[0][0])
    assert main(["--data-dir", str(data), "retention", "due"]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(data), "upgrade", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["from"] == "current"
