"""Whether every byte of a zip is one of its members or the zip's own structure (APPNOTE 6.3.10, §4.3).

Ingest unpacks a chat export zip itself (safely, ingest/export.py) and has ClamAV scan the unpacked members,
on every core, instead of the zip. That is as thorough as ClamAV's own pass over the zip only when the zip
hides nothing between, before or after its entries: no prepended program (a self-extractor), no appended
payload, no gaps. This module finds such bytes; a zip with any is scanned whole, as received.
"""
from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")  # signature … file name length, extra field length
_END_RECORD = struct.Struct("<4sHHHHIIH")  # signature, disk numbers, entry counts, CD size, CD offset, comment
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_END_RECORD = struct.Struct("<4sQHHIIQQQQ")
_DATA_DESCRIPTOR = b"PK\x07\x08"


def zip_hides_nothing(path: Path) -> bool:
    """True when the zip's bytes are exactly its local headers, member data, data descriptors, central
    directory and end records, in order and without a gap; False for anything else (or an unreadable zip)."""
    try:
        with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
            size = handle.seek(0, 2)
            directory_start = _central_directory_start(handle, size, len(archive.comment))
            position = 0
            for info in sorted(archive.infolist(), key=lambda i: i.header_offset):
                if info.header_offset != position:
                    return False
                position = _member_end(handle, info)
            return position == directory_start
    except (OSError, zipfile.BadZipFile, struct.error, ValueError):
        return False


def _member_end(handle: BinaryIO, info: zipfile.ZipInfo) -> int:
    """The offset just past one member: local header, data and (when flagged) data descriptor."""
    handle.seek(info.header_offset)
    fields = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
    if fields[0] != b"PK\x03\x04":
        raise ValueError("no local header where the central directory points")
    end = info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10] + info.compress_size
    if info.flag_bits & 0x08:
        handle.seek(end)
        start = handle.read(4)
        end += 4 if start == _DATA_DESCRIPTOR else 0
        end += 20 if _is_zip64(info) else 12  # crc-32 and the two sizes, 4 or 8 bytes each
    return end


def _is_zip64(info: zipfile.ZipInfo) -> bool:
    return info.file_size >= 0xFFFFFFFF or info.compress_size >= 0xFFFFFFFF or info.header_offset >= 0xFFFFFFFF


def _central_directory_start(handle: BinaryIO, size: int, comment_length: int) -> int:
    """Where the central directory starts; ValueError unless it runs without a gap into the end records and
    those end the file."""
    end_offset = size - _END_RECORD.size - comment_length
    handle.seek(end_offset)
    record = _END_RECORD.unpack(handle.read(_END_RECORD.size))
    if record[0] != b"PK\x05\x06" or record[7] != comment_length:
        raise ValueError("the end record is not where the comment length says")
    directory_size, directory_start = record[5], record[6]
    structures_start = end_offset
    if directory_start == 0xFFFFFFFF or directory_size == 0xFFFFFFFF:
        handle.seek(end_offset - _ZIP64_LOCATOR.size)
        locator = _ZIP64_LOCATOR.unpack(handle.read(_ZIP64_LOCATOR.size))
        if locator[0] != b"PK\x06\x07":
            raise ValueError("no zip64 locator")
        handle.seek(locator[2])
        record64 = _ZIP64_END_RECORD.unpack(handle.read(_ZIP64_END_RECORD.size))
        if record64[0] != b"PK\x06\x06" or locator[2] + 12 + record64[1] != end_offset - _ZIP64_LOCATOR.size:
            raise ValueError("the zip64 end record is not followed by its locator")
        directory_size, directory_start = record64[8], record64[9]
        structures_start = locator[2]
    if directory_start + directory_size != structures_start:
        raise ValueError("bytes between the central directory and the end records")
    return directory_start
