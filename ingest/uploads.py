"""SIPs received in chunks (a resumable upload): the bytes of each upload on disk, in order, beside what it is.

Each upload is a folder `<data>/uploads/<organisation>/<upload id>/` ("_" for the organisation of a depot that
serves none in particular) holding `upload.json` (who started it, for which organisation, its announced length and
file name, when it was started and last added to, and how it ended: the job it was queued as, or why it was
refused) and `data`, the bytes received so far: its size is the upload's offset. A chunk is appended whole or
not at all (a chunk cut short is taken back off), under a lock of the upload, so two senders never interleave;
`upload.json` is replaced atomically. Nothing here holds a chunk in memory: it is read and written in blocks.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import uuid
import zipfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Iterator

from kernel.atomic import fsync_dir, write_bytes_atomic
from kernel.errors import InputError, InvalidPackage, UploadConflict, UploadTooLarge

BLOCK = 256 * 1024  # bytes read from the request and written at a time
NO_ORGANISATION = "_"
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Upload:
    """One upload as it stands: announced `length`, `offset` bytes received."""

    upload_id: str
    owner: str
    organisation: str
    length: int
    filename: str
    created: datetime
    touched: datetime
    offset: int
    folder: Path
    job_id: str = ""  # queued as this ingest job once its last byte arrived
    refused: str = ""  # or why it was not queued (one line)

    @property
    def complete(self) -> bool:
        return self.offset == self.length

    @property
    def percent(self) -> int:
        return 100 if not self.length else self.offset * 100 // self.length

    @property
    def data(self) -> Path:
        return self.folder / "data"


class UploadArea:
    """The uploads under one folder (`<data>/uploads`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def create(self, *, owner: str, organisation: str, length: int, filename: str, now: datetime) -> Upload:
        """A new, empty upload of `length` bytes, made whole (its folder appears with its record and no data)."""
        upload_id = uuid.uuid4().hex
        parent = self.root / (organisation or NO_ORGANISATION)
        parent.mkdir(parents=True, exist_ok=True)
        staged = parent / f".{upload_id}.partial"
        staged.mkdir()
        upload = Upload(upload_id, owner, organisation, length, safe_filename(filename), now, now, 0,
                        parent / upload_id)
        (staged / "data").touch()
        write_bytes_atomic(staged / "upload.json", _record(upload))
        staged.rename(upload.folder)
        fsync_dir(parent)
        return upload

    def find(self, upload_id: str) -> Upload | None:
        """The upload of that id (of any organisation), or None."""
        if not _UPLOAD_ID.fullmatch(upload_id):
            return None
        for folder in self.root.glob(f"*/{upload_id}"):
            return _read(folder)
        return None

    def all(self) -> Iterator[Upload]:
        """Every upload (of every person and organisation), unordered."""
        for folder in self.root.glob("*/*"):
            if _UPLOAD_ID.fullmatch(folder.name):
                found = _read(folder)
                if found is not None:
                    yield found

    def append(self, upload: Upload, stream: BinaryIO, *, offset: int, count: int, now: datetime) -> Upload:
        """`count` bytes of `stream` added at `offset`, which must be the upload's offset now (UploadConflict,
        E130, otherwise, or while another chunk of it is being received); UploadTooLarge (E131) past its
        announced length. A stream that ends early adds nothing (InputError)."""
        if offset + count > upload.length:
            raise UploadTooLarge(f"the chunk at {offset} of {count} bytes passes the upload's length "
                                 f"{upload.length}", hint="send the file that was announced")
        with _locked(upload.folder), open(upload.data, "r+b") as data:
            held = os.fstat(data.fileno()).st_size
            if offset != held:
                raise UploadConflict(f"the upload holds {held} bytes, not {offset}",
                                     hint="ask the upload's offset (HEAD) and resume from there")
            data.seek(held)
            try:
                written = _copy(stream, data, count)
            except OSError:
                data.truncate(held)
                raise
            if written != count:
                data.truncate(held)
                raise InputError(f"the chunk ended after {written} of {count} bytes: nothing of it was kept",
                                 hint="resume from the upload's offset")
            data.flush()
            os.fsync(data.fileno())
            grown = replace(upload, offset=held + count, touched=now)
            write_bytes_atomic(upload.folder / "upload.json", _record(grown))
        return grown

    def settle(self, upload: Upload, *, job_id: str = "", refused: str = "") -> Upload:
        """Record how a complete upload ended: queued as `job_id`, or `refused` (its data removed)."""
        settled = replace(upload, job_id=job_id, refused=refused)
        write_bytes_atomic(upload.folder / "upload.json", _record(settled))
        return settled

    def received_file(self, upload: Upload) -> Path:
        """The complete upload's bytes under the name it was sent with (renamed in place)."""
        named = upload.folder / "sip" / upload.filename
        named.parent.mkdir(exist_ok=True)
        upload.data.rename(named)
        return named

    def remove(self, upload: Upload) -> None:
        """The upload gone, its bytes and record."""
        with _locked(upload.folder):
            trash = upload.folder.with_name(f".{upload.upload_id}.removed")
            upload.folder.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)


def check_archive(path: Path, shown_name: str) -> str:
    """The kind of archive the file at `path` is ('zip', '7z' or 'tar', by its content, not its name), when it
    can be read (a zip's or 7z's list of entries, a tar's first); InvalidPackage (E300) in one line otherwise."""
    import py7zr

    from ingest.unpack import archive_kind

    try:
        kind = archive_kind(path)
    except InputError:
        raise InvalidPackage(f"{shown_name} is not a zip, 7z or tar archive",
                             hint="pack the SIP's folder as .zip, .7z or .tar") from None
    try:
        if kind == "zip":
            with zipfile.ZipFile(path) as archive:
                archive.namelist()
        elif kind == "7z":
            with py7zr.SevenZipFile(path) as archive:
                archive.getnames()
    except Exception as error:  # every reader's own kind of "cannot read this"
        raise InvalidPackage(f"{shown_name} is a {kind} archive that cannot be read: {error}".splitlines()[0],
                             hint="pack the SIP's folder again") from None
    return kind


def safe_filename(name: str) -> str:
    """A file name to keep: its last part only, in safe characters (never empty)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return _SAFE_NAME.sub("_", base).strip("._")[:200] or "sip"


def _copy(stream: BinaryIO, target: BinaryIO, count: int) -> int:
    written = 0
    while written < count:
        block = stream.read(min(BLOCK, count - written))
        if not block:
            break
        target.write(block)
        written += len(block)
    return written


class _locked:
    """The upload's lock, taken without waiting: a second sender is told to come back (UploadConflict)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "lock"

    def __enter__(self) -> None:
        self.handle = open(self.path, "a+b")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise UploadConflict("another chunk of this upload is being received",
                                 hint="wait, then ask the upload's offset (HEAD)") from None

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def _record(upload: Upload) -> bytes:
    return json.dumps({"owner": upload.owner, "organisation": upload.organisation, "length": upload.length,
                       "filename": upload.filename, "created": upload.created.isoformat(),
                       "touched": upload.touched.isoformat(), "offset": upload.offset, "job_id": upload.job_id,
                       "refused": upload.refused}, ensure_ascii=False).encode("utf-8")


def _read(folder: Path) -> Upload | None:
    try:
        record = json.loads((folder / "upload.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        offset = (folder / "data").stat().st_size  # the bytes on disk are the truth, the record may lag a crash
    except FileNotFoundError:  # complete: taken for its job, or removed when it was refused
        offset = int(record["offset"])
    return Upload(folder.name, record["owner"], record["organisation"], int(record["length"]), record["filename"],
                  datetime.fromisoformat(record["created"]), datetime.fromisoformat(record["touched"]),
                  offset, folder, record.get("job_id", ""), record.get("refused", ""))
