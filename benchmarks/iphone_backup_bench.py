"""Benchmark: `edepot parse` on iPhone backups holding 100,000 and 1,000,000 messages, half in the Messages app's
database and half in WhatsApp's: peak memory and throughput.

Target (BENCHMARKS.md, as for the other streamed inputs): peak RSS flat, a 10× larger input adds < 150 MB. The
ratio printed is edepot against itself. Each backup is generated once (benchmarks/.work/iphone/, git-ignored) with
the schemas iOS and WhatsApp write (tests/iphone_backup_factory.py). sms.db: 20 chats, messages in nanosecond Apple
time, one in ten from the owner, one in twenty with its text only in attributedBody, one in fifty a tapback.
ChatStorage.sqlite: 10 one-to-one chats and 10 groups, Core Data times, one in ten from the owner, one in twenty a
voice note (its media item; the files themselves are not in the backup), one in fifty a reply, one in forty with a
reaction. Each run is a fresh `edepot parse BACKUP > /dev/null` process; peak RSS is the child's own (wait4
ru_maxrss). Medians of --runs runs.

    .venv/bin/python benchmarks/iphone_backup_bench.py [--runs 3] [--small 100000] [--large 1000000]
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from flat_memory import median_parse, verdict  # noqa: E402

from tests.iphone_backup_factory import (  # noqa: E402
    SMS_SCHEMA,
    WHATSAPP_DOMAIN,
    WHATSAPP_SCHEMA,
    BackupSpec,
    attributed_body,
    make_backup,
    protobuf,
)

WORK = ROOT / "benchmarks" / ".work" / "iphone"
CHATS = 20


def generate(folder: Path, messages: int, seed: int = 7) -> Path:
    """A backup folder at `folder` whose sms.db and ChatStorage.sqlite hold `messages` messages between them (kept
    between runs)."""
    if (folder / "Manifest.db").is_file():
        return folder
    sms = _sms_database(folder.with_suffix(".sms.db"), messages - messages // 2, seed)
    whatsapp = _whatsapp_database(folder.with_suffix(".ChatStorage.sqlite"), messages // 2, seed)
    make_backup(folder, BackupSpec(chats=[]), extra_files={
        ("HomeDomain", "Library/SMS/sms.db"): sms.read_bytes(), (WHATSAPP_DOMAIN, "ChatStorage.sqlite"):
        whatsapp.read_bytes()})
    sms.unlink()
    whatsapp.unlink()
    return folder


def _whatsapp_database(database: Path, messages: int, seed: int) -> Path:
    rng = random.Random(seed + 1)
    words = "fractie raadsvoorstel motie amendement stemming morgen akkoord graag dank overleg".split()
    database.unlink(missing_ok=True)
    db = sqlite3.connect(database)
    db.executescript(WHATSAPP_SCHEMA)
    for chat in range(1, CHATS + 1):
        group = chat > CHATS // 2
        jid = f"1203630{chat:011d}@g.us" if group else f"3161{chat:07d}@s.whatsapp.net"
        db.execute("INSERT INTO ZWACHATSESSION (Z_PK, Z_ENT, ZSESSIONTYPE, ZCONTACTJID, ZPARTNERNAME) VALUES "
                   "(?, 4, ?, ?, ?)", (chat, int(group), jid, f"Chat {chat}"))
        if group:
            db.executemany("INSERT INTO ZWAGROUPMEMBER (Z_ENT, ZCHATSESSION, ZMEMBERJID, ZCONTACTNAME) VALUES "
                           "(7, ?, ?, ?)", [(chat, f"3162{chat:04d}{n:03d}@s.whatsapp.net", f"Lid {n}")
                                            for n in range(1, 6)])
    date = 700_000_000.0
    rows: list[tuple[object, ...]] = []
    items: list[tuple[object, ...]] = []
    infos: list[tuple[object, ...]] = []
    for pk in range(1, messages + 1):
        chat = rng.randrange(1, CHATS + 1)
        date += rng.uniform(1, 600)
        voice, reply, reacted = pk % 20 == 0, pk % 50 == 0 and pk > 1, pk % 40 == 0
        text = None if voice else " ".join(rng.choice(words) for _ in range(rng.randrange(3, 30)))
        member = (chat - CHATS // 2 - 1) * 5 + rng.randrange(1, 6) if chat > CHATS // 2 else None
        item = pk if voice or reply else None
        rows.append((pk, chat, int(pk % 10 == 0), date, text, 3 if voice else 0, f"3A{pk:018d}", member, item,
                     pk if reacted else None))
        if item:
            items.append((pk, pk, f"Media/{chat}/a/b/{pk}.opus" if voice else None, "audio/ogg" if voice else None,
                          protobuf((5, f"3A{pk - 1:018d}".encode())) if reply else None))
        if reacted:
            reaction = protobuf((2, b"31600000001@s.whatsapp.net"), (3, "\U0001f44d".encode()))
            infos.append((pk, pk, protobuf((7, protobuf((1, reaction))))))
        if len(rows) >= 50_000 or pk == messages:
            db.executemany("INSERT INTO ZWAMESSAGE (Z_PK, ZCHATSESSION, ZISFROMME, ZMESSAGEDATE, ZTEXT, ZMESSAGETYPE, "
                           "ZSTANZAID, ZGROUPMEMBER, ZMEDIAITEM, ZMESSAGEINFO) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           rows)
            db.executemany("INSERT INTO ZWAMEDIAITEM (Z_PK, ZMESSAGE, ZMEDIALOCALPATH, ZVCARDSTRING, ZMETADATA) "
                           "VALUES (?, ?, ?, ?, ?)", items)
            db.executemany("INSERT INTO ZWAMESSAGEINFO (Z_PK, ZMESSAGE, ZRECEIPTINFO) VALUES (?, ?, ?)", infos)
            rows.clear()
            items.clear()
            infos.clear()
    db.commit()
    db.close()
    return database


def _sms_database(database: Path, messages: int, seed: int) -> Path:
    rng = random.Random(seed)
    words = "raad college wethouder besluit agenda vergadering morgen vandaag graag dank akkoord".split()
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
    return database


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)  # the child that writes one backup
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.generate:
        generate(WORK / f"backup-with-whatsapp-{args.generate}", args.generate)
        return 0
    results = {}
    for count in (args.small, args.large):
        backup = WORK / f"backup-with-whatsapp-{count}"
        # generated in a child process: a child spawned by a process grown large reports that size as its peak
        # (the kernel counts the parent's pages it ran on until exec), which would be measured as edepot's
        subprocess.run([sys.executable, __file__, "--generate", str(count)], check=True)
        seconds, rss = median_parse([backup], "iphone-backup", args.runs)
        results[count] = rss
        print(f"{count:>9,} messages: median {seconds:.1f} s ({count / seconds:,.0f} messages/s), "
              f"peak RSS {rss / 2**20:.0f} MiB")
    return verdict(results[args.small], results[args.large], args.large / args.small, "backup")


if __name__ == "__main__":
    sys.exit(main())
