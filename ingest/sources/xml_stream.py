"""Streaming XML input for exports that phones write carelessly: repair character references, refuse DTDs.

Implements the pre-pass that issue 4 asks for SMS Backup & Restore files: Android apps write emoji as
two UTF-16 surrogate character references (`&#55357;&#56832;`), which XML 1.0 forbids (its `Char`
production excludes U+D800..U+DFFF) and libxml2 refuses. `RepairingReader` wraps a binary stream and
hands lxml a valid document, chunk by chunk, without ever holding the file:

- a high surrogate reference directly followed by a low one becomes the reference of the character
  they encode (`&#128512;`);
- every other reference to a character XML 1.0 does not allow (a lone surrogate, `&#0;`, `&#1;`,
  U+FFFE, beyond U+10FFFF) becomes `&#65533;` (U+FFFD, the replacement character);
- raw C0 control bytes other than tab, LF and CR become U+FFFD.

Each kind of repair is counted (`Repairs`), so the canonical JSON can say what was changed in reading;
the original file is never touched. A document type declaration (`<!DOCTYPE`, and with it `<!ENTITY`)
before the root element is refused with `UnsafeXml`: libxml2 expands internal entities even with
`resolve_entities=False`, so the only safe answer is not to parse such a file at all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import IO

from kernel.errors import UnsafeXml

REPLACEMENT_REF = b"&#65533;"
REPLACEMENT_UTF8 = "\ufffd".encode()
_CHUNK = 1024 * 1024
_CARRY_WINDOW = 64  # longer than two references of the longest legal spelling
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]{1,16})|([0-9]{1,20}));")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_SET = bytes(range(0x00, 0x09)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20))
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)")
_ROOT_START = re.compile(rb"<[A-Za-z_:]")
_PROLOG_LIMIT = 64 * 1024  # a prolog (declaration, stylesheet PI, comments) longer than this is not an export


@dataclass
class Repairs:
    """What the pre-pass changed, counted by kind."""

    surrogate_pairs_joined: int = 0
    invalid_references_replaced: int = 0
    control_bytes_replaced: int = 0
    examples: list[str] = field(default_factory=list)  # up to five distinct references replaced, as written

    def total(self) -> int:
        return self.surrogate_pairs_joined + self.invalid_references_replaced + self.control_bytes_replaced

    def to_dict(self) -> dict[str, object]:
        return {
            "surrogate_pairs_joined": self.surrogate_pairs_joined,
            "invalid_references_replaced": self.invalid_references_replaced,
            "control_bytes_replaced": self.control_bytes_replaced,
            "examples": list(self.examples),
        }


class RepairingReader:
    """A read-only binary stream over `raw` that yields well-formed character references (see module)."""

    def __init__(self, raw: IO[bytes], name: str = "XML file", chunk: int = _CHUNK) -> None:
        self._raw = raw
        self._name = name
        self._chunk = chunk
        self._carry = b""
        self._ready = b""
        self._eof = False
        self._prolog: bytes | None = b""  # None once the root element has been seen
        self.repairs = Repairs()
        self.bytes_read = 0  # of the file as written
        self.lines = 1  # the line the file's last byte read is on

    @property
    def exhausted(self) -> bool:
        """Whether the whole file has been read and handed on."""
        return self._eof and not self._ready

    def ends_at(self, line: int) -> bool:
        """Whether a parser error on `line` (1-based) is at the end of the data: the file ended before the
        document did (cut short), rather than holding something wrong before its end."""
        return self.exhausted and line >= self.lines

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes of the repaired document (all of the rest when size < 0)."""
        while not self._eof and (size < 0 or len(self._ready) < size):
            self._fill()
        if size < 0:
            out, self._ready = self._ready, b""
        else:
            out, self._ready = self._ready[:size], self._ready[size:]
        return out

    def _fill(self) -> None:
        data = self._raw.read(self._chunk)
        self.bytes_read += len(data)
        self.lines += data.count(b"\n")
        if not data:
            self._eof = True
            tail, self._carry = self._carry, b""
            self._ready += self._repair(tail)
            return
        data = self._carry + data
        cut = _safe_cut(data)
        self._carry = data[cut:]
        self._ready += self._repair(data[:cut])

    def _repair(self, data: bytes) -> bytes:
        if self._prolog is not None:
            self._check_prolog(data)
        if b"&#" in data:
            data = self._repair_references(data)
        if len(data.translate(None, _CONTROL_SET)) != len(data):  # a C scan; the regex only when needed
            data, controls = _CONTROL_BYTES.subn(REPLACEMENT_UTF8, data)
            self.repairs.control_bytes_replaced += controls
        return data

    def _check_prolog(self, data: bytes) -> None:
        assert self._prolog is not None
        seen = self._prolog + data
        root = _ROOT_START.search(seen)
        head = seen if root is None else seen[: root.start()]
        if _DECLARATION.search(head):
            raise UnsafeXml(
                f"{self._name} declares a DTD or entities; refused, never expanded",
                hint="an export written by a phone app has no DTD",
            )
        if root is not None:
            self._prolog = None
        elif len(seen) > _PROLOG_LIMIT:
            self._prolog = None  # no root element within 64 KiB: the parser will say the file is not XML
        else:
            self._prolog = seen

    def _repair_references(self, data: bytes) -> bytes:
        out: list[bytes] = []
        pos = 0
        matches = list(_CHAR_REF.finditer(data))
        i = 0
        while i < len(matches):
            m = matches[i]
            value = _ref_value(m)
            if _xml_char(value):
                i += 1
                continue
            out.append(data[pos : m.start()])
            following = matches[i + 1] if i + 1 < len(matches) else None
            if (
                0xD800 <= value <= 0xDBFF
                and following is not None
                and following.start() == m.end()
                and 0xDC00 <= _ref_value(following) <= 0xDFFF
            ):
                low = _ref_value(following)
                joined = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                out.append(b"&#%d;" % joined)
                self.repairs.surrogate_pairs_joined += 1
                pos = following.end()
                i += 2
                continue
            out.append(REPLACEMENT_REF)
            self.repairs.invalid_references_replaced += 1
            written = m.group(0).decode("ascii")
            if len(self.repairs.examples) < 5 and written not in self.repairs.examples:
                self.repairs.examples.append(written)
            pos = m.end()
            i += 1
        if not out:
            return data
        out.append(data[pos:])
        return b"".join(out)


def _safe_cut(data: bytes) -> int:
    """Where `data` may be cut so that no character reference, nor a surrogate pair, is split: before
    the last '&' near the end, and before a high-surrogate reference just ahead of it (its low half
    may follow in the carry)."""
    start = max(0, len(data) - _CARRY_WINDOW)
    amp = data.rfind(b"&", start)
    if amp == -1:
        return len(data)
    before = data[max(0, amp - 32) : amp]
    previous = _LAST_REF.search(before)
    if previous is not None and 0xD800 <= _ref_value(previous) <= 0xDBFF:
        return amp - (len(before) - previous.start())
    return amp


_LAST_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]{1,16})|([0-9]{1,20}));$")


def _ref_value(match: re.Match[bytes]) -> int:
    hex_digits, dec_digits = match.group(1), match.group(2)
    return int(hex_digits, 16) if hex_digits is not None else int(dec_digits)


def _xml_char(value: int) -> bool:
    """XML 1.0's Char production."""
    return (
        value in (0x9, 0xA, 0xD)
        or 0x20 <= value <= 0xD7FF
        or 0xE000 <= value <= 0xFFFD
        or 0x10000 <= value <= 0x10FFFF
    )
