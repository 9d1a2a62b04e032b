"""Access: the rules of a Woo request (Wet open overheid) that need no catalogue: its terms, the decision values
and what each needs, document identifiers, decision sheets (CSV or XLSX) and the productierapport.

Terms (Woo art. 4.4): a decision within four weeks of receipt, once extendable by two weeks; while the term
is suspended (opgeschort) the days do not count. After the besluit, the objection period is six weeks; the
records in scope stay held until the request is closed after it.

A document is a message of a record, identified as `<kenmerk>-<seq, four digits>`, or a whole chat decided as
one document, identified by its kenmerk. The productierapport is the inventory a Woo publication platform
imports: one row per document, columns in `REPORT_COLUMNS` order.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

from access.redaction import short_ground, woo_ground
from kernel.errors import InputError

DECISION_TERM = timedelta(weeks=4)
EXTENSION = timedelta(weeks=2)
OBJECTION_PERIOD = timedelta(weeks=6)

OPEN = "Openbaarmaking"
PARTLY_OPEN = "Gedeeltelijk openbaar"
ALREADY_PUBLIC = "Reeds openbaar"
NOT_OPEN = "Geen openbaarmaking"
NONE_FOUND = "Geen documenten aangetroffen"
BEOORDELINGEN = (OPEN, PARTLY_OPEN, ALREADY_PUBLIC, NOT_OPEN)
DELIVERED = (OPEN, PARTLY_OPEN)  # what leaves in the besluit's DIP

_ALIASES = {
    "openbaar": OPEN, "openbaarmaking": OPEN, "open": OPEN,
    "gedeeltelijk openbaar": PARTLY_OPEN, "gedeeltelijke openbaarmaking": PARTLY_OPEN, "deels openbaar": PARTLY_OPEN,
    "reeds openbaar": ALREADY_PUBLIC, "al openbaar": ALREADY_PUBLIC,
    "geen openbaarmaking": NOT_OPEN, "niet openbaar": NOT_OPEN, "gesloten": NOT_OPEN,
}

REPORT_COLUMNS = ("ID", "Matter", "Family ID", "Email Thread ID", "Document", "File type", "Datum", "Beoordeling",
                  "Opgeschort", "Beoordelingsgrond", "Toelichting", "Publieke link", "Gerelateerd ID", "Zaaknummer")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_DOCUMENT = re.compile(r"^(?P<record>.+?)(?:-(?P<seq>\d{4,}))?$")


def deadline_of(received: date, *, extended: bool = False) -> date:
    """The day the besluit is due for a request received on `received` (with the one extension, if taken)."""
    return received + DECISION_TERM + (EXTENSION if extended else timedelta())


def objection_ends(besluit_on: date) -> date:
    """The last day of the objection period (bezwaartermijn) of a besluit made on `besluit_on`."""
    return besluit_on + OBJECTION_PERIOD


def beoordeling_of(text: str) -> str:
    """The beoordeling a text names ("Openbaarmaking", "deels openbaar", "niet openbaar", …); InputError otherwise."""
    key = " ".join(text.strip().casefold().split())
    if key in _ALIASES:
        return _ALIASES[key]
    raise InputError(f"{text!r} is not a beoordeling",
                     hint="one of: " + ", ".join(BEOORDELINGEN))


def grounds_of(text: str | Iterable[str]) -> tuple[str, ...]:
    """Canonical Woo grounds from "5.1.1c; 5.1.2e", "5.1 lid 2 sub e" or a list of them (InputError for an
    unknown one)."""
    parts = re.split(r"[;,\n]+", text) if isinstance(text, str) else list(text)
    # "5.1 lid 2, sub e" holds a comma inside one ground: join a part that is only "sub x" to the one before
    joined: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if joined and re.fullmatch(r"(?:sub|onder)\s*[a-i]|lid\s*\d.*", part, re.IGNORECASE):
            joined[-1] += " " + part
        else:
            joined.append(part)
    return tuple(dict.fromkeys(woo_ground(p) for p in joined))


def short_grounds(grounds: Sequence[str]) -> str:
    """Grounds as the productierapport writes them: "5.1.1c; 5.1.2e"."""
    return "; ".join(short_ground(g) for g in grounds)


def check_decision(beoordeling: str, grounds: Sequence[str], *, link: str, toelichting: str,
                   restricted: bool) -> None:
    """InputError unless the decision is complete: a refusal or partial refusal names its grounds, a document
    already public its link, a disclosure names no ground, and a record whose metadata closes it or leaves its
    openness undecided is opened only with a toelichting saying why."""
    if beoordeling in (NOT_OPEN, PARTLY_OPEN) and not grounds:
        raise InputError(f"{beoordeling} needs its grounds", hint="e.g. --ground 5.1.2e")
    if beoordeling == OPEN and grounds:
        raise InputError("Openbaarmaking takes no grounds", hint="use Gedeeltelijk openbaar for a partial refusal")
    if beoordeling == ALREADY_PUBLIC and not link.strip():
        raise InputError("Reeds openbaar needs the public link", hint="--link URL")
    if beoordeling in DELIVERED and restricted and not toelichting.strip():
        raise InputError(f"{beoordeling} of a record whose openness is closed or undecided in its metadata needs a "
                         "toelichting saying why", hint="--toelichting TEXT")


def document_id(record_id: str, seq: int | None) -> str:
    """The identifier of a message document (`<kenmerk>-0007`) or of a whole chat decided as one (its kenmerk)."""
    return record_id if seq is None else f"{record_id}-{seq:04d}"


def parse_document_id(text: str, records: Iterable[str]) -> tuple[str, int | None]:
    """(kenmerk, seq or None) of a document id among the given records' kenmerken; InputError for another."""
    text = text.strip()
    known = set(records)
    if text in known:
        return text, None
    match = _DOCUMENT.match(text)
    if match and match["seq"] and match["record"] in known:
        return match["record"], int(match["seq"])
    raise InputError(f"{text!r} is no document of this request", hint="document ids look like WA-2024-0101-0003")


def file_name(document: str) -> str:
    """The delivered file of a document: its id, made safe as a file name, with .pdf."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", document).strip("._")[:120] + ".pdf"


@dataclass(frozen=True)
class SheetRow:
    """One row of a decision sheet as written: the document id and what was decided of it."""

    line: int
    document: str
    beoordeling: str
    grounds: str
    toelichting: str
    opgeschort: bool
    link: str


_HEADERS = {
    "id": "document", "document id": "document", "document": "document", "documentnummer": "document",
    "beoordeling": "beoordeling", "besluit": "beoordeling",
    "beoordelingsgrond": "grounds", "gronden": "grounds", "grond": "grounds",
    "toelichting": "toelichting", "opgeschort": "opgeschort", "publieke link": "link", "link": "link",
}


def read_sheet(path: Path) -> list[SheetRow]:
    """The decisions of a sheet (CSV with ; or , or XLSX, such as the productierapport itself): rows with an id
    and a beoordeling; a row without a beoordeling is skipped. InputError for a sheet without those columns."""
    try:
        table = _xlsx_rows(path) if path.suffix.casefold() == ".xlsx" else _csv_rows(path)
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}") from error
    if not table:
        raise InputError(f"{path} is empty")
    header: list[str] = []
    for cell in table[0]:  # the first column of each meaning counts ("ID" before "Document")
        name = _HEADERS.get(" ".join(str(cell or "").strip().casefold().split()), "")
        header.append("" if name in header else name)
    if "document" not in header or "beoordeling" not in header:
        raise InputError(f"{path}: the first row must name the columns ID and Beoordeling",
                         hint="and optionally Beoordelingsgrond, Toelichting, Opgeschort, Publieke link")
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {name: str(cells[i]).strip() if i < len(cells) and cells[i] is not None else ""
                  for i, name in enumerate(header) if name}
        if not values.get("document") or not values.get("beoordeling"):
            continue
        rows.append(SheetRow(number, values["document"], values["beoordeling"], values.get("grounds", ""),
                             values.get("toelichting", ""),
                             values.get("opgeschort", "").casefold() in ("yes", "ja", "j", "y", "true", "1", "x"),
                             values.get("link", "")))
    return rows


def _csv_rows(path: Path) -> list[list[Any]]:
    text = path.read_text(encoding="utf-8-sig")
    dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=";,\t") if text.strip() else csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect) if any(cell.strip() for cell in row)]


def _xlsx_rows(path: Path) -> list[list[Any]]:
    from zipfile import BadZipFile

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError) as error:
        raise InputError(f"{path} is not a readable XLSX workbook") from error
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)
                if any(cell not in (None, "") for cell in row)]
    finally:
        book.close()


@dataclass(frozen=True)
class ReportRow:
    """One document of the productierapport."""

    document: str
    thread: str  # the record's kenmerk: one conversation's messages share it
    moment: datetime | None
    beoordeling: str
    opgeschort: bool
    grounds: tuple[str, ...]
    toelichting: str
    link: str
    zaak: str


def productierapport(matter: str, rows: Sequence[ReportRow], *, created: datetime) -> bytes:
    """productierapport.xlsx (its bytes): the columns of `REPORT_COLUMNS` in that order, a row per document; Datum an Excel
    date-time in Europe/Amsterdam local time; Opgeschort "yes" or empty; Beoordelingsgrond "5.1.1c; 5.1.2e";
    the workbook's own dates are `created`, so the same besluit gives the same cells and properties."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Productierapport"
    sheet.append(list(REPORT_COLUMNS))
    for row in rows:
        local = row.moment.astimezone(AMSTERDAM).replace(tzinfo=None) if row.moment else None
        found = row.beoordeling != NONE_FOUND
        sheet.append([row.document, matter, row.document, row.thread, file_name(row.document) if found else "",
                      "chat" if found else "", local,
                      row.beoordeling, "yes" if row.opgeschort else "", short_grounds(row.grounds), row.toelichting,
                      row.link, "", row.zaak])
        if local is not None:
            sheet.cell(row=sheet.max_row, column=7).number_format = "yyyy-mm-dd hh:mm:ss"
    for letter, width in zip("ABCDEFGHIJKLMN", (22, 12, 22, 18, 26, 9, 20, 22, 11, 20, 40, 30, 14, 16)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    book.properties.creator = "edepot"
    book.properties.created = book.properties.modified = created.astimezone(AMSTERDAM).replace(tzinfo=None)
    saved = io.BytesIO()
    book.save(saved)
    return saved.getvalue()


def none_found_row(request_id: str) -> ReportRow:
    """The one row of a besluit whose scope held no document: Geen documenten aangetroffen."""
    return ReportRow(request_id, "", None, NONE_FOUND, False, (), "", "", "")
