"""A web request opens the catalogue once: the sign-in middleware, the main menu and the view share the request's
Depot, counted by PostgreSQL itself (the sessions its statistics record for the catalogue's database). Served with
$EDEPOT_SERVER_TIMING, each response says how long the server worked on it."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.web_server import register, register_admin, served

REQUESTS = 6


def _sessions(cluster: Any, database: str) -> int:
    """The sessions PostgreSQL has counted on `database`, once every backend that ended has reported them."""
    import psycopg

    seen: list[int] = []
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as db:
        db.execute("SET stats_fetch_consistency = none")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            row = db.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", (database,)).fetchone()
            seen.append(int(row[0]) if row else 0)
            if len(seen) >= 4 and len(set(seen[-4:])) == 1:
                break
            time.sleep(0.25)
    return seen[-1]


def test_a_page_opens_the_catalogue_once(postgres: Any, tmp_path: Path) -> None:
    url = postgres.database()
    database = urlsplit(url).path.lstrip("/")
    data = tmp_path / "data"
    data.mkdir()
    (data / "edepot.toml").write_text(f'[catalogue]\nurl = "{url}"\n', encoding="utf-8")
    people = register_admin(data)
    register(data, people, "R. Beheer", "records-manager")
    with served(data, extra_env={"EDEPOT_SERVER_TIMING": "1"}) as server:
        import requests

        from tests.web_server import form_post

        session = requests.Session()
        answer, _ = form_post(session, f"{server.url}/sign-in/", {"username": "R. Beheer",
                                                                  "password": "een-lang-wachtwoord-2026"})
        assert answer.status_code == 302 and answer.headers["Location"] == "/", answer.text[:300]
        assert session.get(f"{server.url}/", timeout=30).status_code == 200  # the menu shows: the Depot was asked
        before = _sessions(postgres, database)
        for _ in range(REQUESTS):
            page = session.get(f"{server.url}/", timeout=30)
            assert page.status_code == 200 and "R. Beheer" in page.text
            assert re.fullmatch(r"app;dur=[0-9]+\.[0-9]{2}", page.headers["Server-Timing"])  # the benchmarks' measure
        opened = _sessions(postgres, database) - before
    # one connection for the web's own tables (the session, the signed-in user) and one for the catalogue
    assert opened == 2 * REQUESTS, f"{opened} connections for {REQUESTS} pages"
