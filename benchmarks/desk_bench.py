"""Benchmark: every page of the archivist's desk under 20 concurrent sessions, on a catalogue of 10,000 AIPs and
10,000,000 messages, on SQLite and (with --postgres) on PostgreSQL; target p95 < 300 ms server time per page.

    .venv/bin/pip install -e '.[bench]'      # gunicorn and locust
    .venv/bin/python benchmarks/desk_bench.py [--postgres] [--work /tmp/edepot-desk-bench] [--seconds 60]

The catalogue (desk_build.py: AIPs over five organisations, their files, replicas, events, retention, holds, jobs,
destruction lists, a million audit entries and the messages with their full-text index) is built once per backend
under --work and used again by later runs of the same sizes (its missing migrations applied first).

gunicorn serves the web application with as many sync workers as the machine has cores, with
$EDEPOT_SERVER_TIMING set, so each response says how long Django worked on it (`Server-Timing: app;dur=…`,
edepot.web.timing: from the first middleware to the response made; the queue before a free worker is not in
it). The twenty desk people sign in through the forms (password, and the second factor's code for the
archivists, enrolled on their first run, their secrets kept under --work), then locust (headless, in this
process's environment, benchmarks/desk_locustfile.py) runs one user per person for --seconds, each visiting the
pages of PAGES its roles may see, in turn, without pause (a page that answers 404 to the first session that
visits it is "absent": that area of the desk is not on this branch, and it is left out). Per page it prints the median and p95 of the server
time, whether p95 < 300 ms, the p95 of the time the client waited (queueing behind the other nineteen
included), and the ratio of the page's p95 server time to that of a peer measured in the same run: a static
file served by the same workers (whitenoise, through the same middleware).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from desk_build import PASSWORD, Sitter, build, current, desk_people  # noqa: E402

TARGET_MS = 300.0
ALL = ("archivist", "records-manager", "reviewer")
ARCHIVISTS = ("archivist",)
# The desk's pages: (name, path, the roles whose people visit it). In a path, {org} is the person's organisation,
# {aip}, {job} and {list} one of its AIPs, jobs and destruction lists, {person} the person's own name.
PAGES: list[tuple[str, str, tuple[str, ...]]] = [
    ("dashboard", "/", ALL),
    ("dashboard, one organisation", "/?organisation={org}", ALL),
    ("audit log", "/audit/", ARCHIVISTS),
    ("audit log, one person", "/audit/?person=Medewerker+7", ARCHIVISTS),
    ("audit log, one organisation", "/audit/?organisation={org}", ARCHIVISTS),
    ("jobs", "/jobs/", ALL),
    ("job", "/jobs/{job}/", ARCHIVISTS),  # another's job: a records manager's and a reviewer's 404
    ("transfers", "/transfers/", ("archivist", "records-manager")),  # who may upload
    ("AIPs", "/aips/", ALL),
    ("AIPs, held, one organisation", "/aips/?organisation={org}&state=held", ALL),
    ("AIPs, a period", "/aips/?since=2020-01-01&until=2020-12-31", ALL),
    ("AIPs due", "/aips/?state=due", ALL),
    ("AIP", "/aips/{aip}/", ALL),
    ("fixity", "/fixity/", ARCHIVISTS),
    ("retention", "/retention/", ALL),
    ("retention: records due", "/retention/due/", ALL),
    ("retention: holds", "/retention/holds/", ALL),
    ("retention: transfer list", "/retention/transfer/", ALL),
    ("retention: destruction list", "/retention/lists/{list}/", ALL),
]
PEER = ("peer: a static file", "/static/edepot/edepot.css")


@dataclass
class Served:
    """A running gunicorn on a data directory (what tests.web_server's sign-in helpers need of a server)."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def prepared(backend: str, args: argparse.Namespace, postgres_url: str | None) -> tuple[Path, dict[str, Any]]:
    """The data directory of `backend` with its catalogue built (or kept from an earlier run and upgraded), and
    what the pages ask about."""
    folder = args.work / backend
    data = folder / "data"
    marker = folder / f"built-{args.aips}-{args.messages}-{args.audit}.json"
    url = postgres_url or f"sqlite:///{data / 'catalogue.sqlite'}"
    if not marker.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        data.mkdir(parents=True)
        if postgres_url:
            _fresh_database(postgres_url)
        (data / "edepot.toml").write_text(f'[catalogue]\nurl = "{url}"\n', encoding="utf-8")
        began = time.perf_counter()
        print(f"{backend}: building {args.aips:,} AIPs, {args.messages:,} messages, {args.audit:,} audit entries",
              flush=True)
        built = build(data, aips=args.aips, messages=args.messages, audit=args.audit)
        built["seconds"] = time.perf_counter() - began
        marker.write_text(json.dumps(built))
        print(f"{backend}: built in {built['seconds']:.0f} s", flush=True)
    else:
        (data / "edepot.toml").write_text(f'[catalogue]\nurl = "{url}"\n', encoding="utf-8")  # the port changes
        current(url)
    return data, json.loads(marker.read_text())


def _fresh_database(url: str) -> None:
    import psycopg

    server = url.replace("/bench?", "/postgres?")
    with psycopg.connect(server, autocommit=True) as db:
        db.execute("DROP DATABASE IF EXISTS bench")
        db.execute("CREATE DATABASE bench")


def serve(data: Path, workers: int) -> Served:
    """gunicorn with `workers` sync workers on a free loopback port, the web's tables migrated first."""
    env = {**os.environ, "EDEPOT_DATA": str(data), "DJANGO_SETTINGS_MODULE": "edepot.web.settings",
           "EDEPOT_SERVER_TIMING": "1"}
    env.pop("EDEPOT_USER", None)
    env.pop("EDEPOT_TOKEN", None)
    subprocess.run([sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT,
                   check=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen([str(gunicorn), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                                "--log-level", "warning", "edepot.web.wsgi:application"],
                               env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return Served(f"http://127.0.0.1:{port}", data, process)
        except OSError:
            if process.poll() is not None:
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer in 60 s")


def signed_in(server: Served, people: list[Sitter], secrets: Path) -> dict[str, str]:
    """Each person's session cookie, signed in through the forms (their second factor's secret kept in
    `secrets` from the run that enrolled it)."""
    from tests import web_server as web

    kept = json.loads(secrets.read_text()) if secrets.is_file() else {}
    for name, (key, last_step) in kept.items():  # (a code's time step is accepted once, also across runs)
        web.SECOND_FACTORS[(server.data_dir, name.casefold())] = web.SecondFactor(key, last_step)
    cookies = {}
    for sitter in people:
        session = web.http_session(server, sitter.name, PASSWORD)  # type: ignore[arg-type]
        cookies[sitter.name] = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    secrets.write_text(json.dumps({name: [factor.key, factor.last_step]
                                   for (data, name), factor in web.SECOND_FACTORS.items() if data == server.data_dir}))
    return cookies


def plan(people: list[Sitter], cookies: dict[str, str], built: dict[str, Any],
         pages: list[str] | None = None) -> list[dict[str, Any]]:
    """Each session's cookie and the pages it visits in turn (those named in `pages`, else all; with the peer
    among them)."""
    sessions = []
    for n, sitter in enumerate(people):
        roles = {r.split("@")[0] for r in sitter.roles}
        fill = {"org": sitter.organisation, "aip": built["aip"][sitter.organisation],
                "job": built["job"][sitter.organisation], "list": built["list"][sitter.organisation]}
        visits = [[name, path.format(**fill)] for name, path, who in PAGES
                  if roles & set(who) and (not pages or name in pages)] + [list(PEER)]
        sessions.append({"cookie": cookies[sitter.name], "visits": visits, "offset": n % len(visits)})
    return sessions


def absent_pages(server: Served, sessions: list[dict[str, Any]]) -> set[str]:
    """The pages that answer 404 to the first session that visits them (their area is not on this branch)."""
    import requests

    absent, tried = set(), set()
    for session in sessions:
        for page, path in session["visits"]:
            if page not in tried:
                tried.add(page)
                answer = requests.get(server.url + path, headers={"Cookie": session["cookie"]}, timeout=60,
                                      allow_redirects=False)
                if answer.status_code == 404:
                    absent.add(page)
    for session in sessions:
        session["visits"] = [visit for visit in session["visits"] if visit[0] not in absent]
    return absent


def run_locust(server: Served, sessions: list[dict[str, Any]], folder: Path, *, seconds: int,
               think: float) -> list[tuple[str, float | None, float, int]]:
    """Every visit of the run: (page, server ms, client ms, status)."""
    plan_file, out = folder / "plan.json", folder / "samples.json"
    out.unlink(missing_ok=True)
    plan_file.write_text(json.dumps({"sessions": sessions, "out": str(out), "think": think}))
    locust = Path(sys.executable).parent / "locust"
    subprocess.run([str(locust), "-f", str(ROOT / "benchmarks" / "desk_locustfile.py"), "--headless",
                    "--users", str(len(sessions)), "--spawn-rate", str(len(sessions)), "--run-time", f"{seconds}s",
                    "--host", server.url, "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"],
                   env={**os.environ, "DESK_BENCH_PLAN": str(plan_file)}, cwd=folder, check=False,
                   stdout=subprocess.DEVNULL, stderr=(folder / "locust.log").open("w"))
    return [tuple(s) for s in json.loads(out.read_text())]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(len(ordered) * share + 0.5) - 1))]


def report(backend: str, samples: list[tuple[str, float | None, float, int]], seconds: int,
           absent: set[str]) -> bool:
    """Print the table of one backend's run; whether every page present met the target."""
    by_page: dict[str, list[tuple[float | None, float, int]]] = {}
    for page, server_ms, client_ms, status in samples:
        by_page.setdefault(page, []).append((server_ms, client_ms, status))
    peer = [s for s, _, status in by_page.get(PEER[0], []) if s is not None and status == 200]
    peer_p95 = percentile(peer, 0.95) if peer else float("nan")
    load = os.getloadavg()
    print(f"\n{backend}: {len(samples):,} visits in {seconds} s ({len(samples) / seconds:.0f}/s), load average "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"{'page':32} {'visits':>6} {'server p50':>10} {'p95':>8}  {'< 300 ms':8} {'client p95':>10} "
          f"{'vs peer':>8}  statuses")
    ok = True
    for page in [name for name, _, _ in PAGES if name in by_page or name in absent] + [PEER[0]]:
        rows = by_page.get(page, [])
        statuses = sorted({status for _, _, status in rows})
        if page in absent:
            print(f"{page:32} {0:>6}  absent")
            continue
        server = [s for s, _, status in rows if s is not None]
        client = [c for _, c, _ in rows]
        p95 = percentile(server, 0.95)
        met = p95 < TARGET_MS and statuses == [200]
        ok &= met or page == PEER[0]
        print(f"{page:32} {len(rows):>6} {statistics.median(server):8.1f}ms {p95:6.1f}ms  "
              f"{'yes' if met else 'NO':8} {percentile(client, 0.95):8.0f}ms {p95 / peer_p95:7.1f}x  "
              + ",".join(map(str, statuses)))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/edepot-desk-bench"),
                        help="where the catalogues are built and kept (default /tmp/edepot-desk-bench)")
    parser.add_argument("--aips", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL (a cluster under --work)")
    parser.add_argument("--only-postgres", action="store_true", help="on PostgreSQL alone")
    parser.add_argument("--sessions", type=int, default=20, help="concurrent signed-in people (at most 20)")
    parser.add_argument("--seconds", type=int, default=60, help="how long locust runs per backend")
    parser.add_argument("--think", type=float, default=0.0, help="at most this many seconds between a session's "
                        "visits (default none: each session asks again as soon as it is answered)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn workers (default: cores)")
    parser.add_argument("--pages", nargs="+", metavar="NAME",
                        help="only the pages of PAGES whose name is one of these (the peer is always visited)")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    from preservation.catalogue_db.database import ensure_django

    ensure_django()
    args.work.mkdir(parents=True, exist_ok=True)
    backends = [] if args.only_postgres else ["SQLite"]
    cluster = None
    if args.postgres or args.only_postgres:
        from search_10m import Server

        cluster = Server(args.work / "postgres-cluster")
        backends.append("PostgreSQL")
    people = desk_people()[:args.sessions]
    ok = True
    try:
        for backend in backends:
            postgres_url = cluster.url("bench") if backend == "PostgreSQL" and cluster else None
            if postgres_url and cluster:
                cluster.database()
            data, built = prepared(backend.lower(), args, postgres_url)
            if args.build_only:
                continue
            server = serve(data, args.workers)
            try:
                cookies = signed_in(server, people, args.work / backend.lower() / "second-factors.json")
                sessions = plan(people, cookies, built, args.pages)
                absent = absent_pages(server, sessions)
                samples = run_locust(server, sessions, args.work / backend.lower(), seconds=args.seconds,
                                     think=args.think)
            finally:
                server.stop()
            ok &= report(backend, samples, args.seconds, absent)
    finally:
        if cluster is not None:
            cluster.stop()
    if not args.build_only:
        print("\nevery page present: p95 < 300 ms" if ok else "\nTARGET MISSED on a page present")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
