"""Transfer packages: a SIP bag serialised as one .zip or .7z file, with its SHA-256 written beside it.

The archive holds the bag under one top folder named after the package (BagIt RFC 8493 §4.2, serialization:
"the top-level directory of the serialization is the bag's base directory"), which is what
`ingest.unpack.unpack_transfer` expects. Entries are written in sorted order with a fixed time stamp
(1980-01-01, the earliest a zip can hold), so the same bag always gives the same .zip and the same checksum.
The checksum file `<package>.sha256` is in sha256sum's format (`<hex>  <name>`), so `sha256sum -c` checks it.
Both files are written beside their target, fsynced and renamed into place.
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import py7zr

from kernel.atomic import temporary_name, write_bytes_atomic
from kernel.errors import InputError
from kernel.hashing import digest_file

PACKAGE_KINDS = ("zip", "7z")
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Package:
    """A transfer package that was written: its path, size, SHA-256 and the checksum file beside it."""

    path: Path
    size: int
    sha256: str
    checksum_file: Path

    def to_dict(self) -> dict[str, object]:
        return {"package": str(self.path), "size": self.size, "sha256": self.sha256,
                "checksum_file": str(self.checksum_file)}


def package_path(out: Path, kind: str) -> Path:
    """Where a package of `kind` for `--out out` goes: `out` itself when it ends in `.kind`, else `out.kind`."""
    if kind not in PACKAGE_KINDS:
        raise InputError(f"unknown package kind {kind!r}", hint=f"give one of {', '.join(PACKAGE_KINDS)}")
    return out if out.suffix.lower() == f".{kind}" else out.with_name(f"{out.name}.{kind}")


def checksum_path(package: Path) -> Path:
    """The sha256sum-format checksum file that goes beside `package`."""
    return package.with_name(f"{package.name}.sha256")


def package_bag(bag: Path, target: Path, kind: str) -> Package:
    """Serialise the bag folder `bag` into `target` (.zip or .7z) and write `target.sha256`; atomic, no overwrite."""
    for path in (target, checksum_path(target)):
        if path.exists():
            raise InputError(f"{path} already exists")
    top = target.name[: -len(f".{kind}")] or "sip"
    files = sorted(p for p in bag.rglob("*") if p.is_file())
    staged = target.with_name(temporary_name(target.name, "partial"))
    try:
        if kind == "zip":
            _write_zip(bag, files, staged, top)
        else:
            _write_7z(bag, files, staged, top)
        with open(staged, "rb") as handle:
            os.fsync(handle.fileno())
        digests, size = digest_file(staged, ("sha256",))
        os.rename(staged, target)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    line = f"{digests['sha256']}  {target.name}\n".encode("utf-8")
    checksum = checksum_path(target)
    write_bytes_atomic(checksum, line)
    return Package(target, size, digests["sha256"], checksum)


def _write_zip(bag: Path, files: list[Path], target: Path, top: str) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for path in files:
            info = zipfile.ZipInfo(f"{top}/{path.relative_to(bag).as_posix()}", date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(path, "rb") as source, archive.open(info, "w", force_zip64=True) as sink:
                while block := source.read(1 << 20):
                    sink.write(block)


def _write_7z(bag: Path, files: list[Path], target: Path, top: str) -> None:
    with py7zr.SevenZipFile(target, "w") as archive:
        for path in files:
            archive.write(path, f"{top}/{path.relative_to(bag).as_posix()}")
