"""Opening a chat export as the user hands it over: one zip, one export folder, or loose files.

Implements `open_export`, which checks every given path and, for a zip, every entry before anything
is read: entries that would land outside a target (absolute paths, `..`, drive letters), symbolic
links, encrypted entries and zip bombs are refused with `UnsafeArchive`; missing, unreadable, empty
or corrupt inputs with `InputError`. A folder (Telegram Desktop's export folder with `result.json`
and its media folders) is read with member names relative to it; links and special files in it are
refused. Which format the bytes are is not decided here but by the registry (`ingest.sources`).
The returned `Export` lists the members and reads or streams them; it never writes outside the
target it is given.
"""
from __future__ import annotations

import codecs
import dataclasses
import hashlib
import os
import re
import stat
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Sequence, cast

from kernel.errors import InputError, UnsafeArchive
from kernel.model import SourceFile
from kernel.names import unsafe_name_reason

MAX_TOTAL_UNCOMPRESSED = 4 * 1024**3  # 4 GiB: larger than any phone export we expect
MAX_COMPRESSION_RATIO = 200  # media barely compress; text reaches ~10:1; bombs reach 1000:1
RATIO_CHECK_FLOOR = 1024**2  # small members may compress well without harm
TEXT_SNIFF_BYTES = 64 * 1024
HEAD_BYTES = 64 * 1024  # how much of a member format detection may look at
MAX_FOLDER_FILES = 200_000
_CHUNK = 1024**2
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
DAMAGED_ZIP_HINT = ("a zip cut short (a broken transfer, a full phone) can still be read in part: declare the "
                    "export damaged, with a reason, to keep what is whole")


@dataclass(frozen=True)
class ExportMember:
    """One file of the export: its name as the export gives it ('/'-separated) and its size in bytes."""

    name: str
    size: int


class Export:
    """An opened export. Subclasses hold either one zip or a set of loose files."""

    paths: tuple[Path, ...]

    def members(self) -> list[ExportMember]:
        """Every file of the export, in a stable order (zip order, or the order the paths were given)."""
        raise NotImplementedError

    def read(self, name: str) -> bytes:
        """The whole content of member `name`; InputError if there is no such member or it is corrupt."""
        with self._open(name) as stream:
            return _read_all(stream, name)

    def read_head(self, name: str, limit: int = HEAD_BYTES) -> bytes:
        """At most the first `limit` bytes of member `name` (for recognising a format cheaply).

        Heads up to HEAD_BYTES are read once and cached, so every format may sniff the same member."""
        cache: dict[str, bytes] = self.__dict__.setdefault("_heads", {})
        if limit <= HEAD_BYTES:
            if name not in cache:
                cache[name] = self._read_prefix(name, HEAD_BYTES)
            return cache[name][:limit]
        return self._read_prefix(name, limit)

    def open(self, name: str) -> IO[bytes]:
        """A binary stream of member `name` (close it, or use it in `with`); for reading large members
        piece by piece. Reading may raise InputError when the member is corrupt."""
        return cast(IO[bytes], _CheckedStream(self._open(name), name))

    def _read_prefix(self, name: str, limit: int) -> bytes:
        with self._open(name) as stream:
            try:
                return stream.read(limit)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise InputError(f"export member {name!r} is corrupt: {exc}") from None

    def extract(self, name: str, target: Path, algorithms: Sequence[str] = ()) -> dict[str, str]:
        """Stream member `name` to the file `target` (parents created); writes nothing else. Returns the
        hex digests of the bytes written for each of `algorithms` (computed on the way, no second read)."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        hashers = [hashlib.new(a) for a in algorithms]
        with self._open(name) as stream, open(target, "wb") as out:
            try:
                while block := stream.read(_CHUNK):
                    out.write(block)
                    for hasher in hashers:
                        hasher.update(block)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise InputError(f"export member {name!r} is corrupt: {exc}") from None
        return {h.name: h.hexdigest() for h in hashers}

    def extract_all(self, directory: Path) -> list[Path]:
        """Extract every member below `directory`, keeping member names; refuses any path outside it."""
        root = Path(directory).resolve()
        written = []
        for member in self.members():
            target = (root / member.name).resolve()
            if not target.is_relative_to(root):
                raise UnsafeArchive(f"member {member.name!r} would be written outside {root}")
            self.extract(member.name, target)
            written.append(target)
        return written

    def has(self, name: str) -> bool:
        """Whether the export holds a member called `name`."""
        return any(m.name == name for m in self.members())

    def source_files(self) -> tuple[SourceFile, ...]:
        """Name, size and sha256 of each file the user handed over (the zip itself, or each loose file)."""
        return tuple(_source_file(p) for p in self.paths)

    def local_path(self, name: str) -> Path | None:
        """The file on disk that holds member `name` as is (loose files, folders), so it can be read
        from any offset; None when the member is packed (a zip entry)."""
        return None

    def close(self) -> None:
        """Release what the export holds open (a zip's file handle); reading again opens it anew."""

    def __enter__(self) -> "Export":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self, name: str) -> IO[bytes]:
        raise NotImplementedError


class ZipExport(Export):
    """An export delivered as one zip, as the phone makes it. Entries were checked at opening.

    The zip is opened once: its central directory is read once and every member is read through the same
    open file (zipfile serialises the reads, so members may be read from several threads at once). Opening
    the zip again for each member would read the whole central directory each time, quadratic in the number
    of members. A process forked from this one opens its own handle, since a shared file offset is not safe."""

    def __init__(self, path: Path, infos: list[zipfile.ZipInfo]) -> None:
        self.paths = (path,)
        self._infos = {info.filename: info for info in infos}
        self._members = [ExportMember(info.filename, info.file_size) for info in infos]
        self._archive: zipfile.ZipFile | None = None
        self._handle: IO[bytes] | None = None
        self._owner = 0  # the process that opened `_archive`
        self._lock = threading.Lock()

    def members(self) -> list[ExportMember]:
        return list(self._members)

    def has(self, name: str) -> bool:
        return name in self._infos

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
            self._archive = self._handle = None

    def _open(self, name: str) -> IO[bytes]:
        info = self._infos.get(name)
        if info is None:
            raise InputError(f"the export has no member {name!r}")
        try:
            return self._opened().open(info)
        except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError) as exc:
            raise InputError(f"cannot read {name!r} from {self.paths[0].name}: {exc}") from None

    def _opened(self) -> zipfile.ZipFile:
        with self._lock:
            if self._archive is None or self._owner != os.getpid():
                # a file object of our own: zipfile then never closes it behind a member's back
                self._handle = open(self.paths[0], "rb")
                self._archive = zipfile.ZipFile(self._handle)
                self._owner = os.getpid()
            return self._archive


class _LocalExport(Export):
    """An export whose members are files on disk, looked up by member name."""

    _by_name: dict[str, Path]
    _members: list[ExportMember]

    def members(self) -> list[ExportMember]:
        return list(self._members)

    def has(self, name: str) -> bool:
        return name in self._by_name

    def local_path(self, name: str) -> Path | None:
        return self._by_name.get(name)

    def _open(self, name: str) -> IO[bytes]:
        path = self._by_name.get(name)
        if path is None:
            raise InputError(f"the export has no member {name!r}")
        try:
            return open(path, "rb")
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


class FilesExport(_LocalExport):
    """An export delivered as loose files: a chat text, possibly with its media beside it."""

    def __init__(self, paths: tuple[Path, ...]) -> None:
        self.paths = paths
        self._by_name = {p.name: p for p in paths}
        self._members = [ExportMember(p.name, p.stat().st_size) for p in paths]


class FolderExport(_LocalExport):
    """An export delivered as a folder (Telegram Desktop's export folder): members are the regular
    files below it, named by their '/'-separated path relative to the folder, sorted."""

    def __init__(self, root: Path, files: list[tuple[str, Path, int]]) -> None:
        self.paths = (root,)
        self._by_name = {name: path for name, path, _ in files}
        self._members = [ExportMember(name, size) for name, _, size in files]

    def source_files(self) -> tuple[SourceFile, ...]:
        """Name (relative to the folder, prefixed with the folder's name), size and sha256 of every file."""
        root = self.paths[0]
        return tuple(
            dataclasses.replace(_source_file(path), name=f"{root.name}/{name}") for name, path in self._by_name.items()
        )


class _CheckedStream:
    """A member stream whose read errors (a corrupt zip entry) become InputError."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self._stream = stream
        self._name = name

    def read(self, size: int = -1) -> bytes:
        try:
            return self._stream.read(size)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise InputError(f"export member {self._name!r} is corrupt: {exc}") from None
        except OSError as exc:
            raise InputError(f"cannot read {self._name!r}: {exc.strerror or exc}") from None

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> "_CheckedStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_export(
    paths: Sequence[Path],
    max_total: int = MAX_TOTAL_UNCOMPRESSED,
    max_ratio: int = MAX_COMPRESSION_RATIO,
) -> Export:
    """Open the export made of `paths`: one zip, one export folder, or loose files (a chat text plus
    optional media, or screenshots).

    Raises InputError for missing, unreadable, empty or corrupt input, and UnsafeArchive for zip
    entries or folder contents that are unsafe to read. Whether the bytes are a chat export at all is
    for the registry to decide (UnknownExportFormat there).
    """
    if not paths:
        raise InputError("no export file given")
    folders = [Path(p) for p in paths if Path(p).is_dir()]
    if folders:
        if len(paths) > 1:
            raise InputError(f"an export folder must be given on its own, not with other files: {folders[0]}")
        return _open_folder(folders[0])
    checked = tuple(_checked_file(Path(p)) for p in paths)
    zips = [p for p in checked if _is_zip(p)]
    if zips:
        if len(checked) > 1:
            raise InputError(f"a zip export must be given on its own, not with other files: {zips[0].name}")
        return ZipExport(checked[0], _checked_entries(checked[0], max_total, max_ratio))
    _refuse_duplicate_names(checked)
    return FilesExport(checked)


def _open_folder(root: Path) -> FolderExport:
    """The regular files below `root`; links and special files are refused, empty folders too."""
    if not os.access(root, os.R_OK | os.X_OK):
        raise InputError(f"cannot read the folder {root}: permission denied")
    files: list[tuple[str, Path, int]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for dirname in dirnames:
            if (base / dirname).is_symlink():
                raise UnsafeArchive(f"{root.name} holds a symbolic link: {(base / dirname).relative_to(root)}")
        for filename in filenames:
            path = base / filename
            info = path.lstat()
            relative = path.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                raise UnsafeArchive(f"{root.name} holds a symbolic link: {relative}")
            if not stat.S_ISREG(info.st_mode):
                raise InputError(f"{root.name} holds something that is not a regular file: {relative}")
            files.append((relative, path, info.st_size))
            if len(files) > MAX_FOLDER_FILES:
                raise InputError(f"{root} holds more than {MAX_FOLDER_FILES} files; is it an export folder?")
    if not files:
        raise InputError(f"{root} is an empty folder: it holds no export")
    files.sort(key=lambda entry: entry[0])
    return FolderExport(root, files)


def _checked_file(path: Path) -> Path:
    if not path.exists():
        raise InputError(f"no such file: {path}")
    if not path.is_file():
        raise InputError(f"{path} is not a regular file")
    if not os.access(path, os.R_OK):
        raise InputError(f"cannot read {path}: permission denied")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty")
    return path


def _is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return magic in _ZIP_MAGIC


def looks_like_text(head: bytes) -> bool:
    """Whether `head` (the first bytes of a member) is UTF-8 text, with or without BOM, free of NUL bytes.
    A multi-byte character cut at the end of `head` does not count against it."""
    if not head or b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _refuse_duplicate_names(paths: tuple[Path, ...]) -> None:
    seen: set[str] = set()
    for path in paths:
        if path.name in seen:
            raise InputError(f"two given files share the name {path.name!r}")
        seen.add(path.name)


def _checked_entries(path: Path, max_total: int, max_ratio: int) -> list[zipfile.ZipInfo]:
    """The zip's file entries, after refusing every unsafe one; directories are left out."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise InputError(f"{path.name} is not a readable zip: {exc}", hint=DAMAGED_ZIP_HINT,
                         remedy="declare-damaged") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    files = [info for info in infos if not info.is_dir()]
    if not files:
        raise InputError(f"{path.name} is an empty zip: it holds no files")
    return refuse_unsafe_entries(path, infos, max_total, max_ratio)


def refuse_unsafe_entries(path: Path, infos: list[zipfile.ZipInfo], max_total: int, max_ratio: int) -> list[zipfile.ZipInfo]:
    """The file entries of `infos` (the zip at `path`), after refusing every unsafe one (UnsafeArchive)."""
    files = [info for info in infos if not info.is_dir()]
    total = 0
    seen: set[str] = set()
    for info in infos:
        _refuse_unsafe_entry(path, info, max_ratio)
        if info.filename in seen:
            raise UnsafeArchive(f"{path.name} holds the entry {info.filename!r} twice")
        seen.add(info.filename)
        total += info.file_size
        if total > max_total:
            raise UnsafeArchive(f"{path.name} unpacks to more than {max_total} bytes (zip bomb?)")
    return files


def _refuse_unsafe_entry(path: Path, info: zipfile.ZipInfo, max_ratio: int) -> None:
    name = info.filename
    if _unsafe_name(name):
        raise UnsafeArchive(f"{path.name} holds an entry with an unsafe path: {name!r}")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeArchive(f"{path.name} holds a symbolic link: {name!r}")
    if info.flag_bits & 0x1:
        raise InputError(f"{path.name} holds an encrypted entry: {name!r}")
    if info.file_size > RATIO_CHECK_FLOOR:
        if info.compress_size == 0 or info.file_size / info.compress_size > max_ratio:
            raise UnsafeArchive(
                f"{path.name}: entry {name!r} expands more than {max_ratio}:1 (zip bomb?)"
            )


def _unsafe_name(name: str) -> bool:
    if not name or unsafe_name_reason(name):  # control characters: no file, XML or terminal can hold them
        return True
    if name.startswith(("/", "\\")) or _DRIVE_LETTER.match(name):
        return True
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return any(part == ".." for part in parts)


def _read_all(stream: IO[bytes], name: str) -> bytes:
    try:
        return stream.read()
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise InputError(f"export member {name!r} is corrupt: {exc}") from None


def _source_file(path: Path) -> SourceFile:
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return SourceFile(name=path.name, size=size, sha256=digest.hexdigest())
