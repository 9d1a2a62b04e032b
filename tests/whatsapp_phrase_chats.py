"""Builds small WhatsApp exports in one phone language, the way each platform writes them, and checks what
the parser makes of every line: kind, sender, text, attachments, edited flag, and the inferred locale.

Used by tests/test_whatsapp_phrases_<lang>.py. A line is given as (body as written, expected message); the
builder puts the platform's header before it (Android `dd/mm/yyyy, HH:MM - `, iPhone `[dd/mm/yyyy,
HH:MM:SS] ` with CRLF line ends and U+200E where the app writes it). The strings in those files are written
as an export in that language shows them, not taken from the parser's phrase table."""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema

from ingest.sources import parse_export
from kernel.model import Conversation

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))
LRM = "\u200e"


@dataclass(frozen=True)
class Expect:
    """What one line must become. `files` are (name, present) of its attachments."""

    sender: str | None
    kind: str
    text: str
    files: tuple[tuple[str, bool], ...] = ()
    edited: bool = False


def android_export(tmp_path: Path, lines: list[tuple[str, Expect]], media: dict[str, bytes]) -> Path:
    """A zip as Android's "Export chat" makes it: `WhatsApp Chat met X.txt` plus the media files."""
    text = "\n".join(f"14/03/2024, 10:{i:02d} - {body}" for i, (body, _) in enumerate(lines)) + "\n"
    return _zip(tmp_path / "android.zip", "WhatsApp Chat met Raad.txt", text, media)


def iphone_export(tmp_path: Path, lines: list[tuple[str, Expect]], media: dict[str, bytes]) -> Path:
    """A zip as the iPhone's "Export chat" makes it: `_chat.txt` (CRLF) plus the media files. A body that
    starts with U+200E gets one before its header too, as the app writes for its own lines."""
    rows = []
    for i, (body, _) in enumerate(lines):
        mark = LRM if body.startswith(LRM) else ""
        rows.append(f"{mark}[14/03/2024, 10:{i:02d}:00] {body}")
    return _zip(tmp_path / "WhatsApp Chat - Raad.zip", "_chat.txt", "\r\n".join(rows) + "\r\n", media)


def notice_without_marks(tmp_path: Path, notice: str) -> Conversation:
    """A loose iPhone `_chat.txt` (no chat name to go by) whose encryption notice lost its U+200E, as
    after copying the text: the notice must still be told apart from a participant's words."""
    chat = tmp_path / "_chat.txt"
    chat.write_text(f"[14/03/2024, 10:00:00] Elon: {notice}\r\n[14/03/2024, 10:01:00] Elon: Hola\r\n",
                    encoding="utf-8")
    conversation = parse_export([chat], tz="UTC")
    jsonschema.validate(conversation.to_dict(), SCHEMA)
    return conversation


def _zip(path: Path, chat_name: str, text: str, media: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(chat_name, text.encode("utf-8"))
        for name, data in media.items():
            archive.writestr(name, data)
    return path


def check(export: Path, lines: list[tuple[str, Expect]], locale: str, platform: str) -> Conversation:
    """Parses `export` as a user would (`edepot parse` on the zip) and asserts every line's message."""
    conversation = parse_export([export], tz="UTC")
    jsonschema.validate(conversation.to_dict(), SCHEMA)
    got = [
        Expect(m.sender, m.kind.value, m.text, tuple((a.name, a.present) for a in m.attachments), m.edited)
        for m in conversation.messages
    ]
    for (body, expected), message in zip(lines, got):
        assert message == expected, f"{body!r} on {platform}"
    assert len(got) == len(lines)
    assert conversation.source.platform == platform
    assert conversation.source.locale == locale, conversation.source.inferred
    return conversation
