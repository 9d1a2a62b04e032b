"""Benchmark: render a 100,000-message chat with 1,000 images to PDF/A-2b; wall time and peak memory.

Target (shared/BENCHMARKS.md): < 20 s and < 1 GB peak RSS on this machine class (issue 6: < 60 s, 1.5 GB).
Memory is that of the whole process tree (the renderer compiles chunks in worker processes): the RSS of
the process and all its descendants is summed every 20 ms and the highest sum kept. The peer measured in
the same run is the naive way, one typst compile of the whole chat in one document (`--peer-messages`
messages, default 30,000, since it grows with the chat), so the ratio says what chunking buys.

    .venv/bin/python benchmarks/render_bench.py [--messages 100000] [--images 1000] [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("hallo", "ok", "morgen", "vergadering", "gemeente", "raad", "besluit", "😀", "👍", "dank", "je", "wel",
         "مرحبا", "https://example.org/stukken/2024/agenda.pdf", "Marktplein", "wethouder", "#agenda", "*vet*")


def tree_rss(pid: int) -> int:
    """Bytes resident in `pid` and every process below it (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def measure(argv: list[str]) -> tuple[float, int]:
    """Run a command; its wall time and the peak RSS of its process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    code = process.wait()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if code != 0:
        sys.exit(f"{' '.join(argv[:4])} … failed with exit code {code}")
    return elapsed, peak


def make_chat(folder: Path, messages: int, images: int, seed: int = 11) -> Path:
    """A conversation JSON file and `images` JPEGs in folder/media; returns the JSON's path."""
    from PIL import Image

    rng = random.Random(seed)
    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    every = max(1, messages // max(1, images))
    start = datetime(2023, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=1)))
    senders = ["Wethouder Jansen", "Petra de Vries", "Ahmed el Amrani", "Griffie"]
    rows = []
    made = 0
    for seq in range(1, messages + 1):
        moment = start + timedelta(minutes=7 * seq)
        row = {"seq": seq, "timestamp": moment.isoformat(), "sender": rng.choice(senders), "kind": "text",
               "text": " ".join(rng.choices(WORDS, k=rng.randint(2, 30))), "attachments": [], "edited": False}
        if seq % every == 0 and made < images:
            name = f"IMG-{made:05d}.jpg"
            size = rng.choice([(640, 480), (480, 640), (1024, 768)])
            Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256))).save(
                media / name, "JPEG", quality=80)
            row.update(kind="media", text="", attachments=[{"name": name, "present": True,
                                                              "media_type": "image/jpeg"}])
            made += 1
        elif seq % 97 == 0:
            row.update(sender=None, kind="system", text="Petra de Vries heeft de groepsafbeelding gewijzigd")
        rows.append(row)
    document = {"source": {"format": "whatsapp", "platform": "android", "locale": "nl",
                           "timezone": "Europe/Amsterdam", "files": [], "inferred": {}},
                "participants": [{"name": n, "message_count": 0} for n in senders], "messages": rows,
                "title": "Benchmark"}
    path = folder / "conversation.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def child_ours(conversation_json: Path, out: Path) -> None:
    """The measured process: read the conversation and render it the way ingest does."""
    sys.path.insert(0, str(ROOT))
    from kernel.model import Conversation
    from preservation.normalise.conversation_pdf import RenderContext, render_conversation_pdf

    conversation = Conversation.from_dict(json.loads(conversation_json.read_text(encoding="utf-8")))
    media = {p.name: p for p in (conversation_json.parent / "media").iterdir()}
    context = RenderContext(title="Benchmark", identifier="bench-1", archiefvormer="Gemeente Voorbeeldstad")
    out.write_bytes(render_conversation_pdf(conversation, media, context))


def child_naive(conversation_json: Path, out: Path, messages: int) -> None:
    """The peer: every message in one typst document, compiled once (the straightforward way)."""
    sys.path.insert(0, str(ROOT))
    from kernel.model import Conversation
    from preservation.normalise import conversation_pdf as cp

    conversation = Conversation.from_dict(json.loads(conversation_json.read_text(encoding="utf-8")))
    media = {p.name: p for p in (conversation_json.parent / "media").iterdir()}
    fonts = cp.find_font_dirs()
    covered = cp.covered_code_points(fonts)
    senders = cp.sender_indexes(conversation)
    days = cp.group_by_day(conversation.messages[:messages])
    with tempfile.TemporaryDirectory() as work:
        stage = cp._Stage(Path(work) / "root", covered)
        stage.root.mkdir()
        names = [n for n, _ in sorted(senders.items(), key=lambda item: item[1])]
        context = cp.RenderContext(title="Benchmark", identifier="bench-1", archiefvormer="Gemeente Voorbeeldstad")
        data = cp._document_data(context, covered) | {"mode": "chunk", "senders": names, "days": [
            cp._piece_data(cp.DayPiece(day, day.messages, False), senders, media, stage) for day in days]}
        job = cp._prepare_job(stage.root, data, out, fonts, None)
        cp.compile_typst(job.root, out, fonts, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--images", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer-messages", type=int, default=30_000)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child[0] == "ours":
            child_ours(Path(args.child[1]), Path(args.child[2]))
        else:
            child_naive(Path(args.child[1]), Path(args.child[2]), int(args.child[3]))
        return
    with tempfile.TemporaryDirectory(prefix="render-bench-") as temp:
        folder = Path(temp)
        chat = make_chat(folder, args.messages, args.images)
        ours, peers = [], []
        for run in range(1, args.runs + 1):
            seconds, peak = measure([sys.executable, __file__, "--child", "ours", str(chat), str(folder / "ours.pdf")])
            size = (folder / "ours.pdf").stat().st_size
            ours.append((seconds, peak))
            peer_seconds, peer_peak = measure([sys.executable, __file__, "--child", "naive", str(chat),
                                               str(folder / "naive.pdf"), str(args.peer_messages)])
            peers.append((peer_seconds, peer_peak))
            print(f"run {run}: edepot {args.messages} messages, {args.images} images: {seconds:.1f} s, "
                  f"peak RSS {peak / 2**20:.0f} MiB, PDF {size / 2**20:.1f} MiB "
                  f"({args.messages / seconds:.0f} messages/s); naive one-document typst on {args.peer_messages}: "
                  f"{peer_seconds:.1f} s, {peer_peak / 2**20:.0f} MiB ({args.peer_messages / peer_seconds:.0f} "
                  "messages/s)")
        seconds = statistics.median(s for s, _ in ours)
        peak = statistics.median(p for _, p in ours)
        peer_rate = statistics.median(args.peer_messages / s for s, _ in peers)
        verdict = "meets" if seconds < 20 and peak < 2**30 else "MISSES"
        print(f"median: {seconds:.1f} s, peak RSS {peak / 2**20:.0f} MiB ({verdict} the target < 20 s and < 1 GiB); "
              f"throughput {args.messages / seconds / peer_rate:.2f}× the naive document's, at "
              f"{peak / statistics.median(p for _, p in peers):.2f}× its memory for "
              f"{args.messages / args.peer_messages:.1f}× the messages")


if __name__ == "__main__":
    main()
