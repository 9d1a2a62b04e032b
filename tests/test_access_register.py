"""The access register lives in the catalogue: its writes are part of a caller's transaction, and a catalogue
written by another edepot version is refused before anything is written to it."""
from __future__ import annotations

import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from django.db import transaction

from edepot.cli import main
from kernel.config import Config
from preservation.access_register import open_register
from preservation.catalogue_db.database import catalogue_alias

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def test_permits_granted_in_a_transaction_that_fails_leave_no_permit_and_no_log_entry(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    alias = catalogue_alias(url)
    with pytest.raises(RuntimeError), transaction.atomic(using=alias):
        for grantee in ("J. Onderzoeker", "K. Journalist"):  # each register is closed inside the transaction
            with open_register(url) as register:
                register.grant_permit("WA-2024-0105", grantee, date(2030, 1, 1), "onderzoek", "A. Archivaris",
                                      NOW)
        raise RuntimeError("the rest of the work failed")
    with open_register(url) as register:
        assert register.permits() == [] and list(register.log()) == []
        register.grant_permit("WA-2024-0105", "J. Onderzoeker", date(2030, 1, 1), "onderzoek", "A. Archivaris",
                              NOW)
    with open_register(url) as register:
        assert [p.grantee for p in register.permits()] == ["J. Onderzoeker"]
        assert [e.action for e in register.log()] == ["permit"]


def test_a_catalogue_of_an_older_edepot_is_refused_with_e111_and_left_as_it_was(
        config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    config.data_dir.mkdir(parents=True)
    old = config.data_dir / "catalogue.sqlite"
    db = sqlite3.connect(old)
    db.execute("CREATE TABLE aips (aip_id TEXT PRIMARY KEY, record_id TEXT NOT NULL)")
    db.commit()
    db.close()
    before = old.read_bytes()
    code = main(["--data-dir", str(config.data_dir), "access", "log"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("edepot: error E111: ") and len(err.strip().splitlines()) == 1, err
    assert old.read_bytes() == before
