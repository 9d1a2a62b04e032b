"""Atomic writes: stage beside the target, fsync, rename. A crash leaves the old state or the new, never half."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import os
import re
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Callable, Mapping, cast

COPY_THREADS = 4  # copies wait on the disk, not the processor: a few more than cores keeps it busy
NAME_MAX_BYTES = 255  # the limit of ext4, xfs, btrfs, tmpfs and most others for one name in a folder
_TEMPORARY = re.compile(r"^\..*\.[0-9a-f]{32}\.(tmp|partial)$", re.DOTALL)


def temporary_name(final_name: str, suffix: str = "tmp") -> str:
    """A hidden, unique name beside `final_name` for staging it: `.<name>.<32 hex>.<suffix>`, with the
    name shortened (never inside a UTF-8 character) so the whole stays within NAME_MAX_BYTES whatever
    `final_name` is. `is_temporary_name` recognises every name this returns."""
    tail = f".{uuid.uuid4().hex}.{suffix}"
    room = NAME_MAX_BYTES - 1 - len(tail.encode())
    stem = final_name.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")
    return f".{stem}{tail}"


def is_temporary_name(name: str) -> bool:
    """Whether `name` is a staging name made by `temporary_name` (a leftover when no writer is running)."""
    return bool(_TEMPORARY.match(name))


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (new names, renames) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path, *, files: bool = True) -> None:
    """fsync every file (unless `files` is False: they are on disk already) and directory below `root`, and
    `root` itself."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames if files else ():
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def flush_file_system(folder: Path) -> None:
    """Put on disk every file written so far on the file system that holds `folder`, its folders' entries
    included; raises OSError (naming `folder`) when the file system could not write them.

    On Linux this is one syncfs(2) call, which costs a journal commit where an fsync per file costs one per
    file (ten thousand files: a second of the processor and seconds of the disk). Elsewhere every file and
    folder below `folder` is fsynced."""
    syncfs = _syncfs()
    if syncfs is None:
        fsync_tree(folder)
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if syncfs(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), str(folder))
    finally:
        os.close(fd)


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return cast(Callable[[int], int], libc.syncfs)
    except (OSError, AttributeError):  # not Linux, or a C library without syncfs
        return None


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """Replace `target` with `data` so that readers see the old file or the whole new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(temporary_name(target.name))
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)
    fsync_dir(target.parent)


class DigestMismatch(ValueError):
    """Bytes that do not have the digests they must have; nothing was written."""


def write_stream_atomic(target: Path, stream: BinaryIO, *, digests: Mapping[str, str]) -> int:
    """Replace `target` with the rest of `stream` atomically (temporary file beside it, fsync, rename), only when
    the bytes have every digest in `digests` (algorithm → hex): else DigestMismatch and `target` is as it was.
    Returns the number of bytes written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(temporary_name(target.name))
    hashers = {name: hashlib.new(name) for name in digests}
    size = 0
    try:
        with open(tmp, "wb") as out:
            while block := stream.read(1 << 20):
                for hasher in hashers.values():
                    hasher.update(block)
                out.write(block)
                size += len(block)
            out.flush()
            os.fsync(out.fileno())
        wrong = [name for name, hasher in hashers.items() if hasher.hexdigest() != digests[name].lower()]
        if wrong:
            raise DigestMismatch(f"{target.name}: {', '.join(wrong)} not as expected")
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    fsync_dir(target.parent)
    return size


def copy_file_atomic(source: Path, target: Path) -> None:
    """Copy `source` over `target` atomically (temp file in the target's directory, fsync, rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(temporary_name(target.name))
    with open(source, "rb") as src, open(tmp, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    shutil.copystat(source, tmp)
    os.replace(tmp, target)
    fsync_dir(target.parent)


def copy_file_durably(source: Path, target: Path) -> None:
    """Copy `source` (through a link, if it is one) over `target`, its data on disk when this returns; not
    atomic by itself: for files in a folder that `publish_directory` makes appear later."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_tree_durably(source: Path, target: Path) -> None:
    """Copy the tree at `source` into the folder `target` (new or empty) with every file's data on disk
    when this returns.

    Files are copied and fsynced several at a time, so the disk writes one file while the next is copied;
    `publish_directory` (which fsyncs the folders) then makes the tree appear with one rename.
    """
    files = []
    for dirpath, _dirnames, filenames in os.walk(source):
        folder = target / Path(dirpath).relative_to(source)
        folder.mkdir(parents=True, exist_ok=folder == target)
        files += [(Path(dirpath, name), folder / name) for name in filenames]
    with ThreadPoolExecutor(max_workers=COPY_THREADS) as pool:
        for _ in pool.map(lambda pair: copy_file_durably(*pair), sorted(files, key=lambda p: -p[0].stat().st_size)):
            pass


def publish_directory(staged: Path, target: Path, *, files_durable: bool = False) -> None:
    """Move a fully written directory into place with one rename, after fsyncing it (only its folders when
    `files_durable`: every file was fsynced when written, as `copy_file_durably` does); refuses to overwrite."""
    if target.exists():
        raise FileExistsError(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fsync_tree(staged, files=not files_durable)
    os.rename(staged, target)
    fsync_dir(target.parent)


def remove_tree_durably(folder: Path, trash: Path) -> bool:
    """Delete `folder` by first renaming it to `trash/<its name>` (one atomic step, flushed), so a crash leaves
    it whole where it was or parked in `trash`, where the next call finishes it; `trash` goes when empty.
    Whether anything (the folder or its parked remains) was removed."""
    parked = trash / folder.name
    removed = False
    if folder.exists():
        trash.mkdir(parents=True, exist_ok=True)
        if parked.exists():
            shutil.rmtree(parked)
        os.rename(folder, parked)
        fsync_dir(folder.parent)
        removed = True
    if parked.exists():
        shutil.rmtree(parked)
        fsync_dir(trash)
        removed = True
    if trash.is_dir() and not any(trash.iterdir()):
        trash.rmdir()
    return removed
