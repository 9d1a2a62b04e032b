"""Action "pdf-keep": a PDF is kept as it is; whether it is PDF/A is checked and said in the note.

A PDF that is not PDF/A is still kept (re-rendering a PDF can lose what it shows); the archivist sees in the
report and the PREMIS event which PDFs are not PDF/A, for preservation planning.
"""
from __future__ import annotations

from pathlib import Path

from preservation.normalise.outcome import NormaliseOutcome, Status
from preservation.pdfa_check import check_pdfa

ACTION = "pdf-keep"


def normalise(source: Path, target: Path) -> NormaliseOutcome:
    """Keep the PDF; the note says "PDF/A-2b" (or the part found) or why it is not PDF/A."""
    report = check_pdfa(source)
    if report.ok:
        note = f"PDF kept; it is PDF/A-{report.part}{(report.conformance or '').lower()}"
    else:
        note = "PDF kept; it is not PDF/A: " + "; ".join(report.problems[:3])
    return NormaliseOutcome(ACTION, Status.KEPT, note, tool="edepot pdfa_check", event_type="validation")
