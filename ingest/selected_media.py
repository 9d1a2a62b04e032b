"""The media a selected record keeps, copied byte-identical out of the export into the SIP.

Implements the "media follow their messages" rule of issue 5's selection, for every way an export carries
its media:
- as files of the export (a zip's members, an export folder, loose files): copied by the attachment's name,
  which is the member's path, or the end of it when the export was zipped with a folder around it (Telegram: `chats/chat_001/photos/photo_1@….jpg`), keeping that path under
  `data/original/` so that two chats' `photo_1.jpg` never meet; WhatsApp names an attachment by its file
  name alone, so for an export of one conversation a member with that file name is taken when no member
  has the exact name;
- inside the export's files (MMS parts in an SMS backup, images in e-mails): written from one pass over the
  export (`ingest.sources.embedded_files`), decoded bytes as sent, under their attachment name;
- out of an export that never enters a SIP (a phone backup, `ExtractingFormat`): only the files asked for, written
  by the format (decrypted where the backup is encrypted), and beside them the extract of the rows the kept
  messages were read from (`write_rows`).

Only names asked for are written: nothing of a left-out message or of another conversation reaches the SIP.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Iterable, Iterator, Sequence

from ingest.bag_names import bag_path
from ingest.export import Export, open_export
from ingest.selection import ExportPart
from ingest.sources import ExtractingFormat, ParseOptions, detect, embedded_files, format_named
from ingest.zip_salvage import open_salvaged
from kernel.errors import InputError


class SelectedMedia:
    """Writes attachments out of one export. Embedded attachments are spooled to a temporary folder in one
    pass, at the first need: only the names asked for then, or all of them with `spool_all` (for writing many
    SIPs from one export without reading it again for each). Use it in `with`, or call `close`."""

    def __init__(self, exports: Sequence[Path], export_format: str | None = None, spool_all: bool = False,
                 spool_parent: Path | None = None, salvage: bool = False, parse: ParseOptions | None = None) -> None:
        self._paths = [Path(p) for p in exports]
        self._parse = parse or ParseOptions()
        self._extracting: ExtractingFormat | None | bool = False  # False: not known yet
        self._salvage = salvage  # a zip cut short: take what is whole (ingest/zip_salvage.py)
        self._format = export_format
        self._spool_all = spool_all
        self._spool_parent = spool_parent
        self._export: Export | None = None
        self._spool: Path | None = None
        self._spooled: dict[str, Path] = {}
        self._embedded_read = False

    def write(self, names: Iterable[str], folder: Path, by_file_name: bool) -> list[str]:
        """Write each attachment called one of `names` (attachments the parser found present) below `folder`;
        returns the paths written, relative to `folder`, sorted. A name is found as a member's exact name, as
        the end of exactly one member's path (an export zipped with a top folder), with `by_file_name` by its
        file name alone (see the module docstring), or among the attachments carried inside the export's
        files. InputError naming any that is found nowhere. A file is written under its name cut to the SIP's
        limit (ingest/bag_names.py), its bytes unchanged."""
        export = self._opened()
        members = [m.name for m in export.members()]
        exact = set(members)
        by_base: dict[str, str] = {}
        by_tail: dict[str, list[str]] = {}  # every end of a member's path after a "/", to its members
        for member in members:
            by_base.setdefault(PurePosixPath(member).name, member)
            parts = member.split("/")
            for start in range(1, len(parts)):
                by_tail.setdefault("/".join(parts[start:]), []).append(member)
        written: set[str] = set()
        rest: list[str] = []
        for name in sorted(set(names)):
            below = by_tail.get(name, []) if "/" in name and name not in exact else []
            if name in exact or len(below) == 1:
                relative = bag_path(_safe_relative(name))
                export.extract(name if name in exact else below[0], folder / relative)
            elif by_file_name and PurePosixPath(name).name in by_base:
                base = PurePosixPath(name).name
                relative = bag_path(base)
                if relative not in written:
                    export.extract(by_base[base], folder / relative)
            else:
                rest.append(name)
                continue
            written.add(relative)
        extracted = dict(self._extracted(rest))
        missing = []
        for name in rest:
            if name in extracted:
                relative = bag_path(_safe_relative(name))
                (folder / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.move(extracted[name], folder / relative)
                written.add(relative)
                continue
            spooled = self._embedded(rest).get(name)
            if spooled is None:
                missing.append(name)
                continue
            relative = bag_path(_safe_relative(name))
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(spooled, target)
            written.add(relative)
        if missing:  # the parser saw these files: a record must not lose them without a word
            raise InputError(f"{len(missing)} attachment(s) the export holds could not be taken out of it: "
                             + ", ".join(missing[:3]), hint="keep the whole export in the SIP to keep them", remedy="keep-original")
        return sorted(written)

    def write_rows(self, part: ExportPart, seqs: frozenset[int], folder: Path) -> list[str]:
        """For an export that never enters a SIP whole (a phone backup), the extract of the rows conversation `part`'s
        messages `seqs` were read from, written below `folder`; returns the names written (none for other exports)."""
        fmt = self._extracting_format()
        if fmt is None:
            return []
        return fmt.write_rows(self._opened(), self._parse, part.index, seqs, folder)

    def _extracting_format(self) -> ExtractingFormat | None:
        if self._extracting is False:
            fmt = format_named(self._format) if self._format else detect(self._opened()).format
            self._extracting = fmt if isinstance(fmt, ExtractingFormat) else None
        return self._extracting if isinstance(self._extracting, ExtractingFormat) else None

    def _extracted(self, names: list[str]) -> Iterator[tuple[str, Path]]:
        """Attachments a format that keeps its export out writes as files, into the spool (only those asked)."""
        fmt = self._extracting_format()
        if fmt is None or not names:
            return
        spool = self._spool_folder()
        yield from fmt.extract_files(self._opened(), self._parse, set(names), spool)

    def _spool_folder(self) -> Path:
        if self._spool is None:
            self._spool = Path(tempfile.mkdtemp(prefix=".edepot-media-", dir=self._spool_parent))
        return self._spool

    def close(self) -> None:
        """Remove the temporary spool of embedded attachments."""
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)
            self._spool = None

    def __enter__(self) -> "SelectedMedia":
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _opened(self) -> Export:
        if self._export is None:
            self._export = (open_salvaged if self._salvage else open_export)(self._paths)
        return self._export

    def _embedded(self, wanted: Sequence[str]) -> dict[str, Path]:
        if not self._embedded_read:
            self._embedded_read = True
            spool = self._spool_folder()
            keep = None if self._spool_all else set(wanted)
            for n, (name, data) in enumerate(embedded_files(self._paths, self._format)):
                if keep is None or name in keep:
                    path = spool / f"embedded-{n}"
                    path.write_bytes(data)
                    self._spooled[name] = path
        return self._spooled


def _safe_relative(name: str) -> str:
    """The attachment's path as a relative path below the SIP's original/ (its file name alone should the
    path climb out or be absolute; export members and embedded names are checked before, this is a guard)."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or any(part in ("", ".", "..") for part in path.parts):
        return path.name or "attachment"
    return str(path)
