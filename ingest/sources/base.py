"""The contract every export format module fulfils (issue 4: "one module per format in a registry; a
detector that scores each format on the first KBs").

A format module defines one object, `FORMAT`, with:

- `name: str`: the registry name (`--format NAME`), also written as `source.format`.
- `score(export) -> float`: 0.0 (not this format) .. 1.0 (certainly this format), judged on the
  export's member names and at most the first `HEAD_BYTES` of its members (`export.read_head`, which is
  cached, so several formats sniffing the same member read it once). Never raises for foreign input:
  anything unreadable or unexpected scores 0.0. Guide: 1.0 = a signature only this format writes
  (Telegram's `"chats": {"list"`, SMS Backup & Restore's `<smses`), 0.9 = several lines in this
  format's exact grammar, 0.5 = plausible but generic (a JSON list of messages), 0.1 = only the file
  extension fits.
- `parse_all(export, options) -> list[Conversation]`: every conversation in the export, in export
  order, at least one (an export that holds none raises InputError). Most formats return one.
- optionally `stream(export, options) -> list[ConversationStream]`: the same conversations as lazy
  streams, for exports too large to hold (a million WhatsApp messages, gigabytes of SMS XML). The
  list's length is the number of conversations and must be known when `stream` returns; each
  `ConversationStream.messages` is a lazy iterator (a generator) that does its work only while it is
  consumed, and the consumer exhausts them in list order. `head.source` may still be replaced, and
  `head.source.inferred` gain keys, until its iterator is exhausted (the locale, unparsed lines, DST
  cases found on the way): consumers read the head after the messages. `head.participants`
  lists names known in advance (their counts are added by the consumer), possibly none.
  A format without `stream` is streamed by the registry from `parse_all`.
- optionally, for an export that holds more than records (a phone backup, `ExtractingFormat`): `keeps_export_out`,
  `extract_files(export, options, names, folder)` writing the named attachments out as files, and
  `write_rows(export, options, index, seqs, folder)` writing the extract of what conversation `index`'s messages
  `seqs` were read from, the SIP's original in place of the export.
- optionally `embedded_files(export) -> Iterator[(attachment name, bytes)]`: for formats whose export
  carries attachment bytes inside a file (base64 MMS parts in SMS XML, images in e-mails), the bytes of
  every attachment marked present that is not a file of the export itself, one at a time, under the
  name the attachment carries. Ingest writes them beside the unpacked media.

Bad input raises only kernel.errors.InputError and its subclasses, with one line that says what is
wrong; never a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Callable, Iterator, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from ingest.export import HEAD_BYTES, Export
from kernel.errors import InputError
from kernel.model import Conversation, ConversationHead, Message

__all__ = [
    "DATE_ORDERS",
    "HEAD_BYTES",
    "ConversationStream",
    "ExportFormat",
    "ParseOptions",
    "StreamingFormat",
    "EmbeddingFormat",
    "ExtractingFormat",
    "zone_of",
]

DATE_ORDERS = ("DMY", "MDY", "YMD")


def zone_of(tz: str) -> ZoneInfo:
    """The IANA zone called `tz`; InputError when there is none by that name."""
    try:
        return ZoneInfo(tz)
    except (ValueError, KeyError, OSError, TypeError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise InputError(f"unknown time zone {tz!r}", hint="give an IANA name such as Europe/Amsterdam") from exc


@dataclass(frozen=True)
class ParseOptions:
    """What the archivist tells a parser: the zone wall-clock times are read in, and overrides of what
    the parser would otherwise infer. Formats ignore options that do not apply to them."""

    tz: str = "Europe/Amsterdam"
    date_order: str | None = None  # "DMY", "MDY" or "YMD": overrides the inferred day/month order
    # an encrypted backup's password, asked of the adapter when needed (name of the backup → password); the
    # callable, never the password, is what options carry, so it is in no repr, log or job argument
    password: Callable[[str], str] | None = field(default=None, repr=False, compare=False)
    scratch: Path | None = None  # where private folders of decrypted material are made (else the system's temp)
    zone: tzinfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", zone_of(self.tz))
        if self.date_order is not None and self.date_order not in DATE_ORDERS:
            raise InputError(f"unknown date order {self.date_order!r}", hint="give DMY, MDY or YMD")


@dataclass
class ConversationStream:
    """One conversation delivered message by message: its head, then its messages lazily."""

    head: ConversationHead
    messages: Iterator[Message]


@runtime_checkable
class ExportFormat(Protocol):
    """One kind of chat export: scores how surely an export is of its kind, and parses it."""

    name: str

    def score(self, export: Export) -> float: ...

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]: ...


@runtime_checkable
class StreamingFormat(ExportFormat, Protocol):
    """A format that can also deliver its conversations without holding all messages in memory."""

    def stream(self, export: Export, options: ParseOptions) -> list[ConversationStream]: ...


@runtime_checkable
class EmbeddingFormat(ExportFormat, Protocol):
    """A format whose export carries attachment bytes inside its files (MMS parts, e-mailed images)."""

    def embedded_files(self, export: Export) -> Iterator[tuple[str, bytes]]: ...


@runtime_checkable
class ExtractingFormat(ExportFormat, Protocol):
    """A format whose export holds more than its records (a phone backup): it never enters a SIP whole. Its
    attachments are written out of it as files, and a SIP's original is an extract of what a conversation was
    read from."""

    keeps_export_out: bool

    def extract_files(self, export: Export, options: ParseOptions, names: set[str], folder: Path
                      ) -> Iterator[tuple[str, Path]]: ...

    def write_rows(self, export: Export, options: ParseOptions, index: int, seqs: frozenset[int], folder: Path
                   ) -> list[str]: ...
