"""File names edepot refuses, and how it shows any name safely in a message, a report or a terminal.

A name is refused when it holds a control character (C0, DEL or C1: tab, newline, BEL, ESC...), a Unicode
line or paragraph separator (U+2028, U+2029: line breaks to bagit-python's manifest reader) or bytes that are
not UTF-8. Such names cannot be written in XML 1.0 (PREMIS, MDTO), break CSV and HTML, and steer
terminals; an archive has no use for them. Undecodable bytes reach Python as surrogate escapes (U+DC80-U+DCFF,
PEP 383), which is how they are recognised here.
"""
from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def unsafe_name_reason(name: str) -> str | None:
    """Why `name` (a file name or path) is refused, or None when it is a safe name."""
    found = _UNSAFE.search(name)
    if found is None:
        return None
    if "\ud800" <= found.group() <= "\udfff":
        return "is not valid UTF-8"
    if found.group() in "\u2028\u2029":
        return f"holds the line separator {escaped(found.group())}"
    return f"holds the control character {escaped(found.group())}"


def escaped(text: str) -> str:
    """`text` with every control character and undecodable byte written as an escape (`a\\tb.txt`,
    `\\x1b`, `\\xff` for the byte 0xff of a name that is not UTF-8); anything else is left as it is.
    For showing names to people, not for reading them back (a backslash is not escaped)."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


def _escape(found: re.Match[str]) -> str:
    character = found.group()
    if character in _NAMED:
        return _NAMED[character]
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:  # the byte a surrogate escape stands for
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
