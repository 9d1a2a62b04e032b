"""Message digests: every file read once, in large blocks, for all the algorithms wanted at once.

Small files are read in one call and large ones through a 1 MiB buffer kept per thread, so hashing
20,000 files of 4 KB costs little more than their bytes (a fresh 1 MiB buffer per file would not).
hashlib releases the GIL while it hashes, so callers may hash several files at once in threads.
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
import threading
from pathlib import Path
from typing import BinaryIO, Iterable

BLOCK = 1 << 20
DEFAULT_ALGORITHMS = ("sha256", "sha512")
_buffers = threading.local()


def _buffer() -> bytearray:
    buffer = getattr(_buffers, "block", None)
    if buffer is None:
        buffer = _buffers.block = bytearray(BLOCK)
    return buffer


def digest_stream(stream: BinaryIO, algorithms: Iterable[str] = DEFAULT_ALGORITHMS) -> tuple[dict[str, str], int]:
    """Hex digests of everything left in `stream` for each algorithm, and the number of bytes read."""
    hashers = [hashlib.new(name) for name in algorithms]
    size = 0
    buffer = _buffer()
    view = memoryview(buffer)
    while n := stream.readinto(buffer):  # type: ignore[attr-defined]
        size += n
        chunk = view[:n]
        for h in hashers:
            h.update(chunk)
    return {h.name: h.hexdigest() for h in hashers}, size


def digest_file(path: Path | str, algorithms: Iterable[str] = DEFAULT_ALGORITHMS, *,
                follow_links: bool = True) -> tuple[dict[str, str], int]:
    """Hex digests of a file for each algorithm, and its size in bytes, reading it once. Without
    `follow_links`, a link is refused (ELOOP) and so is anything but a regular file (IsADirectoryError)."""
    fd = os.open(path, os.O_RDONLY if follow_links else os.O_RDONLY | os.O_NOFOLLOW)
    try:
        status = os.fstat(fd)
        if not follow_links and not stat.S_ISREG(status.st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file", str(path))
        if status.st_size < BLOCK:
            data = _read_small(fd)
            return {name: hashlib.new(name, data).hexdigest() for name in algorithms}, len(data)
        with os.fdopen(os.dup(fd), "rb", buffering=0) as stream:
            return digest_stream(stream, algorithms)
    finally:
        os.close(fd)


def _read_small(fd: int) -> bytes:
    """All bytes of a file expected to be small (it may have grown since fstat: read to the end)."""
    parts = []
    while chunk := os.read(fd, BLOCK):
        parts.append(chunk)
    return b"".join(parts)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
