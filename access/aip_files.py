"""Access: reading an AIP's files for delivery, each from the first replica whose copy verifies.

A damaged replica is passed over, never delivered; when no replica verifies, InvalidPackage says so.
"""
from __future__ import annotations

from typing import Sequence

from kernel.errors import InvalidPackage
from preservation import aip as layout
from preservation import blobstore
from preservation.blobstore import BlobStore, aip_key
from preservation.catalogue import FileRecord

AIP_METADATA = "data/metadata"  # the AIP's own updated MDTO; the SIP's as received is in data/metadata/sip


def file_of(files: Sequence[FileRecord], path: str, aip_id: str) -> FileRecord:
    for f in files:
        if f.path == path:
            return f
    raise InvalidPackage(f"AIP {aip_id} has no {path} in the catalogue")


def informatieobject_file(files: Sequence[FileRecord], aip_id: str) -> FileRecord:
    """The AIP's MDTO informatieobject: its own updated one before the SIP's as received."""
    def documents_in(folder: str) -> list[FileRecord]:
        return [f for f in files if f.path.rsplit("/", 1)[0] == folder and f.path.endswith(".mdto.xml")
                and not f.path.endswith(".bestand.mdto.xml")]

    for candidate in documents_in(AIP_METADATA) + documents_in(layout.SIP_METADATA):
        return candidate
    raise InvalidPackage(f"AIP {aip_id} holds no MDTO informatieobject")


def read_verified(record: FileRecord, aip_id: str, stores: Sequence[BlobStore]) -> bytes:
    """One AIP file's bytes from the first replica whose copy has the catalogued sha256."""
    data = blobstore.read_verified(stores, aip_key(aip_id, record.path), record.sha256)
    if data is None:
        raise no_intact_copy(record, aip_id)
    return data


def no_intact_copy(record: FileRecord, aip_id: str) -> InvalidPackage:
    """The error of a file that no replica holds intact, with what can be done about it."""
    return InvalidPackage(f"no replica holds an intact copy of {record.path} of AIP {aip_id}",
                          hint="a fixity run repairs it from an intact replica; when none is intact, restore the "
                               "file from an outside copy or declare it lost")
