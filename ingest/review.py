"""The review sheet: a reviewer marks each message of an export business (zakelijk) or private (privé).

VNG guidance: business and private messages must be told apart before a chat becomes a record. `edepot sip
review` writes the sheet in two forms from the same rows: a CSV (UTF-8 with BOM, so spreadsheet programs read
accents right) with a `decision` column to fill in, and a self-contained HTML page (no network, no external
script) with a choice per message and a button that saves the CSV. `edepot sip create --review SHEET.csv`
reads the decisions back: every message marked private is left out of the SIP and counted as private.

Columns: seq, timestamp, sender, kind, text, attachments, decision. Accepted decisions: business, zakelijk, b,
z (kept); private, prive, privé, p (left out); empty (kept: the whole chat is the record unless marked).
Reading checks that every row's seq, timestamp and sender belong to the export, so a sheet made for another
export (or edited beyond its decision column) is refused, naming the row. Spreadsheet formula injection is
defused on writing: a cell that starts with = + - @ gets a leading apostrophe, which reading strips again.
"""
from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path

from kernel.atomic import write_bytes_atomic
from kernel.errors import InputError
from kernel.model import Conversation, Message

COLUMNS = ("seq", "timestamp", "sender", "kind", "text", "attachments", "decision")
BUSINESS = frozenset({"business", "zakelijk", "b", "z", ""})
PRIVATE = frozenset({"private", "prive", "privé", "p"})
MAX_SHEET_BYTES = 200_000_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def sheet_paths(out: Path) -> tuple[Path, Path]:
    """The CSV and HTML files for `--out SHEET` (a .csv or .html suffix on SHEET is replaced)."""
    base = out.with_suffix("") if out.suffix.lower() in (".csv", ".html") else out
    return base.with_name(base.name + ".csv"), base.with_name(base.name + ".html")


def write_review_sheet(conversation: Conversation, out: Path) -> tuple[Path, Path]:
    """Write the review sheet as CSV and HTML (each atomically); returns both paths. Refuses to overwrite."""
    csv_path, html_path = sheet_paths(out)
    for path in (csv_path, html_path):
        if path.exists():
            raise InputError(f"{path} already exists")
    rows = [_row(m) for m in conversation.messages]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([[_defuse(cell) for cell in row] for row in rows])
    write_bytes_atomic(csv_path, buffer.getvalue().encode("utf-8-sig"))
    write_bytes_atomic(html_path, _html(conversation, rows, csv_path.name).encode("utf-8"))
    return csv_path, html_path


def read_review_sheet(path: Path, conversation: Conversation) -> frozenset[int]:
    """The seqs a reviewer marked private in the CSV sheet at `path`, checked against `conversation`.

    InputError naming the row for an unknown decision, a row that does not match the export, or a file that
    is not a review sheet.
    """
    try:
        if path.stat().st_size > MAX_SHEET_BYTES:
            raise InputError(f"{path}: larger than {MAX_SHEET_BYTES} bytes; not a review sheet")
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the review sheet: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); save the sheet as CSV UTF-8") from None
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if reader.fieldnames is None or not {"seq", "decision"} <= set(reader.fieldnames):
        raise InputError(f"{path}: not a review sheet (needs the columns seq and decision)")
    by_seq = {m.seq: m for m in conversation.messages}
    private: set[int] = set()
    for line_no, row in enumerate(reader, start=2):
        where = f"{path}, row {line_no}"
        seq_text = _undefuse(row.get("seq") or "").strip()
        if not seq_text.isdigit() or int(seq_text) not in by_seq:
            raise InputError(f"{where}: seq {seq_text!r} is not a message of this export")
        message = by_seq[int(seq_text)]
        for column, expected in (("timestamp", message.timestamp.isoformat()), ("sender", message.sender or "")):
            given = row.get(column)
            if given is not None and _undefuse(given) != expected:
                raise InputError(f"{where}: {column} {given!r} differs from the export's {expected!r}",
                                 hint="was the sheet made for another export?")
        decision = _undefuse(row.get("decision") or "").strip().casefold()
        if decision in PRIVATE:
            private.add(message.seq)
        elif decision not in BUSINESS:
            raise InputError(f"{where}: decision {row.get('decision')!r} is neither business nor private")
    return frozenset(private)


def _row(message: Message) -> list[str]:
    return [str(message.seq), message.timestamp.isoformat(), message.sender or "", message.kind.value,
            message.text, "; ".join(a.name for a in message.attachments if a.name), "business"]


def _defuse(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _undefuse(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START) else cell


def _html(conversation: Conversation, rows: list[list[str]], csv_name: str) -> str:
    title = html.escape(conversation.title or "gesprek")
    body = []
    for seq, timestamp, sender, kind, text, attachments, _decision in rows:
        body.append(
            f'<tr data-seq="{html.escape(seq)}"><td>{html.escape(seq)}</td><td>{html.escape(timestamp)}</td>'
            f"<td>{html.escape(sender)}</td><td>{html.escape(kind)}</td>"
            f'<td class="text">{html.escape(text)}</td><td>{html.escape(attachments)}</td>'
            '<td><select><option value="business">zakelijk</option><option value="private">privé</option>'
            "</select></td></tr>"
        )
    data = json.dumps({"columns": COLUMNS, "rows": rows}, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Beoordeling {title}</title>
<style>body{{font-family:sans-serif;margin:1em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;
padding:2px 6px;vertical-align:top}}td.text{{white-space:pre-wrap;max-width:40em}}tr.private{{background:#fde2e2}}
</style></head><body>
<h1>Beoordeling: {title}</h1>
<p>Markeer elk bericht als zakelijk of privé. Privéberichten komen niet in het SIP. Sla de beoordeling op met
de knop en geef het bestand aan <code>edepot sip create --review {html.escape(csv_name)}</code>.</p>
<p><button id="save">Beoordeling opslaan als CSV</button></p>
<table><thead><tr><th>seq</th><th>tijd</th><th>afzender</th><th>soort</th><th>tekst</th><th>bijlagen</th>
<th>beoordeling</th></tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
<script type="application/json" id="sheet">{data}</script>
<script>
const sheet = JSON.parse(document.getElementById("sheet").textContent);
for (const row of document.querySelectorAll("tr[data-seq]")) {{
  row.querySelector("select").addEventListener("change", e => row.classList.toggle("private", e.target.value === "private"));
}}
function cell(v) {{
  if (/^[=+\\-@\\t\\r]/.test(v)) v = "'" + v;
  return /[",\\r\\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
}}
document.getElementById("save").addEventListener("click", () => {{
  const decisions = Array.from(document.querySelectorAll("tr[data-seq] select"), s => s.value);
  const lines = [sheet.columns.join(",")].concat(sheet.rows.map((r, i) =>
    r.slice(0, 6).concat([decisions[i]]).map(cell).join(",")));
  const blob = new Blob(["\\ufeff" + lines.join("\\r\\n") + "\\r\\n"], {{type: "text/csv;charset=utf-8"}});
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob); a.download = {json.dumps(csv_name)}; a.click();
}});
</script></body></html>
"""
