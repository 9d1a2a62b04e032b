"""A large WhatsApp chat text read on two cores (BENCHMARKS.md: a 1,000,000-message export parsed to the
canonical JSON at ≥ 5× whatstk's throughput, memory flat).

`MessageStream` is what `whatsapp.FORMAT.stream` hands out: an iterator of messages like any other, and
also `write_json_messages`, which `kernel.model.write_conversation_json` uses when present. For a chat
text on disk larger than PARALLEL_BYTES (a text in a zip is unpacked to a temporary file first) it splits the text at a header line near the middle; a forked
worker counts the first half's messages and lines (so its sequence numbers and line numbers run on),
reads the second half and encodes it into a temporary file, while this process reads and writes the
first half; then the second half is copied after it and the worker's counts and inferred facts are
merged. Both halves are read by the same `ChatReader` and encoded by the same `encode_messages`, so
the document is the one a single reader writes (a test compares them).
"""
from __future__ import annotations

import io
import multiprocessing
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Callable, cast

from ingest.sources.whatsapp_headers import ascii_digits
from ingest.sources.whatsapp_reader import ChatReader, text_blocks
from kernel.errors import InputError
from kernel.model import Message, encode_records, records_of

PARALLEL_BYTES = 32 * 1024 * 1024
_WINDOW = 4 * 1024 * 1024
_SPLIT_AT = 0.535  # the worker first counts the messages before its half (about 13% of reading them): it gets less


class MessageStream:
    """The messages of one chat text, read lazily; `write_json_messages` writes them as JSON, on two
    cores when the text is a large file on disk."""

    threshold = PARALLEL_BYTES  # smaller texts are read on one core

    def __init__(self, reader: ChatReader, path: Path | None,
                 packed: tuple[int, Callable[[Path], object]] | None = None) -> None:
        self.reader = reader
        self.path = path
        self.packed = packed  # (size, extract to a path) of a chat text inside a zip
        self._iterator: Iterator[Message] | None = None

    def __iter__(self) -> "MessageStream":
        return self

    def __next__(self) -> Message:
        if self._iterator is None:
            self._iterator = self.reader.messages()
        return next(self._iterator)

    def write_json_messages(self, write: Callable[[str], object], line: str, counts: dict[str, int]) -> bool:
        """Write every message as an item of the `messages` array (see `kernel.model.encode_messages`)."""
        if self._iterator is None and self.path is None and self.packed is not None and _fork_available() \
                and self.packed[0] >= self.threshold:
            with tempfile.TemporaryDirectory(prefix="edepot-parse-") as folder:
                self.path = Path(folder) / "chat.txt"  # a zipped text is unpacked once, to be read from two offsets
                self.packed[1](self.path)
                try:
                    return self.write_json_messages(write, line, counts)
                finally:
                    self.path = None
        split = None
        if self._iterator is None and self.path is not None and _fork_available():
            split = find_split(self.path, self.reader, self.threshold)
        if split is None:
            source = records_of(self) if self._iterator is not None else self.reader.records()
            return encode_records(source, write, line, counts)
        assert self.path is not None
        return _two_halves(self.reader, self.path, split, write, line, counts)


def _fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) >= 2


def find_split(path: Path, reader: ChatReader, threshold: int = PARALLEL_BYTES) -> int | None:
    """The byte offset of the first header line after the middle of a file larger than `threshold`."""
    assert reader.form is not None
    size = path.stat().st_size
    if size < threshold:
        return None
    with open(path, "rb") as handle:
        middle = int(size * _SPLIT_AT)
        handle.seek(middle)
        window = handle.read(_WINDOW)
    newline = window.find(b"\n")
    if newline < 0:
        return None
    text = window[newline + 1:].decode("utf-8", errors="replace")  # only the window's end can be cut
    view = ascii_digits(text) if reader.foreign_digits else text
    match = reader.form.regex.search(view)
    if match is None:
        return None
    return middle + newline + 1 + len(text[: match.start()].encode("utf-8"))


class _Range(io.RawIOBase):
    """The bytes [start, end) of a file."""

    def __init__(self, path: Path, start: int, end: int | None) -> None:
        self._handle = open(path, "rb")
        self._handle.seek(start)
        self._left = None if end is None else end - start

    def read(self, size: int = -1) -> bytes:
        if self._left is not None:
            size = self._left if size < 0 else min(size, self._left)
        data = self._handle.read(size)
        if self._left is not None:
            self._left -= len(data)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._handle.close()
        super().close()


def _blocks(path: Path, start: int, end: int | None) -> Iterator[str]:
    with _Range(path, start, end) as handle:
        yield from text_blocks(cast(IO[bytes], handle), path.name)


def _first_half_facts(reader: ChatReader, path: Path, split: int) -> tuple[int, int, datetime | None]:
    """(messages, lines, time of the last readable header) of the text before `split`."""
    assert reader.form is not None
    regex = reader.form.regex
    messages = lines = 0
    last: datetime | None = None
    seen_header = False
    for block in _blocks(path, 0, split):
        view = ascii_digits(block) if reader.foreign_digits else block
        final = None
        for match in regex.finditer(view):
            if not seen_header:
                seen_header = True
                before = block[: max(match.start() - 1, 0)]
                messages += sum(1 for text in before.split("\n") if text.strip()) if match.start() > 0 else 0
            messages += 1
            final = match
        if not seen_header:
            messages += sum(1 for text in block.split("\n") if text.strip())
        if final is not None:
            last = reader.time_of(final) or last
        lines += block.count("\n") + 1
    return messages, lines, last


def _second_half(reader: ChatReader, path: Path, split: int, target: str, line: str, conn: Any) -> None:
    """The worker: read the text from `split` on into JSON items in `target`; report counts and facts."""
    try:
        messages, lines, last = _first_half_facts(reader, path, split)
        part = reader.part(lambda: _blocks(path, split, None), messages, lines + 1, last)
        counts: dict[str, int] = {}
        with open(target, "w", encoding="utf-8", newline="\n") as out:
            encode_records(part.records(), out.write, line, counts, wrote_any=True)
        conn.send(("ok", counts, part.inferred, dict(part.languages)))
    except InputError as exc:
        conn.send(("error", exc.message, exc.hint))
    except Exception as exc:  # reported to the parent, which raises it as an input error
        conn.send(("error", f"reading the second half of {path.name} failed: {exc}", ""))
    finally:
        conn.close()


def _two_halves(
    reader: ChatReader, path: Path, split: int, write: Callable[[str], object], line: str, counts: dict[str, int]
) -> bool:
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    handle, target = tempfile.mkstemp(prefix="edepot-parse-", suffix=".json")
    os.close(handle)
    worker = context.Process(target=_second_half, args=(reader, path, split, target, line, sender), daemon=True)
    worker.start()
    sender.close()
    try:
        reader._blocks = lambda: _blocks(path, 0, split)
        reader.set_locale = False
        wrote_any = encode_records(reader.records(), write, line, counts)
        try:
            status = receiver.recv()
        except EOFError:
            raise InputError(f"reading the second half of {path.name} failed (the worker ended)") from None
        worker.join()
        if status[0] == "error":
            raise InputError(status[1], hint=status[2])
        _, counts2, inferred2, languages2 = status
        _copy(target, write)
        for name, n in counts2.items():
            counts[name] = counts.get(name, 0) + n
        _merge_inferred(reader.inferred, inferred2)
        reader.languages = reader.languages + Counter(languages2)
        reader.finish_locale()
        return wrote_any or bool(counts2) or os.path.getsize(target) > 0
    finally:
        receiver.close()
        if worker.is_alive():
            worker.kill()
            worker.join()
        os.unlink(target)


def _copy(path: str, write: Callable[[str], object]) -> None:
    """Append the worker's JSON to what `write` writes: by the kernel (sendfile) when `write` is the write
    method of a text file with a descriptor (stdout, a file), else as text."""
    stream = getattr(write, "__self__", None)
    fd = _descriptor_of(stream)
    if stream is not None and fd is not None and getattr(stream, "encoding", "").lower().replace("-", "") == "utf8":
        stream.flush()
        with open(path, "rb") as part:
            size, offset = os.fstat(part.fileno()).st_size, 0
            while offset < size:
                sent = os.sendfile(fd, part.fileno(), offset, size - offset)
                if sent == 0:
                    break
                offset += sent
            if offset == size:
                return
            raise OSError(f"could not write the second half of the chat ({offset} of {size} bytes)")
    with open(path, encoding="utf-8", newline="\n") as text:
        while chunk := text.read(8 * 1024 * 1024):
            write(chunk)


def _descriptor_of(stream: object) -> int | None:
    try:
        return int(stream.fileno()) if isinstance(stream, io.TextIOBase) else None
    except (OSError, ValueError, io.UnsupportedOperation):
        return None


def _merge_inferred(first: dict[str, Any], second: dict[str, Any]) -> None:
    """Add the second half's findings (already numbered on from the first half's) to the first's."""
    for key in ("unparsed_lines", "dst"):
        if second.get(key):
            first.setdefault(key, []).extend(second[key])
    if second.get("view_once"):
        if "view_once" in first:
            first["view_once"]["seqs"].extend(second["view_once"]["seqs"])
        else:
            first["view_once"] = second["view_once"]
