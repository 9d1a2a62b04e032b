"""The Depot's rules for the producer's side: making, checking and reviewing SIPs (no catalogue needed).

What a SIP request must hold and what may be combined:
- a SIP goes to one place: one folder for one SIP, or a folder for one SIP per conversation, never both;
- several conversations make several SIPs, so naming more than one asks for one SIP each;
- a custodian's function belongs to a named custodian;
- an export declared damaged is declared with a reason (what happened to it).
A manifest of many SIPs is held to the same rules, row by row.

A phone backup is read with a private folder for what is decrypted of it: `<data>/staging/backup-<hex>`, mode 0700,
claimed in `<data>/locks/` before it is made and removed when the work ends, so that `edepot doctor` removes what a
killed run left (preservation/leftovers.py).
"""
from __future__ import annotations

import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from edepot.service.base import DepotBase
from kernel.errors import InputError
from kernel.locks import claimed_work
from kernel.model import Custodian

if TYPE_CHECKING:  # the SIP machinery is imported when a SIP is made, not whenever the Depot is
    from ingest.batch import BatchResult, RowResult
    from ingest.conversations import ConversationEntry
    from ingest.sip import SipOptions, SipResult
    from ingest.sip_validate import SipValidation
    from ingest.sources import ParseOptions
    from ingest.split import SplitResult, SplitRow
    from kernel.model import Conversation


@dataclass(frozen=True)
class SipRequest:
    """What a producer asks for: a SIP of an export (or one per conversation), described and selected.

    `options` carries the selection, standards and packaging; its custodian, conversation and damage
    statement are set from the fields here, after the rules above are checked."""

    exports: tuple[Path, ...]
    out: Path | None = None  # one SIP, here
    split_into: Path | None = None  # one SIP per conversation, in this folder
    conversations: tuple[str, ...] = ()  # ids or indexes; with split_into, only these
    metadata: Path | None = None
    custodian: str | None = None
    custodian_function: str | None = None
    damaged_export: str | None = None  # the producer's reason, when the export is damaged
    export_format: str | None = None
    parse: ParseOptions | None = None  # time zone and date order (default: Europe/Amsterdam, inferred)
    options: SipOptions | None = None


class SubmissionService(DepotBase):
    """Making SIPs by the rules above; checking and reviewing them."""

    def create_sips(self, request: SipRequest, *,
                    on_start: Callable[[int, int, str], None] = lambda _n, _total, _label: None,
                    on_done: Callable[[SplitRow], None] = lambda _row: None) -> SipResult | SplitResult:
        """One SIP at `request.out`, or one per conversation in `request.split_into` (progress through
        `on_start`/`on_done`). InputError when the request breaks a rule; nothing is written then."""
        if (request.out is None) == (request.split_into is None):
            raise InputError("say where the SIP goes: one folder for one SIP, or a folder for one SIP per "
                             "conversation", remedy="sip-target")
        if request.out is not None and len(request.conversations) > 1:
            raise InputError("several conversations make several SIPs",
                             hint="make one SIP per named conversation, in a folder for them", remedy="split")
        from ingest.sip import SipOptions
        from ingest.sources import ParseOptions

        given = request.options or SipOptions()
        options = checked_options(replace(
            given, custodian=_custodian(request.custodian, request.custodian_function) or given.custodian,
            damaged_export=given.damaged_export if request.damaged_export is None else request.damaged_export))
        with self._private_scratch(request.exports, request.parse or ParseOptions()) as parse:
            if request.split_into is not None:
                from ingest.split import split_export
                from preservation.metadata.record import load_metadata_file

                metadata = load_metadata_file(request.metadata) if request.metadata else None
                return split_export(list(request.exports), request.split_into, self.config, metadata, parse,
                                    request.export_format, options, request.conversations, on_start, on_done)
            from ingest.sip import create_sip

            assert request.out is not None
            return create_sip(list(request.exports), request.out, self.config, request.metadata, tz=parse.tz,
                              export_format=request.export_format, date_order=parse.date_order,
                              options=replace(options, conversation=next(iter(request.conversations), None)),
                              parse=parse)

    @contextmanager
    def _private_scratch(self, exports: Sequence[Path], parse: ParseOptions) -> Iterator[ParseOptions]:
        """`parse` with a claimed private folder for what is decrypted of a phone backup (module docstring); as it
        is for any other export."""
        if not any(p.is_dir() and (p / "Manifest.plist").is_file() for p in exports):
            yield parse
            return
        with claimed_work(self.config.locks_dir, "phone backup", self.config.clock().isoformat()) as claim:
            folder = self.config.staging_dir / f"backup-{uuid.uuid4().hex}"
            claim.note(folder)
            folder.mkdir(parents=True, mode=0o700)
            try:
                yield replace(parse, scratch=folder)
            finally:
                shutil.rmtree(folder, ignore_errors=True)

    def sip_batch(self, manifest: Path, *, on_row: Callable[[RowResult, int], None] = lambda _r, _n: None,
                  on_start: Callable[[int, str], None] = lambda _line, _export: None,
                  password: Callable[[str], str] | None = None) -> BatchResult:
        """A SIP for every row of a manifest CSV (ingest/batch.py), each row held to the rules of one SIP; a row
        that breaks one is reported with its error and the next is made. `password` gives an encrypted phone
        backup's password (the adapter asks it once per backup)."""
        from ingest.batch import run_batch
        from ingest.sip import create_sip

        def checked_create_sip(exports: list[Path], out: Path, config: object, metadata: Path | None, *,
                               tz: str, export_format: str | None, date_order: str | None,
                               options: SipOptions, parse: ParseOptions) -> SipResult:
            with self._private_scratch(exports, parse) as private:
                return create_sip(exports, out, self.config, metadata, tz=tz, export_format=export_format,
                                  date_order=date_order, options=checked_options(options), parse=private)

        return run_batch(manifest, self.config, on_row, on_start, make=checked_create_sip, password=password)

    def list_conversations(self, exports: list[Path], *, parse: ParseOptions, export_format: str | None = None,
                           on_entry: Callable[[ConversationEntry, int], None] = lambda _e, _n: None
                           ) -> list[ConversationEntry]:
        """The conversations an export holds, each with its id, index, count and period."""
        from ingest.conversations import list_conversations

        with self._private_scratch(exports, parse) as private:
            return list_conversations(exports, private, export_format, on_entry)

    def validate_sip(self, path: Path, *, bagit_only: bool = False) -> SipValidation:
        """A SIP (folder, or a .zip/.7z package with its .sha256) checked: BagIt, profile, layout, MDTO/ToPX."""
        from ingest.sip_validate import validate_transfer

        return validate_transfer(path, self.config, bagit_only=bagit_only)

    def write_review_sheet(self, exports: list[Path], out: Path, *, parse: ParseOptions,
                           export_format: str | None = None, conversation: str | None = None
                           ) -> tuple[Path, Path, Conversation]:
        """A review sheet (CSV and HTML) of one conversation of the export, to mark its private messages;
        returns the two files and the conversation. An export of several needs the conversation named."""
        from ingest.conversations import choose, materialise
        from ingest.review import write_review_sheet
        from ingest.sources import stream_export

        with self._private_scratch(exports, parse) as private:
            streams = stream_export(exports, private, export_format)
            chosen = materialise(streams[choose([s.head for s in streams], conversation, can_split=False)[0]])
        csv_path, html_path = write_review_sheet(chosen, out)
        return csv_path, html_path, chosen


def checked_options(options: SipOptions) -> SipOptions:
    """`options` held to the rules of one SIP (module docstring); the damage reason stripped."""
    if options.custodian is not None and not options.custodian.name.strip():
        raise InputError("the custodian's function was given without the custodian",
                         hint="name whose phone or account the export came from", remedy="custodian")
    if options.damaged_export is not None:
        if not options.damaged_export.strip():
            raise InputError("an export declared damaged needs a reason",
                             hint='say what happened, e.g. "the transfer broke off"')
        options = replace(options, damaged_export=options.damaged_export.strip())
    return options


def _custodian(name: str | None, function: str | None) -> Custodian | None:
    return Custodian(name or "", function or None) if name or function else None
