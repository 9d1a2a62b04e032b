"""Benchmark: `edepot parse` on iPhone backups whose Messages database holds 100,000 and 1,000,000 messages: peak
memory and throughput.

Target (BENCHMARKS.md, as for the other streamed inputs): peak RSS flat, a 10× larger input adds < 150 MB. The
ratio printed is edepot against itself. Each backup is generated once (benchmarks/.work/iphone/, git-ignored) with
the schemas iOS writes (tests/iphone_backup_factory.py): 20 chats, messages in nanosecond Apple time, one in ten
from the owner, one in twenty with its text only in attributedBody, one in fifty a tapback. Each run is a fresh
`edepot parse BACKUP > /dev/null` process; peak RSS is the child's own (wait4 ru_maxrss). Medians of --runs runs.

    .venv/bin/python benchmarks/iphone_backup_bench.py [--runs 3] [--small 100000] [--large 1000000]
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from flat_memory import median_parse, verdict  # noqa: E402

from tests.iphone_backup_factory import SMS_SCHEMA, BackupSpec, attributed_body, make_backup  # noqa: E402

WORK = ROOT / "benchmarks" / ".work" / "iphone"
CHATS = 20


def generate(folder: Path, messages: int, seed: int = 7) -> Path:
    """A backup folder at `folder` whose sms.db holds `messages` messages (kept between runs)."""
    if (folder / "Manifest.db").is_file():
        return folder
    rng = random.Random(seed)
    words = "raad college wethouder besluit agenda vergadering morgen vandaag graag dank akkoord".split()
    database = folder.with_suffix(".sms.db")
    database.unlink(missing_ok=True)
    db = sqlite3.connect(database)
    db.executescript(SMS_SCHEMA)
    for chat in range(1, CHATS + 1):
        db.execute("INSERT INTO handle (ROWID, id, service) VALUES (?, ?, 'iMessage')", (chat, f"+3161{chat:07d}"))
        db.execute("INSERT INTO chat (ROWID, guid, style, chat_identifier, service_name) VALUES (?, ?, 45, ?, "
                   "'iMessage')", (chat, f"iMessage;-;+3161{chat:07d}", f"+3161{chat:07d}"))
        db.execute("INSERT INTO chat_handle_join VALUES (?, ?)", (chat, chat))
    date = 600_000_000 * 10**9
    batch: list[tuple[object, ...]] = []
    joins: list[tuple[int, int, int]] = []
    for rowid in range(1, messages + 1):
        chat = rng.randrange(1, CHATS + 1)
        date += rng.randrange(10**9, 600 * 10**9)
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(3, 30)))
        tapback = rowid % 50 == 0 and rowid > 1
        body = attributed_body(text) if rowid % 20 == 0 else None
        batch.append((rowid, f"M{rowid:09d}", None if body or tapback else text, body, 0 if rowid % 10 == 0 else chat,
                      date, int(rowid % 10 == 0), f"p:0/M{rowid - 1:09d}" if tapback else None,
                      2000 if tapback else 0))
        joins.append((chat, rowid, date))
        if len(batch) >= 50_000 or rowid == messages:
            db.executemany("INSERT INTO message (ROWID, guid, text, attributedBody, handle_id, date, is_from_me, "
                           "associated_message_guid, associated_message_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           batch)
            db.executemany("INSERT INTO chat_message_join VALUES (?, ?, ?)", joins)
            batch.clear()
            joins.clear()
    db.commit()
    db.close()
    make_backup(folder, BackupSpec(chats=[]),
                extra_files={("HomeDomain", "Library/SMS/sms.db"): database.read_bytes()})
    database.unlink()
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results = {}
    for count in (args.small, args.large):
        backup = generate(WORK / f"backup-{count}", count)
        seconds, rss = median_parse([backup], "iphone-backup", args.runs)
        results[count] = rss
        print(f"{count:>9,} messages: median {seconds:.1f} s ({count / seconds:,.0f} messages/s), "
              f"peak RSS {rss / 2**20:.0f} MiB")
    return verdict(results[args.small], results[args.large], args.large / args.small, "backup")


if __name__ == "__main__":
    sys.exit(main())
