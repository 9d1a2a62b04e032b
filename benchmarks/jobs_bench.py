"""Queued ingests done by worker processes on PostgreSQL: one worker, then several with one of them killed.

    .venv/bin/python benchmarks/jobs_bench.py [--sips 40] [--workers 3] [--lease 10]

Makes `--sips` distinct SIPs (a small WhatsApp chat each, from samples/woo-marktplein), starts a throwaway
PostgreSQL cluster under benchmarks/.work/jobs, and runs the same queue twice on fresh databases:

1. one `edepot worker` process;
2. `--workers` processes, one of them killed with SIGKILL while it runs a job, its job queued again by the
   others' reaper once its lease (`--lease` seconds) ran out.

Prints each run's wall time and SIPs a minute, the ratio of the second to the first, how long after the kill the
killed worker's job was done by another (against the lease), and whether every SIP became exactly one AIP with one
ingestion event (the run fails with exit 1 when not).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SAMPLE = REPO / "samples" / "woo-marktplein" / "1-jansen-de-vries"
WORK = REPO / "benchmarks" / ".work" / "jobs"


def make_sips(count: int, root: Path) -> list[Path]:
    """`count` SIPs of distinct chats and records."""
    from ingest.sip import create_sip
    from kernel.config import load_config

    config = load_config(root / "sip-config")
    text = SAMPLE.with_suffix(".txt").read_text(encoding="utf-8")
    metadata = SAMPLE.with_suffix(".yaml").read_text(encoding="utf-8")
    sips = []
    for n in range(count):
        chat = root / "chats" / f"chat-{n:03}"
        chat.mkdir(parents=True, exist_ok=True)
        (chat / "chat.txt").write_text(f"{text}15-03-2024 10:{n % 60:02} - Wethouder Jansen: bericht {n}\n",
                                       encoding="utf-8")
        (chat / "chat.yaml").write_text(metadata.replace("WA-2024-0101", f"WA-BENCH-{n:04}"), encoding="utf-8")
        sips.append(create_sip([chat / "chat.txt"], root / "sips" / f"sip-{n:03}", config,
                               metadata_file=chat / "chat.yaml").path)
    return sips


def queue_all(data: Path, sips: list[Path]) -> list[str]:
    """Queue an ingest of each SIP as a records manager; the job ids."""
    from edepot.cli import main

    os.environ["EDEPOT_USER"] = "R. Beheer"
    jobs = []
    for sip in sips:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["--data-dir", str(data), "--json", "ingest", str(sip), "--queue"]) == 0
        jobs.append(json.loads(out.getvalue())["job_id"])
    return jobs


def states(url: str) -> list[tuple[str, str, int, str]]:
    import psycopg

    with psycopg.connect(url) as db:
        return db.execute("SELECT state, worker, attempts, job_id FROM jobs").fetchall()


def run(url: str, data: Path, sips: list[Path], *, workers: int, kill_one: bool) -> dict[str, object]:
    """Queue every SIP, start `workers` worker processes and wait until no job is queued or running."""
    queue_all(data, sips)
    argv = [sys.executable, "-m", "edepot.cli", "--data-dir", str(data), "worker", "--interval", "0.2"]
    env = {**os.environ, "EDEPOT_USER": "W. Orker"}
    started = time.perf_counter()
    processes = [subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(workers)]
    killed = False
    killed_at, victim_job = 0.0, ""
    retaken_in: float | None = None  # from the kill until the killed worker's job was done by another
    try:
        while True:
            now = states(url)
            if victim_job and retaken_in is None and dict((j, s) for s, _, _, j in now).get(victim_job) == "done":
                retaken_in = time.perf_counter() - killed_at
            if all(state not in ("queued", "running") for state, _, _, _ in now):
                break
            done = sum(state == "done" for state, _, _, _ in now)
            if kill_one and not killed and done >= len(sips) // 4:
                victim = processes[0]
                running = [job for state, by, _, job in now if state == "running" and by.endswith(f":{victim.pid}")]
                if running:
                    victim.send_signal(signal.SIGKILL)
                    victim.wait()
                    killed, killed_at, victim_job = True, time.perf_counter(), running[0]
            time.sleep(0.1)
        seconds = time.perf_counter() - started
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=60)
    return {"seconds": seconds, "killed": killed, "retaken_in": retaken_in, **verify(url, len(sips))}


def verify(url: str, count: int) -> dict[str, object]:
    """Whether every job is done, every SIP exactly one AIP with exactly one ingestion event."""
    import psycopg

    with psycopg.connect(url) as db:
        jobs = db.execute("SELECT state, attempts FROM jobs").fetchall()
        (aips,) = db.execute("SELECT count(*) FROM aips").fetchall()[0]
        ingestions = db.execute("SELECT aip_id, count(*) FROM events WHERE type = 'ingestion' GROUP BY aip_id"
                                ).fetchall()
    return {"jobs_done": sum(state == "done" for state, _ in jobs), "retaken": sum(a > 1 for _, a in jobs),
            "exactly_once": len(jobs) == count and all(s == "done" for s, _ in jobs) and aips == count
            and len(ingestions) == count and all(n == 1 for _, n in ingestions)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sips", type=int, default=40)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--lease", type=int, default=10, help="lease seconds of a job (default 10)")
    args = parser.parse_args()

    from tests.postgres_cluster import Cluster, installed_or_skip

    installed_or_skip()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    sips = make_sips(args.sips, WORK)
    cluster = Cluster(WORK / "postgres")
    results = {}
    try:
        for name, workers, kill_one in (("one worker", 1, False), (f"{args.workers} workers, one killed",
                                                                    args.workers, True)):
            url = cluster.database()
            data = WORK / f"data-{workers}"
            data.mkdir()
            (data / "edepot.toml").write_text(f'[catalogue]\nurl = "{url}"\n[scan]\nrequired = false\n'
                                              f"[jobs]\nlease_seconds = {args.lease}\n", encoding="utf-8")
            results[name] = run(url, data, sips, workers=workers, kill_one=kill_one)
    finally:
        cluster.stop()
    print(f"{args.sips} SIPs queued, lease {args.lease} s, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'run':28} {'seconds':>8} {'SIPs/min':>9} {'retaken':>8}  exactly once  killed job done after")
    for name, result in results.items():
        seconds = float(result["seconds"])  # type: ignore[arg-type]
        after = f"{result['retaken_in']:.1f} s" if result["retaken_in"] is not None else "-"
        print(f"{name:28} {seconds:8.1f} {args.sips / seconds * 60:9.1f} {result['retaken']!s:>8}  "
              f"{result['exactly_once']!s:12}  {after}"
              + ("" if result["killed"] or name == "one worker" else " (none killed)"))
    first, second = (float(r["seconds"]) for r in results.values())  # type: ignore[arg-type]
    print(f"throughput of {args.workers} workers (one killed) / one worker: {first / second:.2f}")
    return 0 if all(r["exactly_once"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
