"""The catalogue on Django: migrations match the models, a new catalogue is current (on SQLite and on
PostgreSQL), writers side by side never meet "database is locked", and an unknown catalogue is refused rather
than changed."""
from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from kernel.errors import CatalogueUpgradeNeeded
from preservation.catalogue import open_catalogue
from preservation.metadata.premis import PremisEvent


def test_the_migrations_hold_every_model_change() -> None:
    from django.core.management import call_command

    from preservation.catalogue_db.database import ensure_django

    ensure_django()
    try:
        call_command("makemigrations", "catalogue", check=True, dry_run=True, verbosity=0)
    except SystemExit as exit_:  # --check exits 1 when a model change has no migration
        pytest.fail(f"a model change has no migration (makemigrations --check exited {exit_.code})")


def test_a_new_catalogue_is_made_at_the_newest_migration_with_wal(tmp_path: Path) -> None:
    from preservation.catalogue_db.database import applied_migrations, migration_names

    catalogue = open_catalogue(f"sqlite:///{tmp_path / 'catalogue.sqlite'}")
    try:
        assert catalogue.aips() == []
    finally:
        catalogue.close()
    has_tables, applied = applied_migrations(tmp_path / "catalogue.sqlite")
    assert has_tables and applied == migration_names() and len(applied) >= 2
    db = sqlite3.connect(tmp_path / "catalogue.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'search_fts'").fetchone()[0] == 1


def test_a_catalogue_from_a_newer_edepot_is_refused_and_left_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    open_catalogue(url).close()
    db = sqlite3.connect(tmp_path / "catalogue.sqlite")
    db.execute("INSERT INTO django_migrations (app, name, applied) VALUES ('catalogue', '9999_future', '2030-01-01')")
    db.commit()
    db.close()
    before = (tmp_path / "catalogue.sqlite").read_bytes()
    from preservation.catalogue_db.database import forget

    forget(url)
    with pytest.raises(CatalogueUpgradeNeeded, match="newer edepot"):
        open_catalogue(url)
    assert (tmp_path / "catalogue.sqlite").read_bytes() == before


def _write_events(url: str, writer: int, count: int, start: "multiprocessing.synchronize.Event") -> None:
    start.wait()
    catalogue = open_catalogue(url)
    for n in range(count):
        at = datetime(2026, 1, 1, tzinfo=timezone.utc)
        catalogue.add_events(None, [PremisEvent(f"w{writer}-{n}", "fixity check", at, "", "success", "", ("x",),
                                                (), ())])
    catalogue.close()


def test_an_empty_postgresql_database_becomes_a_current_catalogue_and_a_newer_one_is_refused(postgres: Any) -> None:
    from django.db import connections

    from preservation.catalogue_db.database import applied_migrations_at, catalogue_alias, forget, migration_names

    url = postgres.empty_database()
    catalogue = open_catalogue(url)
    assert catalogue.aips() == []
    alias = catalogue_alias(url)
    assert applied_migrations_at(alias) == (True, migration_names())
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal "
                       "ORDER BY tgname")
        assert [r[0] for r in cursor.fetchall()] == ["audit_log_append_only_delete", "audit_log_append_only_update"]
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'search_messages'")
        assert any("USING gin (doc)" in r[0] for r in cursor.fetchall())
        cursor.execute("INSERT INTO django_migrations (app, name, applied) VALUES ('catalogue', '9999_future', now())")
    catalogue.close()
    forget(url)
    with pytest.raises(CatalogueUpgradeNeeded, match="newer edepot") as refused:
        open_catalogue(url)
    assert "9999_future" in refused.value.message


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_writers_in_separate_processes_never_meet_a_locked_database(tmp_path: Path, backend: str,
                                                                     request: pytest.FixtureRequest) -> None:
    # On PostgreSQL the database is empty: the writers, opening it at once, make the catalogue once.
    url = (f"sqlite:///{tmp_path / 'catalogue.sqlite'}" if backend == "sqlite"
           else request.getfixturevalue("postgres").empty_database())
    if backend == "sqlite":
        open_catalogue(url).close()
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    writers = [context.Process(target=_write_events, args=(url, w, 100, start)) for w in range(3)]
    for w in writers:
        w.start()
    start.set()
    for w in writers:
        w.join(timeout=120)
    assert [w.exitcode for w in writers] == [0, 0, 0]
    catalogue = open_catalogue(url)
    assert len(catalogue.recent_events(["fixity check"], limit=1000)) == 300


def test_an_action_without_a_named_person_is_refused_with_its_reference(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from edepot.cli import main

    monkeypatch.delenv("EDEPOT_USER")
    data = tmp_path / "data"
    code = main(["hold", "add", "--data-dir", str(data), "--record", "WA-1", "--reason", "Woo-verzoek 7"])
    err = capsys.readouterr().err
    assert code == 2 and "E112" in err and "--user" in err and "Traceback" not in err
    assert not data.exists()  # refused before anything was touched
    data.mkdir(parents=True)
    (data / "edepot.toml").write_text('[operator]\nname = "Nachtelijke controle"\n', encoding="utf-8")
    assert main(["hold", "add", "--data-dir", str(data), "--record", "WA-1", "--reason", "Woo-verzoek 7"]) == 2
    assert "E105" in capsys.readouterr().err  # the operator acts: what is missing now is the record
    from edepot.service import acting_person
    from kernel.config import load_config

    config = load_config(data)
    assert acting_person(config) == acting_person(config, "  Nachtelijke   controle ")
    assert acting_person(config, "A. Archivaris").agent_id == "person:A. Archivaris"


def test_a_catalogue_without_migrations_is_refused_untouched_and_doctor_names_it(tmp_path: Path) -> None:
    from kernel.config import load_config
    from preservation.doctor import check_catalogue

    config = load_config(tmp_path)
    path = tmp_path / "catalogue.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE aips (aip_id TEXT PRIMARY KEY)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(CatalogueUpgradeNeeded, match="0.2.0"):
        open_catalogue(config.catalogue_url)
    assert path.read_bytes() == before
    [finding] = check_catalogue(config, repair=False)
    assert finding.status.name == "PROBLEM" and "0.2.0" in finding.detail and "upgrade" in finding.detail


def test_version_and_parse_start_without_django(tmp_path: Path) -> None:
    import subprocess
    import sys

    export = next((Path(__file__).parents[1] / "samples" / "whatsapp-android-nl").glob("*.txt"))
    probe = ("import sys, contextlib, io\nfrom edepot.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             f"    code = main(['parse', {str(export)!r}, '--data-dir', {str(tmp_path)!r}])\n"
             "assert code == 0, code\n"
             "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_new_catalogue_beside_the_log_of_a_lost_one_is_whole_and_the_log_kept(tmp_path: Path) -> None:
    import shutil
    import sqlite3

    from preservation.unit_of_work import open_unit_of_work

    lost = tmp_path / "lost.sqlite"
    writer = sqlite3.connect(lost)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE stale (x TEXT)")
    writer.executemany("INSERT INTO stale VALUES (?)", [("x" * 500,)] * 2000)
    writer.commit()
    target = tmp_path / "data" / "catalogue.sqlite"
    target.parent.mkdir()
    shutil.copyfile(lost.with_name("lost.sqlite-wal"), target.with_name("catalogue.sqlite-wal"))  # its log, left
    writer.close()
    store = open_unit_of_work(f"sqlite:///{target}")
    assert store.catalogue.aips() == []
    store.close()
    assert sqlite3.connect(target).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert [p.name.startswith("catalogue.sqlite-wal.orphaned-") for p in target.parent.glob("*orphaned*")] == [True]
