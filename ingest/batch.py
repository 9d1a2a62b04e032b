"""Many SIPs from one manifest: a CSV with one row per export, its metadata file and its options.

Columns (a header row names them; only `export` and `out` are required). Every path in the manifest (export,
out, metadata, review, selectielijst, seq files) is taken relative to the folder holding the manifest, not to the
folder the command runs in; an absolute path (or `~/…`) is taken as written.

| column              | holds |
| ------------------- | ----- |
| export              | the export file; several files of one export separated by `;` |
| out                 | the SIP folder (or package) to write |
| conversation        | for an export holding several conversations: the one this row makes a SIP of (its id or index, as `edepot sip conversations` lists them); one row per conversation |
| metadata            | the metadata file (YAML or JSON with MDTO's names) |
| custodian, custodian_function | whose phone or account the export came from, and their function |
| from, to            | selection period (YYYY-MM-DD or ISO 8601 moment) |
| participant, exclude_participant, query | selection; several separated by `;` |
| exclude_seq, mark_private | seq lists (`3,5,10-12`) or files with them |
| review              | a review sheet (CSV) to apply |
| keep_original       | yes/no |
| metadata_standard   | mdto, topx or both |
| package             | zip or 7z |
| selectielijst       | the Selectielijst file that resolves informatiecategorie codes |
| tz, format, date_order | as `sip create` |

Each row is built on its own: a row that fails (bad export, bad metadata, an out that exists) is reported with
its one-line error and the run goes on. The result lists every row.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ingest.selection import Criteria, parse_moment, parse_seqs
from ingest.sip import SipOptions, SipResult, create_sip
from ingest.sources import ParseOptions
from kernel.config import DEFAULT_TIMEZONE, Config
from kernel.errors import EdepotError, InputError
from kernel.model import Custodian

COLUMNS = ("export", "out", "conversation", "metadata", "custodian", "custodian_function", "from", "to", "participant", "exclude_participant", "query", "exclude_seq",
           "mark_private", "review", "keep_original", "metadata_standard", "package", "selectielijst", "tz",
           "format", "date_order")
MAX_MANIFEST_BYTES = 50_000_000
YES = frozenset({"yes", "ja", "true", "1", "y", "j"})
NO = frozenset({"no", "nee", "false", "0", "n", ""})
SipMaker = Callable[..., SipResult]  # called as create_sip is
PasswordSource = Callable[[str], str]  # a backup's name → its password


@dataclass(frozen=True)
class RowResult:
    """What became of one manifest row: the SIP it made, or the error that stopped it."""

    row: int  # the line of the manifest (the header is line 1)
    export: str
    ok: bool
    sip: str | None = None
    record_id: str | None = None
    messages: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"row": self.row, "export": self.export, "ok": self.ok, "sip": self.sip,
                "record_id": self.record_id, "messages": self.messages, "error": self.error}


@dataclass(frozen=True)
class BatchResult:
    """Every row's result; `failed` counts the rows that made no SIP."""

    manifest: Path
    rows: tuple[RowResult, ...]

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.rows)

    def to_dict(self) -> dict[str, object]:
        return {"manifest": str(self.manifest), "rows": len(self.rows), "made": len(self.rows) - self.failed,
                "failed": self.failed, "results": [r.to_dict() for r in self.rows]}


def read_manifest(manifest: Path) -> list[tuple[int, dict[str, str]]]:
    """The manifest's rows with their line numbers; InputError for an unreadable file or unknown columns."""
    try:
        if manifest.stat().st_size > MAX_MANIFEST_BYTES:
            raise InputError(f"{manifest}: larger than {MAX_MANIFEST_BYTES} bytes; not a manifest")
        text = manifest.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"{manifest}: cannot read the manifest: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{manifest}: not UTF-8 text (byte {exc.start})") from None
    first = text.split("\n", 1)[0]
    reader = csv.DictReader(io.StringIO(text), delimiter=";" if first.count(";") > first.count(",") else ",")
    names = [n.strip() for n in reader.fieldnames or []]
    unknown = [n for n in names if n not in COLUMNS]
    if unknown or not {"export", "out"} <= set(names):
        raise InputError(f"{manifest}: the header must name export and out; unknown columns: {', '.join(unknown)}",
                         hint=f"known columns: {', '.join(COLUMNS)}")
    rows = []
    for line, row in enumerate(reader, start=2):
        cleaned = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if any(cleaned.values()):
            rows.append((line, cleaned))
    return rows


def run_batch(
    manifest: Path,
    config: Config,
    on_row: Callable[[RowResult, int], None] = lambda _r, _n: None,
    on_start: Callable[[int, str], None] = lambda _line, _export: None,
    *,
    make: SipMaker = create_sip,
    password: PasswordSource | None = None,
) -> BatchResult:
    """Build a SIP for every row of `manifest` with `make` (the Depot passes its own, which holds each row to
    the rules of one SIP); a failing row is recorded and the next one is built. `password` is where an encrypted
    phone backup's password comes from (asked once per backup by the adapter, kept by no row).

    For progress: `on_start(line, export)` before each row, `on_row(result, total)` after it.
    """
    manifest = manifest.resolve()
    rows = read_manifest(manifest)
    results = []
    for line, row in rows:
        on_start(line, row.get("export", ""))
        try:
            made = _build_row(row, manifest.parent, config, make, password)
            result = RowResult(line, row.get("export", ""), True, str(made.path), made.record_id, made.message_count)
        except EdepotError as exc:
            result = RowResult(line, row.get("export", ""), False, error=exc.one_line())
        except OSError as exc:  # a disk or permission problem on one row must not end the others
            result = RowResult(line, row.get("export", ""), False, error=f"edepot: error E100: {exc}")
        results.append(result)
        on_row(result, len(rows))
    return BatchResult(manifest, tuple(results))


def _build_row(row: dict[str, str], base: Path, config: Config, make: SipMaker,
               password: PasswordSource | None = None) -> SipResult:
    def path(value: str) -> Path:
        given = Path(value).expanduser()
        return given if given.is_absolute() else base / given

    def listed(column: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in row.get(column, "").split(";") if v.strip())

    if not row.get("export") or not row.get("out"):
        raise InputError("the row names no export or no out")
    criteria = Criteria(
        date_from=parse_moment(row["from"], "from") if row.get("from") else None,
        date_to=parse_moment(row["to"], "to") if row.get("to") else None,
        participants=listed("participant"),
        exclude_participants=listed("exclude_participant"),
        queries=listed("query"),
        exclude_seqs=parse_seqs([str(path(v)) if path(v).is_file() else v for v in listed("exclude_seq")],
                                "exclude_seq"),
        private_seqs=parse_seqs([str(path(v)) if path(v).is_file() else v for v in listed("mark_private")],
                                "mark_private"),
    )
    keep = row.get("keep_original", "").casefold()
    if keep not in YES | NO:
        raise InputError(f"keep_original {row['keep_original']!r} is neither yes nor no")
    options = SipOptions(
        criteria=criteria,
        review=path(row["review"]) if row.get("review") else None,
        keep_original=keep in YES,
        metadata_standard=row.get("metadata_standard") or "mdto",
        selectielijst=path(row["selectielijst"]) if row.get("selectielijst") else None,
        package=row.get("package") or None,
        conversation=row.get("conversation") or None,
        custodian=Custodian(row.get("custodian", ""), row.get("custodian_function") or None)
        if row.get("custodian") or row.get("custodian_function") else None,
    )
    return make(
        [path(p) for p in listed("export")],
        path(row["out"]),
        config,
        path(row["metadata"]) if row.get("metadata") else None,
        tz=row.get("tz") or DEFAULT_TIMEZONE,
        export_format=row.get("format") or None,
        date_order=row.get("date_order") or None,
        options=options,
        parse=ParseOptions(row.get("tz") or DEFAULT_TIMEZONE, row.get("date_order") or None, password=password),
    )
