"""Virus check with ClamAV (OAIS Ingest, "Receive Submission": a SIP is scanned before anything trusts it).

Two ways to the same engine, picked per scan:
  * a running `clamd`, reached over its local socket (INSTREAM: clamd needs no read access to staging and
    keeps its signatures loaded, so a scan costs milliseconds instead of a database load);
  * `clamscan`, one process over the whole tree, when no clamd answers or when a signature database is
    configured explicitly (`[scan] database` in edepot.toml: a directory or a single .cvd/.cld/.hdb/.ndb
    file; tests make a one-line EICAR database so the real scanner runs without freshclam).
Archives are scanned into by ClamAV itself; ingest hands it the members of a chat export zip it unpacked
instead of the zip, so they are scanned on every core (see ingest/zip_coverage.py for when that is safe).

The scan result names the engine and the signature release (from the .cvd/.cld headers, or the digest of
a custom database), which becomes the PREMIS agent of the "virus check" event.

Where no real signature database can be had (a machine without network), `write_test_database` writes
edepot's test database: one signature, for the EICAR test file only. A scan with it runs the real engine
over every file, but it is a trial, not a virus check, and the result says so (`test_database`): a
database is a test database when every signature in it is named `Edepot.Test.…`.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from kernel.errors import ToolMissing

DEFAULT_DATABASE_DIR = Path("/var/lib/clamav")
CLAMD_SOCKETS = (Path("/run/clamav/clamd.ctl"), Path("/var/run/clamav/clamd.ctl"))
SIGNATURE_SUFFIXES = (".cvd", ".cld", ".cud", ".hdb", ".hsb", ".ndb", ".ldb", ".cdb", ".mdb", ".msb", ".yar")
SETUP_HINT = "run scripts/setup.sh (Debian package clamav)"
_FOUND = re.compile(r"^(?P<path>.*): (?P<signature>\S+) FOUND$")
_CHUNK = 1 << 20
# ClamAV's defaults skip files over 100 MB (and archives with over 10,000 members) *without a word*, so a big
# chat export would pass unscanned. The limits are raised to what libclamav can do (files up to 2 GiB) and
# anything still over them is alerted (Heuristics.Limits.Exceeded), which edepot counts as an incomplete scan.
SCAN_LIMITS = ("--max-filesize=2047M", "--max-scansize=4000M", "--max-files=1000000", "--max-recursion=64",
               "--alert-exceeds-max=yes")
LIMITS_EXCEEDED = "Heuristics.Limits.Exceeded"
SMALL_DATABASE = 64 << 20  # below this a database loads in well under a second: scan with one clamscan per core
# clamscan makes a scratch folder (and often a file) for every file it scans: on a disk file system (more so one
# mounted with `discard`) that costs more than the scanning. It works in memory where a memory file system has room
# for the most one file can unpack to (--max-scansize) and some to spare; else in the system's temporary folder.
SCRATCH_ROOT = Path("/dev/shm")
SCRATCH_NEEDED = (4000 << 20) + (256 << 20)
TEST_SIGNATURE_PREFIX = "Edepot.Test."
TEST_DATABASE_NAME = "edepot-test.hdb"
# md5:size of the EICAR anti-virus test file (eicar.org), so this source file does not hold the test string
_EICAR_HASH_SIGNATURE = f"44d88612fea8a8f36de82e1278abb02f:68:{TEST_SIGNATURE_PREFIX}EICAR"


@dataclass(frozen=True)
class Infection:
    """One file ClamAV flagged, with the signature that matched."""

    path: str  # relative to the scanned root
    signature: str


@dataclass(frozen=True)
class ScanResult:
    """The outcome of scanning one tree: the engine used, its signatures, and what was found."""

    engine: str  # e.g. "ClamAV 1.4.6"
    signatures: str  # e.g. "daily 27480, main 62, bytecode 335" or "custom test.hdb sha256 1a2b…"
    method: str  # "clamd" or "clamscan"
    files: int
    infections: tuple[Infection, ...] = ()
    scanned: bool = True  # False when no signature database was there to scan with
    errors: tuple[str, ...] = field(default=())
    test_database: bool = False  # scanned with edepot's test database (EICAR only): a trial, not a virus check

    @property
    def clean(self) -> bool:
        return self.scanned and not self.infections and not self.errors

    def to_dict(self) -> dict[str, object]:
        return {"engine": self.engine, "signatures": self.signatures, "method": self.method, "files": self.files,
                "scanned": self.scanned, "test_database": self.test_database, "clean": self.clean,
                "errors": list(self.errors),
                "infections": [{"path": i.path, "signature": i.signature} for i in self.infections]}


def scan_tree(root: Path, database: Path | None = None, clamd_socket: Path | None = None) -> ScanResult:
    """Scan every file below `root` with ClamAV (see `scan_files`)."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    return scan_files(root, files, database, clamd_socket)


def scan_files(root: Path, files: list[Path], database: Path | None = None,
               clamd_socket: Path | None = None) -> ScanResult:
    """Scan `files` (below `root`, which infections are named relative to) with ClamAV.

    With `database` given, `clamscan -d database` is used (the database is what the caller chose). Without it,
    a clamd answering on `clamd_socket` (or Debian's default socket) is used, else `clamscan` with the system
    database. Returns scanned=False when there is no database at all (freshclam never ran); raises
    ToolMissing when ClamAV is not installed.
    """
    if database is None:
        clamd = _running_clamd(clamd_socket)
        if clamd is not None:
            return _scan_with_clamd(root, files, clamd)
        if not _has_signatures(DEFAULT_DATABASE_DIR):
            return ScanResult(clamav_version(), "none", "clamscan", len(files), scanned=False,
                              errors=(f"no ClamAV signature database in {DEFAULT_DATABASE_DIR} and no clamd running",))
    elif not database.exists():
        raise ToolMissing(f"the ClamAV signature database {database} does not exist",
                          hint="check [scan] database in edepot.toml")
    if database is not None and _database_bytes(database) <= SMALL_DATABASE and len(files) > 1:
        return _scan_in_parallel(root, files, database)
    return _scan_with_clamscan(root, files, len(files), database)


def has_signature_database(database: Path | None = None) -> bool:
    """Whether `scan_files` would find signatures to scan with: `database` when given (it must exist), else a
    running clamd, else the system database."""
    if database is not None:
        return database.exists()
    return _running_clamd(None) is not None or _has_signatures(DEFAULT_DATABASE_DIR)


def write_test_database(folder: Path) -> Path:
    """Write edepot's test signature database (one signature: the EICAR test file) into `folder`; returns the
    file, to be named as `[scan] database`. For a trial where no real database can be had: scans with it say
    they used a test database."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / TEST_DATABASE_NAME
    database.write_text(_EICAR_HASH_SIGNATURE + "\n", encoding="ascii")
    return database


def is_test_database(database: Path) -> bool:
    """Whether every signature in `database` (a file or a folder of them) is one of edepot's test signatures."""
    paths = sorted(database.iterdir()) if database.is_dir() else [database]
    names = []
    for path in paths:
        if path.suffix not in SIGNATURE_SUFFIXES or not path.is_file():
            continue
        if path.suffix in (".cvd", ".cld", ".cud") or path.stat().st_size > SMALL_DATABASE:
            return False  # freshclam's databases, or anything that large, are real ones
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip() and not line.startswith("#"):
                names.append(_signature_name(path.suffix, line))
    return bool(names) and all(name.startswith(TEST_SIGNATURE_PREFIX) for name in names)


def _signature_name(suffix: str, line: str) -> str:
    """The name in one line of a ClamAV text database (.hdb/.hsb/.mdb/.msb: hash:size:Name; others: Name first)."""
    fields = line.split(":")
    return fields[2] if suffix in (".hdb", ".hsb", ".mdb", ".msb") and len(fields) > 2 else fields[0]


def _running_clamd(clamd_socket: Path | None) -> Path | None:
    for candidate in ([clamd_socket] if clamd_socket else list(CLAMD_SOCKETS)):
        if candidate.exists() and _clamd_ping(candidate):
            return candidate
    return None


def clamav_version() -> str:
    """"ClamAV X.Y.Z" of the installed clamscan; ToolMissing when it is not installed."""
    clamscan = shutil.which("clamscan")
    if clamscan is None:
        raise ToolMissing("ClamAV (clamscan) is not installed", hint=SETUP_HINT)
    out = subprocess.run([clamscan, "--version"], capture_output=True, text=True, check=False).stdout
    return out.strip().split("/")[0] or "ClamAV"


def signature_release(database: Path) -> str:
    """The signature databases in a directory (or one file), e.g. "daily 27480, main 62, bytecode 335".

    Official databases carry their version in a 512-byte header ("ClamAV-VDB:date:version:..."); a custom
    database is named with the start of its sha256, so the event says exactly which one was used.
    """
    paths = sorted(database.iterdir()) if database.is_dir() else [database]
    parts = []
    for path in paths:
        if path.suffix not in SIGNATURE_SUFFIXES or not path.is_file():
            continue
        if path.suffix in (".cvd", ".cld", ".cud"):
            with open(path, "rb") as handle:
                header = handle.read(512).decode("ascii", "replace").split(":")
            if len(header) > 2 and header[0] == "ClamAV-VDB":
                parts.append(f"{path.stem} {header[2]} ({header[1].strip()})")
                continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        parts.append(f"custom {path.name} sha256 {digest}")
    return ", ".join(parts) or "none"


def _has_signatures(directory: Path) -> bool:
    return directory.is_dir() and any(p.suffix in SIGNATURE_SUFFIXES for p in directory.iterdir())


def _database_bytes(database: Path) -> int:
    if database.is_file():
        return database.stat().st_size
    return sum(p.stat().st_size for p in database.iterdir() if p.is_file())


def shares_by_size(files: list[Path], workers: int) -> list[list[Path]]:
    """`files` dealt into at most `workers` non-empty shares of about equal bytes (largest first, each to
    the lightest share)."""
    count = max(1, min(workers, len(files)))
    shares: list[list[Path]] = [[] for _ in range(count)]
    loads = [0] * count
    for path in sorted(files, key=lambda p: p.stat().st_size, reverse=True):
        least = loads.index(min(loads))
        shares[least].append(path)
        loads[least] += path.stat().st_size
    return shares


def _scan_in_parallel(root: Path, files: list[Path], database: Path) -> ScanResult:
    """One clamscan per core over shares of the files (balanced by size): worth it when loading the
    database costs little, as a small custom one does; freshclam's full one costs ~1 GB per process."""
    shares = shares_by_size(files, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        parts = list(pool.map(lambda share: _scan_with_clamscan(root, share, len(share), database), shares))
    return ScanResult(parts[0].engine, parts[0].signatures, "clamscan", len(files),
                      tuple(i for part in parts for i in part.infections),
                      errors=tuple(e for part in parts for e in part.errors), test_database=parts[0].test_database)


def _scan_with_clamscan(root: Path, targets: list[Path], files: int, database: Path | None) -> ScanResult:
    clamscan = shutil.which("clamscan")
    if clamscan is None:
        raise ToolMissing("ClamAV (clamscan) is not installed", hint=SETUP_HINT)
    argv = [clamscan, "--no-summary", "--infected", "--recursive", "--stdout", *SCAN_LIMITS]
    if database is not None:
        argv.append(f"--database={database}")
    with tempfile.TemporaryDirectory(prefix="edepot-clamav-", dir=scratch_root()) as scratch, \
            tempfile.NamedTemporaryFile("w", suffix=".list", encoding="utf-8") as listing:
        listing.write("".join(f"{target}\n" for target in targets))  # no argv limit on the number of files
        listing.flush()
        done = subprocess.run([*argv, f"--tempdir={scratch}", f"--file-list={listing.name}"], capture_output=True,
                              text=True, check=False)
    # clamscan: 0 clean, 1 virus found, 2 an error (which may come with findings too)
    infections, errors = [], []
    for line in done.stdout.splitlines():
        match = _FOUND.match(line)
        if match and match["signature"].startswith(LIMITS_EXCEEDED):
            errors.append(f"{_relative(match['path'], root)}: not fully scanned ({match['signature']}; ClamAV "
                          "scans files up to 2 GiB)")
        elif match:
            infections.append(Infection(_relative(match["path"], root), match["signature"]))
    if done.returncode not in (0, 1):
        errors += [line for line in done.stderr.splitlines() if line.strip()] or [f"clamscan exit {done.returncode}"]
    return ScanResult(clamav_version(), signature_release(database or DEFAULT_DATABASE_DIR), "clamscan", files,
                      tuple(infections), errors=tuple(errors),
                      test_database=database is not None and is_test_database(database))


def scratch_root() -> Path | None:
    """Where clamscan's scratch folder goes: SCRATCH_ROOT when it is a writable folder with SCRATCH_NEEDED bytes
    free, else None (the system's temporary folder)."""
    try:
        if (SCRATCH_ROOT.is_dir() and os.access(SCRATCH_ROOT, os.W_OK)
                and shutil.disk_usage(SCRATCH_ROOT).free >= SCRATCH_NEEDED):
            return SCRATCH_ROOT
    except OSError:
        pass
    return None


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path


def _clamd_command(sock_path: Path, command: bytes, timeout: float = 5.0) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(os.fspath(sock_path))
        sock.sendall(b"z" + command + b"\0")
        return _read_reply(sock)


def _read_reply(sock: socket.socket) -> bytes:
    reply = b""
    while not reply.endswith(b"\0"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        reply += chunk
    return reply.rstrip(b"\0").strip()


def _clamd_ping(sock_path: Path) -> bool:
    try:
        return _clamd_command(sock_path, b"PING", timeout=2.0) == b"PONG"
    except OSError:
        return False


def _scan_with_clamd(root: Path, files: list[Path], sock_path: Path) -> ScanResult:
    version = _clamd_command(sock_path, b"VERSION").decode("utf-8", "replace")  # "ClamAV 1.4.6/27480/Mon ..."
    engine, _, rest = version.partition("/")
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:  # clamd scans on several threads
        replies = list(pool.map(lambda path: _clamd_scan_one(sock_path, path), files))
    infections, errors, unreadable = [], [], []
    for path, reply in zip(files, replies):
        relative = _relative(str(path), root)
        if reply.endswith(" FOUND") and LIMITS_EXCEEDED in reply:
            errors.append(f"{relative}: not fully scanned ({reply.rpartition(': ')[2]}); raise clamd's MaxFileSize, "
                          "MaxScanSize and MaxFiles")
        elif reply.endswith(" FOUND"):
            infections.append(Infection(relative, reply.rpartition(": ")[2].removesuffix(" FOUND")))
        elif reply.endswith(" OK"):
            continue
        elif "Access denied" in reply or "lstat() failed" in reply or "Permission denied" in reply:
            unreadable.append(path)
        else:
            errors.append(f"{relative}: {reply}")
    if unreadable:  # too big to stream and unreadable for clamd's user: clamscan reads them with the system database
        fallback = _scan_with_clamscan(root, unreadable, len(unreadable), None)
        infections += fallback.infections
        errors += fallback.errors
    release = f"daily {rest.split('/')[0]} (clamd)" if rest else "the database clamd loaded (no daily release)"
    return ScanResult(engine, release, "clamd", len(files), tuple(infections), errors=tuple(errors))


def _clamd_scan_one(sock_path: Path, path: Path) -> str:
    """clamd's reply for one file: streamed (INSTREAM), or by path when larger than clamd's StreamMaxLength."""
    reply = _instream(sock_path, path).decode("utf-8", "replace")  # "stream: OK" / "stream: Eicar FOUND"
    if "size limit exceeded" in reply:  # StreamMaxLength, 25 MB by default: let clamd read the file itself
        reply = _clamd_command(sock_path, b"SCAN " + os.fsencode(path.resolve()), timeout=3600).decode(
            "utf-8", "replace")
    return reply


def _instream(sock_path: Path, path: Path) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock, open(path, "rb") as handle:
        sock.settimeout(300)
        sock.connect(os.fspath(sock_path))
        sock.sendall(b"zINSTREAM\0")
        try:
            for block in iter(lambda: handle.read(_CHUNK), b""):
                sock.sendall(struct.pack(">I", len(block)) + block)
            sock.sendall(struct.pack(">I", 0))
        except (BrokenPipeError, ConnectionResetError):
            pass  # clamd hangs up on a stream over StreamMaxLength, after saying so (or without a word)
        try:
            return _read_reply(sock) or b"INSTREAM size limit exceeded (connection closed)"
        except (ConnectionResetError, OSError):
            return b"INSTREAM size limit exceeded (connection closed)"
