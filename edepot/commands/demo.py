"""`edepot demo`: the whole chain on the bundled sample."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edepot.output import Verbs, emit, stage_display
from kernel.config import Config


def register(verbs: Verbs, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("demo", parents=[common], help="the whole chain on the bundled sample export")
    p.add_argument("--export", type=Path, nargs="+", help="use this export instead of the bundled sample")
    p.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    """Export → SIP → ingest → fixity → DIP, printing where the DIP is; the sample is written to <data-dir>/demo.

    Unlike `edepot ingest`, the demo runs without a ClamAV signature database (a fresh machine has none until
    freshclam ran), and says so on stderr, before and after, in capitals. It acts as the person named, else as
    its own demo person (edepot/service/demo.py)."""
    from edepot.service.demo import run_demo, scans_for_viruses

    unscanned = not scans_for_viruses(config)
    if unscanned:
        print(NO_VIRUS_CHECK, file=sys.stderr)
    with stage_display(args) as on_stage:
        result = run_demo(config, user=args.user, exports=args.export, on_stage=on_stage)
    sip, aip, report, dip = result.sip, result.aip, result.fixity, result.dip
    lines = [f"acting as: {result.person}",
             f"1. export:  {', '.join(str(e) for e in result.exports)}",
             f"2. SIP:     {sip.path} (record {sip.record_id}, {sip.message_count} messages)",
             f"3. AIP:     {aip.aip_id}, {aip.files} files, in {len(aip.locations)} locations:",
             *(f"              {location}" for location in aip.locations),
             *(f"   warning: {warning}" for warning in aip.warnings),
             f"4. fixity:  {report.files_checked} files verified, {'all intact' if report.intact else 'DAMAGE'}",
             f"5. DIP:     {dip.path}",
             f"   open:    {dip.path / 'conversation.pdf'}"]
    emit(args, {"sip": str(sip.path), "aip": aip.to_dict(), "fixity": report.to_dict(), "dip": dip.to_dict(),
                "person": result.person}, "\n".join(lines))
    if unscanned:
        print(NO_VIRUS_CHECK, file=sys.stderr)
    return 0 if report.intact else 1


NO_VIRUS_CHECK = ("WARNING: NO VIRUS CHECK. There is no ClamAV signature database, so this demo ran WITHOUT "
                  "scanning for viruses (recorded as \"not scanned\"). `edepot ingest` refuses to do that: run "
                  "freshclam, or see the README for a trial database.")
