"""The web application as its users meet it: `edepot serve` started in a process of its own on a data directory
(Django's settings belong to a process, and the test process has the command line's), signed into over HTTP or
in Debian's chromium (Playwright, the system browser: nothing is downloaded), checked with axe.

Screenshots go to test-artifacts/screenshots/ (git-ignored): look at them before calling a screen done.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
PASSWORD = "een-lang-wachtwoord-2026"
ADMIN = "A. Beheerder"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "tablet": {"width": 768, "height": 1024}}


def edepot(data_dir: Path, argv: list[str], *, stdin: str | None = None, user: str | None = ADMIN,
           token: str | None = None) -> dict[str, Any]:
    """Run `edepot --data-dir DATA ARGV --json` as `user` (with their personal `token`): exit code, JSON, error."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "EDEPOT_TOKEN")}
    env.pop("EDEPOT_USER", None)
    if user:
        env["EDEPOT_USER"] = user
    if token:
        env["EDEPOT_TOKEN"] = token
    done = subprocess.run([sys.executable, "-m", "edepot", "--data-dir", str(data_dir), *argv, "--json"],
                          input=stdin, capture_output=True, text=True, env=env, cwd=REPO)
    return {"exit": done.returncode, "json": json.loads(done.stdout) if done.stdout.strip() else None,
            "error": done.stderr.strip()}


@dataclass
class People:
    """The people of a served data directory: the first administrator's token, and everybody's password."""

    admin_token: str
    tokens: dict[str, str]

    def token(self, name: str) -> str:
        return self.tokens[name]


def register_admin(data_dir: Path, name: str = ADMIN, password: str = PASSWORD) -> People:
    """The first administrator of a new data directory, with `password` for the web."""
    done = edepot(data_dir, ["user", "add", name, "--admin", "--password-stdin"], stdin=password + "\n", user=None)
    assert done["exit"] == 0, done["error"]
    token = done["json"]["token"]
    return People(token, {name: token})


def register(data_dir: Path, people: People, name: str, *roles: str, password: str = PASSWORD) -> str:
    """Register `name` with `roles` (ROLE or ROLE@ORGANISATION) and `password`, by the first administrator;
    returns their personal token."""
    argv = ["user", "add", name, *[arg for role in roles for arg in ("--role", role)], "--password-stdin"]
    done = edepot(data_dir, argv, stdin=password + "\n", token=people.admin_token)
    assert done["exit"] == 0, done["error"]
    people.tokens[name] = done["json"]["token"]
    return people.tokens[name]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class WebServer:
    """A running `edepot serve`."""

    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(data_dir: Path, *, extra_env: dict[str, str] | None = None, worker: bool = False) -> WebServer:
    """`edepot serve` on a free loopback port for `data_dir`, ready to answer (its output in data_dir/../serve.log)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "EDEPOT_TOKEN", "EDEPOT_USER")}
    env.update(extra_env or {})
    log = data_dir.parent / f"serve-{port}.log"
    argv = [sys.executable, "-m", "edepot", "--data-dir", str(data_dir), "serve", "--port", str(port),
            *([] if worker else ["--no-worker"])]
    process = subprocess.Popen(argv, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO)
    server = WebServer(f"http://127.0.0.1:{port}", data_dir, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"edepot serve ended: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise AssertionError(f"edepot serve did not answer in 60 s: {log.read_text()}")


@contextmanager
def served(data_dir: Path, **kwargs: Any) -> Iterator[WebServer]:
    """A running `edepot serve` for the block."""
    server = start_server(data_dir, **kwargs)
    try:
        yield server
    finally:
        server.stop()


def http_session(server: WebServer, name: str, password: str = PASSWORD) -> Any:
    """A requests session signed in as `name` with a password (the CSRF token taken from the form)."""
    import requests

    session = requests.Session()
    form = session.get(f"{server.url}/sign-in/", timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert csrf, form.text[:500]
    answer = session.post(f"{server.url}/sign-in/", data={"csrfmiddlewaretoken": csrf.group(1), "username": name,
                                                          "password": password},
                          headers={"Referer": f"{server.url}/sign-in/"}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text[:500]
    return session


def api(server: WebServer, token: str | None, method: str, path: str, **kwargs: Any) -> Any:
    """One API call with a personal token (or none)."""
    import requests

    headers = {**kwargs.pop("headers", {}), **({"Authorization": f"Token {token}"} if token else {})}
    return requests.request(method, f"{server.url}{path}", headers=headers, timeout=60, **kwargs)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium through Playwright (a skip outside CI when it is not installed; in CI a failure)."""
    if not CHROMIUM.is_file():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (scripts/setup.sh installs it)")
        pytest.skip("chromium is not installed (run scripts/setup.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def dutch_page(browser: Any, **kwargs: Any) -> Any:
    """A new page in a browser context whose language is Dutch (the screens' first language)."""
    return browser.new_page(locale="nl-NL", **kwargs)


def sign_in_page(page: Any, server: WebServer, name: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person would (TOTP is asked by the caller when the role needs it)."""
    page.goto(f"{server.url}/sign-in/")
    page.get_by_label("Naam").fill(name)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Aanmelden").click()


def axe_violations(page: Any) -> list[str]:
    """The WCAG 2.1 A and AA violations axe finds on the page, one line each (empty: none)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])}× e.g. {v['nodes'][0]['target']})"
            for v in results.response["violations"]]


def scrolls_sideways(page: Any) -> bool:
    """Whether the page is wider than its viewport (horizontal scrolling)."""
    return bool(page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"))


def screenshot(page: Any, name: str) -> Path:
    """Keep a full-page screenshot as a test artifact (test-artifacts/screenshots/NAME.png, not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_screen(page: Any, name: str) -> None:
    """The screen now open, at 1280×800 and 768×1024: no axe violation of WCAG 2.1 A/AA, no sideways scrolling;
    a screenshot of each kept."""
    for viewport, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        assert axe_violations(page) == [], f"{name} at {viewport}"
        assert not scrolls_sideways(page), f"{name} scrolls sideways at {viewport}"
        screenshot(page, f"{name}-{viewport}")
