"""Android group-name changes quoted with curly, low-9 or angle quotes are system lines even when the new
name holds ": " (ingest/sources/whatsapp_body.py, issue 4 "System lines told apart from messages on both
platforms"); people whose saved name holds such quotes still write messages."""
from __future__ import annotations

import pytest

from ingest.sources.whatsapp import parse_chat_text
from ingest.sources.whatsapp_body import BodyReader
from kernel.model import MessageKind

SUBJECT_CHANGES = [
    "Tim changed the subject from \u201cOverleg\u201d to \u201cAgenda: mei\u201d",  # English, curly quotes
    "Tim hat den Betreff von \u201eOverleg\u201c zu \u201eAgenda: Mai\u201c ge\u00e4ndert",  # German, low-9 quotes
    "Tim a chang\u00e9 le sujet de \u00ab\u00a0Overleg\u00a0\u00bb \u00e0 \u00ab\u00a0Ordre: mai\u00a0\u00bb",  # French
    "Tim heeft het onderwerp gewijzigd van \u201cOverleg\u201d naar \u201cAgenda: mei\u201d",  # Dutch
]


@pytest.mark.parametrize("line", SUBJECT_CHANGES)
def test_subject_change_with_colon_in_quotes_is_system(line: str) -> None:
    body = BodyReader("android", frozenset(), None).read(line)
    assert body[0] is None and body[1] is MessageKind.SYSTEM
    assert body[2] == line


@pytest.mark.parametrize("line", SUBJECT_CHANGES)
def test_subject_change_in_an_export_is_system_and_the_next_message_text(line: str) -> None:
    text = f"14-03-2024 10:15 - {line}\n14-03-2024 10:16 - Ann: ok\n"
    conversation = parse_chat_text(text, "UTC")
    assert [(m.sender, m.kind, m.text) for m in conversation.messages] == [
        (None, MessageKind.SYSTEM, line), ("Ann", MessageKind.TEXT, "ok")]


def test_sender_whose_name_holds_curly_quotes_still_writes_text() -> None:
    reader = BodyReader("android", frozenset(), None)
    body = reader.read("Jan \u201cde bouwer\u201d: de vergunning: is binnen")
    assert (body[0], body[1], body[2]) == ("Jan \u201cde bouwer\u201d", MessageKind.TEXT, "de vergunning: is binnen")


def test_typed_text_quoting_a_subject_change_keeps_its_sender() -> None:
    reader = BodyReader("android", frozenset(), None)
    body = reader.read("Ann: Tim changed the subject from \u201cOverleg\u201d to \u201cAgenda: mei\u201d")
    assert (body[0], body[1]) == ("Ann", MessageKind.TEXT)
