"""What a zip cut short still holds: its whole members, read from their local headers (APPNOTE 6.3.10, 4.3.7).

A zip is read from its central directory at the end; a transfer that broke off, or a phone that ran out of
space, leaves a file without one, which no zip reader opens. Its members before the cut are still whole:
each starts with a local file header (signature, method, CRC-32, sizes, name) followed by its data. This
module walks those headers from the start of the file and keeps every member whose data is there in full
and matches its CRC-32 and size; the member the file ends in, and anything after a header it cannot read,
is listed as unreadable. A member written with a data descriptor (sizes after the data) is found by
inflating it to its end (deflate) when its sizes are not in the header.

The same checks as for any export zip apply to what is kept (`ingest.export.refuse_unsafe_entries`: paths
outside the target, links, encrypted entries, bombs). It is used only when the producer declared the
export damaged (`sip create --damaged-export`) and by ingest for such a SIP; the file itself is kept
byte-identical.
"""
from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Sequence, cast

from ingest.export import (
    MAX_COMPRESSION_RATIO,
    MAX_TOTAL_UNCOMPRESSED,
    Export,
    ExportMember,
    open_export,
    refuse_unsafe_entries,
)
from kernel.errors import InputError
from kernel.model import DamagedFile

_LOCAL = b"PK\x03\x04"
_DESCRIPTOR = b"PK\x07\x08"
_HEADER = struct.Struct("<4sHHHHHIIIHH")
_ZIP64_EXTRA = 0x0001
_STORED, _DEFLATED = 0, 8
_CHUNK = 1 << 20


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    data_offset: int


class SalvagedZipExport(Export):
    """The whole members of a zip cut short, read by their offsets; `damage` says what was lost."""

    def __init__(self, path: Path, members: list[_Member], damage: DamagedFile) -> None:
        self.paths = (path,)
        self.damage = damage
        self._by_name = {m.info.filename: m for m in members}
        self._members = [ExportMember(m.info.filename, m.info.file_size) for m in members]

    def members(self) -> list[ExportMember]:
        return list(self._members)

    def has(self, name: str) -> bool:
        return name in self._by_name

    def _open(self, name: str) -> IO[bytes]:
        member = self._by_name.get(name)
        if member is None:
            raise InputError(f"the export has no member {name!r}")
        return cast(IO[bytes], _MemberStream(self.paths[0], member))


class _MemberStream:
    """The inflated bytes of one salvaged member, read piece by piece (checked whole when it was salvaged)."""

    def __init__(self, path: Path, member: _Member) -> None:
        self._file = open(path, "rb")
        self._file.seek(member.data_offset)
        self._left = member.info.compress_size
        self._inflater = zlib.decompressobj(-15) if member.info.compress_type == _DEFLATED else None
        self._ready = b""

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._ready) < size) and self._left > 0:
            block = self._file.read(min(self._left, _CHUNK))
            if not block:
                break
            self._left -= len(block)
            self._ready += self._inflater.decompress(block) if self._inflater is not None else block
        if size < 0:
            out, self._ready = self._ready, b""
        else:
            out, self._ready = self._ready[:size], self._ready[size:]
        return out

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "_MemberStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_salvaged(paths: Sequence[Path]) -> Export:
    """The export made of `paths` as `open_export` opens it, or, when that is one zip it cannot read (cut
    short: no central directory), the whole members that zip still holds. InputError as open_export's when
    the zip holds no whole member either, or the paths are no zip at all."""
    try:
        return open_export(paths)
    except InputError as error:
        if len(paths) != 1 or not Path(paths[0]).is_file() or not _starts_like_zip(Path(paths[0])):
            raise
        reason = error.message
    return salvage_zip(Path(paths[0]), reason)


def salvage_zip(path: Path, reason: str, max_total: int = MAX_TOTAL_UNCOMPRESSED,
                max_ratio: int = MAX_COMPRESSION_RATIO) -> SalvagedZipExport:
    """Every whole member of the zip at `path`, found by its local header; `reason` is why the zip could not
    be read as such (the problem recorded). InputError when no member is whole; UnsafeArchive as for any
    export zip."""
    size = path.stat().st_size
    members: list[_Member] = []
    unreadable: list[str] = []
    with open(path, "rb") as handle:
        offset = 0
        while offset + _HEADER.size <= size:
            handle.seek(offset)
            found = _read_member(handle, offset, size)
            if found is None:
                break
            member, end, whole = found
            if whole:
                members.append(member)
            else:
                unreadable.append(member.info.filename)
            if end is None:
                break
            offset = end
    refuse_unsafe_entries(path, [m.info for m in members], max_total, max_ratio)
    files = [m for m in members if not m.info.is_dir()]
    if not files:
        raise InputError(f"{path.name} holds no whole member: nothing of it can be read ({reason})")
    damage = DamagedFile(name=path.name, problem=f"zip cut short or damaged: {reason}", complete=len(files),
                         end_byte=size, unreadable=tuple(unreadable))
    return SalvagedZipExport(path, files, damage)


def _read_member(handle: IO[bytes], offset: int, size: int) -> tuple[_Member, int | None, bool] | None:
    """The member whose local header is at `offset`: (member, where the next header is or None when the file
    ends in this member or it cannot be followed, whether its data is whole). None when no header is there."""
    header = handle.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (signature, _version, flags, method, time, date, crc, compressed, uncompressed, name_length,
     extra_length) = _HEADER.unpack(header)
    if signature != _LOCAL:
        return None
    raw_name = handle.read(name_length)
    extra = handle.read(extra_length)
    if len(raw_name) < name_length or len(extra) < extra_length:
        return None  # the file ends inside the header: not even the name is there
    name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
    info = zipfile.ZipInfo(name, _date_time(date, time))
    info.flag_bits, info.compress_type, info.CRC = flags, method, crc
    compressed, uncompressed = _zip64_sizes(extra, compressed, uncompressed)
    data_offset = offset + _HEADER.size + name_length + extra_length
    member = _Member(info, data_offset)
    if method not in (_STORED, _DEFLATED) or flags & 0x1:
        return member, None, False  # a method edepot does not inflate, or encrypted: cannot be checked
    if flags & 0x8 and compressed == 0:
        return _member_with_descriptor(handle, member, size)
    if data_offset + compressed > size:
        return member, None, False
    info.compress_size, info.file_size = compressed, uncompressed
    end = data_offset + compressed
    if flags & 0x8:
        end = _after_descriptor(handle, end)
    return member, end, _whole(handle, member)


def _member_with_descriptor(handle: IO[bytes], member: _Member, size: int) -> tuple[_Member, int | None, bool]:
    """A deflated member whose sizes follow its data: inflated to the end of its stream to find them."""
    if member.info.compress_type != _DEFLATED:
        return member, None, False
    handle.seek(member.data_offset)
    inflater = zlib.decompressobj(-15)
    crc, produced, consumed = 0, 0, 0
    try:
        while not inflater.eof:
            block = handle.read(_CHUNK)
            if not block:
                return member, None, False
            data = inflater.decompress(block)
            crc, produced = zlib.crc32(data, crc), produced + len(data)
            consumed += len(block) - len(inflater.unused_data)
    except zlib.error:
        return member, None, False
    end = member.data_offset + consumed
    handle.seek(end)
    descriptor = handle.read(16)
    if descriptor[:4] == _DESCRIPTOR:
        descriptor = descriptor[4:]
    if len(descriptor) < 12:
        return member, None, False
    stated_crc = struct.unpack("<I", descriptor[:4])[0]
    member.info.CRC, member.info.compress_size, member.info.file_size = stated_crc, end - member.data_offset, produced
    return member, _after_descriptor(handle, end), stated_crc == crc


def _after_descriptor(handle: IO[bytes], end: int) -> int:
    handle.seek(end)
    signature = handle.read(4)
    return end + (16 if signature == _DESCRIPTOR else 12)


def _whole(handle: IO[bytes], member: _Member) -> bool:
    """Whether the member's data inflates, piece by piece, to its stated size and CRC-32."""
    handle.seek(member.data_offset)
    left = member.info.compress_size
    inflater = zlib.decompressobj(-15) if member.info.compress_type == _DEFLATED else None
    crc, produced = 0, 0
    try:
        while left > 0:
            block = handle.read(min(left, _CHUNK))
            if not block:
                return False
            left -= len(block)
            data = inflater.decompress(block) if inflater is not None else block
            crc, produced = zlib.crc32(data, crc), produced + len(data)
    except zlib.error:
        return False
    ended = inflater is None or inflater.eof
    return ended and produced == member.info.file_size and crc == member.info.CRC


def _zip64_sizes(extra: bytes, compressed: int, uncompressed: int) -> tuple[int, int]:
    """The sizes from a ZIP64 extra field when the header's are 0xFFFFFFFF."""
    position = 0
    while position + 4 <= len(extra):
        kind, length = struct.unpack("<HH", extra[position:position + 4])
        if kind == _ZIP64_EXTRA:
            values = extra[position + 4:position + 4 + length]
            fields = [struct.unpack("<Q", values[i:i + 8])[0] for i in range(0, len(values) - 7, 8)]
            if uncompressed == 0xFFFFFFFF and fields:
                uncompressed = fields.pop(0)
            if compressed == 0xFFFFFFFF and fields:
                compressed = fields.pop(0)
        position += 4 + length
    return compressed, uncompressed


def _date_time(date: int, time: int) -> tuple[int, int, int, int, int, int]:
    return (max(1980, (date >> 9) + 1980), max(1, (date >> 5) & 0xF), max(1, date & 0x1F),
            (time >> 11) & 0x1F, (time >> 5) & 0x3F, min(59, (time & 0x1F) * 2))


def _starts_like_zip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == _LOCAL
