"""The read-only admin: for the directory's administrators only, every catalogue table shown and none written, off unless
`[web] admin = true`; the web's tables beside the catalogue's disturb no command and no upgrade.

Django's settings belong to a process, and this one has the command line's: the admin is checked in a process
of its own with the web's settings (tests/web_admin_checks.py), on a copy of the data dir edepot 0.2.0 made
(real ingests, holds, destruction lists, permits, DIPs), upgraded by today's edepot.
"""
from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kernel.config import load_config
from kernel.errors import InputError
from preservation.catalogue_db.database import migration_names
from tests.conftest import REPO, TEST_OPERATOR
from tests.datadir_answers import copy_data_dir, edepot

WEB = {"DJANGO_SETTINGS_MODULE": "edepot.web.settings"}


def _cli_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}


def _web(data_dir: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *argv], cwd=REPO, capture_output=True, text=True,
                          env={**_cli_env(), **WEB, "EDEPOT_DATA": str(data_dir)})


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The admin's checks run on an upgraded copy of the 0.2.0 data dir."""
    data_dir = copy_data_dir(tmp_path_factory.mktemp("web") / "data")
    assert edepot(data_dir, ["upgrade", "--user", "A. Archivaris"])["exit"] == 0
    # a fixity run, a Woo request with a document decided, an organisation and a person too, so that every table has
    # a row to show
    first = edepot(data_dir, ["aip", "list"])["json"]["aips"][0]
    record = first["record_id"]
    assert edepot(data_dir, ["fixity", "run", "--aip", first["aip_id"], "--user", "A. Archivaris"])["exit"] == 0
    for argv in (["woo", "open", "2026-001", "--requester", "K. Krant", "--subject", "toets"],
                 ["woo", "scope", "2026-001", "--record", record, "--messages", "1"],
                 ["woo", "decide", "2026-001", "--document", f"{record}-0001", "--beoordeling", "Geen openbaarmaking",
                  "--ground", "5.2"]):
        assert edepot(data_dir, [*argv, "--user", "W. de Wit"])["exit"] == 0, argv
    sip = data_dir.parent / "sip"
    assert edepot(data_dir, ["sip", "create", str(REPO / "samples" / "woo-marktplein" / "5-de-boer-de-vries.txt"),
                             "--out", str(sip)])["exit"] == 0
    assert edepot(data_dir, ["ingest", str(sip), "--queue", "--user", "R. Beheer"])["exit"] == 0  # a job
    assert edepot(data_dir, ["organisation", "add", "gm9999", "--name", "Gemeente Voorbeeldstad"])["exit"] == 0
    assert edepot(data_dir, ["user", "add", TEST_OPERATOR, "--role", "administrator"])["exit"] == 0
    with open(data_dir / "edepot.toml", "a", encoding="utf-8") as config:
        config.write("\n[web]\nadmin = true\n")
    run = _web(data_dir, ["-m", "pytest", "-p", "no:cacheprovider", "tests/web_admin_checks.py"])
    return {"data_dir": data_dir, "run": run}


def test_the_admin_admits_administrators_only_shows_every_table_and_writes_nothing(checked: dict[str, Any]) -> None:
    run = checked["run"]
    assert run.returncode == 0 and "6 passed" in run.stdout, run.stdout + run.stderr


def test_commands_and_the_upgrade_work_beside_the_web_tables(checked: dict[str, Any]) -> None:
    data_dir = checked["data_dir"]
    db = sqlite3.connect(data_dir / "catalogue.sqlite")
    assert db.execute("SELECT COUNT(*) FROM accounts_user").fetchone()[0] == 3  # the checks' people
    aips = sorted(r[0] for r in db.execute("SELECT aip_id FROM aips WHERE state != 'destroyed'"))
    db.close()
    listed = edepot(data_dir, ["aip", "list"])
    assert listed["exit"] == 0 and sorted(a["aip_id"] for a in listed["json"]["aips"]) == aips and len(aips) >= 3
    upgrade = edepot(data_dir, ["upgrade", "--user", "A. Archivaris"])
    assert upgrade["exit"] == 0 and upgrade["json"]["from"] == "current"


def test_a_catalogue_behind_on_migrations_is_upgraded_with_the_web_tables_kept(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    older = migration_names()[0]
    made = _web(data_dir, ["-c", f"""
import django; django.setup()
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment
call_command("migrate", "catalogue", "{older}", verbosity=0)
for app in ("accounts", "admin", "sessions"):
    call_command("migrate", app, verbosity=0)
from edepot.accounts.models import User
User.objects.create_superuser("beheerder", "b@example.nl", None)
setup_test_environment()
print(Client().get("/admin/").status_code, Client().get("/admin/login/").status_code)
"""])
    assert made.returncode == 0, made.stderr
    assert made.stdout.split() == ["404", "404"]  # no [web] admin: there is no admin
    upgrade = edepot(data_dir, ["upgrade", "--user", "A. Archivaris"])
    assert upgrade["exit"] == 0 and upgrade["json"]["from"] == older, upgrade
    assert edepot(data_dir, ["aip", "list"]) == {"argv": ["aip", "list"], "exit": 0, "json": {"aips": []}, "error": ""}
    db = sqlite3.connect(data_dir / "catalogue.sqlite")
    assert db.execute("SELECT username FROM accounts_user").fetchall() == [("beheerder",)]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # as the web made it, with the catalogue's options
    db.close()


def test_the_secret_key_is_made_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    from edepot.web.secret import SECRET_KEY_FILE, secret_key

    config = load_config(tmp_path / "data")
    key = secret_key(config)
    path = config.data_dir / SECRET_KEY_FILE
    assert len(key) >= 50 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(config) == key and secret_key(load_config(tmp_path / "data")) == key
    assert secret_key(load_config(tmp_path / "other")) != key
    assert sorted(p.name for p in config.data_dir.iterdir()) == [SECRET_KEY_FILE]  # no staging file left


def test_the_web_settings_are_checked(tmp_path: Path) -> None:
    config_file = tmp_path / "edepot.toml"
    for text, refusal in (('admin = "yes"', r"\[web\] admin must be true or false"),
                          ('allowed_hosts = "depot.example.nl"', r"\[web\] allowed_hosts must be a list"),
                          ('secret_key = "short"', r"\[web\] secret_key must be text of at least 50")):
        config_file.write_text(f"[web]\n{text}\n", encoding="utf-8")
        with pytest.raises(InputError, match=refusal):
            load_config(tmp_path)
    config_file.write_text(f'[web]\nsecret_key = "{"k" * 60}"\n', encoding="utf-8")
    configured = load_config(tmp_path)
    assert configured.web.secret_key == "k" * 60 and configured.web.admin is False


def test_the_web_refuses_a_catalogue_edepot_0_2_0_wrote_and_leaves_it_alone(tmp_path: Path) -> None:
    data_dir = copy_data_dir(tmp_path / "data")
    before = (data_dir / "catalogue.sqlite").read_bytes()
    refused = _web(data_dir, ["-m", "django", "migrate"])
    assert refused.returncode == 1 and "written by edepot 0.2.0" in refused.stderr and "edepot upgrade" in refused.stderr
    assert (data_dir / "catalogue.sqlite").read_bytes() == before
