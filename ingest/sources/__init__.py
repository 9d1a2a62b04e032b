"""The registry of export formats: each format is one module with one `ExportFormat` object.

Implements `parse_export`, which opens an export, picks the format (named, or the first that
recognises the export) and parses it. Adding a format (Threema, Signal, ...) is one module and one
line in `FORMATS`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, Sequence

from ingest.export import Export, open_export
from ingest.sources import whatsapp
from ingest.sources.whatsapp import chat_member, zone_of
from kernel.errors import InputError, UnknownExportFormat
from kernel.model import Conversation

__all__ = ["ExportFormat", "FORMATS", "chat_member", "format_named", "parse_export", "recognise"]


class ExportFormat(Protocol):
    """One kind of chat export: tells whether an export is of its kind, and parses it."""

    name: str

    def recognise(self, export: Export) -> bool: ...

    def parse(self, export: Export, tz: str) -> Conversation: ...


FORMATS: tuple[ExportFormat, ...] = (whatsapp.FORMAT,)


def format_named(name: str) -> ExportFormat:
    """The registered format called `name`; InputError listing the known names otherwise."""
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    known = ", ".join(f.name for f in FORMATS)
    raise InputError(f"unknown export format {name!r}; known formats: {known}")


def recognise(export: Export) -> ExportFormat:
    """The first registered format that recognises `export`; UnknownExportFormat if none does."""
    for fmt in FORMATS:
        if fmt.recognise(export):
            return fmt
    names = ", ".join(p.name for p in export.paths)
    known = ", ".join(f.name for f in FORMATS)
    raise UnknownExportFormat(
        f"no known chat export format recognises {names}", hint=f"known formats: {known}"
    )


def parse_export(
    paths: Sequence[Path], tz: str = "Europe/Amsterdam", format: str | None = None
) -> Conversation:
    """Open the export made of `paths` and parse it into a Conversation, times read in zone `tz`.

    Raises InputError (bad zone, unknown format name, unreadable input), UnknownExportFormat (no
    format recognises the export) or UnsafeArchive; never anything else for bad input.
    """
    zone_of(tz)
    fmt = format_named(format) if format is not None else None
    export = open_export([Path(p) for p in paths])
    if fmt is None:
        fmt = recognise(export)
    elif not fmt.recognise(export):
        raise UnknownExportFormat(f"the export is not a {fmt.name} export")
    return fmt.parse(export, tz)
