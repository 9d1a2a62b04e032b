"""A structural check of PDF/A-2b (ISO 19005-2, conformance level B) for the PDFs edepot makes.

This is not a full validator: veraPDF (the reference implementation, Java) is not available in
Debian and its Maven repository is not reachable from here. What this checks, with pikepdf, is the
part of ISO 19005-2 that a rendering step can get wrong and that matters most for reading the file
in fifty years:
  - the XMP metadata stream is present and identifies the file as PDF/A part 2, conformance B;
  - an output intent of subtype GTS_PDFA1 with an embedded ICC profile (DestOutputProfile);
  - every font used on every page (including form XObjects, Type0 descendants) is embedded:
    FontFile, FontFile2 or FontFile3 in its font descriptor (Type3 fonts are drawn by the file);
  - no encryption;
  - no JavaScript and no embedded files (both forbidden in PDF/A-2).
It does not check content streams, colour spaces, transparency groups or XMP schema validity.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

PDFA_ID_NS = "http://www.aiim.org/pdfa/ns/id/"


@dataclass(frozen=True)
class PdfaReport:
    """What `check_pdfa` found. `problems` lists every finding that breaks PDF/A-2b."""

    part: int | None  # from XMP pdfaid:part
    conformance: str | None  # from XMP pdfaid:conformance
    has_output_intent: bool  # /OutputIntents with GTS_PDFA1 and an ICC profile
    fonts_embedded: bool
    unembedded_fonts: tuple[str, ...]
    encrypted: bool
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when no problem was found (within the limits of this check)."""
        return not self.problems


def check_pdfa(path_or_bytes: str | Path | bytes) -> PdfaReport:
    """Check a PDF (a path or its bytes) against the PDF/A-2b rules listed in the module docstring.

    Never raises for a bad PDF: a file pikepdf cannot open is reported as a problem.
    """
    import pikepdf

    source: Any = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else Path(path_or_bytes)
    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError:
        return _unreadable("the PDF is encrypted with a password", encrypted=True)
    except (pikepdf.PdfError, OSError) as error:
        return _unreadable(f"not a readable PDF: {error}")
    with pdf:
        return _report(pdf)


def _unreadable(problem: str, encrypted: bool = False) -> PdfaReport:
    return PdfaReport(None, None, False, False, (), encrypted, (problem,))


def _report(pdf: Any) -> PdfaReport:
    problems: list[str] = []
    part, conformance = _identification(pdf, problems)
    if part != 2:
        problems.append(f"XMP pdfaid:part is {part!r}, expected 2")
    if (conformance or "").upper() != "B":
        problems.append(f"XMP pdfaid:conformance is {conformance!r}, expected B")
    has_output_intent = _has_pdfa_output_intent(pdf)
    if not has_output_intent:
        problems.append("no /OutputIntents entry with /S /GTS_PDFA1 and an embedded ICC profile")
    unembedded = tuple(sorted(_unembedded_fonts(pdf)))
    problems.extend(f"font not embedded: {name}" for name in unembedded)
    encrypted = bool(pdf.is_encrypted)
    if encrypted:
        problems.append("the PDF is encrypted")
    problems.extend(_forbidden_content(pdf))
    return PdfaReport(part, conformance, has_output_intent, not unembedded, unembedded, encrypted,
                      tuple(problems))


def _identification(pdf: Any, problems: list[str]) -> tuple[int | None, str | None]:
    if "/Metadata" not in pdf.Root:
        problems.append("no XMP metadata stream in the document catalog")
        return None, None
    try:
        meta = pdf.open_metadata()
        part_text = meta.get(f"{{{PDFA_ID_NS}}}part")
        conformance = meta.get(f"{{{PDFA_ID_NS}}}conformance")
    except Exception as error:  # pikepdf raises XML errors of several kinds for broken XMP
        problems.append(f"XMP metadata cannot be read: {error}")
        return None, None
    try:
        part = int(part_text) if part_text is not None else None
    except ValueError:
        part = None
    return part, conformance


def _has_pdfa_output_intent(pdf: Any) -> bool:
    intents = pdf.Root.get("/OutputIntents")
    if intents is None:
        return False
    for intent in intents:
        if intent.get("/S") == "/GTS_PDFA1" and intent.get("/DestOutputProfile") is not None:
            return True
    return False


def _unembedded_fonts(pdf: Any) -> set[str]:
    missing: set[str] = set()
    seen: set[tuple[int, int]] = set()
    for page in pdf.pages:
        for font in _fonts_in(page.obj.get("/Resources"), seen):
            if not _font_is_embedded(font):
                missing.add(str(font.get("/BaseFont", "(unnamed font)")))
    return missing


def _fonts_in(resources: Any, seen: set[tuple[int, int]]) -> Iterator[Any]:
    """Every font dictionary reachable from a resource dictionary, through form XObjects and Type3."""
    if resources is None:
        return
    if resources.is_indirect:
        if resources.objgen in seen:
            return
        seen.add(resources.objgen)
    fonts = resources.get("/Font")
    if fonts is not None:
        for font in fonts.values():
            yield font
            if font.get("/Subtype") == "/Type3":
                yield from _fonts_in(font.get("/Resources"), seen)
    xobjects = resources.get("/XObject")
    if xobjects is not None:
        for xobject in xobjects.values():
            if xobject.get("/Subtype") == "/Form":
                yield from _fonts_in(xobject.get("/Resources"), seen)


def _font_is_embedded(font: Any) -> bool:
    subtype = font.get("/Subtype")
    if subtype == "/Type3":
        return True  # glyphs are content streams inside the PDF
    if subtype == "/Type0":
        descendants = font.get("/DescendantFonts")
        return bool(descendants) and all(_font_is_embedded(d) for d in descendants)
    descriptor = font.get("/FontDescriptor")
    if descriptor is None:
        return False
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def _forbidden_content(pdf: Any) -> list[str]:
    problems: list[str] = []
    names = pdf.Root.get("/Names")
    if names is not None:
        if "/JavaScript" in names:
            problems.append("JavaScript in the document name tree (forbidden in PDF/A-2)")
        if "/EmbeddedFiles" in names:
            problems.append("embedded files (forbidden in PDF/A-2)")
    open_action = pdf.Root.get("/OpenAction")
    if open_action is not None and _is_javascript_action(open_action):
        problems.append("JavaScript open action (forbidden in PDF/A-2)")
    if "/AA" in pdf.Root:
        problems.append("additional actions on the document catalog (forbidden in PDF/A-2)")
    for number, page in enumerate(pdf.pages, start=1):
        for annotation in page.obj.get("/Annots", []) or []:
            if annotation.get("/Subtype") == "/FileAttachment":
                problems.append(f"file attachment annotation on page {number} (forbidden in PDF/A-2)")
            action = annotation.get("/A")
            if action is not None and _is_javascript_action(action):
                problems.append(f"JavaScript action on page {number} (forbidden in PDF/A-2)")
    return problems


def _is_javascript_action(action: Any) -> bool:
    try:
        return action.get("/S") == "/JavaScript"
    except AttributeError:  # an explicit destination array, not an action dictionary
        return False
