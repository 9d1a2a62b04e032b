"""`edepot demo`: the whole chain on the bundled sample."""
from __future__ import annotations

import argparse
import dataclasses
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
    freshclam ran), and says so on stderr, before and after, in capitals."""
    from access.dip import create_dip
    from edepot.sample_exports import write_ios_sample
    from ingest.pipeline import ingest
    from ingest.sip import create_sip
    from preservation.catalogue import open_catalogue
    from preservation.fixity import run_fixity
    from preservation.scan import has_signature_database
    from preservation.storage import open_locations

    exports = args.export or [write_ios_sample(config.data_dir / "demo")]
    stamp = config.clock().strftime("%Y%m%dT%H%M%S")
    say = (lambda _text: None) if args.json else print
    unscanned = not has_signature_database(config.scan_database)
    if unscanned:
        config = dataclasses.replace(config, scan_required=False)
        print(NO_VIRUS_CHECK, file=sys.stderr)
    say(f"1. export:  {', '.join(str(e) for e in exports)}")
    sip = create_sip(exports, config.data_dir / "sips" / f"sip-{stamp}", config)
    say(f"2. SIP:     {sip.path} (record {sip.record_id}, {sip.message_count} messages)")
    with stage_display(args) as on_stage:
        result = ingest(sip.path, config, on_stage=on_stage)
    say(f"3. AIP:     {result.aip_id}, {result.files} files, in {len(result.locations)} locations:")
    for location in result.locations:
        say(f"              {location}")
    for warning in result.warnings:
        say(f"   warning: {warning}")
    catalogue = open_catalogue(config.catalogue_url)
    try:
        report = run_fixity(config, catalogue, open_locations(config.storage_locations), [result.aip_id])
    finally:
        catalogue.close()
    say(f"4. fixity:  {report.files_checked} files verified, {'all intact' if report.intact else 'DAMAGE'}")
    dip = create_dip(result.aip_id, config.data_dir / "dips" / f"dip-{stamp}", config)
    say(f"5. DIP:     {dip.path}")
    say(f"   open:    {dip.path / 'conversation.pdf'}")
    if unscanned:
        print(NO_VIRUS_CHECK, file=sys.stderr)
    if args.json:
        emit(args, {"sip": str(sip.path), "aip": result.to_dict(), "fixity": report.to_dict(),
                    "dip": dip.to_dict()}, "")
    return 0 if report.intact else 1


NO_VIRUS_CHECK = ("WARNING: NO VIRUS CHECK. There is no ClamAV signature database, so this demo ran WITHOUT "
                  "scanning for viruses (recorded as \"not scanned\"). `edepot ingest` refuses to do that: run "
                  "freshclam, or see the README for a trial database.")

