"""Action "office-pdfa": Office documents (Word, Excel, PowerPoint, ODF) → PDF/A-2b with LibreOffice headless.

LibreOffice is large and optional: edepot's setup does not install it. When `soffice` is absent the action
is skipped with a note (the original is kept, the PREMIS event says why), never an error that stops ingest.
"""
from __future__ import annotations

import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from preservation.normalise.outcome import NormaliseOutcome, Status, run_tool, with_suffix

ACTION = "office-pdfa"
PDFA_FILTER = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'


def soffice() -> str | None:
    """The LibreOffice program, when installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


@lru_cache(maxsize=None)
def _version(program: str) -> str:
    return " ".join(run_tool([program, "--version"], timeout=120).split()[:2]) or "LibreOffice"


def normalise(source: Path, target: Path) -> NormaliseOutcome:
    """Write `<target>.pdf` (PDF/A-2b) from the document, or skip with a note when LibreOffice is absent."""
    program = soffice()
    if program is None:
        return NormaliseOutcome(ACTION, Status.SKIPPED, "LibreOffice is not installed: no PDF/A copy made; "
                                "the original is kept (install libreoffice and ingest the SIP again as a new version)")
    output = with_suffix(target, ".pdf")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="edepot-office-") as work:
        profile = Path(work) / "profile"
        run_tool([program, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", PDFA_FILTER,
                  "--outdir", work, str(source)], timeout=600)
        produced = next(Path(work).glob("*.pdf"))
        shutil.move(str(produced), output)
    return NormaliseOutcome(ACTION, Status.DERIVED, "document converted to PDF/A-2b", (output,), _version(program),
                            "migration")
