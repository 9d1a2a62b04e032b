"""The registry of export formats (issue 4: "one module per format in a registry; a detector that scores
each format on the first KBs"). Each format is one module in this package with one `FORMAT` object
fulfilling `ingest.sources.base.ExportFormat`; adding a format is that module plus one line in `FORMATS`.

The contract, in short (the full text is in `base.py` and in README.md, "Adding an export format"):

- `FORMAT.name`: the registry name, used by `--format` and written as `source.format`.
- `FORMAT.score(export) -> float` in 0..1, judged on member names and at most the first
  `HEAD_BYTES` (64 KiB) of members (`export.read_head`, cached). `detect` asks every format; the
  highest score wins. When every score is 0, or the two best are equal, the export is refused with
  UnknownExportFormat naming every format tried and its score.
- `FORMAT.parse_all(export, options) -> list[Conversation]`: every conversation in the export.
- optionally `FORMAT.stream(export, options) -> list[ConversationStream]`: the same, each
  conversation a head plus a lazy iterator of messages, so that a million messages are never held.

Entry points: `parse_export` (exactly one conversation, as `sip create` needs), `parse_all_exports`
(every conversation), `stream_export` (lazy, what `edepot parse` writes from), `detect`.
`edepot parse` prints one conversation document when the export holds one, and
`{"schema": ".../conversations/1", "conversations": [...]}` (schemas/conversations.schema.json) when
it holds several. Bad input raises only InputError and its subclasses.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Sequence

from ingest.export import Export, open_export
from ingest.sources import (
    iphone_backup,
    meta_dyi,
    meta_e2ee,
    screenshots,
    signal,
    sms_backup,
    sms_backup_calls,
    telegram,
    threema,
    whatsapp,
)
from ingest.sources.base import (
    HEAD_BYTES,
    ConversationStream,
    EmbeddingFormat,
    ExportFormat,
    ExtractingFormat,
    ParseOptions,
    StreamingFormat,
    zone_of,
)
from ingest.zip_salvage import SalvagedZipExport, open_salvaged
from kernel.errors import InputError, UnknownExportFormat
from kernel.model import Conversation, Damage, DamagedFile, Message, head_of

__all__ = [
    "FORMATS",
    "HEAD_BYTES",
    "ConversationStream",
    "Detection",
    "ExportFormat",
    "ParseOptions",
    "StreamingFormat",
    "detect",
    "format_named",
    "keeps_export_out",
    "parse_all_exports",
    "parse_export",
    "stream_export",
    "zone_of",
]

FORMATS: tuple[ExportFormat, ...] = (
    whatsapp.FORMAT, telegram.FORMAT, signal.FORMAT, meta_dyi.FORMAT, sms_backup.FORMAT, threema.FORMAT, screenshots.FORMAT,
    sms_backup_calls.FORMAT, meta_e2ee.FORMAT, iphone_backup.FORMAT,
)


@dataclass(frozen=True)
class Detection:
    """Which format an export was taken for, and every format's score (the evidence)."""

    format: ExportFormat
    scores: dict[str, float]

    def evidence(self) -> str:
        """The scores as one line, best first, e.g. 'whatsapp 0.95, telegram 0'."""
        ranked = sorted(self.scores.items(), key=lambda item: -item[1])
        return ", ".join(f"{name} {score:g}" for name, score in ranked)


def format_named(name: str) -> ExportFormat:
    """The registered format called `name`; InputError listing the known names otherwise."""
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    known = ", ".join(f.name for f in FORMATS)
    raise InputError(f"unknown export format {name!r}; known formats: {known}")


def detect(export: Export, formats: Sequence[ExportFormat] = FORMATS) -> Detection:
    """The format that scores `export` highest; UnknownExportFormat when none scores above 0 or the
    best two tie. A format whose scoring fails on the input counts as 0 (it is not its format)."""
    scores: dict[str, float] = {}
    for fmt in formats:
        try:
            value = float(fmt.score(export))
        except InputError:
            value = 0.0
        scores[fmt.name] = min(max(value, 0.0), 1.0)
    ranked = sorted(formats, key=lambda f: -scores[f.name])
    tried = ", ".join(f"{f.name} {scores[f.name]:g}" for f in ranked)
    names = ", ".join(p.name for p in export.paths)
    if not ranked or scores[ranked[0].name] <= 0.0:
        raise UnknownExportFormat(f"no known chat export format recognises {names}", hint=f"tried: {tried}")
    if len(ranked) > 1 and scores[ranked[0].name] == scores[ranked[1].name]:
        raise UnknownExportFormat(
            f"{names} could be {ranked[0].name} or {ranked[1].name} equally",
            hint=f"scores: {tried}; name the format", remedy="choose-format",
        )
    return Detection(format=ranked[0], scores=scores)


def _open_and_pick(
    paths: Sequence[Path], format: str | None, options: ParseOptions, salvage: bool = False
) -> tuple[Export, ExportFormat]:
    fmt = format_named(format) if format is not None else None
    export = (open_salvaged if salvage else open_export)([Path(p) for p in paths])
    if fmt is None:
        return export, detect(export).format
    return export, fmt


def parse_all_exports(
    paths: Sequence[Path], options: ParseOptions | None = None, format: str | None = None
) -> list[Conversation]:
    """Every conversation in the export made of `paths`, in export order (at least one).

    `format` names the format and skips detection (the archivist overrules it). Raises InputError
    (bad zone, unknown format name, unreadable input), UnknownExportFormat or UnsafeArchive."""
    options = options or ParseOptions()
    export, fmt = _open_and_pick(paths, format, options)
    conversations = fmt.parse_all(export, options)
    if not conversations:
        raise InputError(f"the {fmt.name} export holds no conversation")
    return conversations


def parse_export(
    paths: Sequence[Path],
    tz: str = "Europe/Amsterdam",
    format: str | None = None,
    date_order: str | None = None,
) -> Conversation:
    """The one conversation in the export made of `paths`, times read in zone `tz`.

    InputError when the export holds several conversations (parse_all_exports reads those), or for
    any bad input (see parse_all_exports)."""
    conversations = parse_all_exports(paths, ParseOptions(tz=tz, date_order=date_order), format)
    if len(conversations) > 1:
        raise InputError(
            f"the export holds {len(conversations)} conversations, not one",
            hint="read it as an export of several conversations; a SIP holds one of them",
        )
    return conversations[0]


def stream_export(
    paths: Sequence[Path], options: ParseOptions | None = None, format: str | None = None, *, salvage: bool = False
) -> list[ConversationStream]:
    """Every conversation in the export as a lazy stream (head, then messages while consumed).

    Formats with `stream` never hold all messages; others are parsed whole and handed out as
    streams. With `salvage`, a zip cut short is read for its whole members (ingest/zip_salvage.py) and
    each conversation's `source.damaged` says what was lost. Raises what parse_all_exports raises, when
    called or while a stream is consumed."""
    options = options or ParseOptions()
    export, fmt = _open_and_pick(paths, format, options, salvage)
    if isinstance(fmt, StreamingFormat):
        streams = fmt.stream(export, options)
    else:
        streams = [ConversationStream(head_of(c), _messages_of(c)) for c in fmt.parse_all(export, options)]
    if not streams:
        raise InputError(f"the {fmt.name} export holds no conversation")
    if isinstance(export, SalvagedZipExport):
        streams = [ConversationStream(s.head, _marked_damaged(s, export.damage)) for s in streams]
    return streams


def _marked_damaged(stream: ConversationStream, damage: DamagedFile) -> Iterator[Message]:
    """The stream's messages; once they are exhausted (when the format has settled its source), the head's
    source names `damage` too."""
    yield from stream.messages
    source = stream.head.source
    found = source.damaged or Damage()
    stream.head.source = replace(source, damaged=replace(found, files=(*found.files, damage)))


def embedded_files(paths: Sequence[Path], format: str | None = None) -> Iterator[tuple[str, bytes]]:
    """(attachment name, bytes) of attachments carried inside the export's files, such as MMS parts in
    an SMS backup or images in e-mails, one at a time; nothing for formats whose media are files."""
    export, fmt = _open_and_pick(paths, format, ParseOptions())
    if isinstance(fmt, EmbeddingFormat):
        yield from fmt.embedded_files(export)


def carries_no_embedded_files(format_name: str) -> bool:
    """Whether `format_name` names a known format whose exports carry no attachment bytes inside their files
    (so `embedded_files` has nothing to find and need not open the export)."""
    return any(f.name == format_name and not isinstance(f, EmbeddingFormat) for f in FORMATS)


def keeps_export_out(format_name: str) -> bool:
    """Whether exports of the format `format_name` never enter a SIP whole (a phone backup holds private chats)."""
    return any(f.name == format_name and isinstance(f, ExtractingFormat) and f.keeps_export_out for f in FORMATS)


def _messages_of(conversation: Conversation) -> Iterator[Message]:
    return iter(conversation.messages)
