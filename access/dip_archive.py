"""A DIP folder as one zip file to download: every file of the DIP stored as it is (not recompressed: PDFs and
media are compressed already, and the bytes of originals stay as received), under the DIP's own relative paths.

The zip is written to a temporary file in the data directory's staging folder and unlinked at once, so nothing is
left behind however the download ends; the caller reads it from the start and closes it.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO

from kernel.errors import NotFound, StorageFailure


def zipped_dip(folder: Path, *, work: Path) -> tuple[BinaryIO, int]:
    """The DIP at `folder` zipped into an unlinked temporary file in `work`, open at its start, and its size.
    NotFound when the folder is gone; StorageFailure when the zip cannot be written (a full disk)."""
    if not folder.is_dir():
        raise NotFound(f"the DIP's folder {folder} is gone", hint="make the DIP again")
    work.mkdir(parents=True, exist_ok=True)
    handle = tempfile.TemporaryFile(dir=work)  # unlinked already: nothing stays behind
    try:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
                archive.write(path, path.relative_to(folder).as_posix())
        size = handle.tell()
        handle.seek(0)
    except OSError as error:
        handle.close()
        raise StorageFailure(f"the DIP could not be zipped in {work}: {os.strerror(error.errno or 0)}") from None
    except BaseException:
        handle.close()
        raise
    return handle, size
