"""The desk benchmark's sessions for locust (run by desk_bench.py, not alone): each locust user is one signed-in
person (its session cookie from $DESK_BENCH_PLAN), visiting its pages in turn without pause (or `think` seconds
between them). Per visit it keeps the server's time (the `Server-Timing` header), the time the client waited
and the status; they are written to the plan's `out` file when locust quits."""
from __future__ import annotations

import itertools
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, events, task

PLAN = json.loads(Path(os.environ["DESK_BENCH_PLAN"]).read_text())
SESSIONS = itertools.count()
SAMPLES: list[tuple[str, float | None, float, int]] = []  # (page, server ms, client ms, status)
SERVER_TIME = re.compile(r"app;dur=([0-9.]+)")


class Sitter(FastHttpUser):
    """One person at the desk."""

    wait_time = between(0, PLAN["think"]) if PLAN["think"] else (lambda self: 0)

    def on_start(self) -> None:
        session = PLAN["sessions"][next(SESSIONS) % len(PLAN["sessions"])]
        self.cookie = session["cookie"]
        self.visits = itertools.cycle(session["visits"][session["offset"]:] + session["visits"][:session["offset"]])

    @task
    def visit(self) -> None:
        page, path = next(self.visits)
        began = time.perf_counter()
        with self.client.get(path, name=page, headers={"Cookie": self.cookie}, allow_redirects=False,
                             catch_response=True) as answer:
            waited = (time.perf_counter() - began) * 1000
            found = SERVER_TIME.search(answer.headers.get("Server-Timing", "") if answer.headers else "")
            SAMPLES.append((page, float(found.group(1)) if found else None, waited, answer.status_code or 0))
            if answer.status_code == 200:
                answer.success()
            else:
                answer.failure(f"status {answer.status_code}")


@events.quitting.add_listener
def _write(environment: Any, **kwargs: Any) -> None:
    Path(PLAN["out"]).write_text(json.dumps(SAMPLES))
