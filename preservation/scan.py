"""Virus check with ClamAV (OAIS Ingest, "Receive Submission": a SIP is scanned before anything trusts it).

Two ways to the same engine, picked per scan:
  * a running `clamd`, reached over its local socket (INSTREAM: clamd needs no read access to staging and
    keeps its signatures loaded, so a scan costs milliseconds instead of a database load);
  * `clamscan`, one process over the whole tree, when no clamd answers or when a signature database is
    configured explicitly (`[scan] database` in edepot.toml: a directory or a single .cvd/.cld/.hdb/.ndb
    file; tests make a one-line EICAR database so the real scanner runs without freshclam).
Archives inside the SIP (the chat export is a zip) are scanned into by ClamAV itself.

The scan result names the engine and the signature release (from the .cvd/.cld headers, or the digest of
a custom database), which becomes the PREMIS agent of the "virus check" event.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from kernel.errors import ToolMissing

DEFAULT_DATABASE_DIR = Path("/var/lib/clamav")
CLAMD_SOCKETS = (Path("/run/clamav/clamd.ctl"), Path("/var/run/clamav/clamd.ctl"))
SIGNATURE_SUFFIXES = (".cvd", ".cld", ".cud", ".hdb", ".hsb", ".ndb", ".ldb", ".cdb", ".mdb", ".msb", ".yar")
SETUP_HINT = "run scripts/setup.sh (Debian package clamav)"
_FOUND = re.compile(r"^(?P<path>.*): (?P<signature>\S+) FOUND$")
_CHUNK = 1 << 20


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

    @property
    def clean(self) -> bool:
        return self.scanned and not self.infections and not self.errors

    def to_dict(self) -> dict[str, object]:
        return {"engine": self.engine, "signatures": self.signatures, "method": self.method, "files": self.files,
                "scanned": self.scanned, "clean": self.clean, "errors": list(self.errors),
                "infections": [{"path": i.path, "signature": i.signature} for i in self.infections]}


def scan_tree(root: Path, database: Path | None = None, clamd_socket: Path | None = None) -> ScanResult:
    """Scan every file below `root` with ClamAV.

    With `database` given, `clamscan -d database` is used (the database is what the caller chose). Without it,
    a clamd answering on `clamd_socket` (or Debian's default socket) is used, else `clamscan` with the system
    database. Returns scanned=False when there is no database at all (freshclam never ran); raises
    ToolMissing when ClamAV is not installed.
    """
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    if database is None:
        for candidate in ([clamd_socket] if clamd_socket else list(CLAMD_SOCKETS)):
            if candidate.exists() and _clamd_ping(candidate):
                return _scan_with_clamd(root, files, candidate)
        if not _has_signatures(DEFAULT_DATABASE_DIR):
            return ScanResult(clamav_version(), "none", "clamscan", len(files), scanned=False,
                              errors=(f"no ClamAV signature database in {DEFAULT_DATABASE_DIR}; run freshclam, "
                                      "or set [scan] database in edepot.toml",))
    elif not database.exists():
        raise ToolMissing(f"the ClamAV signature database {database} does not exist",
                          hint="check [scan] database in edepot.toml")
    return _scan_with_clamscan(root, [root], len(files), database)


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


def _scan_with_clamscan(root: Path, targets: list[Path], files: int, database: Path | None) -> ScanResult:
    clamscan = shutil.which("clamscan")
    if clamscan is None:
        raise ToolMissing("ClamAV (clamscan) is not installed", hint=SETUP_HINT)
    argv = [clamscan, "--no-summary", "--infected", "--recursive", "--stdout"]
    if database is not None:
        argv.append(f"--database={database}")
    done = subprocess.run([*argv, "--", *map(str, targets)], capture_output=True, text=True, check=False)
    # clamscan: 0 clean, 1 virus found, 2 an error (which may come with findings too)
    infections, errors = [], []
    for line in done.stdout.splitlines():
        match = _FOUND.match(line)
        if match:
            infections.append(Infection(_relative(match["path"], root), match["signature"]))
    if done.returncode not in (0, 1):
        errors = [line for line in done.stderr.splitlines() if line.strip()] or [f"clamscan exit {done.returncode}"]
    return ScanResult(clamav_version(), signature_release(database or DEFAULT_DATABASE_DIR), "clamscan", files,
                      tuple(infections), errors=tuple(errors))


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
    infections, errors, oversized = [], [], []
    for path in files:
        reply = _instream(sock_path, path).decode("utf-8", "replace")  # "stream: OK" / "stream: Eicar FOUND"
        if "size limit exceeded" in reply:  # clamd's StreamMaxLength (25 MB by default)
            oversized.append(path)
        elif reply.endswith(" FOUND"):
            infections.append(Infection(path.relative_to(root).as_posix(),
                                        reply.removeprefix("stream: ").removesuffix(" FOUND")))
        elif not reply.endswith(" OK"):
            errors.append(f"{path.relative_to(root).as_posix()}: {reply}")
    if oversized:  # too big to stream: clamscan reads them in place with the system database
        big = _scan_with_clamscan(root, oversized, len(oversized), None)
        infections += big.infections
        errors += big.errors
    release = f"daily {rest.split('/')[0]} (clamd)" if rest else "the database clamd loaded (no daily release)"
    return ScanResult(engine, release, "clamd", len(files), tuple(infections), errors=tuple(errors))


def _instream(sock_path: Path, path: Path) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock, open(path, "rb") as handle:
        sock.settimeout(300)
        sock.connect(os.fspath(sock_path))
        sock.sendall(b"zINSTREAM\0")
        for block in iter(lambda: handle.read(_CHUNK), b""):
            sock.sendall(struct.pack(">I", len(block)) + block)
        sock.sendall(struct.pack(">I", 0))
        return _read_reply(sock)
