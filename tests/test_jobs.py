"""Jobs: ingests queued from the command line and done by real worker processes, on SQLite and PostgreSQL: each
SIP one AIP, a duplicate refused as the job's own failure, a cancelled job left alone and a retried one done; the
queue holds no local path of the machine that queued, and a person sees only their own jobs."""
from __future__ import annotations

import hashlib
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


def data_depot(tmp_path: Path, *, url: str | None = None, lease: int | None = None) -> tuple[Path, Depot]:
    """A data directory (on the catalogue at `url`, jobs with a lease of `lease` seconds), its Depot runner."""
    data = tmp_path / "data"
    data.mkdir()
    settings = (f'[catalogue]\nurl = "{url}"\n' if url else "") + "[scan]\nrequired = false\n"
    (data / "edepot.toml").write_text(settings + (f"[jobs]\nlease_seconds = {lease}\n" if lease else ""),
                                      encoding="utf-8")
    return data, Depot(data, catalogue_url=url)


@pytest.fixture
def depot(tmp_path: Path, catalogue_url: str) -> Depot:
    return data_depot(tmp_path, url=catalogue_url)[1]


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


def test_a_killed_workers_job_is_taken_over_long_before_its_lease_and_done_exactly_once(tmp_path: Path, postgres: Any) -> None:
    url = postgres.database()
    # A lease far longer than the test: the killed worker's job is taken over because its session is gone.
    data, depot = data_depot(tmp_path, url=url, lease=600)
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
        killed = time.monotonic()
        while any(j["state"] in ("queued", "running") for j in depot.ok("R. Beheer", "jobs", "list")["jobs"]):
            assert time.monotonic() < killed + 120, "the killed worker's job was not taken over long before its lease"
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


def test_a_worker_stopped_past_its_lease_cannot_finish_after_its_replacement(tmp_path: Path, postgres: Any) -> None:
    import psycopg

    url = postgres.database()
    data, depot = data_depot(tmp_path, url=url, lease=3)
    (sip,) = sips(tmp_path, "1-jansen-de-vries")
    job_id = depot.ok("R. Beheer", "ingest", str(sip), "--queue")["job_id"]
    env = {**os.environ, "EDEPOT_USER": "W. Orker"}
    argv = [sys.executable, "-m", "edepot.cli", "--data-dir", str(data), "worker", "--interval", "0.2"]
    stalled = subprocess.Popen([*argv, "--once"], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    replacement = None
    try:
        with psycopg.connect(url, autocommit=True) as db:
            def claimed() -> tuple[str, str, int]:
                return db.execute("SELECT state, worker, attempts FROM jobs WHERE job_id = %s", (job_id,)).fetchone()

            def lock_holders() -> list[str]:
                return [name for (name,) in db.execute(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE %s",
                    (f"edepot job {job_id}%",))]

            deadline = time.monotonic() + 120
            while not lock_holders():  # it holds the AIP's lock: it is in the middle of the ingest
                assert time.monotonic() < deadline and stalled.poll() is None, "the worker never took the job"
                time.sleep(0.01)
            stalled.send_signal(signal.SIGSTOP)
            stalled_by = claimed()[1]
            assert stalled_by.endswith(f":{stalled.pid}")
            progress = db.execute("SELECT progress FROM jobs WHERE job_id = %s", (job_id,)).fetchone()[0]
            assert progress["stage"]  # followers see how far it is
            replacement = subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while claimed()[:2] == ("running", stalled_by) or claimed()[0] == "queued":
                assert time.monotonic() < deadline + 120, "the job was never taken over"
                time.sleep(0.2)
            while claimed()[0] == "running":
                time.sleep(0.2)
            state, by, attempts = claimed()
            error = db.execute("SELECT error FROM jobs WHERE job_id = %s", (job_id,)).fetchone()[0]
            assert state == "done", error
            assert by.endswith(f":{replacement.pid}") and attempts == 2  # it could take the AIP's lock
            assert lock_holders() == []  # the stalled worker's locks went with its ended session
            stalled.send_signal(signal.SIGCONT)  # it wakes up in the middle of its ingest
            stalled.wait(timeout=120)
            assert claimed() == (state, by, attempts)  # it finished nothing of the job
    finally:
        for process in (stalled, replacement):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
                process.wait(timeout=60)
    (aip,) = depot.ok("R. Beheer", "aip", "list")["aips"]
    events = depot.ok("R. Beheer", "aip", "show", aip["aip_id"])["events"]
    assert len([e for e in events if e["type"] == "ingestion"]) == 1
    # The bag on storage is the replacement's, as the catalogue knows it: the stalled worker published nothing.
    shown = depot.ok("R. Beheer", "aip", "show", aip["aip_id"])
    (premis,) = [f["sha256"] for f in shown["files"] if f["path"] == "data/metadata/premis.xml"]
    for replica in shown["replicas"]:
        bag = Path(replica["path"]) if Path(replica["path"]).is_absolute() else data / replica["path"]
        assert hashlib.sha256((bag / "data/metadata/premis.xml").read_bytes()).hexdigest() == premis
    assert depot.ok("A. Rchivaris", "fixity", "run", "--aip", aip["aip_id"])["intact"] is True


def test_work_committed_before_its_worker_stopped_is_not_done_twice(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from edepot.service import Depot as DepotService
    from edepot.service.person import acting_person
    from ingest import stages

    data, depot = data_depot(tmp_path, lease=1)
    (sip,) = sips(tmp_path, "1-jansen-de-vries")
    job_id = depot.ok("R. Beheer", "ingest", str(sip), "--queue")["job_id"]
    config = load_config(data)

    def gone(*args: Any) -> None:
        raise KeyboardInterrupt  # ... and the worker is gone before it indexes the AIP and ends the job

    monkeypatch.setattr(stages, "index_and_schedule", gone)

    def commit_then_stall(job: Any, fencing: Any) -> dict[str, Any]:
        from edepot.service.job_runner import do  # once Django is set up: it defines a task

        return do(service, job, fencing)  # the AIP is committed ...

    with DepotService(config, person=acting_person(config, "R. Beheer")) as service:
        with pytest.raises(KeyboardInterrupt):
            service.run(job_id, worker="stalled:1", work=commit_then_stall)
    assert depot.ok("R. Beheer", "jobs", "show", job_id)["state"] == "running"
    # its lease runs out (the clock counts whole seconds, so a lease of 1 s ends 1 to 2 s after the last
    # heartbeat): the next worker's reaper queues it again, and that worker takes it
    time.sleep(2.1)
    assert worker(data, "--once").returncode == 0
    shown = depot.ok("R. Beheer", "jobs", "show", job_id)
    (aip,) = depot.ok("R. Beheer", "aip", "list")["aips"]
    assert shown["state"] == "done" and shown["attempts"] == 2 and shown["report"]["aip_id"] == aip["aip_id"]
    events = depot.ok("R. Beheer", "aip", "show", aip["aip_id"])["events"]
    assert len([e for e in events if e["type"] == "ingestion"]) == 1
    assert not (data / "intake" / job_id).exists()
    # the worker that took it over indexed and scheduled what the stalled one had committed
    assert depot.ok("R. Beheer", "search", "marktplein")["total"] == 3
    schedule = depot.ok("R. Beheer", "retention", "show", "--record", aip["record_id"])["schedule"]
    assert schedule["aip_id"] == aip["aip_id"] and schedule["destruction_date"] == "2025-12-31"
    assert shown["report"]["indexed"] is True


def test_every_catalogue_write_of_a_job_checks_its_claim(catalogue_url: str, tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from preservation.directory import Organisation
    from preservation.job_register import QUEUED, ClaimLost, JobRecord
    from preservation.unit_of_work import open_unit_of_work

    store = open_unit_of_work(catalogue_url)
    now = datetime(2026, 12, 7, tzinfo=timezone.utc)
    store.jobs.add(JobRecord("j1", "ingest", {}, QUEUED, "R. Beheer", "", now))
    mine = store.jobs.claim("j1", "a", now, now + timedelta(seconds=1))
    assert mine is not None
    with store.fenced(lambda: store.jobs.hold_claim("j1", mine.fencing)):
        store.directory.add_organisation(Organisation("gm0001", "Een"), by="a", at=now)  # the claim holds
        assert store.jobs.requeue("j1", mine.fencing)  # its lease ran out: the job is queued again ...
        assert store.jobs.claim("j1", "b", now, now + timedelta(seconds=1)) is not None  # ... and taken by b
        with pytest.raises(ClaimLost):
            with store.atomic():
                store.directory.add_organisation(Organisation("gm0002", "Twee"), by="a", at=now)
    assert [o.organisation_id for o in store.directory.organisations()] == ["gm0001"]
    store.close()


def test_fixity_reindex_destruction_and_a_dip_are_queued_and_done_by_a_worker(tmp_path: Path) -> None:
    data, depot = data_depot(tmp_path)
    (sip,) = sips(tmp_path, "1-jansen-de-vries")
    aip = depot.ok("R. Beheer", "ingest", str(sip))["aip_id"]
    fixity = depot.ok("A. Rchivaris", "fixity", "run", "--all", "--queue")
    reindex = depot.ok("A. Rchivaris", "search", "reindex", "--queue")
    destroy = depot.ok("A. Rchivaris", "retention", "destroy", "no-such-list", "--queue")
    names = tmp_path / "namen.txt"
    names.write_text("Petra de Vries\n", encoding="utf-8")
    dip = depot.ok("A. Rchivaris", "dip", "create", "--aip", aip, "--requester", "K. Krant", "--purpose", "Woo",
                   "--redact-names", str(names), "--queue")
    assert str(tmp_path) not in json.dumps(dip["arguments"])  # the names file was copied into the data directory
    names.unlink()
    assert {fixity["kind"], reindex["kind"], destroy["kind"], dip["kind"]} == {"fixity", "reindex", "destruction", "dip"}
    code, _, err = depot.run("A. Rchivaris", "retention", "destroy", "list.json", "--queue")
    assert code == 2 and "the list's id" in err  # a file of the enqueuer's machine is never a job's argument
    assert worker(data, "--once").returncode == 0
    done = {j["kind"]: j for j in depot.ok("A. Rchivaris", "jobs", "list")["jobs"]}
    assert done["fixity"]["state"] == "done" and done["fixity"]["report"]["intact"] is True
    assert done["fixity"]["report"]["aips_checked"] == [aip]
    assert not Path(done["fixity"]["report"]["report_html"]).is_absolute()  # any machine finds it under its data dir
    assert (data / done["fixity"]["report"]["report_html"]).is_file()
    assert [r["aip_id"] for r in done["reindex"]["report"]["reindexed"]] == [aip]
    assert done["destruction"]["state"] == "failed" and "no-such-list" in done["destruction"]["error"]
    assert done["dip"]["state"] == "done", done["dip"]["error"]
    made = data / done["dip"]["report"]["path"]
    assert made.relative_to(data / "dips") and made.is_dir()
    delivered = b"".join(p.read_bytes() for p in made.rglob("*") if p.is_file())
    assert b"schetsontwerp" in delivered and b"Petra de Vries" not in delivered  # made with the names redacted
    events = depot.ok("R. Beheer", "aip", "show", aip)["events"]
    assert [e["agents"] for e in events if e["type"] == "fixity check"][-1].count("person:A. Rchivaris") == 1


def test_doctor_clears_the_intake_of_jobs_done_and_of_no_job_and_keeps_what_a_retry_needs(tmp_path: Path) -> None:
    data, depot = data_depot(tmp_path)
    (sip,) = sips(tmp_path, "1-jansen-de-vries")
    cancelled = depot.ok("R. Beheer", "ingest", str(sip), "--queue")["job_id"]
    depot.ok("R. Beheer", "jobs", "cancel", cancelled)
    orphan = data / "intake" / "0f0f0f0f-queueing-was-killed"
    orphan.mkdir()
    (orphan / "sip.zip").write_bytes(b"PK")
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))  # left two hours ago (a fresh one may be queued now)
    listed = {f["subject"]: f for f in depot.ok("A. Rchivaris", "doctor", "--dry-run")["findings"]
              if f["check"] == "intake"}
    assert listed[str(orphan)]["status"] == "found" and orphan.is_dir()  # only listed on a dry run
    assert "kept for a retry" in listed[str(data / "intake" / cancelled)]["detail"]
    depot.ok("A. Rchivaris", "doctor")
    assert not orphan.exists() and (data / "intake" / cancelled).is_dir()
