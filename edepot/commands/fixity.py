"""`edepot fixity run`: verify and repair AIPs."""
from __future__ import annotations

import argparse

from edepot.output import Verbs, byte_progress, emit
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    fixity = verbs.add_parser("fixity", help="verify and repair AIPs").add_subparsers(metavar="ACTION",
                                                                                       parser_class=type(common))
    p = fixity.add_parser("run", parents=[common], help="verify every replica, repair from a verified copy")
    p.add_argument("--aip", action="append", help="only this AIP (repeatable)")
    p.add_argument("--max-bytes", type=int, help="stop starting new AIPs after this many bytes")
    p.add_argument("--max-seconds", type=float, help="stop starting new AIPs after this many seconds")
    p.set_defaults(handler=cmd_fixity_run)


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
