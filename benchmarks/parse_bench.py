"""Benchmark: `edepot parse` on a generated WhatsApp Android export against whatstk and chat-miner
(BENCHMARKS.md, "parse a 1,000,000-message WhatsApp Android export ... ≥ 5× whatstk's throughput,
peak RSS < 500 MB").

    .venv/bin/python benchmarks/parse_bench.py                 # 1,000,000 messages, 3 runs each
    .venv/bin/python benchmarks/parse_bench.py --messages 100000 --runs 1

Generates the export (English settings, `dd/mm/yyyy, HH:MM - Name: text`, ~10% multi-line, some media,
deleted and system lines; deterministic) under benchmarks/.work/, installs whatstk 0.9.1 and
chat-miner 0.6.0 into benchmarks/.work/parse-venv if absent, and runs every parser as a fresh process
over the same file: edepot writes the canonical JSON to /dev/null; whatstk builds its DataFrame
(`max_size=None`, else it refuses files over 50 MiB); chat-miner builds its DataFrame. Wall time and
peak RSS (getrusage of the child) are measured; medians are printed with the ratios.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / ".work"
PEER_VENV = WORK / "parse-venv"
PEERS = ("whatstk==0.9.1", "chat-miner==0.6.0")

_NAMES = ["Anna de Vries", "Bram Jansen", "Wethouder Bakker", "Petra", "+31 6 12345678", "Jan-Willem Smit",
          "Fatima El Amrani", "Sanne", "Mohammed", "Lotte van den Berg"]
_WORDS = ("de het een en van ik je dat die in is niet op te zijn met voor wat er maar om ook als dan bij nog "
          "meeting agenda raad besluit vergadering morgen vandaag stuk brief burgemeester wethouder plein "
          "ok goed dank thanks see you later tomorrow please send the file 👍 😊 🙏 ✓").split()


def generate(path: Path, messages: int, seed: int = 20261123) -> None:
    """Write a deterministic Android (English settings) export of `messages` messages to `path`."""
    rng = random.Random(seed)
    when = datetime(2019, 1, 1, 8, 0)
    lines: list[str] = []
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(f"{when:%d/%m/%Y, %H:%M} - Messages and calls are end-to-end encrypted. No one outside of this "
                  "chat, not even WhatsApp, can read or listen to them. Tap to learn more.\n")
        for i in range(1, messages):
            when += timedelta(seconds=rng.randint(5, 120))
            head = f"{when:%d/%m/%Y, %H:%M} - "
            roll = rng.random()
            if roll < 0.004:
                lines.append(head + f"{rng.choice(_NAMES)} added {rng.choice(_NAMES)}")
                continue
            name = rng.choice(_NAMES)
            if roll < 0.03:
                body = "<Media omitted>"
            elif roll < 0.04:
                body = f"IMG-{when:%Y%m%d}-WA{i % 10000:04d}.jpg (file attached)"
            elif roll < 0.045:
                body = "This message was deleted"
            else:
                body = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 37)))
                if rng.random() < 0.10:
                    extra = rng.randint(1, 3)
                    body += "".join("\n" + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 15)))
                                    for _ in range(extra))
            lines.append(f"{head}{name}: {body}")
            if len(lines) >= 10000:
                out.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            out.write("\n".join(lines) + "\n")


_WHATSTK = """
import sys
from whatstk.whatsapp.parser import df_from_whatsapp
df = df_from_whatsapp(sys.argv[1], max_size=None)
print(len(df))
"""
_CHATMINER = """
import logging, sys
logging.disable(logging.CRITICAL)
from chatminer.chatparsers import WhatsAppParser
parser = WhatsAppParser(sys.argv[1])
parser.parse_file()
df = parser.parsed_messages.get_df()
print(len(df))
"""
# Runs a command in a child and reports its wall time and the child's peak RSS (KiB on Linux).
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "rss_kib": peak, "code": done.returncode, "err": done.stderr.decode()[-400:]}))
"""


def ensure_peers() -> Path:
    """The peers' venv python, created and filled on first use."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import whatstk, chatminer"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS], check=True)
    return python


def measure(command: list[str]) -> dict[str, float]:
    """Wall seconds and peak RSS in MB of `command` run as a fresh child process."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    if result["code"] != 0:
        raise SystemExit(f"{command[0]} failed: {result['err']}")
    return {"wall": result["wall"], "rss_mb": result["rss_kib"] / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-peers", action="store_true", help="measure edepot only")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    export = WORK / f"whatsapp-android-en-{args.messages}.txt"
    if not export.exists():
        print(f"generating {export.name} ...", flush=True)
        generate(export, args.messages)
    size_mb = export.stat().st_size / 1e6
    print(f"{export.name}: {args.messages:,} messages, {size_mb:.1f} MB")
    commands = {"edepot parse": [str(ROOT / ".venv" / "bin" / "edepot"), "parse", str(export), "--tz", "Europe/Amsterdam"]}
    if not args.skip_peers:
        python = str(ensure_peers())
        commands["whatstk 0.9.1"] = [python, "-c", _WHATSTK, str(export)]
        commands["chat-miner 0.6.0"] = [python, "-c", _CHATMINER, str(export)]
    results: dict[str, dict[str, float]] = {}
    for name, command in commands.items():
        runs = [measure(command) for _ in range(args.runs)]
        wall = statistics.median(r["wall"] for r in runs)
        rss = statistics.median(r["rss_mb"] for r in runs)
        results[name] = {"wall": wall, "rss_mb": rss, "rate": args.messages / wall}
        walls = ", ".join(f"{r['wall']:.2f}" for r in runs)
        print(f"{name:18} median {wall:7.2f} s  {args.messages / wall:12,.0f} messages/s  peak RSS {rss:7.0f} MB"
              f"  (runs: {walls})", flush=True)
    ours = results["edepot parse"]
    for name, peer in results.items():
        if name != "edepot parse":
            print(f"edepot / {name}: {ours['rate'] / peer['rate']:.1f}x throughput, "
                  f"{ours['rss_mb']:.0f} MB vs {peer['rss_mb']:.0f} MB peak RSS")
    print(f"target: >= 5x whatstk's throughput, peak RSS < 500 MB; edepot peak RSS {ours['rss_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
