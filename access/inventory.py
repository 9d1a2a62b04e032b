"""Access: the Woo inventory list (inventarislijst) of a DIP, as CSV and as PDF/A-2b.

Woo art. 4.4 / 5.1-5.2 practice: every document in scope of the request is listed with its date, the
decision (openbaar, deels openbaar, niet openbaar) and the grounds for what was not disclosed. Here a
document is one message of a chat (kenmerk of the record + message number), so the list shows exactly
which messages were handed over whole, which with passages removed, and which were refused.

    inventarislijst.csv   UTF-8 with BOM, ";"-separated (opens as columns in Dutch spreadsheet programs)
    inventarislijst.pdf   the same table, PDF/A-2b, with a legend of the grounds

No message content is ever in the list: no text, no sender, no title of a refused record.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from access.redaction import WOO_GROUNDS, woo_ground
from kernel.errors import InputError

if TYPE_CHECKING:
    from access.dip import DipFile

PUBLIC = "openbaar"
PARTLY_PUBLIC = "deels openbaar"
NOT_PUBLIC = "niet openbaar"
TEMPLATE = Path(__file__).with_name("inventory.typ")
COLUMNS = ("nr", "document", "kenmerk", "bericht", "datum", "besluit", "gronden", "lakkingen")


@dataclass(frozen=True)
class Row:
    """One document of the inventory: a message of a record (seq None: the whole record)."""

    record_id: str
    seq: int | None
    timestamp: datetime | None
    decision: str
    grounds: str
    redactions: int
    note: str
    title: str = ""  # a whole record's title (its description, public)
    period: str = ""  # a whole record's period ("2024-03-14 t/m 2024-05-20")


@dataclass(frozen=True)
class Heading:
    requester: str
    purpose: str
    on: date
    expires: date | None
    woo_request: str | None = None


def document_name(row: Row) -> str:
    if row.seq is not None:
        return f"{row.record_id} bericht {row.seq}"
    return f"{row.record_id} (gesprek: {row.title})" if row.title else f"{row.record_id} (gesprek)"


def date_text(row: Row, *, precise: bool) -> str:
    """A message's time (ISO 8601 when `precise`, else to the minute), or a whole record's period."""
    if row.timestamp is None:
        return row.period
    return row.timestamp.isoformat() if precise else f"{row.timestamp:%Y-%m-%d %H:%M}"


def csv_text(rows: Sequence[Row]) -> str:
    """The inventory as CSV text (";" separated), one line per row after the header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for n, row in enumerate(rows, start=1):
        writer.writerow([n, document_name(row), row.record_id, "" if row.seq is None else row.seq,
                         date_text(row, precise=True), row.decision, row.grounds,
                         row.redactions])
    return buffer.getvalue()


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of an inventory CSV written by `write` (for checks and tests)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def write(root: Path, rows: Sequence[Row], heading: Heading, created: datetime) -> list["DipFile"]:
    """Write inventarislijst.csv and inventarislijst.pdf into `root`; returns both as DIP files."""
    from access.dip import DipFile

    data = csv_text(rows).encode("utf-8-sig")
    (root / "inventarislijst.csv").write_bytes(data)
    pdf = render_pdf(rows, heading, created)
    (root / "inventarislijst.pdf").write_bytes(pdf)
    return [DipFile("inventarislijst.csv", len(data), hashlib.sha256(data).hexdigest(), "edepot"),
            DipFile("inventarislijst.pdf", len(pdf), hashlib.sha256(pdf).hexdigest(), "edepot")]


def legal_grounds(grounds: str) -> list[str]:
    """The Woo grounds (canonical, as in WOO_GROUNDS) a grounds column cites, for the legend."""
    found = []
    for part in (p for chunk in grounds.split(";") for p in (chunk, *chunk.split(","))):
        text = re.sub(r"\s*\(.*\)\s*$", "", part.strip())  # "(tot en met …)"
        try:
            found.append(woo_ground(text))
        except InputError:
            continue
    return found


def render_pdf(rows: Sequence[Row], heading: Heading, created: datetime) -> bytes:
    """The inventory as PDF/A-2b (typst, fonts embedded)."""
    from preservation.normalise.conversation_pdf import compile_typst, find_font_dirs

    counts = {d: sum(1 for r in rows if r.decision == d) for d in (PUBLIC, PARTLY_PUBLIC, NOT_PUBLIC)}
    used = sorted({g for r in rows for g in legal_grounds(r.grounds)})
    # A Woo inventory is published with the besluit: it names the request, not the requester, and a
    # disclosure under the Woo is to everybody, so it has no end date of use.
    delivery = [["Verstrekt aan", heading.requester],
                ["Te gebruiken tot en met", heading.expires.isoformat() if heading.expires else "onbeperkt"]]
    data = {
        "title": f"Inventarislijst Woo-verzoek {heading.woo_request}" if heading.woo_request else "Inventarislijst",
        "author": "edepot",
        "heading": [*([["Woo-verzoek", heading.woo_request]] if heading.woo_request else delivery[:1]),
                    ["Onderwerp" if heading.woo_request else "Doel", heading.purpose],
                    ["Datum verzoek", heading.on.isoformat()], *([] if heading.woo_request else delivery[1:]),
                    ["Documenten", f"{len(rows)}: {counts[PUBLIC]} openbaar, {counts[PARTLY_PUBLIC]} deels openbaar, "
                                   f"{counts[NOT_PUBLIC]} niet openbaar"]],
        "columns": list(COLUMNS),
        "rows": [[str(n), document_name(r), r.record_id, "" if r.seq is None else str(r.seq),
                  date_text(r, precise=False), r.decision, r.grounds, str(r.redactions)]
                 for n, r in enumerate(rows, start=1)],
        "legend": [f"Woo art. {g}: {WOO_GROUNDS[g][1]} (label {WOO_GROUNDS[g][0]})" for g in used]
                  or ["Geen passages gelakt."],
    }
    with tempfile.TemporaryDirectory(prefix="edepot-inventory-") as tmp:
        root = Path(tmp)
        (root / "data.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        shutil.copyfile(TEMPLATE, root / "conversation.typ")  # compile_typst compiles this name
        compile_typst(root, root / "out.pdf", find_font_dirs(), created)
        return (root / "out.pdf").read_bytes()
