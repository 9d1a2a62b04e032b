"""One SIP per conversation of an export holding several (`edepot sip create EXPORT --split OUTDIR`).

Each conversation becomes its own record, built as `--conversation ID` builds it (ingest/sip.py): only its
messages and media, a selection statement naming the conversation, the export itself left out. The export
is read once: conversations are streamed one after the other (one is held at a time) and media carried
inside the export (MMS parts) are spooled in one pass.

Names: each SIP is `<index>-<title>` in OUTDIR (`003-Petra_de_Vries`, the index padded so that a listing
keeps the export's order; characters other than letters, digits and `-_.` become `_`, at most 60).

The metadata file applies to every SIP, per conversation: a `naam` it gives becomes `<naam> – <title>`, an
`identificatie.kenmerk` gets `-<index>` (`WA-2024-000123-003`), since each SIP is a record of its own; without
them, naam and kenmerk are derived per conversation as always.

An export holding one conversation gives one SIP, as `sip create --out` would make it (the export in it, the
metadata file as written), except a phone backup, which never enters a SIP.

Every SIP appears whole or not at all. One that cannot be made (its folder exists, its selection keeps
nothing) is reported with its one-line error and the others are still made.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ingest.conversations import conversation_ids, conversation_label, materialise, metadata_for, pick_index
from ingest.selected_media import SelectedMedia
from ingest.selection import ExportPart
from ingest.sip import SipOptions, SipResult, build_sip
from ingest.sources import ParseOptions, keeps_export_out, stream_export
from kernel.config import Config
from kernel.errors import EdepotError, InputError
from kernel.model import Conversation

_UNSAFE_NAME = re.compile(r"[^\w.-]+")
MAX_NAME = 60


@dataclass(frozen=True)
class SplitRow:
    """What became of one conversation: its SIP, or the error that stopped it."""

    index: int
    id: str
    title: str | None
    sip: SipResult | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.sip is not None

    def to_dict(self) -> dict[str, Any]:
        made = self.sip.to_dict() if self.sip is not None else {}
        return {"index": self.index, "conversation": self.id, "conversation_title": self.title, "ok": self.ok,
                "error": self.error, **made}


@dataclass(frozen=True)
class SplitResult:
    """Every conversation's outcome; `failed` counts those that made no SIP."""

    out: Path
    conversations: int
    rows: tuple[SplitRow, ...]

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "conversations": self.conversations, "made": len(self.rows) - self.failed,
                "failed": self.failed, "sips": [r.to_dict() for r in self.rows]}


def split_export(
    exports: Sequence[Path],
    out: Path,
    config: Config,
    metadata: Mapping[str, Any] | None = None,
    parse_options: ParseOptions | None = None,
    export_format: str | None = None,
    options: SipOptions | None = None,
    only: Sequence[str] = (),
    on_start: Callable[[int, int, str], None] = lambda _n, _total, _label: None,
    on_done: Callable[[SplitRow], None] = lambda _row: None,
) -> SplitResult:
    """A SIP in `out` for every conversation of the export (or for those `only` names, by id or index).

    `metadata` is a metadata file as read by load_metadata_file, applied per conversation (module
    docstring). For progress: `on_start(number, total, label)` before each SIP, `on_done(row)` after it.
    Raises InputError before any SIP is made for an unreadable export or an unknown conversation in `only`."""
    options = options or SipOptions()
    out = out.resolve()
    salvage = options.damaged_export is not None
    streams = stream_export(exports, parse_options, export_format, salvage=salvage)
    ids = conversation_ids([s.head for s in streams])
    chosen = sorted({pick_index(ids, wanted) for wanted in only}) if only else list(range(len(streams)))
    out.mkdir(parents=True, exist_ok=True)
    rows: list[SplitRow] = []
    with SelectedMedia(exports, export_format, spool_all=True, spool_parent=out, salvage=salvage,
                       parse=parse_options) as media:
        for position, stream in enumerate(streams):
            if position not in chosen:
                for _ in stream.messages:  # a stream left unread would keep its spool open
                    pass
                continue
            conversation = materialise(stream)
            part = ExportPart(ids[position], position + 1, len(streams), conversation.title)
            on_start(len(rows) + 1, len(chosen), conversation_label(conversation, part))
            rows.append(_one(conversation, part, exports, out, config, metadata, options, media))
            on_done(rows[-1])
    return SplitResult(out, len(streams), tuple(rows))


def _one(conversation: Conversation, part: ExportPart, exports: Sequence[Path], out: Path, config: Config,
         metadata: Mapping[str, Any] | None, options: SipOptions, media: SelectedMedia) -> SplitRow:
    target = out / sip_name(part, conversation)
    try:
        # an export of one conversation is that record whole: the export itself goes into the SIP, as always
        whole = part.of == 1 and not keeps_export_out(conversation.source.format)
        made = build_sip(conversation, exports, target, config, metadata_for(metadata, part, conversation), options,
                         None if whole else part, media)
    except EdepotError as exc:
        return SplitRow(part.index, part.id, part.title, error=exc.one_line())
    except OSError as exc:  # a disk or permission problem on one SIP must not end the others
        return SplitRow(part.index, part.id, part.title, error=InputError(str(exc)).one_line())
    return SplitRow(part.index, part.id, part.title, sip=made)


def sip_name(part: ExportPart, conversation: Conversation) -> str:
    """The SIP's folder name in OUTDIR: `<index>-<title>` (module docstring)."""
    label = _UNSAFE_NAME.sub("_", conversation_label(conversation, part)).strip("_.")[:MAX_NAME] or part.id
    return f"{part.padded_index()}-{label}"


