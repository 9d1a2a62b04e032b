"""The review sheet: written as CSV and HTML, marked by a reviewer, applied by `sip create --review` (round trip)."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.review import read_review_sheet, sheet_paths, write_review_sheet
from ingest.sources import parse_export
from kernel.errors import InputError
from kernel.model import Conversation, Message, MessageKind, Source
from tests.conftest import REPO

IOS_SAMPLE = next((REPO / "samples" / "whatsapp-ios-nl").glob("*.zip"))
ANDROID_SAMPLE = next((REPO / "samples" / "whatsapp-android-nl").glob("*.txt"))
EDEPOT = [sys.executable, "-m", "edepot.cli"]


def edepot(*args: str | Path, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDEPOT_DATA": str(data)}
    return subprocess.run([*EDEPOT, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def mark(csv_path: Path, private: set[int]) -> None:
    """What a reviewer does in a spreadsheet: set the decision column, save as CSV UTF-8."""
    rows = list(csv.reader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig"))))
    header = rows[0]
    for row in rows[1:]:
        row[header.index("decision")] = "privé" if int(row[0]) in private else "zakelijk"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    csv_path.write_bytes(buffer.getvalue().encode("utf-8-sig"))


def test_round_trip_review_then_create(tmp_path: Path) -> None:
    made = edepot("--json", "sip", "review", IOS_SAMPLE, "--out", tmp_path / "sheet", data=tmp_path / "data")
    assert made.returncode == 0, made.stderr
    sheet = json.loads(made.stdout)
    csv_path, html_path = Path(sheet["csv"]), Path(sheet["html"])
    assert html_path.is_file()
    chat = parse_export([IOS_SAMPLE])
    assert sheet["messages"] == len(chat.messages)
    mark(csv_path, {13, 21, 25})
    created = edepot("--json", "sip", "create", IOS_SAMPLE, "--out", tmp_path / "sip", "--review", csv_path,
                     data=tmp_path / "data")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["selection"]["by_reason"]["private"] == 3
    conversation = json.loads((tmp_path / "sip/data/derived/conversation.json").read_text(encoding="utf-8"))
    assert [m["seq"] for m in conversation["messages"]] == [m.seq for m in chat.messages if m.seq not in {13, 21, 25}]
    assert "Fijn weekend" not in (tmp_path / "sip/data/derived/conversation.json").read_text(encoding="utf-8")
    statement = json.loads((tmp_path / "sip/data/metadata/selection.json").read_text(encoding="utf-8"))
    assert statement["criteria"]["private_seqs"] == [13, 21, 25]


def test_html_sheet_shows_every_message_escaped_and_needs_no_network(tmp_path: Path) -> None:
    chat = parse_export([ANDROID_SAMPLE])
    _, html_path = write_review_sheet(chat, tmp_path / "sheet.csv")
    page = html_path.read_text(encoding="utf-8")
    assert page.count("<tr data-seq=") == len(chat.messages)
    assert "http://" not in page.replace("http://www.w3.org", "") and "src=" not in page
    evil = Conversation(Source("whatsapp", "ios", "nl", "UTC"), (), (
        Message(1, chat.messages[0].timestamp, "=cmd|' /C calc'!A0", MessageKind.TEXT, "</script><b>x</b>"),))
    csv_path, html_path = write_review_sheet(evil, tmp_path / "evil")
    page = html_path.read_text(encoding="utf-8")
    assert "</script><b>" not in page and "&lt;/script&gt;" in page
    assert "'=cmd" in csv_path.read_text(encoding="utf-8-sig")  # formula defused for spreadsheets
    assert read_review_sheet(csv_path, evil) == frozenset()  # and read back as the sender it is


def test_sheet_of_another_export_or_unknown_decision_is_refused(tmp_path: Path) -> None:
    ios, android = parse_export([IOS_SAMPLE]), parse_export([ANDROID_SAMPLE])
    csv_path, _ = write_review_sheet(android, tmp_path / "android")
    with pytest.raises(InputError, match="row 2"):
        read_review_sheet(csv_path, ios)
    csv_path, _ = write_review_sheet(ios, tmp_path / "ios")
    text = csv_path.read_bytes().decode("utf-8-sig").replace(",business\r\n", ",misschien\r\n", 1)
    csv_path.write_bytes(text.encode("utf-8"))
    with pytest.raises(InputError, match="row 2.*misschien"):
        read_review_sheet(csv_path, ios)


def test_semicolon_sheet_from_a_dutch_spreadsheet_is_read(tmp_path: Path) -> None:
    chat = parse_export([IOS_SAMPLE])
    csv_path, _ = write_review_sheet(chat, tmp_path / "sheet")
    rows = list(csv.reader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig"))))
    rows[4][-1] = "P"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    csv_path.write_text(buffer.getvalue(), encoding="utf-8")
    assert read_review_sheet(csv_path, chat) == {int(rows[4][0])}


def test_sheet_paths_and_no_overwrite(tmp_path: Path) -> None:
    assert sheet_paths(tmp_path / "s.html") == (tmp_path / "s.csv", tmp_path / "s.html")
    chat = parse_export([ANDROID_SAMPLE])
    write_review_sheet(chat, tmp_path / "s")
    with pytest.raises(InputError, match="already exists"):
        write_review_sheet(chat, tmp_path / "s")


NODE_HARNESS = r"""
const fs = require("fs");
const html = fs.readFileSync(process.argv[2], "utf8");
const data = html.match(/<script type="application\/json" id="sheet">([\s\S]*?)<\/script>/)[1];
const code = html.match(/<script>([\s\S]*?)<\/script>/)[1];
const marked = new Set(JSON.parse(process.argv[3]));
const rows = JSON.parse(data).rows.map(r => {
  const select = {value: "business", listeners: [], addEventListener(t, f) { this.listeners.push(f); }};
  const row = {seq: r[0], select, classList: {toggle() {}}, querySelector: () => select};
  return row;
});
let saved = null, clicked = null;
global.document = {
  getElementById: id => id === "sheet" ? {textContent: data} : {addEventListener: (t, f) => { clicked = f; }},
  querySelectorAll: q => q === "tr[data-seq]" ? rows : rows.map(r => r.select),
  createElement: () => ({click() {}}),
};
global.URL = {createObjectURL: b => b};
global.Blob = class { constructor(parts) { saved = parts.join(""); } };
eval(code);
for (const r of rows) if (marked.has(Number(r.seq))) { r.select.value = "private"; r.select.listeners.forEach(f => f({target: r.select})); }
clicked();
process.stdout.write(saved);
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_the_html_page_saves_a_csv_that_create_reads(tmp_path: Path) -> None:
    chat = parse_export([IOS_SAMPLE])
    _, html_path = write_review_sheet(chat, tmp_path / "sheet")
    harness = tmp_path / "harness.js"
    harness.write_text(NODE_HARNESS, encoding="utf-8")
    result = subprocess.run(["node", str(harness), str(html_path), "[5, 17]"], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    saved = tmp_path / "saved.csv"
    saved.write_bytes(result.stdout)
    assert read_review_sheet(saved, chat) == {5, 17}
