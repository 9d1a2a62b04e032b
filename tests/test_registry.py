"""The export-format registry's contract (ingest/sources/__init__.py, base.py): scoring, ties, the
streamed JSON document for one and for several conversations, validated against the schemas."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import jsonschema
import pytest
from referencing import Registry, Resource

from ingest.export import Export, open_export
from ingest.sources import FORMATS, ConversationStream, ParseOptions, detect, format_named
from ingest.sources.base import ExportFormat, StreamingFormat
from kernel.errors import InputError, UnknownExportFormat
from kernel.model import (
    Conversation,
    ConversationHead,
    Message,
    MessageKind,
    Participant,
    Source,
    participants_of,
    write_conversations_json,
)
from schemas import schema_path


class _Fixed:
    """A format that gives a fixed score and parses into fixed conversations (a registry test double)."""

    def __init__(self, name: str, value: float, conversations: int = 1) -> None:
        self.name = name
        self.value = value
        self.conversations = conversations

    def score(self, export: Export) -> float:
        return self.value

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        return [_conversation(i, 3) for i in range(self.conversations)]


def _message(seq: int, sender: str | None) -> Message:
    return Message(seq, datetime(2024, 3, 14, 10, seq % 60, tzinfo=timezone.utc), sender,
                   MessageKind.TEXT if sender else MessageKind.SYSTEM, f"tekst {seq} \"quoted\" ✓\nline two")


def _conversation(index: int, n: int) -> Conversation:
    messages = tuple(_message(seq, None if seq == 1 else f"Person {seq % 2}") for seq in range(1, n + 1))
    source = Source(format="fixed", platform="test", locale="nl", timezone="UTC", inferred={"chat": index})
    return Conversation(source, participants_of(messages), messages, title=f"Chat {index}")


def _validators() -> tuple[jsonschema.Draft202012Validator, jsonschema.Draft202012Validator]:
    one = json.loads(schema_path("conversation.schema.json").read_text(encoding="utf-8"))
    many = json.loads(schema_path("conversations.schema.json").read_text(encoding="utf-8"))
    registry: Registry = Registry().with_resource(one["$id"], Resource.from_contents(one))
    return (jsonschema.Draft202012Validator(one),
            jsonschema.Draft202012Validator(many, registry=registry))


@pytest.fixture
def export(tmp_path: Path) -> Export:
    path = tmp_path / "chat.txt"
    path.write_text("anything\n", encoding="utf-8")
    return open_export([path])


def test_highest_score_wins_and_evidence_lists_every_score(export: Export) -> None:
    formats = [_Fixed("low", 0.2), _Fixed("high", 0.9), _Fixed("none", 0.0)]
    detection = detect(export, formats)
    assert detection.format.name == "high"
    assert detection.evidence() == "high 0.9, low 0.2, none 0"


def test_zero_everywhere_and_ties_are_refused_naming_what_was_tried(export: Export) -> None:
    with pytest.raises(UnknownExportFormat) as zero:
        detect(export, [_Fixed("a", 0.0), _Fixed("b", 0.0)])
    assert "a 0" in zero.value.one_line() and "b 0" in zero.value.one_line()
    with pytest.raises(UnknownExportFormat, match="equally") as tie:
        detect(export, [_Fixed("a", 0.7), _Fixed("b", 0.7), _Fixed("c", 0.1)])
    assert tie.value.remedy == "choose-format" and "--" not in tie.value.one_line()  # the command line adds --format
    from edepot.remedies import hint_with_remedy

    assert "choose with --format" in str(hint_with_remedy(tie.value))


def test_registered_formats_fulfil_the_contract() -> None:
    names = [f.name for f in FORMATS]
    assert len(names) == len(set(names))
    for fmt in FORMATS:
        assert isinstance(fmt, ExportFormat), fmt.name
        assert format_named(fmt.name) is fmt
    assert isinstance(format_named("whatsapp"), StreamingFormat)
    with pytest.raises(InputError, match="known formats"):
        format_named("no-such-format")


def test_bad_options_are_input_errors() -> None:
    with pytest.raises(InputError, match="time zone"):
        ParseOptions(tz="Mars/Olympus")
    with pytest.raises(InputError, match="date order"):
        ParseOptions(date_order="DDMM")
    assert ParseOptions(tz="UTC", date_order="MDY").zone.utcoffset(None) is not None


def _streamed(conversations: list[Conversation]) -> dict:
    out = io.StringIO()
    write_conversations_json(((ConversationHead(c.source, c.title), iter(c.messages)) for c in conversations),
                             len(conversations), out)
    assert out.getvalue().endswith("}\n")
    return json.loads(out.getvalue())


def test_one_streamed_conversation_equals_its_whole_document() -> None:
    conversation = _conversation(0, 5000)
    one, _ = _validators()
    document = _streamed([conversation])
    one.validate(document)
    assert document == conversation.to_dict()  # same content; only the key order differs


def test_several_conversations_are_one_collection_document() -> None:
    conversations = [_conversation(0, 3), _conversation(1, 0), _conversation(2, 4)]
    _, many = _validators()
    document = _streamed(conversations)
    many.validate(document)
    assert [c["title"] for c in document["conversations"]] == ["Chat 0", "Chat 1", "Chat 2"]
    assert document["conversations"][1]["messages"] == []
    assert [c.to_dict() for c in conversations] == document["conversations"]


def test_participants_known_in_advance_keep_a_zero_count() -> None:
    source = Source(format="fixed", platform="test", locale=None, timezone="UTC")
    head = ConversationHead(source, None, (Participant("Silent", 0),))
    out = io.StringIO()
    write_conversations_json([(head, iter([_message(2, "Ann"), _message(3, "Ann")]))], 1, out)
    assert json.loads(out.getvalue())["participants"] == [
        {"name": "Silent", "message_count": 0}, {"name": "Ann", "message_count": 2}]


def test_inferred_facts_added_while_streaming_are_written() -> None:
    source = Source(format="fixed", platform="test", locale=None, timezone="UTC", inferred={})

    def messages() -> Iterator[Message]:
        yield _message(2, "Ann")
        source.inferred["unparsed_lines"] = [{"seq": 2, "line": 7}]

    out = io.StringIO()
    write_conversations_json([(ConversationHead(source), messages())], 1, out)
    assert json.loads(out.getvalue())["source"]["inferred"] == {"unparsed_lines": [{"seq": 2, "line": 7}]}


def test_a_stream_is_lazy_until_consumed(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat met Ann.txt"
    chat.write_text("14-03-2024 10:15 - Ann: hallo\n14-03-2024 10:16 - Bob: dag\n", encoding="utf-8")
    from ingest.sources import stream_export

    streams = stream_export([chat], ParseOptions(tz="UTC"))
    assert len(streams) == 1 and isinstance(streams[0], ConversationStream)
    assert streams[0].head.title == "Ann"
    assert [m.text for m in streams[0].messages] == ["hallo", "dag"]
