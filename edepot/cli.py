"""The `edepot` command: wires the verbs of DESIGN.md's command-line contract to ingest, preservation, access.

Every verb takes --data-dir and --json. Exit codes: 0 ok, 1 the thing checked is bad (invalid SIP,
damaged AIP), 2 usage or input error with one line on stderr. Never a traceback for bad input.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from kernel.config import DEFAULT_TIMEZONE, Config, load_config
from kernel.errors import EdepotError, InputError

Handler = Callable[[argparse.Namespace, Config], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one edepot command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.data_dir = getattr(args, "data_dir", None)
    args.json = getattr(args, "json", False)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        config = load_config(args.data_dir)
        return args.handler(args, config)
    except EdepotError as exc:
        print(exc.one_line(), file=sys.stderr)
        for problem in getattr(exc, "problems", [])[:50]:
            print(f"  - {problem}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(InputError(f"{exc.strerror or exc}: {exc.filename or ''}").one_line(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("edepot: interrupted; nothing half-written was kept (run the command again to finish)",
              file=sys.stderr)
        return 130


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line and exit code 2 (its own default is also 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"edepot: usage error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    # SUPPRESS: a flag given before the verb must not be reset by the verb's own default.
    common.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="data directory (default: $EDEPOT_DATA, else ./edepot-data)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print a JSON document on stdout")

    parser = _Parser(prog="edepot", description="An e-Depot for chat records: export → SIP → AIP → DIP.",
                     parents=[common])
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    p = verbs.add_parser("parse", parents=[common], help="print the canonical conversation JSON of an export")
    p.add_argument("export", nargs="+", type=Path, help="the export: .txt, .zip, or .txt plus media files")
    p.add_argument("--format", help="export format, when detection should be overruled (e.g. whatsapp)")
    p.add_argument("--tz", default=DEFAULT_TIMEZONE, help=f"zone the export's times are read in ({DEFAULT_TIMEZONE})")
    p.set_defaults(handler=cmd_parse)

    sip = verbs.add_parser("sip", help="make and check SIPs").add_subparsers(metavar="ACTION", parser_class=_Parser)
    p = sip.add_parser("create", parents=[common], help="wrap an export into a SIP (BagIt + MDTO)")
    p.add_argument("export", nargs="+", type=Path)
    p.add_argument("--out", required=True, type=Path, help="folder to create the SIP bag in")
    p.add_argument("--metadata", type=Path, help="record metadata (YAML or JSON with MDTO's names)")
    p.add_argument("--format")
    p.add_argument("--tz", default=DEFAULT_TIMEZONE)
    p.set_defaults(handler=cmd_sip_create)
    p = sip.add_parser("validate", parents=[common], help="check a SIP: bag, checksums, layout, MDTO XSD")
    p.add_argument("path", type=Path)
    p.set_defaults(handler=cmd_sip_validate)

    p = verbs.add_parser("ingest", parents=[common], help="SIP (folder, .zip, .7z, .tar) → AIP on every location")
    p.add_argument("path", type=Path)
    p.set_defaults(handler=cmd_ingest)

    fixity = verbs.add_parser("fixity", help="verify and repair AIPs").add_subparsers(metavar="ACTION",
                                                                                       parser_class=_Parser)
    p = fixity.add_parser("run", parents=[common], help="verify every replica, repair from a verified copy")
    p.add_argument("--aip", action="append", help="only this AIP (repeatable)")
    p.add_argument("--max-bytes", type=int, help="stop starting new AIPs after this many bytes")
    p.add_argument("--max-seconds", type=float, help="stop starting new AIPs after this many seconds")
    p.set_defaults(handler=cmd_fixity_run)

    dip = verbs.add_parser("dip", help="deliver DIPs").add_subparsers(metavar="ACTION", parser_class=_Parser)
    p = dip.add_parser("create", parents=[common], help="build a DIP of one AIP")
    p.add_argument("--aip", required=True, help="AIP identifier")
    p.add_argument("--out", required=True, type=Path, help="folder to create the DIP in")
    p.set_defaults(handler=cmd_dip_create)

    aip = verbs.add_parser("aip", help="look at AIPs").add_subparsers(metavar="ACTION", parser_class=_Parser)
    p = aip.add_parser("list", parents=[common], help="every AIP in the catalogue")
    p.set_defaults(handler=cmd_aip_list)
    p = aip.add_parser("show", parents=[common], help="one AIP: replicas, files, PREMIS events")
    p.add_argument("aip_id")
    p.set_defaults(handler=cmd_aip_show)

    p = verbs.add_parser("demo", parents=[common], help="the whole chain on the bundled sample export")
    p.add_argument("--export", type=Path, nargs="+", help="use this export instead of the bundled sample")
    p.set_defaults(handler=cmd_demo)
    return parser


def emit(args: argparse.Namespace, document: dict[str, Any], human: str) -> None:
    """Print the JSON document with --json, else the human text."""
    if args.json:
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(human)


def cmd_parse(args: argparse.Namespace, config: Config) -> int:
    from ingest.sources import parse_export

    conversation = parse_export(args.export, tz=args.tz, format=args.format)
    sys.stdout.write(conversation.to_json())
    return 0


def cmd_sip_create(args: argparse.Namespace, config: Config) -> int:
    from ingest.sip import create_sip

    result = create_sip(args.export, args.out, config, args.metadata, tz=args.tz, export_format=args.format)
    emit(args, result.to_dict(), f"SIP for record {result.record_id} ({result.message_count} messages): {result.path}")
    return 0


def cmd_sip_validate(args: argparse.Namespace, config: Config) -> int:
    from ingest.sip_validate import validate_sip

    report = validate_sip(args.path.resolve(), config)
    lines = [f"{'ok  ' if c.ok else 'FAIL'} {c.name}{' (skipped)' if c.skipped else ''}"
             + "".join(f"\n       {d}" for d in c.details) for c in report.checks]
    lines.append(f"{'valid' if report.valid else 'INVALID'}: {report.path}")
    emit(args, report.to_dict(), "\n".join(lines))
    return 0 if report.valid else 1


def cmd_ingest(args: argparse.Namespace, config: Config) -> int:
    from ingest.pipeline import ingest

    with stage_display(args) as on_stage:
        result = ingest(args.path.resolve(), config, on_stage=on_stage)
    emit(args, result.to_dict(), f"AIP {result.aip_id} ({result.files} files, {result.bytes} bytes) stored in:\n"
         + "\n".join(f"  {p}" for p in result.locations))
    return 0


def cmd_fixity_run(args: argparse.Namespace, config: Config) -> int:
    from preservation.catalogue import open_catalogue
    from preservation.fixity import run_fixity
    from preservation.storage import open_locations

    catalogue = open_catalogue(config.catalogue_url)
    try:
        with byte_progress(args, "verifying") as advance:
            report = run_fixity(config, catalogue, open_locations(config.storage_locations), args.aip,
                                args.max_bytes, args.max_seconds, advance)
    finally:
        catalogue.close()
    lines = [f"{f.kind.value:10} {f.location:12} {f.aip_id} {f.path}"
             + (f" → repaired from {f.repaired_from}" if f.repaired_from else "")
             + (f" → quarantined to {f.quarantined_to}" if f.quarantined_to else "")
             + ("" if f.mended else " → NOT REPAIRED") for f in report.findings]
    lines.append(f"{len(report.aips_checked)} AIPs, {report.files_checked} files, {report.bytes_checked} bytes "
                 f"checked in {report.seconds:.1f} s; {len(report.findings)} damaged; "
                 + ("all intact now" if report.intact else "DAMAGE REMAINS"))
    if report.aips_skipped:
        lines.append(f"{len(report.aips_skipped)} AIPs left for the next run (budget)")
    emit(args, report.to_dict(), "\n".join(lines))
    return 0 if report.intact else 1


def cmd_dip_create(args: argparse.Namespace, config: Config) -> int:
    from access.dip import create_dip

    result = create_dip(args.aip, args.out, config)
    emit(args, result.to_dict(), f"DIP {result.dip_id} of AIP {result.aip_id}: {result.path}")
    return 0


def cmd_aip_list(args: argparse.Namespace, config: Config) -> int:
    from preservation.catalogue import open_catalogue

    catalogue = open_catalogue(config.catalogue_url)
    try:
        aips = catalogue.aips()
    finally:
        catalogue.close()
    rows = [{"aip_id": a.aip_id, "record_id": a.record_id, "title": a.title, "created": a.created.isoformat(),
             "state": a.state.value, "bytes": a.payload_bytes, "files": a.payload_files} for a in aips]
    emit(args, {"aips": rows}, "\n".join(f"{r['aip_id']}  {r['state']:8} {r['record_id']}  {r['title']}"
                                         for r in rows) or "no AIPs yet")
    return 0


def cmd_aip_show(args: argparse.Namespace, config: Config) -> int:
    from preservation.catalogue import open_catalogue

    catalogue = open_catalogue(config.catalogue_url)
    try:
        aip = catalogue.aip(args.aip_id)
        replicas, files, events = catalogue.replicas(aip.aip_id), catalogue.files(aip.aip_id), catalogue.events(aip.aip_id)
    finally:
        catalogue.close()
    document = {
        "aip_id": aip.aip_id, "record_id": aip.record_id, "title": aip.title, "state": aip.state.value,
        "replicas": [{"location": r.location, "path": r.path, "status": r.status.value,
                      "last_verified": r.last_verified.isoformat() if r.last_verified else None} for r in replicas],
        "files": [{"path": f.path, "role": f.role, "size": f.size, "sha256": f.sha256, "puid": f.puid,
                   "format": f.format_name} for f in files],
        "events": [{"type": e.type, "date_time": e.date_time.isoformat(), "outcome": e.outcome,
                    "detail": e.detail, "outcome_detail": e.outcome_detail} for e in events],
    }
    human = [f"AIP {aip.aip_id} — {aip.record_id} — {aip.title} [{aip.state.value}]"]
    human += [f"  replica {r.location}: {r.status.value}, verified {r.last_verified}, {r.path}" for r in replicas]
    human += [f"  {f.role:12} {f.puid or '-':10} {f.size:>10}  {f.path}" for f in files]
    human += [f"  {e.date_time.isoformat()}  {e.type:26} {e.outcome:8} {e.outcome_detail}" for e in events]
    emit(args, document, "\n".join(human))
    return 0


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    """Export → SIP → ingest → fixity → DIP on the bundled sample, printing where the DIP is."""
    from access.dip import create_dip
    from ingest.pipeline import ingest
    from ingest.sip import create_sip
    from preservation.catalogue import open_catalogue
    from preservation.fixity import run_fixity
    from preservation.storage import open_locations

    exports = args.export or [sample_export()]
    stamp = config.clock().strftime("%Y%m%dT%H%M%S")
    say = (lambda _text: None) if args.json else print
    say(f"1. export:  {', '.join(str(e) for e in exports)}")
    sip = create_sip(exports, config.data_dir / "sips" / f"sip-{stamp}", config)
    say(f"2. SIP:     {sip.path} (record {sip.record_id}, {sip.message_count} messages)")
    with stage_display(args) as on_stage:
        result = ingest(sip.path, config, on_stage=on_stage)
    say(f"3. AIP:     {result.aip_id}, {result.files} files, in {len(result.locations)} locations:")
    for location in result.locations:
        say(f"              {location}")
    catalogue = open_catalogue(config.catalogue_url)
    try:
        report = run_fixity(config, catalogue, open_locations(config.storage_locations), [result.aip_id])
    finally:
        catalogue.close()
    say(f"4. fixity:  {report.files_checked} files verified, {'all intact' if report.intact else 'DAMAGE'}")
    dip = create_dip(result.aip_id, config.data_dir / "dips" / f"dip-{stamp}", config)
    say(f"5. DIP:     {dip.path}")
    say(f"   open:    {dip.path / 'conversation.pdf'}")
    if args.json:
        emit(args, {"sip": str(sip.path), "aip": result.to_dict(), "fixity": report.to_dict(),
                    "dip": dip.to_dict()}, "")
    return 0 if report.intact else 1


def sample_export() -> Path:
    """The bundled sample: a Dutch iPhone export with a photo, a voice note and a PDF."""
    samples = Path(__file__).resolve().parent.parent / "samples" / "whatsapp-ios-nl"
    found = sorted(samples.glob("*.zip"))
    if not found:
        raise InputError(f"the bundled sample is missing in {samples}", hint="run from a checkout of edepot")
    return found[0]


class stage_display:
    """A spinner naming the running stage on a terminal; silent with --json or when not a terminal."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.live = not args.json and sys.stderr.isatty() and not os.environ.get("CI")
        self.status: Any = None

    def __enter__(self) -> Callable[[str], None]:
        if not self.live:
            return lambda _stage: None
        from rich.console import Console

        self.status = Console(stderr=True).status("starting")
        self.status.start()
        return lambda stage: self.status.update(f"ingest: {stage}")

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.stop()


class byte_progress:
    """A rich progress bar counting bytes on a terminal; silent with --json or when not a terminal."""

    def __init__(self, args: argparse.Namespace, label: str) -> None:
        self.live = not args.json and sys.stderr.isatty() and not os.environ.get("CI")
        self.label = label
        self.progress: Any = None

    def __enter__(self) -> Callable[[int], None] | None:
        if not self.live:
            return None
        from rich.console import Console
        from rich.progress import DownloadColumn, Progress, SpinnerColumn, TransferSpeedColumn

        self.progress = Progress(SpinnerColumn(), "{task.description}", DownloadColumn(), TransferSpeedColumn(),
                                 console=Console(stderr=True), transient=True)
        self.progress.start()
        task = self.progress.add_task(self.label, total=None)
        return lambda n: self.progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


if __name__ == "__main__":
    sys.exit(main())
