"""Receiving a transfer package safely: a SIP as a folder, .zip, .7z or .tar(.gz) to a BagIt bag on disk.

Implements the first step of ingest in DESIGN.md ("safe unpack → bag + profile validation ..."), against
the known archive attacks (CWE-22 path traversal, "zip slip"; CWE-59 link following; CWE-409 decompression
bombs). Every member is checked before anything is written and streamed to disk through a byte budget, so an
archive that lies in its headers is stopped while it is being written. Any refusal removes everything this
call wrote; nothing half-unpacked is left in staging. The bag root is the folder holding `bagit.txt`: the
archive's top, or the one folder at its top (BagIt, RFC 8493 §2.1).
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tarfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Iterator

import py7zr
import py7zr.exceptions
import py7zr.io

from kernel.atomic import temporary_name
from kernel.errors import InputError, UnsafeArchive
from kernel.names import escaped, unsafe_name_reason

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
COPY_BLOCK = 1 * MiB
BAG_DECLARATION = "bagit.txt"


@dataclass(frozen=True)
class UnpackLimits:
    """How much an archive may unpack to before it is refused as a bomb."""

    max_total_bytes: int = 64 * GiB
    max_ratio: float = 200.0  # uncompressed / compressed
    ratio_applies_above: int = 1 * MiB  # small members compress wildly (a file of spaces) and harm no one
    max_members: int = 1_000_000


def unpack_transfer(source: Path, staging: Path, limits: UnpackLimits = UnpackLimits()) -> Path:
    """Return the root of the BagIt bag that `source` holds, unpacked into a new folder inside `staging`.

    A folder is not copied: its bag root is returned as is, to be used read-only (it is checked for links).
    An archive (.zip, .7z, .tar, .tar.gz/.tgz/.tar.bz2/.tar.xz, recognised by content) is streamed into a new
    folder under `staging`. Raises UnsafeArchive, naming the entry, for traversal, links, device files and
    bombs; InputError for corrupt or unknown archives and when there is not exactly one bag. On any error
    nothing this call wrote is left in `staging`.
    """
    if not source.exists():
        raise InputError(f"transfer package not found: {source}")
    if source.is_dir():
        _refuse_links_in_folder(source)
        return find_bag_root(source)
    kind = archive_kind(source)
    staging.mkdir(parents=True, exist_ok=True)
    target = staging / temporary_name(_stem(source), "partial")  # within a name's limit, however long the source's
    target.mkdir()
    try:
        _EXTRACTORS[kind](source, target, _Budget(limits))
        return find_bag_root(target)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def unpack_archive(source: Path, target: Path, limits: UnpackLimits = UnpackLimits()) -> None:
    """Stream the members of the archive `source` (.zip, .7z, .tar, recognised by content) into the new folder
    `target`, with every check `unpack_transfer` makes, but holding anything (no bag needed). On any error
    nothing of `target` is left."""
    kind = archive_kind(source)
    target.mkdir(parents=True)
    try:
        _EXTRACTORS[kind](source, target, _Budget(limits))
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def is_archive(source: Path) -> bool:
    """Whether `source` is a zip, 7z or tar archive, by its content."""
    try:
        archive_kind(source)
    except InputError:
        return False
    return True


def find_bag_root(top: Path) -> Path:
    """The one folder holding bagit.txt: `top` itself or one folder directly inside it; else InputError."""
    if (top / BAG_DECLARATION).is_file():
        return top
    bags = sorted(child for child in top.iterdir() if child.is_dir() and (child / BAG_DECLARATION).is_file())
    if not bags:
        raise InputError(f"no BagIt bag in {top}", hint="a SIP is a bag: a folder holding bagit.txt")
    if len(bags) > 1:
        raise InputError(f"more than one BagIt bag in {top}: {', '.join(bag.name for bag in bags)}")
    return bags[0]


def safe_member_path(name: str) -> PurePosixPath:
    """The relative path an archive entry name stands for, or UnsafeArchive if it could land outside the target.

    Refuses absolute paths, `..`, drive letters, backslashes, NUL and other control characters, and names that
    are not UTF-8 (kernel/names.py). "." and empty components are dropped; the result may be empty (the
    archive's top).
    """
    if not name:
        raise UnsafeArchive("archive entry with an empty name")
    if "\\" in name:
        raise UnsafeArchive(f"archive entry with a backslash in its name: {name!r}")
    if reason := unsafe_name_reason(name):
        raise UnsafeArchive(f"archive entry whose name {reason}: {escaped(name)}")
    if name.startswith("/"):
        raise UnsafeArchive(f"archive entry with an absolute path: {name!r}")
    if _DRIVE_LETTER.match(name):
        raise UnsafeArchive(f"archive entry with a drive letter: {name!r}")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(f"archive entry that climbs out with '..': {name!r}")
    return PurePosixPath(*parts)


_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")


class _Budget:
    """Counts members and bytes written across one archive; refuses as soon as a limit is passed."""

    def __init__(self, limits: UnpackLimits) -> None:
        self.limits = limits
        self.members = 0
        self.total_bytes = 0
        self._lock = threading.Lock()  # py7zr writes members from worker threads

    def add_member(self, name: str) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise UnsafeArchive(f"archive has more than {self.limits.max_members} members (at {name!r})")

    def check_declared_total(self, declared: int) -> None:
        if declared > self.limits.max_total_bytes:
            raise UnsafeArchive(
                f"archive declares {declared} bytes uncompressed, over the limit of {self.limits.max_total_bytes}"
            )

    def check_ratio(self, name: str, uncompressed: int, compressed: int) -> None:
        if uncompressed <= self.limits.ratio_applies_above:
            return
        if uncompressed > self.limits.max_ratio * max(compressed, 1):
            ratio = uncompressed / max(compressed, 1)
            raise UnsafeArchive(
                f"archive entry {name!r} expands {ratio:.0f}:1, over the limit of {self.limits.max_ratio:.0f}:1"
            )

    def add_bytes(self, name: str, count: int) -> None:
        with self._lock:
            self.total_bytes += count
            total = self.total_bytes
        if total > self.limits.max_total_bytes:
            raise UnsafeArchive(
                f"archive unpacks to more than {self.limits.max_total_bytes} bytes (at {name!r})"
            )


class _MemberWriter:
    """One member's file on disk, written through the budget, never past its declared size."""

    def __init__(self, target: Path, name: str, budget: _Budget, declared_size: int | None) -> None:
        self.name = name
        self.budget = budget
        self.declared_size = declared_size
        self.written = 0
        self.file: IO[bytes] = _create_exclusive(target, name)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        count = len(data)
        self.written += count
        if self.declared_size is not None and self.written > self.declared_size:
            raise UnsafeArchive(f"archive entry {self.name!r} is larger than its header says ({self.declared_size})")
        self.budget.add_bytes(self.name, count)
        return self.file.write(data)

    def close(self) -> None:
        self.file.close()


def _create_exclusive(target: Path, name: str) -> IO[bytes]:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, "xb")
    except (FileExistsError, IsADirectoryError, NotADirectoryError) as error:
        raise UnsafeArchive(f"archive entry {name!r} clashes with another entry") from error
    except OSError as error:
        if error.errno in (errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL):
            raise InputError(f"archive entry {name!r} cannot be a file name here: {error.strerror}") from error
        raise


def _resolve_inside(root: Path, name: str) -> Path:
    """The on-disk path for entry `name`, checked to resolve inside `root` (links on disk included)."""
    relative = safe_member_path(name)
    path = root.joinpath(relative)
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if real != real_root and not real.startswith(real_root + os.sep):
        raise UnsafeArchive(f"archive entry {name!r} resolves outside the staging folder")
    return path


def _make_directory(root: Path, name: str) -> None:
    path = _resolve_inside(root, name)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:
        raise UnsafeArchive(f"archive entry {name!r} clashes with another entry") from error


def _copy(stream: IO[bytes], writer: _MemberWriter, compressed_size: int | None = None) -> None:
    try:
        while block := stream.read(COPY_BLOCK):
            writer.write(block)
            if compressed_size is not None:
                writer.budget.check_ratio(writer.name, writer.written, compressed_size)
    finally:
        writer.close()


# --- zip -------------------------------------------------------------------------------------------------

def _extract_zip(source: Path, root: Path, budget: _Budget) -> None:
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
            _check_zip_headers(members, budget)
            for info in members:
                _extract_zip_member(archive, info, root, budget)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError,
            UnicodeDecodeError) as error:
        # RuntimeError is zipfile's "encrypted, password required"; UnicodeDecodeError a name flagged UTF-8 that is not
        raise InputError(f"corrupt or unsupported zip archive {source.name}: {error}") from error


def _check_zip_headers(members: list[zipfile.ZipInfo], budget: _Budget) -> None:
    """Everything the central directory tells, checked before one byte is written."""
    for info in members:
        budget.add_member(info.filename)
        safe_member_path(info.filename)
        _refuse_special_zip_entry(info)
        budget.check_ratio(info.filename, info.file_size, info.compress_size)
    budget.check_declared_total(sum(info.file_size for info in members))


def _refuse_special_zip_entry(info: zipfile.ZipInfo) -> None:
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise UnsafeArchive(f"archive entry {info.filename!r} is a symbolic link")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UnsafeArchive(f"archive entry {info.filename!r} is a device, pipe or socket")
    if info.flag_bits & 0x1:
        raise InputError(f"archive entry {info.filename!r} is encrypted")


def _extract_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, root: Path, budget: _Budget) -> None:
    if info.is_dir():
        _make_directory(root, info.filename)
        return
    path = _resolve_inside(root, info.filename)
    writer = _MemberWriter(path, info.filename, budget, declared_size=info.file_size)
    with archive.open(info) as stream:
        _copy(stream, writer, compressed_size=info.compress_size)


# --- tar -------------------------------------------------------------------------------------------------

def _extract_tar(source: Path, root: Path, budget: _Budget) -> None:
    with open(source, "rb") as raw:
        try:
            with tarfile.open(fileobj=raw, mode="r:*") as archive:
                for member in _tar_members(archive, budget):
                    _extract_tar_member(archive, member, root, budget, raw)
        except (tarfile.TarError, EOFError, OSError) as error:
            if isinstance(error, OSError) and not _is_decompression_error(error):
                raise
            raise InputError(f"corrupt or unsupported tar archive {source.name}: {error}") from error


def _is_decompression_error(error: OSError) -> bool:
    # gzip.BadGzipFile, lzma.LZMAError and zlib errors surface as OSError subclasses without an errno
    return error.errno is None


def _tar_members(archive: tarfile.TarFile, budget: _Budget) -> Iterator[tarfile.TarInfo]:
    """The members one at a time (never the whole list first), each checked before it is written."""
    for member in archive:
        budget.add_member(member.name)
        safe_member_path(member.name)
        if member.issym() or member.islnk():
            raise UnsafeArchive(f"archive entry {member.name!r} is a link (to {member.linkname!r})")
        if not (member.isreg() or member.isdir()):
            raise UnsafeArchive(f"archive entry {member.name!r} is a device, pipe or other special file")
        budget.check_declared_total(budget.total_bytes + member.size)
        yield member


def _extract_tar_member(archive: tarfile.TarFile, member: tarfile.TarInfo, root: Path, budget: _Budget,
                        raw: IO[bytes]) -> None:
    if member.isdir():
        _make_directory(root, member.name)
        return
    path = _resolve_inside(root, member.name)
    writer = _MemberWriter(path, member.name, budget, declared_size=member.size)
    stream = archive.extractfile(member)
    if stream is None:
        raise InputError(f"archive entry {member.name!r} cannot be read")
    try:
        while block := stream.read(COPY_BLOCK):
            writer.write(block)
            # Compressed tars have no per-member sizes: compare all written so far with the compressed bytes read.
            budget.check_ratio(member.name, budget.total_bytes, raw.tell())
    finally:
        writer.close()


# --- 7z --------------------------------------------------------------------------------------------------

def _extract_7z(source: Path, root: Path, budget: _Budget) -> None:
    try:
        with py7zr.SevenZipFile(source, mode="r") as archive:
            if archive.needs_password():
                raise InputError(f"7z archive {source.name} is encrypted")
            files = list(archive.files)
            _check_7z_listing(files, budget)
            budget.check_ratio(source.name, archive.archiveinfo().uncompressed, source.stat().st_size)
            _prepare_7z_tree(files, root)
            factory = _SevenZipWriterFactory(root, budget, {f.filename: f.uncompressed for f in files})
            archive.extractall(path=root, factory=factory)
            factory.close_all()
    except (py7zr.exceptions.ArchiveError, py7zr.exceptions.Bad7zFile, py7zr.exceptions.DecompressionError,
            py7zr.exceptions.UnsupportedCompressionMethodError, EOFError, KeyError, ValueError) as error:
        raise InputError(f"corrupt or unsupported 7z archive {source.name}: {error}") from error


def _check_7z_listing(files: list, budget: _Budget) -> None:
    names = set()
    for entry in files:
        budget.add_member(entry.filename)
        safe_member_path(entry.filename)
        if entry.is_symlink or entry.is_junction:
            raise UnsafeArchive(f"archive entry {entry.filename!r} is a link")
        if entry.is_socket or entry.st_fmt not in (None, 0, stat.S_IFREG, stat.S_IFDIR):
            raise UnsafeArchive(f"archive entry {entry.filename!r} is a device, pipe or socket")
        if entry.filename in names:
            raise UnsafeArchive(f"archive entry {entry.filename!r} appears twice")
        names.add(entry.filename)
    budget.check_declared_total(sum(entry.uncompressed for entry in files))


def _prepare_7z_tree(files: list, root: Path) -> None:
    """Folders made and empty files created by us: py7zr's writer factory is only called for contents."""
    for entry in files:
        if entry.is_directory:
            _make_directory(root, entry.filename)
        elif entry.emptystream:
            _create_exclusive(_resolve_inside(root, entry.filename), entry.filename).close()


class _SevenZipWriterFactory(py7zr.io.WriterFactory):
    """Gives py7zr a counting writer per member, at a path we checked ourselves."""

    def __init__(self, root: Path, budget: _Budget, sizes: dict[str, int]) -> None:
        self.root = root
        self.budget = budget
        self.sizes = sizes
        self.writers: list[_SevenZipWriter] = []

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        name = Path(filename).relative_to(self.root).as_posix()
        writer = _SevenZipWriter(_MemberWriter(_resolve_inside(self.root, name), name, self.budget,
                                               declared_size=self.sizes.get(name)))
        self.writers.append(writer)
        return writer

    def close_all(self) -> None:
        for writer in self.writers:
            writer.close()


class _SevenZipWriter(py7zr.io.Py7zIO):
    def __init__(self, member: _MemberWriter) -> None:
        self.member = member
        self.closed = False

    def write(self, s: bytes | bytearray) -> int:
        return self.member.write(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.member.written

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        self.member.file.flush()

    def size(self) -> int:
        return self.member.written

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.member.close()


# --- recognising the package -----------------------------------------------------------------------------

_EXTRACTORS = {"zip": _extract_zip, "7z": _extract_7z, "tar": _extract_tar}


def archive_kind(source: Path) -> str:
    """'zip', '7z' or 'tar' (plain or compressed), recognised by content, not by name."""
    with open(source, "rb") as stream:
        head = stream.read(8)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if _is_tar(source):
        return "tar"
    raise InputError(f"{source.name} is not a zip, 7z or tar archive", hint="send the SIP as a folder, .zip or .7z")


def _is_tar(source: Path) -> bool:
    try:
        with tarfile.open(source, mode="r:*") as archive:
            return archive.next() is not None
    except (tarfile.TarError, EOFError, OSError):
        return False


def _stem(source: Path) -> str:
    name = source.name
    for suffix in (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip", ".7z", ".tar"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or "sip"
    return name


def _refuse_links_in_folder(folder: Path) -> None:
    for directory, subdirectories, files in os.walk(folder):
        for name in subdirectories + files:
            if os.path.islink(os.path.join(directory, name)):
                raise UnsafeArchive(f"transfer folder holds a symbolic link: {os.path.join(directory, name)}")
