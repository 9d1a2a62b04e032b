"""Jobs: ingests queued from the command line and done by real worker processes, on SQLite and PostgreSQL: each
SIP one AIP, a duplicate refused as the job's own failure, a cancelled job left alone and a retried one done; the
queue holds no local path of the machine that queued, and a person sees only their own jobs."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ingest.sip import create_sip
from kernel.config import load_config
from tests.cli_runner import Depot
from tests.conftest import REPO

SAMPLES = REPO / "samples" / "woo-marktplein"


def sips(root: Path, *names: str) -> list[Path]:
    config = load_config(root / "sip-config")
    return [create_sip([SAMPLES / f"{n}.txt"], root / f"sip-{n}", config, metadata_file=SAMPLES / f"{n}.yaml").path
            for n in names]


def worker(data: Path, *args: str, user: str = "W. Orker") -> subprocess.CompletedProcess[str]:
    """`edepot worker ARGS` as a process of its own, as a worker runs on a server."""
    env = {**os.environ, "EDEPOT_USER": user}
    return subprocess.run([sys.executable, "-m", "edepot.cli", "--data-dir", str(data), "--json", "worker", *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=600)


@pytest.fixture
def depot(tmp_path: Path, catalogue_url: str) -> Depot:
    depot = Depot(tmp_path / "data", catalogue_url=catalogue_url)
    depot.data.mkdir()
    (depot.data / "edepot.toml").write_text(f'[catalogue]\nurl = "{catalogue_url}"\n[scan]\nrequired = false\n',
                                            encoding="utf-8")
    return depot


def test_queued_ingests_are_done_once_by_workers(depot: Depot, tmp_path: Path) -> None:
    first, second = sips(tmp_path, "1-jansen-de-vries", "2-de-boer-yilmaz")
    queued = [depot.ok("R. Beheer", "ingest", str(sip), "--queue") for sip in (first, second, first)]
    assert [j["state"] for j in queued] == ["queued"] * 3
    assert all(str(tmp_path) not in json.dumps(j["arguments"]) for j in queued)  # a copy in the data directory
    cancelled = depot.ok("R. Beheer", "ingest", str(second), "--queue")
    assert depot.ok("R. Beheer", "jobs", "cancel", cancelled["job_id"])["state"] == "cancelled"
    code, _, err = depot.run("R. Beheer", "jobs", "cancel", cancelled["job_id"])
    assert code == 2 and "only a queued job" in err

    done = worker(depot.data, "--once", "--concurrency", "2")
    assert done.returncode == 0, done.stderr
    states = {j["job_id"]: j for j in depot.ok("R. Beheer", "jobs", "list")["jobs"]}
    assert [states[j["job_id"]]["state"] for j in queued] == ["done", "done", "failed"]
    assert states[queued[2]["job_id"]]["error"].startswith("E106")  # the same SIP again: refused, not doubled
    assert states[cancelled["job_id"]]["state"] == "cancelled"
    aips = depot.ok("R. Beheer", "aip", "list")["aips"]
    assert sorted(a["aip_id"] for a in aips) == sorted(states[j["job_id"]]["report"]["aip_id"] for j in queued[:2])
    for aip in aips:  # one ingest event each, by the person who queued it
        events = depot.ok("R. Beheer", "aip", "show", aip["aip_id"])["events"]
        ingests = [e for e in events if e["type"] == "ingestion"]
        assert len(ingests) == 1 and "person:R. Beheer" in ingests[0]["agents"]
    assert not (depot.data / "intake" / queued[0]["job_id"]).exists()

    # A cancelled job queued again is done by the next worker (here: the duplicate of the second SIP, refused).
    assert depot.ok("R. Beheer", "jobs", "retry", cancelled["job_id"])["state"] == "queued"
    assert worker(depot.data, "--once").returncode == 0
    shown = depot.ok("R. Beheer", "jobs", "show", cancelled["job_id"])
    assert shown["state"] == "failed" and shown["attempts"] == 1 and shown["error"].startswith("E106")
    assert len(depot.ok("R. Beheer", "aip", "list")["aips"]) == 2


def test_a_person_sees_only_the_jobs_they_queued(tmp_path: Path) -> None:
    depot = Depot(tmp_path / "data")
    depot.data.mkdir()
    (depot.data / "edepot.toml").write_text("[scan]\nrequired = false\n", encoding="utf-8")
    depot.tokens["A. Beheer"] = depot.ok("A. Beheer", "user", "add", "A. Beheer", "--role", "administrator")["token"]
    for name in ("R. Een", "R. Twee"):
        depot.tokens[name] = depot.ok("A. Beheer", "user", "add", name, "--role", "records-manager")["token"]
    (sip,) = sips(tmp_path, "1-jansen-de-vries")
    job = depot.ok("R. Een", "ingest", str(sip), "--queue")
    assert [j["job_id"] for j in depot.ok("R. Een", "jobs", "list")["jobs"]] == [job["job_id"]]
    assert depot.ok("R. Twee", "jobs", "list")["jobs"] == []
    for verb in ("show", "cancel", "retry"):
        code, out, err = depot.run("R. Twee", "jobs", verb, job["job_id"])
        assert code == 2 and "E105" in err, (verb, err)
    assert [j["job_id"] for j in depot.ok("A. Beheer", "jobs", "list")["jobs"]] == [job["job_id"]]
    code, _, err = depot.run("Onbekend", "ingest", str(sip), "--queue")
    assert code == 2 and "E113" in err  # only registered people queue work


def test_a_killed_workers_job_is_taken_over_and_done_exactly_once(tmp_path: Path, postgres: Any) -> None:
    url = postgres.database()
    data = tmp_path / "data"
    data.mkdir()
    (data / "edepot.toml").write_text(f'[catalogue]\nurl = "{url}"\n[scan]\nrequired = false\n[jobs]\nlease_seconds = 3\n',
                                      encoding="utf-8")
    depot = Depot(data, catalogue_url=url)
    names = [p.stem for p in sorted(SAMPLES.glob("*.yaml"))]
    queued = [depot.ok("R. Beheer", "ingest", str(sip), "--queue")["job_id"] for sip in sips(tmp_path, *names)]
    env = {**os.environ, "EDEPOT_USER": "W. Orker"}
    argv = [sys.executable, "-m", "edepot.cli", "--data-dir", str(data), "worker", "--interval", "0.2"]
    workers = [subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(2)]
    try:
        victim = workers[0]
        deadline = time.monotonic() + 120
        while not any(j["state"] == "running" and j["worker"].endswith(f":{victim.pid}")
                      for j in depot.ok("R. Beheer", "jobs", "list")["jobs"]):
            assert time.monotonic() < deadline and victim.poll() is None, "the worker never took a job"
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        while any(j["state"] in ("queued", "running") for j in depot.ok("R. Beheer", "jobs", "list")["jobs"]):
            assert time.monotonic() < deadline + 180, "the jobs were never all done"
            time.sleep(0.5)
    finally:
        for worker_process in workers:
            worker_process.terminate()
            worker_process.wait(timeout=60)
    jobs = {j["job_id"]: j for j in depot.ok("R. Beheer", "jobs", "list")["jobs"]}
    assert all(jobs[j]["state"] == "done" for j in queued), {j: jobs[j]["error"] for j in queued}
    assert any(jobs[j]["attempts"] == 2 for j in queued)  # the killed worker's job, done by the other
    aips = depot.ok("R. Beheer", "aip", "list")["aips"]
    assert sorted(a["aip_id"] for a in aips) == sorted(jobs[j]["report"]["aip_id"] for j in queued)
    for aip in aips:  # exactly one AIP per SIP, no event doubled
        events = depot.ok("R. Beheer", "aip", "show", aip["aip_id"])["events"]
        assert len([e for e in events if e["type"] == "ingestion"]) == 1
        assert len({(e["type"], e["date_time"], e["detail"]) for e in events}) == len(events)
