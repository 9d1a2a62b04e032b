"""Text for metadata XML: characters XML 1.0 cannot hold (NUL and other control characters a chat or a tool's
message may contain, bytes that are not UTF-8) are written escaped as in kernel/names.py (`\\x00`, `\\x07`), so no
value can make a metadata document unwritable. The original keeps them; only the description escapes them."""
from __future__ import annotations

import re

from kernel.names import escaped

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """`value` with every character XML 1.0 cannot hold written as an escape; unchanged when it has none."""
    return _NOT_XML.sub(_escape, value) if _NOT_XML.search(value) else value


def _escape(found: re.Match[str]) -> str:
    character = found.group()
    return escaped(character) if character != escaped(character) else f"\\u{ord(character):04x}"
