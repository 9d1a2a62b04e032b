"""Message digests: every file read once, in large blocks, for all the algorithms wanted at once."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO, Iterable

BLOCK = 1 << 20
DEFAULT_ALGORITHMS = ("sha256", "sha512")


def digest_stream(stream: BinaryIO, algorithms: Iterable[str] = DEFAULT_ALGORITHMS) -> tuple[dict[str, str], int]:
    """Hex digests of everything left in `stream` for each algorithm, and the number of bytes read."""
    hashers = {name: hashlib.new(name) for name in algorithms}
    size = 0
    buffer = bytearray(BLOCK)
    view = memoryview(buffer)
    while True:
        n = stream.readinto(buffer)  # type: ignore[attr-defined]
        if not n:
            break
        size += n
        chunk = view[:n]
        for h in hashers.values():
            h.update(chunk)
    return {name: h.hexdigest() for name, h in hashers.items()}, size


def digest_file(path: Path, algorithms: Iterable[str] = DEFAULT_ALGORITHMS) -> tuple[dict[str, str], int]:
    """Hex digests of a file for each algorithm, and its size in bytes, reading it once."""
    with open(path, "rb", buffering=0) as stream:
        return digest_stream(stream, algorithms)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
