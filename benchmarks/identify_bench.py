"""Benchmark: identify N mixed files with edepot's FormatIdentifier against fido run two ways.

Targets: FIDO path ≥ 1.5× fido's own CLI over the folder in one process (shared/BENCHMARKS.md), and
≥ 20× one `fido` process per file, Archivematica's way (issue 6); same PUIDs in both comparisons.
Every side runs in a fresh process, so each includes importing FIDO and loading its signatures.
One process per file costs about half a second a file, so by default it runs on an evenly spread sample
of `--per-process-sample` files (its rate per file does not depend on how many there are); pass
`--per-process-sample 2000` to run it on all of them (about a quarter of an hour).

    .venv/bin/python benchmarks/identify_bench.py [--files 2000] [--runs 3] [--per-process-sample 200]
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.media_factory import pdf_of_objects  # noqa: E402  (the project's maker of real media files)


def _jpeg(rng: random.Random) -> bytes:
    from PIL import Image

    size = rng.choice([16, 64, 256, 640])
    image = Image.frombytes("RGB", (size, size), rng.randbytes(size * size * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=rng.choice([60, 85, 95]))
    return out.getvalue()


def _png(rng: random.Random) -> bytes:
    from PIL import Image

    size = rng.choice([8, 32, 128])
    image = Image.frombytes("RGB", (size, size), rng.randbytes(size * size * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _pdf(rng: random.Random) -> bytes:
    text = f"BT /F1 12 Tf 20 100 Td (Bericht {rng.randrange(10**6)}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
    ]
    return pdf_of_objects(objects, f"1.{rng.choice([4, 5, 7])}")


def _chat_lines(rng: random.Random, count: int) -> list[str]:
    words = ["hallo", "ok", "morgen", "vergadering", "gemeente", "😀", "dank", "je", "wel", "besluit"]
    return [
        f"{rng.randint(1, 28):02d}/01/2024, {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} - "
        f"{rng.choice(['Anna', 'Bert', 'Wethouder'])}: {' '.join(rng.choices(words, k=rng.randint(1, 12)))}"
        for _ in range(count)
    ]


def _text(rng: random.Random) -> bytes:
    return ("\n".join(_chat_lines(rng, rng.choice([5, 200, 3000]))) + "\n").encode()


def _xml(rng: random.Random) -> bytes:
    rows = "".join(f'<sms body="{line}"/>\n' for line in _chat_lines(rng, rng.choice([3, 300])))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<smses>\n{rows}</smses>\n'.encode()


def _json(rng: random.Random) -> bytes:
    return json.dumps({"messages": [{"text": line} for line in _chat_lines(rng, rng.choice([3, 300]))]}).encode()


def _zip(rng: random.Random) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_chat.txt", _text(rng))
    return out.getvalue()


def _wav(rng: random.Random) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(rng.randbytes(2 * rng.choice([800, 8000, 40000])))
    return out.getvalue()


def _vcard(rng: random.Random) -> bytes:
    return f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Contact {rng.randrange(1000)}\r\nEND:VCARD\r\n".encode()


def _html(rng: random.Random) -> bytes:
    body = "".join(f"<p>{line}</p>\n" for line in _chat_lines(rng, rng.choice([3, 300])))
    return f"<!DOCTYPE html>\n<html><head><title>chat</title></head><body>\n{body}</body></html>\n".encode()


def _opus_samples(count: int) -> list[bytes]:
    samples = []
    with tempfile.TemporaryDirectory() as folder:
        for i in range(count):
            target = Path(folder) / f"{i}.opus"
            subprocess.run(
                ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                 f"sine=frequency={300 + 100 * i}:duration={1 + i}", "-c:a", "libopus", str(target)],
                check=True,
            )
            samples.append(target.read_bytes())
    return samples


MAKERS = {"jpg": _jpeg, "png": _png, "pdf": _pdf, "txt": _text, "xml": _xml, "json": _json, "zip": _zip,
          "wav": _wav, "vcf": _vcard, "html": _html}


def make_files(folder: Path, count: int, seed: int = 7) -> None:
    """Write `count` files of the eleven kinds, in turn, into `folder`."""
    rng = random.Random(seed)
    opus = _opus_samples(4) if shutil.which("ffmpeg") else []
    kinds = list(MAKERS) + (["opus"] if opus else [])
    for i in range(count):
        kind = kinds[i % len(kinds)]
        data = rng.choice(opus) if kind == "opus" else MAKERS[kind](rng)
        (folder / f"{i:05d}.{kind}").write_bytes(data)


def run_fido_cli(folder: Path) -> tuple[float, dict[str, list[str]]]:
    """Time fido's own CLI over the folder in one process; return its ordered PUIDs per file."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "fido.fido", "-q", "-recurse", str(folder)],
                          capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    puids: dict[str, list[str]] = {}
    for row in csv.reader(io.StringIO(done.stdout)):
        if row and row[0] in ("OK", "KO"):
            found = puids.setdefault(Path(row[6]).name, [])
            if row[2] and row[2] not in found:
                found.append(row[2])
    return elapsed, puids


def run_fido_per_file(folder: Path, sample: int) -> tuple[float, int, dict[str, list[str]]]:
    """Time one `fido` process per file over an evenly spread sample; return seconds, files and their PUIDs."""
    paths = sorted(path for path in folder.iterdir() if path.is_file())
    step = max(1, len(paths) // max(1, sample))
    chosen = paths[::step][:sample]
    puids: dict[str, list[str]] = {}
    started = time.perf_counter()
    for path in chosen:
        done = subprocess.run([sys.executable, "-m", "fido.fido", "-q", str(path)], capture_output=True, text=True,
                              check=True)
        for row in csv.reader(io.StringIO(done.stdout)):
            if row and row[0] in ("OK", "KO"):
                found = puids.setdefault(Path(row[6]).name, [])
                if row[2] and row[2] not in found:
                    found.append(row[2])
    return time.perf_counter() - started, len(chosen), puids


def run_ours(folder: Path) -> tuple[float, dict[str, list[str]]]:
    """Time FormatIdentifier.identify_many over the folder in a fresh process; return its PUIDs per file."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--ours", str(folder)], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    return elapsed, json.loads(done.stdout)


def ours_main(folder: Path) -> None:
    """The child process: identify every file and print {name: [kept PUID, other PUIDs matched...]}."""
    from preservation.identify import FormatIdentifier

    identifier = FormatIdentifier()
    paths = sorted(path for path in folder.rglob("*") if path.is_file())
    puids = {}
    for path, result in identifier.identify_many(paths):
        found = [result.puid] if result.puid else []
        for warning in result.warnings:
            if " formats matched: " in warning:
                found = warning.split(": ", 1)[1].split(";")[0].split(", ")
        puids[path.name] = found
    print(json.dumps(puids))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--per-process-sample", type=int, default=200)
    parser.add_argument("--ours", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ours:
        ours_main(args.ours)
        return
    with tempfile.TemporaryDirectory(prefix="identify-bench-") as temp:
        folder = Path(temp)
        make_files(folder, args.files)
        ratios = []
        for run in range(1, args.runs + 1):
            fido_seconds, fido_puids = run_fido_cli(folder)
            ours_seconds, our_puids = run_ours(folder)
            differ = sorted(name for name in fido_puids if fido_puids[name] != our_puids.get(name))
            if differ or set(fido_puids) != set(our_puids):
                example = differ[0] if differ else "(file sets differ)"
                sys.exit(f"PUIDs differ on {len(differ)} files, e.g. {example}: fido "
                         f"{fido_puids.get(example)} vs ours {our_puids.get(example)}")
            ratio = fido_seconds / ours_seconds
            ratios.append(ratio)
            print(f"run {run}: fido CLI {args.files / fido_seconds:7.1f} files/s ({fido_seconds:.2f} s), "
                  f"edepot {args.files / ours_seconds:7.1f} files/s ({ours_seconds:.2f} s), "
                  f"ratio ours/fido {ratio:.2f}; same PUIDs for all {len(fido_puids)} files")
        median = statistics.median(ratios)
        verdict = "meets" if median >= 1.5 else "MISSES"
        print(f"median ratio ours/fido over {args.runs} runs: {median:.2f} ({verdict} the target of 1.5)")

        per_seconds, per_files, per_puids = run_fido_per_file(folder, args.per_process_sample)
        differ = sorted(name for name in per_puids if per_puids[name] != our_puids.get(name))
        if differ:
            sys.exit(f"PUIDs differ on {len(differ)} files between one fido per file and edepot, e.g. {differ[0]}")
        ours_median = statistics.median(
            [args.files / run_ours(folder)[0] for _ in range(args.runs)])
        per_rate = per_files / per_seconds
        ratio = ours_median / per_rate
        verdict = "meets" if ratio >= 20 else "MISSES"
        print(f"one fido process per file (Archivematica's way): {per_rate:.2f} files/s "
              f"({per_seconds / per_files:.3f} s a file over {per_files} files, same PUIDs); edepot median "
              f"{ours_median:.1f} files/s; ratio {ratio:.1f} ({verdict} the target of 20)")


if __name__ == "__main__":
    main()
