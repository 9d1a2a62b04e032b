"""Damaged entries kept, never dropped (issue 4: "a damaged line inside an otherwise good export is kept as
an `unparsed` entry with its line number").

A format that meets an entry it cannot read puts None in its list of messages and notes the entry's
text as written; `fill_unparsed` turns each None into a message of kind `unparsed` holding that text.
Such an entry has no time of its own: it takes the time of the message before it (or, when it comes
first, of the first readable message), which keeps the conversation in order. Where each entry came
from (line, index, reason) is the format's to record in `source.inferred["unparsed_lines"]`.
"""
from __future__ import annotations

from kernel.errors import InputError
from kernel.model import Message, MessageKind


def fill_unparsed(messages: list[Message | None], damaged: dict[int, str]) -> list[Message]:
    """`messages` with the None at seq s replaced by an unparsed message holding `damaged[s]`.

    InputError when no message at all could be read (the file is not an export of this format)."""
    known = next((m.timestamp for m in messages if m is not None), None)
    if known is None:
        raise InputError("no message of the export could be read; every entry is damaged")
    complete: list[Message] = []
    previous = known
    for seq, message in enumerate(messages, 1):
        if message is None:
            complete.append(Message(seq, previous, None, MessageKind.UNPARSED, damaged.get(seq, "")))
        else:
            complete.append(message)
            previous = message.timestamp
    return complete
