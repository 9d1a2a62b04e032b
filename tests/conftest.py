"""Fixtures every test may use: a configuration on a temporary data directory with a fixed clock, and
the folder of official standards and real exports beside the checkout (read in place, never copied).

Ingest refuses SIPs it cannot scan for viruses, and the test machine has no freshclam database: every test
(and every `edepot` it starts) scans with the real ClamAV and edepot's test database (EICAR only), named in
$EDEPOT_SCAN_DATABASE. A test of what happens without any database removes it (`no_scan_database`).
Commands act as the person named in $EDEPOT_USER (TEST_OPERATOR) unless a test names another."""
from __future__ import annotations

import dataclasses
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

from kernel.config import Config, load_config

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXED_NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=timezone.utc)
TEST_OPERATOR = "T. Beheerder"


def store_of(config: Any) -> Any:
    """The unit of work over a test data directory's catalogue (what the Depot service hands the engine)."""
    from preservation.unit_of_work import open_unit_of_work

    return open_unit_of_work(config.catalogue_url, config)


def shared_or_skip() -> Path:
    """../shared, or a skip when it is absent outside CI (in CI its absence is a failure)."""
    if SHARED.is_dir():
        return SHARED
    if os.environ.get("CI"):
        pytest.fail("../shared is missing beside the checkout, and CI is set")
    pytest.skip("../shared is not beside the checkout")


@pytest.fixture(scope="session", autouse=True)
def scan_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """edepot's test ClamAV database, named in $EDEPOT_SCAN_DATABASE for the whole session."""
    from preservation.scan import write_test_database

    database = write_test_database(tmp_path_factory.mktemp("clamav"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EDEPOT_SCAN_DATABASE", str(database))
        patch.setenv("EDEPOT_USER", TEST_OPERATOR)  # the person every test's commands act as, unless told
        yield database


@pytest.fixture
def no_scan_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No signature database anywhere: none named, no clamd, none in the system folder."""
    import preservation.scan as scan_module

    monkeypatch.delenv("EDEPOT_SCAN_DATABASE", raising=False)
    monkeypatch.setattr(scan_module, "DEFAULT_DATABASE_DIR", tmp_path / "no-clamav-database")
    monkeypatch.setattr(scan_module, "CLAMD_SOCKETS", ())


@pytest.fixture
def shared() -> Path:
    return shared_or_skip()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """A configuration on an empty data directory, with the official schemas when ../shared is there."""
    loaded = load_config(tmp_path / "data", clock=lambda: FIXED_NOW)
    return dataclasses.replace(loaded, schema_dir=SHARED / "standards" if SHARED.is_dir() else None)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A throwaway PostgreSQL cluster for the whole session (a skip outside CI when PostgreSQL is absent)."""
    from tests.postgres_cluster import Cluster, installed_or_skip

    installed_or_skip()
    cluster = Cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def s3() -> Iterator[Any]:
    """A real S3 server on loopback for the whole session (tests/object_store_server.py)."""
    from tests.object_store_server import start

    server, s3 = start()
    try:
        yield s3
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def catalogue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh catalogue, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    return str(request.getfixturevalue("postgres").database())


def on_catalogue(config: Config, url: str) -> Config:
    """`config` with its catalogue at `url`, named in the data directory's edepot.toml too (so the commands a
    test runs use it; a test adding settings appends to that file)."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    (config.data_dir / "edepot.toml").write_text(f'[catalogue]\nurl = "{url}"\n', encoding="utf-8")
    return dataclasses.replace(config, catalogue_url=url)


def cluster_folder(url: str) -> Path | None:
    """The folder of the test cluster behind a PostgreSQL catalogue URL (None for SQLite)."""
    from urllib.parse import parse_qs, urlsplit

    hosts = parse_qs(urlsplit(url).query).get("host")
    return Path(hosts[0]) if url.startswith("postgresql:") and hosts else None
