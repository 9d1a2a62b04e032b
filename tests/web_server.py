"""The web application as its users meet it: `edepot serve` started in a process of its own on a data directory
(Django's settings belong to a process, and the test process has the command line's), signed into over HTTP or
in Debian's chromium (Playwright, the system browser: nothing is downloaded), checked with axe.

Screenshots go to test-artifacts/screenshots/ (git-ignored): look at them before calling a screen done.

Archivists and administrators sign in with a second factor: the helpers enrol one at their first sign-in (reading
the secret off the enrolment screen) and compute its codes as an authenticator app does (RFC 6238). A code's time
step is accepted once, so a person signs in at most three times in 30 seconds: `http_session` keeps one signed-in
session of such a person per server and hands it out again while it lasts.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
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


@dataclass
class SecondFactor:
    """A person's authenticator app: the secret (base32) and the last time step whose code was used."""

    key: str
    last_step: int = 0


SECOND_FACTORS: dict[tuple[Path, str], SecondFactor] = {}  # by data directory and person (case folded)
SIGNED_IN: dict[tuple[str, str], Any] = {}  # a signed-in session of a person with a second factor, by server


def totp(key: str, step: int) -> str:
    """The code of time step `step` (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) for the base32 secret `key`."""
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    digest = hmac.new(secret, step.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(int.from_bytes(digest[offset:offset + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


def enrolled_key(html: str) -> str:
    """The secret shown as text on the enrolment screen."""
    found = re.search(r'<code class="secret" id="secret">([A-Z2-7 ]+)</code>', html)
    assert found, html[:1000]
    return found.group(1).replace(" ", "")


def next_code(server: WebServer, name: str, *, enrol_key: str | None = None) -> str:
    """The next code `name`'s app gives that the server accepts: of a time step not used before, at most one
    ahead of now (waiting for the clock when three were used in this half minute). With `enrol_key`, the app
    is given that secret first."""
    key = (server.data_dir, " ".join(name.split()).casefold())
    if enrol_key is not None:
        SECOND_FACTORS[key] = SecondFactor(enrol_key)
    factor = SECOND_FACTORS[key]
    now = int(time.time()) // 30
    step = max(factor.last_step + 1, now - 1)
    if step > now + 1:
        time.sleep((step - 1) * 30 - time.time() + 0.5)
    factor.last_step = step
    return totp(factor.key, step)


def form_post(session: Any, url: str, data: dict[str, str]) -> Any:
    """(the answer, the form) when `session` posts `data` to the form at `url`, with the form's CSRF token."""
    form = session.get(url, timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert csrf, form.text[:500]
    return session.post(url, data={"csrfmiddlewaretoken": csrf.group(1), **data}, headers={"Referer": url},
                        allow_redirects=False, timeout=30), form


def http_session(server: WebServer, name: str, password: str = PASSWORD) -> Any:
    """A requests session signed in as `name` with a password (the CSRF token taken from the form), and the code
    of their second factor when they have one (enrolled on first use); such a person's session is kept and
    given out again while it is signed in."""
    import requests

    kept = SIGNED_IN.get((server.url, " ".join(name.split()).casefold()))
    if kept is not None and kept.get(f"{server.url}/", allow_redirects=False, timeout=30).status_code == 200:
        return kept
    session = requests.Session()
    answer, _ = form_post(session, f"{server.url}/sign-in/", {"username": name, "password": password})
    assert answer.status_code == 302, answer.text[:500]
    second = answer.headers["Location"]
    if second.endswith(("/sign-in/enrol/", "/sign-in/code/")):
        url = f"{server.url}{second}"
        page = session.get(url, timeout=30)
        enrol_key = enrolled_key(page.text) if second.endswith("/enrol/") else None
        answer, _ = form_post(session, url, {"code": next_code(server, name, enrol_key=enrol_key)})
        assert answer.status_code == 302 and not answer.headers["Location"].startswith("/sign-in/"), answer.text[:500]
        SIGNED_IN[(server.url, " ".join(name.split()).casefold())] = session
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


def sign_in_page(page: Any, server: WebServer, name: str, password: str = PASSWORD, *,
                 second_factor: bool = True) -> None:
    """Sign in through the form, as a person would; with `second_factor`, also the code of their app when it is
    asked (enrolling one when the role needs it and they have none)."""
    page.goto(f"{server.url}/sign-in/")
    page.get_by_label("Naam").fill(name)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_load_state()
    if not second_factor or not page.url.endswith(("/sign-in/enrol/", "/sign-in/code/")):
        return
    enrol_key = enrolled_key(page.content()) if page.url.endswith("/enrol/") else None
    page.locator("#id_code").fill(next_code(server, name, enrol_key=enrol_key))
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()


def tab_to(page: Any, target: Any, *, most: int = 60) -> None:
    """Press Tab until `target` (a CSS selector or a locator) has the focus, as a keyboard user moves; fails when
    it is never reached."""
    locator = page.locator(target) if isinstance(target, str) else target
    for _ in range(most):
        if locator.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} is not reached with Tab")


def sign_in_by_keyboard(page: Any, server: WebServer, name: str, password: str = PASSWORD) -> None:
    """Sign in by keyboard only, the second step too (enrolling when the role needs it and they have none)."""
    page.goto(f"{server.url}/sign-in/")
    tab_to(page, page.get_by_label("Naam"))
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: not url.endswith("/sign-in/"))
    if page.url.endswith(("/sign-in/enrol/", "/sign-in/code/")):
        enrol_key = enrolled_key(page.content()) if page.url.endswith("/enrol/") else None
        tab_to(page, "#id_code")
        page.keyboard.type(next_code(server, name, enrol_key=enrol_key))
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/sign-in/" not in url)


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
