"""Benchmark: search over 10,000,000 messages on SQLite (FTS5) and on PostgreSQL (tsvector + GIN), side by side.

BENCHMARKS.md: median < 50 ms and p99 < 200 ms in every sort order, on SQLite and on PostgreSQL, the same
queries on both, printed with index sizes and build times. No outside peer: each backend is held to the target,
and the two are compared with each other (and must give the same answers).

The data is written straight into the index tables in bulk, not through ingest: 2,000 chats of Dutch-like text
with a Zipf word distribution (search_bench.py's generator), the message texts drawn from a pool of up to
1,000,000 generated texts (a posting list is as long as with unique texts; the stems and tsvectors of a text are
computed once). The queries are search_bench.py's (single words of every frequency, two words, phrases,
prefixes, OR with a date range, a zaak filter, -word with a participant), each run through
`access.search.search` as a researcher (access rules, redaction guard) and as an archivist, in every sort order.

PostgreSQL runs in a cluster the benchmark starts under `--work` (as the tests do: /usr/lib/postgresql/15/bin as
the postgres user) unless `--postgres URL` names an empty database. Data goes under `--work` (default
benchmarks/.work/search10m), removed at the end unless `--keep`; a kept build of the same size is used again.

    .venv/bin/python benchmarks/search_10m.py [--messages 10000000] [--queries 200] [--work DIR] [--keep]
        [--buffers MB] [--cold]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from search_bench import _accumulate, chat_facts, queries, sender_names, vocabulary  # noqa: E402

MEDIAN_MS, P99_MS = 50.0, 200.0
ON = date(2026, 11, 23)
POOL = 1_000_000
CHUNK = 100_000


@dataclass(frozen=True)
class Chat:
    aip_id: str
    facts: Any  # RecordAccess
    senders: tuple[str, ...]
    start: datetime
    messages: int


def chats(count: int, n_chats: int, seed: int = 9) -> list[Chat]:
    """The chats' access facts, senders and start times, as search_bench.generate makes them."""
    rng = random.Random(seed)
    names = sender_names(rng)
    made = []
    for chat in range(n_chats):
        facts = chat_facts(rng, chat)
        start = datetime(2019, 1, 1, tzinfo=timezone(timedelta(hours=1))) + timedelta(days=rng.randint(0, 1800))
        made.append(Chat(f"bench-{chat:05}", facts, tuple(rng.sample(names, 5)), start, count // n_chats))
    return made


def text_pool(size: int, seed: int = 9) -> list[str]:
    rng = random.Random(seed)
    words = vocabulary(random.Random(9))
    cumulative = list(_accumulate([1 / (rank + 1) ** 1.07 for rank in range(len(words))]))
    return [" ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(3, 22))) for _ in range(size)]


def message_rows(plan: list[Chat], keys: dict[str, int], senders: dict[str, int], pool: list[str],
                 seed: int = 10) -> Iterator[tuple[int, int, int, int, int, int, str, str]]:
    """(message_id, record_key, seq, ts, utc_offset, sender_key, kind, body) of every message, ids consecutive
    per chat in chat order."""
    rng = random.Random(seed)
    message_id = 0
    for chat in plan:
        moment = int(chat.start.timestamp())
        for seq in range(1, chat.messages + 1):
            message_id += 1
            moment += rng.randint(5, 4000)
            yield (message_id, keys[chat.aip_id], seq, moment, 60, senders[rng.choice(chat.senders)], "text",
                   pool[rng.randrange(len(pool))])


def _records(url: str, plan: list[Chat]) -> tuple[dict[str, int], dict[str, int]]:
    """Write the records (with their message id ranges) and senders through the ORM; their keys."""
    from preservation.catalogue_db.database import catalogue_alias
    from preservation.catalogue_db.models import SearchRecord, SearchSender
    from preservation.record_access import fold

    alias = catalogue_alias(url)
    first = 1
    rows = []
    for chat in plan:
        facts = chat.facts
        rows.append(SearchRecord(
            aip_id=chat.aip_id, record_id=facts.record_id, title=facts.title, access=facts.to_json(),
            zaak_folded=fold(" | ".join(f"{z.kenmerk or ''} {z.naam}" for z in facts.zaken)),
            classificatie_folded=fold(" | ".join(facts.classificatie)), current=1, messages=chat.messages,
            first_id=first, last_id=first + chat.messages - 1, indexed=datetime.now(timezone.utc).isoformat()))
        first += chat.messages
    SearchRecord.objects.using(alias).bulk_create(rows, batch_size=500)
    names = sorted({name for chat in plan for name in chat.senders})
    SearchSender.objects.using(alias).bulk_create([SearchSender(name=n) for n in names], batch_size=500)
    keys = dict(SearchRecord.objects.using(alias).values_list("aip_id", "record_key"))
    return keys, dict(SearchSender.objects.using(alias).values_list("name", "sender_key"))


def build_sqlite(path: Path, plan: list[Chat], pool: list[str]) -> float:
    """The SQLite catalogue with every message and its FTS5 index; seconds taken."""
    from preservation.catalogue_db.database import catalogue_alias, forget
    from preservation.search_stems import stems_of

    began = time.perf_counter()
    url = f"sqlite:///{path}"
    catalogue_alias(url)
    keys, senders = _records(url, plan)
    forget(url)
    db = sqlite3.connect(path, isolation_level=None)
    db.create_function("edepot_stems", 1, lru_cache(maxsize=POOL + 1)(stems_of), deterministic=True)
    db.execute("PRAGMA synchronous=OFF")  # a crash loses this benchmark's data, nothing else
    db.execute("PRAGMA cache_size=-1000000")
    db.execute("BEGIN")
    rows = message_rows(plan, keys, senders, pool)
    while chunk := [r for _, r in zip(range(CHUNK), rows)]:
        db.executemany("INSERT INTO search_messages (message_id, record_key, seq, ts, utc_offset, sender_key, kind, "
                       "body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", chunk)
    db.execute("COMMIT")
    db.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    db.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - began


def build_postgres(url: str, plan: list[Chat], pool: list[str]) -> float:
    """The PostgreSQL catalogue with every message and its tsvector, the GIN index made after the load."""
    import psycopg

    from preservation.catalogue_db.database import catalogue_alias, forget
    from preservation.catalogue_db.search_postgres import tsvector_of

    began = time.perf_counter()
    catalogue_alias(url)
    keys, senders = _records(url, plan)
    forget(url)
    vector = lru_cache(maxsize=POOL + 1)(tsvector_of)
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DROP INDEX search_messages_doc")
        with db.cursor() as cursor:
            with cursor.copy("COPY search_messages (message_id, record_key, seq, ts, utc_offset, sender_key, kind, "
                             "body, doc) FROM STDIN") as copy:
                for row in message_rows(plan, keys, senders, pool):
                    copy.write_row((*row, vector(row[7])))
        db.execute("SET maintenance_work_mem = '2GB'")
        db.execute("CREATE INDEX search_messages_doc ON search_messages USING gin (doc)")
        db.execute("SELECT setval(pg_get_serial_sequence('search_messages', 'message_id'), "
                   "(SELECT MAX(message_id) FROM search_messages))")
        db.execute("VACUUM (ANALYZE) search_messages")
    return time.perf_counter() - began


def _sizes_sqlite(path: Path) -> dict[str, int]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:  # SQLite without the dbstat table
        rows = []
    finally:
        db.close()
    full_text = sum(size for name, size in rows if name.startswith("search_fts"))
    return {"full-text index": full_text, "whole catalogue": path.stat().st_size}


def _sizes_postgres(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as db:
        gin, messages, total = db.execute(
            "SELECT pg_relation_size('search_messages_doc'), pg_total_relation_size('search_messages'), "
            "pg_database_size(current_database())").fetchone()
    return {"messages with their tsvectors and indexes": int(messages), "GIN alone": int(gin),
            "whole catalogue": int(total)}


SORTS = ("chat", "relevance", "newest", "oldest")


def measure(url: str, chosen: list[tuple[str, dict]], roles: list[str], *, warm: int = 0) -> tuple[
        dict[tuple[str, str], list[float]], dict[tuple[str, str, int], list]]:
    """Milliseconds per (sort, role), and each query's hits (for comparing the backends)."""
    from access.search import SearchRequest, search
    from preservation.search_index import Filters
    from preservation.unit_of_work import open_unit_of_work

    store = open_unit_of_work(url)
    times: dict[tuple[str, str], list[float]] = {}
    answers: dict[tuple[str, str, int], list] = {}
    for sort in SORTS:
        for role in roles:
            for n, (query, filters) in enumerate(chosen[:warm] + chosen):
                began = time.perf_counter()
                result = search(store, SearchRequest(query, Filters(**filters), role=role, on=ON, limit=20,
                                                     sort=sort))
                spent = (time.perf_counter() - began) * 1000
                if n >= warm:
                    times.setdefault((sort, role), []).append(spent)
                    answers[(sort, role, n - warm)] = [result.total] + [(h.aip_id, h.seq) for h in result.hits]
    return times, answers


def warm(sqlite_path: Path, postgres_url: str) -> None:
    """Both catalogues read once, as a server that has been searching for a while holds them: the SQLite file in
    the OS's cache, the PostgreSQL search table and its indexes in the server's buffers (pg_prewarm)."""
    import psycopg

    began = time.perf_counter()
    with sqlite_path.open("rb") as whole:
        while whole.read(1 << 24):
            pass
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        for mode in ("read", "buffer"):  # into the OS's cache, then as much as fits into the buffers: the indexes
            db.execute("SELECT pg_prewarm(c.oid, %s) FROM pg_class c WHERE c.relname LIKE 'search%%' AND "  # last
                       "c.relkind IN ('r', 'i') ORDER BY c.relkind DESC", [mode])
    print(f"caches warmed in {time.perf_counter() - began:.0f} s", flush=True)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99 + 0.5) - 1)]


def report(times: dict[str, dict[tuple[str, str], list[float]]], roles: list[str]) -> bool:
    backends = list(times)
    print(f"\n{'sort':<10} {'role':<11}" + "".join(f" | {b + ' median':>17} {'p99':>8}" for b in backends)
          + " | target: median < 50 ms, p99 < 200 ms")
    ok = True
    for sort in SORTS:
        for role in roles:
            cells, verdicts = [], []
            for backend in backends:
                values = times[backend][(sort, role)]
                median, worst = statistics.median(values), p99(values)
                ok &= median < MEDIAN_MS and worst < P99_MS
                cells.append(f" | {median:14.1f} ms {worst:5.0f} ms")
                verdicts.append(f"{backend} {median / MEDIAN_MS:.2f}/{worst / P99_MS:.2f}")
            print(f"{sort:<10} {role:<11}" + "".join(cells) + " | of target: " + ", ".join(verdicts))
    return ok


def slowest(times: dict[str, dict[tuple[str, str], list[float]]], chosen: list[tuple[str, dict]],
            shown: int = 3) -> None:
    """The slowest queries of each backend and sort order (where the p99 comes from)."""
    print("\nslowest queries:")
    for backend, measured in times.items():
        for (sort, role), values in measured.items():
            worst = sorted(range(len(values)), key=lambda n: -values[n])[:shown]
            print(f"  {backend} {sort} {role}: " + "; ".join(
                f"{values[n]:.0f} ms {chosen[n][0]!r}" + "".join(f" {k}={v}" for k, v in chosen[n][1].items())
                for n in worst))


class Server:
    """A PostgreSQL 15 cluster in `folder` (made there the first time, started again on a later run)."""

    def __init__(self, folder: Path, buffers_mb: int | None = None) -> None:
        from tests.postgres_cluster import BIN, _as_postgres, _free_port

        self.folder, self.port, self._run, self._bin = folder, _free_port(), _as_postgres, BIN
        if not (folder / "data").is_dir():
            folder.mkdir(parents=True)
            shutil.chown(folder, "postgres", "postgres")
            _as_postgres(str(BIN / "initdb"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync",
                         "-D", str(folder / "data"))
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20  # MB
        # the usual sizing of a database server: a quarter of the memory its own, three quarters the OS's cache
        options = (f"-p {self.port} -k {folder} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                   f"-c full_page_writes=off -c shared_buffers={buffers_mb or memory // 4}MB -c work_mem=64MB "
                   f"-c effective_cache_size={memory * 3 // 4}MB -c max_parallel_workers_per_gather=0 -c jit=off")
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "log"), "-o", options,
                     "-w", "start")

    def database(self) -> str:
        """The URL of the benchmark's database (created when absent)."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as db:
            if not db.execute("SELECT 1 FROM pg_database WHERE datname = 'bench'").fetchone():
                db.execute("CREATE DATABASE bench")
        return self.url("bench")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.folder}&port={self.port}"

    def stop(self) -> None:
        self._run(str(self._bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--chats", type=int, default=2_000)
    parser.add_argument("--queries", type=int, default=200, help="queries per sort order and role")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work" / "search10m")
    parser.add_argument("--postgres", help="an empty PostgreSQL database's URL (default: a throwaway cluster)")
    parser.add_argument("--roles", nargs="+", default=["archivist"], choices=["archivist", "researcher"],
                        help="who searches (a researcher's hits are judged on the redacted text: see README)")
    parser.add_argument("--build-only", action="store_true", help="build (with --keep: for later runs) and stop")
    parser.add_argument("--buffers", type=int, metavar="MB",
                        help="PostgreSQL's shared buffers (default: a quarter of the machine's memory)")
    parser.add_argument("--cold", action="store_true", help="measure without reading the catalogues first")
    parser.add_argument("--keep", action="store_true",
                        help="keep the data under --work (a later run of the same size uses it)")
    args = parser.parse_args()
    from preservation.catalogue_db.database import ensure_django

    ensure_django()
    marker = args.work / f"built-{args.messages}.json"
    if not marker.is_file():  # data of another size, or a build that did not finish: start again
        shutil.rmtree(args.work, ignore_errors=True)
        args.work.mkdir(parents=True)
    server = None if args.postgres else Server(args.work / "postgres", args.buffers)
    try:
        postgres_url = args.postgres or server.database()  # type: ignore[union-attr]
        sqlite_path = args.work / "catalogue.sqlite"
        if marker.is_file():
            built = json.loads(marker.read_text())
            _upgrade(f"sqlite:///{sqlite_path}", postgres_url)
        else:
            built = build(args, sqlite_path, postgres_url)
            marker.write_text(json.dumps(built))
        sizes = {"SQLite": _sizes_sqlite(sqlite_path), "PostgreSQL": _sizes_postgres(postgres_url)}
        for backend in built:
            shown = ", ".join(f"{name} {size / 1e9:.2f} GB" for name, size in sizes[backend].items())
            print(f"{backend}: built in {built[backend]:.0f} s; {shown}")
        if args.build_only:
            return 0
        if not args.cold:
            warm(sqlite_path, postgres_url)
        chosen = queries(random.Random(2), args.queries)
        times, answers = {}, {}
        for backend, url in (("SQLite", f"sqlite:///{sqlite_path}"), ("PostgreSQL", postgres_url)):
            times[backend], answers[backend] = measure(url, chosen, args.roles, warm=min(20, len(chosen)))
        ok = report(times, args.roles)
        slowest(times, chosen)
        differ = [key for key in answers["SQLite"] if answers["SQLite"][key] != answers["PostgreSQL"][key]]
        print(f"\nsame answers on both backends: {len(answers['SQLite']) - len(differ)} of {len(answers['SQLite'])}"
              + "".join(f"\n  differs: {key[0]} {key[1]} {chosen[key[2]]}" for key in differ[:10]))
        ok &= not differ
        print("targets met" if ok else "TARGET MISSED")
        return 0 if ok else 1
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)


def build(args: argparse.Namespace, sqlite_path: Path, postgres_url: str) -> dict[str, float]:
    """Generate the data and build both backends; seconds each took."""
    began = time.perf_counter()
    plan = chats(args.messages, args.chats)
    pool = text_pool(min(POOL, args.messages))
    print(f"{args.messages:,} messages in {len(plan):,} chats (texts from a pool of {len(pool):,}), "
          f"generated in {time.perf_counter() - began:.0f} s", flush=True)
    built = {"SQLite": build_sqlite(sqlite_path, plan, pool)}
    print(f"SQLite built in {built['SQLite']:.0f} s", flush=True)
    built["PostgreSQL"] = build_postgres(postgres_url, plan, pool)
    print(f"PostgreSQL built in {built['PostgreSQL']:.0f} s", flush=True)
    return built


def _upgrade(*urls: str) -> None:
    """Data kept from an earlier run, brought to this edepot's migrations."""
    from preservation.catalogue_db.upgrade import upgrade_catalogue

    for url in urls:
        upgrade_catalogue(url, by="person:Benchmark", now=datetime.now(timezone.utc))


if __name__ == "__main__":
    sys.exit(main())
