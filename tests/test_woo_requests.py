"""Woo requests as a Woo officer handles one, through the command line: the marktplein request across the five
sample chats (open, closed, restricted until 2029, undecided), a scope from a search with context, decisions from a
spreadsheet and one by one, the besluit refused while anything is undecided, and a besluit that lets no closed or
redacted word out in any byte; its productierapport read back; the holds; another organisation's officer sees
none of it. On SQLite and on PostgreSQL."""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pikepdf
import pytest
import yaml
from pypdf import PdfReader

from access.woo import (
    AMSTERDAM,
    BEOORDELINGEN,
    NONE_FOUND,
    REPORT_COLUMNS,
    ReportRow,
    productierapport,
    read_sheet,
)
from edepot.service import Depot as Service
from edepot.service.person import acting_person
from ingest.sip import create_sip
from kernel.config import load_config
from preservation.pdfa_check import check_pdfa
from tests.cli_runner import Depot

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "woo-marktplein"
GOLDEN = Path(__file__).with_name("golden") / "productierapport.xlsx"
REQUEST = "2026-041"
OFFICER, OTHER_OFFICER, MANAGER = "W. de Wit", "O. Ander", "R. Beheer"
# Words planted in what must never leave: closed content, a redacted span, context nobody decided on.
CANARIES = {
    "3-van-dijk-smit": ("opening van het marktplein?", "opening van het marktplein? KANARIEGESLOTEN"),
    "4-jansen-mulder": ("boven het budget.", "boven het budget. KANARIEBUDGET"),
    "1-jansen-de-vries": ("van dinsdag.", "van dinsdag. Code KANARIESPAN voor de kluis."),
    "2-de-boer-yilmaz": ("twee minuten per rit.", "twee minuten per rit. KANARIECONTEXT"),
}
CANARY_WORDS = (b"KANARIEGESLOTEN", b"KANARIEBUDGET", b"KANARIESPAN", b"KANARIECONTEXT")
UNRELATED = "01-02-2024 10:00 - Wethouder Jansen: De begroting van de bibliotheek is rond.\n"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def depot(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Depot:
    """Two municipalities, a Woo officer in each; the five marktplein chats (with canaries) and one unrelated chat
    ingested for the first."""
    root = tmp_path_factory.mktemp("woo")
    depot = Depot(root / "data")
    depot.data.mkdir()
    settings = "[scan]\nrequired = false\n"
    if request.param == "postgresql":
        depot.catalogue_url = request.getfixturevalue("postgres").database()
        settings += f'[catalogue]\nurl = "{depot.catalogue_url}"\n'
    (depot.data / "edepot.toml").write_text(settings, encoding="utf-8")
    depot.ok("A. Beheer", "organisation", "add", "gm0001", "--name", "Gemeente Voorbeeldstad")
    depot.ok("A. Beheer", "organisation", "add", "gm0002", "--name", "Gemeente Anders")
    depot.tokens["A. Beheer"] = depot.ok("A. Beheer", "user", "add", "A. Beheer", "--role", "administrator")["token"]
    for name, role in ((OFFICER, "woo-officer@gm0001"), (OTHER_OFFICER, "woo-officer@gm0002"),
                       (MANAGER, "records-manager@gm0001")):
        depot.tokens[name] = depot.ok("A. Beheer", "user", "add", name, "--role", role)["token"]
    (root / "sip-config").mkdir()
    (root / "sip-config" / "edepot.toml").write_text('[organisation]\narchiefvormer = "Gemeente Voorbeeldstad"\n',
                                                     encoding="utf-8")
    sip_config = load_config(root / "sip-config")
    exports = root / "exports"
    exports.mkdir()
    for text in sorted(SAMPLES.glob("*.txt")):
        if text.stem == "namen":
            continue
        chat = text.read_text(encoding="utf-8")
        if text.stem in CANARIES:
            old, new = CANARIES[text.stem]
            assert old in chat
            chat = chat.replace(old, new)
        (exports / text.name).write_text(chat, encoding="utf-8")
        sip = create_sip([exports / text.name], root / f"sip-{text.stem}", sip_config,
                         metadata_file=text.with_suffix(".yaml"))
        depot.ok(MANAGER, "ingest", str(sip.path))
    (exports / "bibliotheek.txt").write_text(UNRELATED, encoding="utf-8")
    meta = root / "bibliotheek.yaml"
    meta.write_text(yaml.safe_dump({"naam": "Bibliotheek", "waardering": "V", "bewaartermijn": "P1Y",
                                    "identificatie": {"kenmerk": "WA-2024-0199", "bron": "Zaaksysteem"}}),
                    encoding="utf-8")
    depot.ok(MANAGER, "ingest", str(create_sip([exports / "bibliotheek.txt"], root / "sip-bib", sip_config,
                                               metadata_file=meta).path))
    return depot


def everything_in(folder: Path) -> bytes:
    """Every byte of every file and every file name, the text and every inflated stream (XMP too) of each PDF,
    and every member of each zip (the XLSX)."""
    chunks = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        chunks += [str(path.relative_to(folder)).encode(), data]
        if data.startswith(b"%PDF"):
            chunks.append("".join(page.extract_text() or "" for page in PdfReader(path).pages).encode("utf-8"))
            with pikepdf.open(path) as pdf:
                for obj in pdf.objects:
                    if isinstance(obj, pikepdf.Stream):
                        try:
                            chunks.append(obj.read_bytes())
                        except pikepdf.PdfError:
                            pass
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                chunks += [archive.read(name) for name in archive.namelist()]
    return b"\n".join(chunks)


def test_a_woo_officer_answers_the_marktplein_request_and_nothing_closed_leaves(depot: Depot, tmp_path: Path) -> None:
    opened = depot.ok(OFFICER, "woo", "open", REQUEST, "--requester", "J. Jansen", "--subject", "marktplein 2024",
                      "--received", "2026-11-20")
    assert opened["deadline"] == "2026-12-18" and opened["organisation"] == "gm0001"  # four weeks
    added = depot.ok(OFFICER, "woo", "scope", REQUEST, "marktplein", "--from", "2024-01-01", "--to", "2024-12-31",
                     "--context", "1")
    assert added["documents"] == 8  # the hits; the messages around them are context
    shown = depot.ok(OFFICER, "woo", "show", REQUEST, "--documents")
    documents = {d["document_id"]: d for d in shown["documents"]}
    assert documents["WA-2024-0102-0002"]["context"] and "KANARIECONTEXT" in documents["WA-2024-0102-0002"]["text"]
    assert documents["WA-2024-0103-0001"]["restriction"].startswith("Overig (Woo art. 5.1 lid 2 sub h")
    assert shown["state"] == "in behandeling"
    assert {h["record_id"] for h in depot.ok(OFFICER, "hold", "list")["holds"]} == {
        f"WA-2024-010{n}" for n in range(1, 6)}

    sheet = tmp_path / "beoordeling.xlsx"
    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.append(["ID", "Beoordeling", "Beoordelingsgrond", "Toelichting", "Opgeschort"])
    for row in (["WA-2024-0101-0001", "Openbaarmaking", None, None, None],
                ["WA-2024-0101-0003", "Gedeeltelijk openbaar", "5.1.2e", "telefoonnummer", None],
                ["WA-2024-0102-0001", "Openbaarmaking", None, None, None],
                ["WA-2024-0102-0003", "Openbaarmaking", None, None, "yes"],
                ["WA-2024-0103-0001", "Geen openbaarmaking", "5.1.2h", "beveiliging bij de opening", None],
                ["WA-2024-0104-0001", "Geen openbaarmaking", "5.1.2f; 5.1.2e", None, None]):
        book.active.append(row)
    book.save(sheet)
    assert depot.ok(OFFICER, "woo", "decide", REQUEST, "--sheet", str(sheet)) == {
        "request_id": REQUEST, "decided": 6, "undecided": 2}
    out = tmp_path / "besluit"
    code, _, err = depot.run(OFFICER, "woo", "besluit", REQUEST, "--out", str(out))
    assert code == 2 and "E109" in err and "WA-2024-0101-0005" in err and "WA-2024-0105-0001" in err
    assert not out.exists()
    # Opening what the metadata leaves undecided needs a toelichting.
    code, _, err = depot.run(OFFICER, "woo", "decide", REQUEST, "--document", "WA-2024-0105-0001",
                             "--beoordeling", "Openbaarmaking")
    assert code == 2 and "toelichting" in err
    depot.ok(OFFICER, "woo", "decide", REQUEST, "--document", "WA-2024-0105-0001", "--beoordeling", "openbaar",
             "--toelichting", "getoetst: planning, geen belang geschaad")
    text = documents["WA-2024-0101-0005"]["text"]
    start = text.index("KANARIESPAN")
    depot.ok(OFFICER, "woo", "decide", REQUEST, "--document", "WA-2024-0101-0005", "--beoordeling",
             "Gedeeltelijk openbaar", "--ground", "5.1.2i", "--redact", f"{start}-{start + len('KANARIESPAN')}")
    depot.ok(OFFICER, "woo", "decide", REQUEST, "--document", "WA-2024-0102-0001", "--beoordeling",
             "Gedeeltelijk openbaar", "--ground", "5.1.2e", "--redact-name", "Ahmed")
    # The other organisation's officer may not decide.
    code, _, err = depot.run(OTHER_OFFICER, "woo", "decide", REQUEST, "--undecided", "--beoordeling", "openbaar")
    assert code == 2 and "E105" in err

    made = depot.ok(OFFICER, "woo", "besluit", REQUEST, "--out", str(out))
    assert made["path"] == str(out)
    everything = everything_in(out)
    for canary in CANARY_WORDS:
        assert canary not in everything, canary
    assert b"06-12345678" not in everything  # redacted automatically, 5.1.2e
    assert b"Ahmed" not in everything  # a name the officer redacted
    delivered = {p.name for p in (out / "documenten").iterdir()}
    assert delivered == {f"{d}.pdf" for d in ("WA-2024-0101-0001", "WA-2024-0101-0003", "WA-2024-0101-0005",
                                              "WA-2024-0102-0001", "WA-2024-0105-0001")}
    assert check_pdfa(out / "documenten" / "WA-2024-0101-0005.pdf").ok
    page = "".join(p.extract_text() or "" for p in PdfReader(out / "documenten" / "WA-2024-0101-0005.pdf").pages)
    assert "collegeoverleg" in page and "[gelakt: 5.1.2i]" in page
    inventory = (out / "inventarislijst.csv").read_text(encoding="utf-8-sig")
    assert "WA-2024-0103" in inventory and "5.1 lid 2 sub h" in inventory

    sheet_rows = list(openpyxl.load_workbook(out / "productierapport.xlsx").active.iter_rows(values_only=True))
    assert sheet_rows[0] == REPORT_COLUMNS
    report = {r[0]: dict(zip(REPORT_COLUMNS, r)) for r in sheet_rows[1:]}
    assert set(report) == {d for d, v in documents.items() if not v["context"]}
    for row in report.values():
        assert row["Matter"] == REQUEST and row["File type"] == "chat" and row["Family ID"] == row["ID"]
        assert row["Beoordeling"] in BEOORDELINGEN and row["Opgeschort"] in ("yes", None)
        assert re.fullmatch(r"(5\.[12]\.?\d?[a-i]?)(; 5\.[12]\.?\d?[a-i]?)*", row["Beoordelingsgrond"] or "5.2")
        assert isinstance(row["Datum"], datetime) and row["Document"] == f"{row['ID']}.pdf"
        assert row["Email Thread ID"] == row["ID"][:len("WA-2024-0101")]
    assert report["WA-2024-0101-0001"]["Datum"] == datetime(2024, 3, 12, 9, 2)  # Amsterdam local time, as exported
    assert report["WA-2024-0101-0001"]["Beoordeling"] == "Openbaarmaking"
    assert report["WA-2024-0101-0001"]["Zaaknummer"] == "ZAAK-2024-0017"
    assert report["WA-2024-0104-0001"]["Beoordelingsgrond"] == "5.1.2f; 5.1.2e"
    assert report["WA-2024-0102-0003"]["Opgeschort"] == "yes"
    assert report["WA-2024-0101-0005"]["Beoordeling"] == "Gedeeltelijk openbaar"
    assert report["WA-2024-0102-0001"]["Beoordelingsgrond"] == "5.1.2e"
    assert depot.ok(OFFICER, "woo", "show", REQUEST)["state"] == "besluit"
    code, _, err = depot.run(OFFICER, "woo", "decide", REQUEST, "--document", "WA-2024-0101-0001",
                             "--beoordeling", "Geen openbaarmaking", "--ground", "5.2")
    assert code == 2 and "besluit" in err  # no change after the besluit

    # The request's holds keep its records off a destruction list; the unrelated chat is due.
    drawn = depot.ok(MANAGER, "retention", "due")
    assert {i["record_id"] for i in drawn["items"]} == {"WA-2024-0199"}

    # The other organisation's Woo officer sees nothing of it, and finds none of its records.
    assert depot.ok(OTHER_OFFICER, "woo", "list")["requests"] == []
    for args in (("show", REQUEST), ("scope", REQUEST, "marktplein"), ("besluit", REQUEST, "--out", str(tmp_path / "x")),
                 ("sent", REQUEST), ("close", REQUEST, "--reason", "x"), ("extend", REQUEST, "--reason", "x")):
        code, out_text, err = depot.run(OTHER_OFFICER, "woo", *args)
        assert code == 2 and "E105" in err and "marktplein" not in out_text, (args, err)
    depot.ok(OTHER_OFFICER, "woo", "open", "2026-900", "--requester", "K. Krant", "--subject", "marktplein")
    code, _, err = depot.run(OTHER_OFFICER, "woo", "scope", "2026-900", "marktplein")
    assert code == 2 and "E105" in err

    # Closed only after it was sent and the objection period of six weeks has passed; then its holds go.
    code, _, err = depot.run(OFFICER, "woo", "close", REQUEST, "--reason", "onherroepelijk")
    assert code == 2 and "sent" in err
    sent = depot.ok(OFFICER, "woo", "sent", REQUEST)
    code, _, err = depot.run(OFFICER, "woo", "close", REQUEST, "--reason", "onherroepelijk")
    assert code == 2 and "objection period" in err
    config = load_config(depot.data)
    later = datetime.fromisoformat(sent["besluit_on"]).replace(tzinfo=AMSTERDAM) + timedelta(weeks=6, days=1)
    with Service(replace(config, clock=lambda: later), person=acting_person(config, OFFICER),
                 token=depot.tokens[OFFICER]) as service:
        closed, lifted = service.close_request(REQUEST, reason="besluit onherroepelijk")
    assert closed.state == "gesloten" and lifted == 5
    assert depot.ok(OFFICER, "hold", "list")["holds"] == []


def test_the_productierapport_matches_its_golden_workbook(tmp_path: Path) -> None:
    rows = [
        ReportRow("WA-2024-0101-0001", "WA-2024-0101", datetime.fromisoformat("2024-03-12T08:02:00+00:00"),
                  "Openbaarmaking", False, (), "", "", "ZAAK-2024-0017"),
        ReportRow("WA-2024-0101-0003", "WA-2024-0101", datetime.fromisoformat("2024-07-12T07:07:00+00:00"),
                  "Gedeeltelijk openbaar", True, ("5.1 lid 1 sub c", "5.1 lid 2 sub e"), "telefoonnummer", "", ""),
        ReportRow("WA-2024-0104", "WA-2024-0104", None, "Reeds openbaar", False, (), "",
                  "https://open.overheid.nl/documenten/1", ""),
    ]
    made = tmp_path / "productierapport.xlsx"
    made.write_bytes(productierapport(REQUEST, rows, created=datetime.fromisoformat("2026-12-01T10:00:00+00:00")))

    def cells(path: Path) -> list[list[object]]:
        sheet = openpyxl.load_workbook(path).active
        assert sheet is not None
        return [[(c.value, c.number_format if isinstance(c.value, datetime) else None) for c in row]
                for row in sheet.iter_rows()]

    assert cells(made) == cells(GOLDEN)
    golden = cells(GOLDEN)
    assert golden[1][6] == (datetime(2024, 3, 12, 9, 2), "yyyy-mm-dd hh:mm:ss")  # CET
    assert golden[2][6][0] == datetime(2024, 7, 12, 9, 7)  # CEST
    assert [v for v, _ in golden[2]][8:10] == ["yes", "5.1.1c; 5.1.2e"]
    assert NONE_FOUND not in {v for row in golden for v, _ in row}
    # The officer may hand the productierapport back as a sheet of decisions.
    assert [(r.document, r.beoordeling, r.grounds, r.opgeschort) for r in read_sheet(GOLDEN)] == [
        ("WA-2024-0101-0001", "Openbaarmaking", "", False),
        ("WA-2024-0101-0003", "Gedeeltelijk openbaar", "5.1.1c; 5.1.2e", True),
        ("WA-2024-0104", "Reeds openbaar", "", False)]


def test_a_whole_chat_a_picked_message_and_a_request_with_nothing_found(depot: Depot, tmp_path: Path) -> None:
    request = "2026-042"
    depot.ok(OFFICER, "woo", "open", request, "--requester", "K. Krant", "--subject", "beveiliging")
    assert depot.ok(OFFICER, "woo", "scope", request, "--record", "WA-2024-0103", "--whole")["documents"] == 1
    depot.ok(OFFICER, "woo", "scope", request, "--record", "WA-2024-0101", "--messages", "2")
    code, _, err = depot.run(OFFICER, "woo", "scope", request, "--record", "WA-2024-0103", "--messages", "1")
    assert code == 2 and "whole document" in err
    code, _, err = depot.run(OFFICER, "woo", "scope", request, "--record", "WA-2024-0101", "--messages", "40")
    assert code == 2 and "no message 40" in err
    sheet = tmp_path / "fout.csv"
    sheet.write_text("ID;Beoordeling\nWA-2024-0101-0002;Openbaarmaking\nWA-2024-0102-0009;Openbaarmaking\n",
                     encoding="utf-8")
    code, _, err = depot.run(OFFICER, "woo", "decide", request, "--sheet", str(sheet))
    assert code == 2 and "row 3" in err and "WA-2024-0102-0009" in err  # all or nothing
    assert depot.ok(OFFICER, "woo", "show", request, "--undecided")["documents"][-1]["decision"] is None
    code, _, err = depot.run(OFFICER, "woo", "decide", request, "--document", "WA-2024-0101-0002",
                             "--beoordeling", "Reeds openbaar")
    assert code == 2 and "link" in err
    depot.ok(OFFICER, "woo", "decide", request, "--document", "WA-2024-0101-0002", "--beoordeling", "Reeds openbaar",
             "--link", "https://open.overheid.nl/documenten/42")
    depot.ok(OFFICER, "woo", "decide", request, "--record", "WA-2024-0103", "--beoordeling", "Geen openbaarmaking",
             "--ground", "5.1 lid 2 sub h")
    out = tmp_path / "besluit"
    depot.ok(OFFICER, "woo", "besluit", request, "--out", str(out))
    assert not list((out / "documenten").iterdir())  # nothing decided open: no document delivered
    assert b"KANARIEGESLOTEN" not in everything_in(out) and b"schetsontwerp" not in everything_in(out)
    rows = list(openpyxl.load_workbook(out / "productierapport.xlsx").active.iter_rows(values_only=True))[1:]
    report = {r[0]: dict(zip(REPORT_COLUMNS, r)) for r in rows}
    assert report["WA-2024-0103"]["Beoordeling"] == "Geen openbaarmaking"
    assert report["WA-2024-0103"]["Beoordelingsgrond"] == "5.1.2h"
    assert report["WA-2024-0101-0002"]["Publieke link"] == "https://open.overheid.nl/documenten/42"

    depot.ok(OFFICER, "woo", "open", "2026-043", "--requester", "K. Krant", "--subject", "niets")
    depot.ok(OFFICER, "woo", "besluit", "2026-043", "--out", str(tmp_path / "leeg"))
    rows = list(openpyxl.load_workbook(tmp_path / "leeg" / "productierapport.xlsx").active.iter_rows(values_only=True))
    assert rows[1][0] == "2026-043" and rows[1][7] == NONE_FOUND


def test_a_besluit_made_by_a_worker_with_the_officers_credential(depot: Depot) -> None:
    from tests.test_jobs import worker

    request = "2026-044"
    depot.ok(OFFICER, "woo", "open", request, "--requester", "K. Krant", "--subject", "de boer")
    depot.ok(OFFICER, "woo", "scope", request, "--record", "WA-2024-0105", "--whole")
    code, _, err = depot.run(OFFICER, "woo", "besluit", request, "--queue")
    assert code != 0 and "undecided" in err  # refused when queued, not only when it runs
    depot.ok(OFFICER, "woo", "decide", request, "--record", "WA-2024-0105", "--beoordeling", "Openbaarmaking",
             "--toelichting", "besproken met de betrokkenen")
    job = depot.ok(OFFICER, "woo", "besluit", request, "--queue")
    code, _, err = depot.run(OTHER_OFFICER, "jobs", "show", job["job_id"])
    assert code == 2 and "E105" in err  # another organisation's officer does not see it
    assert worker(depot.data, "--once").returncode == 0
    done = depot.ok(OFFICER, "jobs", "show", job["job_id"])
    # The officer gave their own token when queueing: the worker makes the besluit with that credential.
    assert done["state"] == "done", done["error"]
    made = depot.data / done["report"]["path"]
    assert made.relative_to(depot.data / "dips") and (made / "productierapport.xlsx").is_file()
    assert len(list((made / "documenten").iterdir())) == 1
    assert depot.ok(OFFICER, "woo", "show", request)["state"] == "besluit"
