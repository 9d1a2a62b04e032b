"""The retention screens' questions on a big archive: how long each takes for an archivist of one organisation (of
ten) and for one of every organisation, on a catalogue of `--records` records and one a tenth of its size.

    .venv/bin/python benchmarks/retention_bench.py [--records 10000] [--runs 5]

The catalogue is the dashboard benchmark's (benchmarks/dashboard_bench.py: rows written in bulk, waardering V or B,
dekking from 1990 on, so many are due; twenty selectielijst categories). Prints the median of `--runs` calls per
question at both sizes and the ratio of the big to the small. The counts per category and the transfer count
grow with the records of the person's organisations (one grouped query over an index); the pages are cut in the
database.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
WORK = ROOT / "benchmarks" / ".work" / "retention"


def timings(data: Path, tokens: dict[str, str], runs: int) -> dict[str, float]:
    """The median seconds of each question, for each archivist."""
    from edepot.service import Depot
    from edepot.service.person import Person
    from kernel.config import load_config

    config = load_config(data)
    found: dict[str, float] = {}
    for name in ("A. Een", "A. Alle"):
        with Depot(config, person=Person(name), token=tokens[name]) as depot:
            questions: dict[str, Callable[[], Any]] = {
                "records due per category": lambda: depot.due_groups(),
                "records due, one category, a page": lambda: depot.due_records(category="1.7", limit=51),
                "transfer list, a page": lambda: depot.due_for_transfer(date(2030, 1, 1), limit=201,
                                                                        schedule_missing=False),
                "destruction lists, the newest 20": lambda: depot.destruction_lists(newest=20),
                "active holds": lambda: depot.active_holds(),
            }
            for question, call in questions.items():
                seconds = []
                for _ in range(runs):
                    start = time.perf_counter()
                    call()
                    seconds.append(time.perf_counter() - start)
                found[f"{name}: {question}"] = statistics.median(seconds)
    return found


def main() -> int:
    from dashboard_bench import build

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = {}
    for size in (args.records // 10, args.records):
        data = WORK / f"data-{size}"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        tokens = build(data, size, 0)
        results[size] = timings(data, tokens, args.runs)
    small, big = results[args.records // 10], results[args.records]
    print(f"\n{'question':52} {args.records // 10:>9} {args.records:>9}  ratio")
    for question in big:
        print(f"{question:52} {small[question] * 1000:7.1f}ms {big[question] * 1000:7.1f}ms  "
              f"{big[question] / small[question]:5.1f}")
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
