"""`edepot sip create|conversations|validate|review|batch`: making, checking and reviewing SIPs, one or a hundred
at a time, one per conversation of an export holding several."""
from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edepot.commands import backup_password, open_depot, parse_options
from edepot.output import Verbs, emit
from kernel.config import DEFAULT_TIMEZONE, Config

if TYPE_CHECKING:
    from ingest.sip import SipResult
    from ingest.split import SplitRow


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    sip = verbs.add_parser("sip", help="make and check SIPs").add_subparsers(metavar="ACTION",
                                                                          parser_class=type(common))
    p = sip.add_parser("create", parents=[common], help="wrap an export into a SIP (BagIt + MDTO/ToPX)")
    p.add_argument("export", nargs="+", type=Path)
    p.add_argument("--out", type=Path, help="folder to create the SIP bag in")
    p.add_argument("--metadata", type=Path, help="record metadata (YAML or JSON with MDTO's names)")
    p.add_argument("--custodian", metavar="NAME",
                   help="whose phone or account the export came from; the export's \"Ik\"/\"You\" becomes NAME")
    p.add_argument("--custodian-function", metavar="TEXT", help="the custodian's function, e.g. wethouder")
    several = p.add_argument_group("exports holding several conversations (see `edepot sip conversations`)")
    several.add_argument("--conversation", action="append", default=[], metavar="ID",
                         help="make the SIP of this conversation only (its id or index); repeatable with --split")
    several.add_argument("--split", type=Path, metavar="OUTDIR",
                         help="one SIP per conversation in OUTDIR (only those named by --conversation, if any)")
    p.add_argument("--format")
    p.add_argument("--tz", default=DEFAULT_TIMEZONE)
    p.add_argument("--date-order", choices=("DMY", "MDY", "YMD"),
                   help="day/month order of the export's dates, when the inferred one is wrong")
    p.add_argument("--metadata-standard", choices=("mdto", "topx", "both"), default="mdto",
                   help="MDTO 1.0.1 (default), ToPX 2.3, or both")
    p.add_argument("--selectielijst", type=Path, help="VNG Selectielijst JSON that resolves informatiecategorie codes")
    p.add_argument("--package", choices=("zip", "7z"), help="write a transfer package with its .sha256 beside it")
    p.add_argument("--damaged-export", metavar="REASON",
                   help="the export is damaged (e.g. a zip cut short): take what can be read, and record REASON")
    p.add_argument("--require-media", action="store_true",
                   help="refuse an export that lacks media its chat names (missing, or exported without media)")
    selection = p.add_argument_group("selection (the SIP then holds only what is kept)")
    selection.add_argument("--from", dest="date_from", metavar="DATE", help="keep messages from this day or moment")
    selection.add_argument("--to", dest="date_to", metavar="DATE", help="keep messages up to this day or moment")
    selection.add_argument("--participant", action="append", default=[], metavar="NAME",
                           help="keep only messages sent by NAME (repeatable)")
    selection.add_argument("--exclude-participant", action="append", default=[], metavar="NAME",
                           help="leave out messages sent by NAME (repeatable)")
    selection.add_argument("--query", action="append", default=[], metavar="WORDS",
                           help="keep messages holding all these words (repeatable: any of the queries)")
    selection.add_argument("--exclude-seq", action="append", default=[], metavar="LIST|FILE",
                           help="leave out these messages: 3,5,10-12 or a file of such lists")
    selection.add_argument("--mark-private", action="append", default=[], metavar="LIST|FILE",
                           help="leave out these messages as private: 3,5,10-12 or a file")
    selection.add_argument("--review", type=Path, metavar="SHEET.csv",
                           help="apply a review sheet from `edepot sip review`: its private messages are left out")
    selection.add_argument("--keep-original", action="store_true",
                           help="include the whole export as well (when the whole chat is the record)")
    p.set_defaults(handler=cmd_sip_create)

    p = sip.add_parser("conversations", parents=[common], help="list the conversations an export holds")
    p.add_argument("export", nargs="+", type=Path)
    p.add_argument("--format")
    p.add_argument("--tz", default=DEFAULT_TIMEZONE)
    p.add_argument("--date-order", choices=("DMY", "MDY", "YMD"),
                   help="day/month order of the export's dates, when the inferred one is wrong")
    p.set_defaults(handler=cmd_sip_conversations)

    p = sip.add_parser("validate", parents=[common], help="check a SIP: BagIt, profile, layout, MDTO/ToPX XSD")
    p.add_argument("path", type=Path, help="a SIP folder, or a .zip/.7z package (its .sha256 beside it is checked)")
    p.add_argument("--bagit-only", action="store_true", help="only the BagIt checks (for bags not made by edepot)")
    p.set_defaults(handler=cmd_sip_validate)

    p = sip.add_parser("review", parents=[common], help="write a review sheet (CSV and HTML) to mark private messages")
    p.add_argument("export", nargs="+", type=Path)
    p.add_argument("--out", required=True, type=Path, help="SHEET: writes SHEET.csv and SHEET.html")
    p.add_argument("--conversation", metavar="ID", help="the conversation to review, in an export holding several")
    p.add_argument("--format")
    p.add_argument("--tz", default=DEFAULT_TIMEZONE)
    p.add_argument("--date-order", choices=("DMY", "MDY", "YMD"),
                   help="day/month order of the export's dates, when the inferred one is wrong")
    p.set_defaults(handler=cmd_sip_review)

    p = sip.add_parser("batch", parents=[common], help="build a SIP for every row of a manifest CSV")
    p.add_argument("manifest", type=Path)
    p.set_defaults(handler=cmd_sip_batch)


def cmd_sip_create(args: argparse.Namespace, config: Config) -> int:
    from edepot.service.submission import SipRequest
    from ingest.selection import Criteria, parse_moment, parse_seqs
    from ingest.sip import SipOptions
    from ingest.split import SplitResult

    criteria = Criteria(
        date_from=parse_moment(args.date_from, "--from") if args.date_from else None,
        date_to=parse_moment(args.date_to, "--to") if args.date_to else None,
        participants=tuple(args.participant),
        exclude_participants=tuple(args.exclude_participant),
        queries=tuple(args.query),
        exclude_seqs=parse_seqs(args.exclude_seq, "--exclude-seq"),
        private_seqs=parse_seqs(args.mark_private, "--mark-private"),
    )
    options = SipOptions(criteria=criteria, review=args.review, keep_original=args.keep_original,
                         metadata_standard=args.metadata_standard, selectielijst=args.selectielijst,
                         package=args.package, require_media=args.require_media)
    request = SipRequest(tuple(args.export), out=args.out, split_into=args.split,
                         conversations=tuple(args.conversation), metadata=args.metadata, custodian=args.custodian,
                         custodian_function=args.custodian_function, damaged_export=args.damaged_export,
                         export_format=args.format, parse=parse_options(args), options=options)
    progress = _progress_bar(args) if args.split is not None else None
    task = progress.add_task("SIPs", total=None) if progress is not None else None

    def on_start(number: int, total: int, label: str) -> None:
        if progress is not None:
            progress.update(task, total=total, description=f"{number}/{total}: {label[:40]}")

    def on_done(row: SplitRow) -> None:
        if progress is not None:
            progress.advance(task)

    try:
        with open_depot(args, config) as depot:
            made = depot.create_sips(request, on_start=on_start, on_done=on_done)
    finally:
        if progress is not None:
            progress.stop()
    if not isinstance(made, SplitResult):
        _warn(made.warnings)
        emit(args, made.to_dict(), _made(made))
        return 0
    for row in made.rows:
        _warn(tuple(f"{row.index} {row.id}: {w}" for w in (row.sip.warnings if row.sip is not None else ())))
    lines = [f"{'ok  ' if r.ok else 'FAIL'} {r.index} {r.id}: "
             + (_made(r.sip).replace("\n", "\n     ") if r.sip is not None else str(r.error)) for r in made.rows]
    lines.append(f"{len(made.rows) - made.failed} of {len(made.rows)} SIPs made in {made.out}, "
                 f"{made.failed} failed")
    emit(args, made.to_dict(), "\n".join(lines))
    return 1 if made.failed else 0


def _warn(warnings: tuple[str, ...]) -> None:
    """Each warning as one line on stderr (also with --json, whose document lists them too)."""
    for warning in warnings:
        print(" ".join(f"edepot: warning: {warning}".split()), file=sys.stderr)


def _made(result: SipResult) -> str:
    human = f"SIP for record {result.record_id} ({result.message_count} messages): {result.path}"
    statement = result.selection
    if statement is not None and "conversation" in statement:
        part = statement["conversation"]
        human += (f"\nconversation {part['index']} of {part['of']} ({part['id']}); the export itself is "
                  + ("in the SIP too" if statement["original_export"]["included_in_sip"] else "not in the SIP"))
    if statement is not None:
        human += (f"\nselection: {statement['kept']['messages']} messages kept, "
                  f"{statement['excluded']['messages']} left out")
    if result.package is not None:
        human += f"\nsha256 {result.package.sha256} in {result.package.checksum_file}"
    return human


def _progress_bar(args: argparse.Namespace) -> Any:
    """A started rich progress bar on a terminal; None with --json, in CI or when stderr is not a terminal."""
    if args.json or not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    progress = Progress("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=True)
    progress.start()
    return progress


def cmd_sip_conversations(args: argparse.Namespace, config: Config) -> int:
    from ingest.conversations import ConversationEntry

    progress = _progress_bar(args)
    task = progress.add_task(f"reading {args.export[0].name[:40]}", total=None) if progress is not None else None

    def on_entry(entry: ConversationEntry, total: int) -> None:
        if progress is not None:
            progress.update(task, total=total, advance=1, description=f"counting {entry.label()[:40]}")

    try:
        with open_depot(args, config) as depot:
            entries = depot.list_conversations(args.export, parse=parse_options(args),
                                               export_format=args.format, on_entry=on_entry)
    finally:
        if progress is not None:
            progress.stop()

    def day(moment: datetime | None) -> str:
        return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"

    width = max(len(e.id) for e in entries)
    lines = [f"{len(entries)} conversation{'s' if len(entries) != 1 else ''} in "
             f"{', '.join(p.name for p in args.export)}:"]
    lines += [f"{e.index:>4}  {e.id:<{width}}  {e.messages:>7} message{'s' if e.messages != 1 else ' '}  {day(e.first)} – {day(e.last)}  {e.label()}"
              + (f" ({', '.join(e.participants)})" if e.title and e.participants else "") for e in entries]
    if len(entries) > 1:
        lines.append("make a SIP of one with `edepot sip create EXPORT --conversation ID --out DIR`, "
                     "or of each with `--split OUTDIR`")
    emit(args, {"export": [str(p) for p in args.export], "conversations": [e.to_dict() for e in entries]},
         "\n".join(lines))
    return 0


def cmd_sip_validate(args: argparse.Namespace, config: Config) -> int:
    with open_depot(args, config) as depot:
        report = depot.validate_sip(args.path.resolve(), bagit_only=args.bagit_only)
    emit(args, report.to_dict(), report.report())
    return 0 if report.valid else 1


def cmd_sip_review(args: argparse.Namespace, config: Config) -> int:

    with open_depot(args, config) as depot:
        csv_path, html_path, conversation = depot.write_review_sheet(
            args.export, args.out.resolve(), parse=parse_options(args), export_format=args.format,
            conversation=args.conversation)
    emit(args, {"csv": str(csv_path), "html": str(html_path), "messages": len(conversation.messages)},
         f"review sheet for {len(conversation.messages)} messages: {csv_path} and {html_path}")
    return 0


def cmd_sip_batch(args: argparse.Namespace, config: Config) -> int:
    from ingest.batch import RowResult, read_manifest

    progress = _progress_bar(args)
    if progress is not None:
        task = progress.add_task("SIPs", total=len(read_manifest(args.manifest.resolve())))

    def on_start(line: int, export: str) -> None:
        if progress is not None:
            progress.update(task, description=f"row {line}: {Path(export.split(';')[0]).name[:40]}")

    def on_row(result: RowResult, total: int) -> None:
        if progress is not None:
            progress.update(task, total=total, advance=1)

    try:
        with open_depot(args, config) as depot:
            result = depot.sip_batch(args.manifest, on_row=on_row, on_start=on_start, password=backup_password)
    finally:
        if progress is not None:
            progress.stop()
    lines = [f"{'ok  ' if r.ok else 'FAIL'} row {r.row}: {r.export} → "
             + (f"{r.sip} ({r.record_id}, {r.messages} messages)" if r.ok else str(r.error)) for r in result.rows]
    lines.append(f"{len(result.rows) - result.failed} of {len(result.rows)} SIPs made, {result.failed} failed")
    emit(args, result.to_dict(), "\n".join(lines))
    return 1 if result.failed else 0
