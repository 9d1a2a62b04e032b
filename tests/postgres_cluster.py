"""A throwaway PostgreSQL 15 cluster for the tests: a temporary folder owned by the postgres user, `initdb -A
trust`, and `pg_ctl` run as that user on a free port with the socket inside the folder. Databases are made from
a template migrated once, so a test's fresh catalogue costs a CREATE DATABASE, not a migration run."""
from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

BIN = Path("/usr/lib/postgresql/15/bin")
TEMPLATE = "edepot_template"


def installed_or_skip() -> None:
    """A skip when PostgreSQL 15 is not installed, outside CI (in CI its absence is a failure)."""
    if (BIN / "initdb").is_file() and shutil.which("runuser"):
        return
    if os.environ.get("CI"):
        pytest.fail("postgresql-15 is not installed, and CI is set")
    pytest.skip("postgresql-15 is not installed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres(*command: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=120)


class Cluster:
    """A running cluster; `database()` makes a fresh catalogue database and returns its URL."""

    def __init__(self, folder: Path | None = None, settings: str = "") -> None:
        """`folder`: where the cluster lives (default a new temporary folder); `settings`: more `-c name=value`."""
        if folder is not None:
            folder.mkdir(parents=True)
        self.folder = folder or Path(tempfile.mkdtemp(prefix="edepot-postgres-"))
        shutil.chown(self.folder, "postgres", "postgres")
        self.port = _free_port()
        self._names = itertools.count(1)
        data = self.folder / "data"
        _as_postgres(str(BIN / "initdb"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync",
                     "-D", str(data))
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses='' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off " + settings)
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "log"), "-o", options,
                     "-w", "start")
        self._template()

    def url(self, database: str) -> str:
        """The catalogue URL of one database of this cluster."""
        return f"postgresql://postgres@/{database}?host={self.folder}&port={self.port}"

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]

    def _template(self) -> None:
        from preservation.catalogue_db.database import catalogue_alias, ensure_django, forget

        self._execute(f"CREATE DATABASE {TEMPLATE}")
        ensure_django()
        catalogue_alias(self.url(TEMPLATE))  # migrates the empty database
        forget(self.url(TEMPLATE))

    def empty_database(self) -> str:
        """The URL of a new empty database (no catalogue yet)."""
        name = f"empty_{next(self._names)}"
        self._execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def database(self) -> str:
        """The URL of a new database holding an empty catalogue at the newest migration."""
        name = f"catalogue_{next(self._names)}"
        # A check of every configured database (makemigrations --check does one) may have opened the template again.
        self._execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{TEMPLATE}'")
        self._execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def stop(self) -> None:
        """Stop the cluster (immediately: the tests' data is thrown away) and remove its folder."""
        try:
            _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
