"""DIPs for requesters: restrictions by date and permit, redaction that leaves nothing behind in any file,
media of redacted messages withheld, the Woo inventory matching the DIP, expiry and the access log."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from access_factory import PERSONAL_SECRETS, RESTRICTED_SECRETS, Archive, archive_on_backend
from pypdf import PdfReader

from access.dip import DipRequest, build_dip, create_dip
from access.inventory import read_csv
from access.purge import purge_expired
from access.redaction import ManualRedaction, Withholding
from kernel.errors import AccessDenied
from preservation.access_register import DipState, open_register
from preservation.catalogue import open_catalogue
from preservation.pdfa_check import check_pdfa
from preservation.search_index import Filters
from tests.conftest import TEST_OPERATOR, store_of

MAKER = TEST_OPERATOR  # who makes and purges the DIPs of these tests


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def archive(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Archive:
    """The shared archive, its catalogue on SQLite and then on PostgreSQL."""
    return archive_on_backend(request, tmp_path_factory)


@pytest.fixture(scope="module")
def names(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("names") / "namen.txt"
    path.write_text("# namen die gelakt worden\nPetra de Vries\nanouk bakker\n", encoding="utf-8")
    return path


def everything_in(folder: Path) -> bytes:
    """Every byte of every file, with the text of every PDF and of every member of any zip."""
    chunks = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        chunks.append(data)
        if data.startswith(b"%PDF"):
            chunks.append("".join(page.extract_text() or "" for page in PdfReader(path).pages).encode("utf-8"))
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                chunks += [archive.read(name) for name in archive.namelist()]
    return b"\n".join(chunks)


def woo_request(names: Path, **changes: object) -> DipRequest:
    request = DipRequest(requester="K. Journalist", purpose="Woo-verzoek marktplein", on=date(2026, 11, 23), redact_names=(names,), query="vergunning OR bel OR iban OR buurman "
                         "OR schetsontwerp OR foto OR persoonlijk OR kapvergunning")
    return replace(request, **changes)  # type: ignore[arg-type]


def test_redacted_strings_are_absent_from_every_file_of_the_dip(archive: Archive, names: Path,
                                                               tmp_path: Path) -> None:
    result = build_dip(tmp_path / "dip", woo_request(names, manual=(ManualRedaction(6, 0, 11, "5.2", archive.personal),)),
                       archive.config, store=store_of(archive.config), by=MAKER)
    content = everything_in(result.path)
    for secret in (*PERSONAL_SECRETS, *RESTRICTED_SECRETS, "Persoonlijk"):
        assert secret.encode("utf-8") not in content, secret
    texts = " ".join(m["text"] for path in result.path.rglob("conversation.json")
                     for m in json.loads(path.read_text(encoding="utf-8"))["messages"])
    assert "[gelakt: 5.1.2e]" in texts and "[gelakt: 5.1.1e]" in texts and "[gelakt: 5.2]" in texts
    assert "vergunning" in texts  # what is not redacted is delivered as written
    pdf_text = "".join(p.extract_text() for pdf in result.path.rglob("conversation.pdf") for p in PdfReader(pdf).pages)
    assert "[gelakt: 5.1.2e]" in pdf_text and "vergunning" in pdf_text
    for pdf in [*result.path.rglob("conversation.pdf"), result.path / "inventarislijst.pdf"]:
        assert check_pdfa(pdf).ok, pdf
    check = subprocess.run(["sha256sum", "--quiet", "-c", "manifest-sha256.txt"], cwd=result.path,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    listed = {line.split("  ", 1)[1] for line in (result.path / "manifest-sha256.txt").read_text().splitlines()}
    on_disk = {p.relative_to(result.path).as_posix() for p in result.path.rglob("*") if p.is_file()}
    assert on_disk - listed == {"manifest-sha256.txt", "INVENTARIS.txt"}


def test_the_inventory_matches_the_dip(archive: Archive, names: Path, tmp_path: Path) -> None:
    request = woo_request(names, withhold=(Withholding(5, "5.1 lid 2 sub i", archive.personal),), woo_request="2026-041")
    result = build_dip(tmp_path / "dip", request, archive.config, store=store_of(archive.config), by=MAKER)
    rows = read_csv(result.path / "inventarislijst.csv")
    assert [int(r["nr"]) for r in rows] == list(range(1, len(rows) + 1))
    delivered = {}
    for path in result.path.rglob("conversation.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        for m in data["messages"]:
            delivered[(path.parent, m["seq"])] = m
    by_record = {r.record_id: r for r in result.records}
    listed_public = [r for r in rows if r["besluit"] in ("openbaar", "deels openbaar")]
    assert len(listed_public) == len(delivered) - sum(1 for m in delivered.values()
                                                      if m["text"].startswith("[niet openbaar"))
    for row in rows:
        record = by_record[row["kenmerk"]]
        if not record.decision.allowed:  # one row for the whole record, its legal ground from the metadata
            assert row["besluit"] == "niet openbaar" and row["bericht"] == "" and row["lakkingen"] == "0"
            assert row["gronden"] in ("5.1 lid 2 sub i", "Archiefwet 1995 art. 15 lid 1 sub b (tot en met "
                                                                   "2030-12-31)"), row
            continue
        folder = result.path / record.folder if record.folder else result.path
        message = delivered[(folder, int(row["bericht"]))]
        assert row["datum"] == message["timestamp"]
        if row["besluit"] == "openbaar":
            assert "[gelakt" not in message["text"] and "[gelakt" not in (message["sender"] or "")
        elif row["besluit"] == "deels openbaar":
            assert "[gelakt" in message["text"] + (message["sender"] or "") and row["gronden"]
            assert message["text"].count("[gelakt") <= int(row["lakkingen"])
        else:
            assert message["text"] == "[niet openbaar: 5.1.2i]" and row["gronden"] == "5.1 lid 2 sub i"
    refused = {r["kenmerk"] for r in rows if r["besluit"] == "niet openbaar" and not r["bericht"]}
    assert refused == {r.record_id for r in result.records if not r.decision.allowed} and len(refused) == 2
    assert check_pdfa(result.path / "inventarislijst.pdf").ok
    pdf_text = "".join(p.extract_text() for p in PdfReader(result.path / "inventarislijst.pdf").pages)
    assert all(r["document"].split()[0] in pdf_text for r in rows)


def test_a_researcher_cannot_obtain_a_restricted_record_before_its_date_and_can_after(archive: Archive,
                                                                                      tmp_path: Path) -> None:
    request = DipRequest(requester="R. Onderzoeker", purpose="onderzoek", on=date(2030, 12, 31))
    with pytest.raises(AccessDenied) as refused:
        build_dip(tmp_path / "before", request, archive.config, store=store_of(archive.config), by=MAKER, aip_ids=(archive.restricted,))
    assert "2031-01-01" in refused.value.message
    assert not (tmp_path / "before").exists()
    after = build_dip(tmp_path / "after", replace(request, on=date(2031, 1, 1)), archive.config, store=store_of(archive.config), by=MAKER,
                      aip_ids=(archive.restricted,))
    assert b"zwaluwnest" in (after.path / "conversation.json").read_bytes()
    with pytest.raises(AccessDenied):
        build_dip(tmp_path / "closed", replace(request, on=date(2099, 1, 1)), archive.config, store=store_of(archive.config), by=MAKER,
                  aip_ids=(archive.closed,))


def test_a_permit_lets_its_holder_have_the_record_and_is_logged(archive: Archive, tmp_path: Path) -> None:
    from edepot.cli import main

    assert main(["--data-dir", str(archive.config.data_dir), "access", "permit", "--record", archive.closed,
                 "--to", "Prof. Toegang", "--until", "2099-01-01", "--reason", "onderzoek naar beveiliging"]) == 0
    request = DipRequest(requester="Prof. Toegang", purpose="onderzoek", on=date(2026, 11, 23))
    result = build_dip(tmp_path / "permitted", request, archive.config, store=store_of(archive.config), by=MAKER, aip_ids=(archive.closed,))
    assert b"ijsvogel" in (result.path / "conversation.json").read_bytes()
    with open_register(archive.config.catalogue_url) as register:
        actions = [(e.action, e.requester) for e in register.log("Prof. Toegang")]
    assert actions == [("permit", "Prof. Toegang"), ("dip-delivered", "Prof. Toegang")]


def test_media_of_redacted_messages_are_withheld_and_the_chat_file_never_delivered(archive: Archive, names: Path,
                                                                                  tmp_path: Path) -> None:
    request = DipRequest(requester="K. Journalist", purpose="Woo", on=date(2026, 11, 23),
                         manual=(ManualRedaction(14, 0, 13, "5.1 lid 2 sub i"),))
    result = build_dip(tmp_path / "dip", request, archive.config, store=store_of(archive.config), by=MAKER, aip_ids=(archive.open,))
    media = {p.name for p in (result.path / "media").iterdir()}
    assert "00000005-PHOTO-2024-03-14-10-21-07.jpg" in media  # an unredacted message keeps its photo
    assert not any("Schetsontwerp" in name for name in media)  # the redacted message's PDF is withheld
    assert not any(name.endswith(".txt") for name in media)
    assert not (result.path / "original").exists()  # the export holds what was redacted
    delivered = json.loads((result.path / "conversation.json").read_text(encoding="utf-8"))
    message = next(m for m in delivered["messages"] if m["seq"] == 14)
    assert message["attachments"] == [] and "[bijlage achtergehouden: 5.1.2i]" in message["text"]
    viewer = (result.path / "viewer.html").read_text(encoding="utf-8")
    assert "http://" not in viewer and "https://" not in viewer.replace("https://maps.google.com", "")
    assert "<script src" not in viewer and "default-src 'none'" in viewer
    assert "data:image/jpeg;base64," in viewer and "[gelakt: 5.1.2i]" in viewer
    assert all(f'id="m{m["seq"]}"' in viewer for m in delivered["messages"] if m["sender"])  # every message shown
    assert viewer.count('class="day"') == len({m["timestamp"][:10] for m in delivered["messages"]})


def test_the_archives_own_dip_is_whole_and_unredacted(archive: Archive, tmp_path: Path) -> None:
    result = create_dip(archive.personal, tmp_path / "own", archive.config, store=store_of(archive.config), by=MAKER)
    text = (result.path / "conversation.json").read_text(encoding="utf-8")
    assert "06-12345678" in text and (result.path / "original" / "personal.txt").is_file()


def test_expired_dips_are_purged_and_logged(archive: Archive, tmp_path: Path) -> None:
    request = DipRequest(requester="Tijdelijk", purpose="inzage", on=date(2026, 11, 23), expires=date(2026, 11, 30))
    short = build_dip(tmp_path / "short", request, archive.config, store=store_of(archive.config), by=MAKER, aip_ids=(archive.personal,))
    long = build_dip(tmp_path / "long", replace(request, expires=date(2026, 12, 31)), archive.config, store=store_of(archive.config), by=MAKER,
                     aip_ids=(archive.personal,))
    assert purge_expired(archive.config, store_of(archive.config).register, by=MAKER, on=date(2026, 11, 30)) == []  # the last day still counts
    removed = purge_expired(archive.config, store_of(archive.config).register, by=MAKER, on=date(2026, 12, 1))
    assert [r.dip_id for r in removed] == [short.dip_id] and removed[0].removed
    assert not short.path.exists() and long.path.exists()
    with open_register(archive.config.catalogue_url) as register:
        states = {d.dip_id: d.state for d in register.dips()}
        log = [e for e in register.log("Tijdelijk") if e.dip_id == short.dip_id]
    assert states[short.dip_id] is DipState.PURGED and states[long.dip_id] is DipState.DELIVERED
    assert [e.action for e in log] == ["dip-delivered", "dip-purged"]
    assert log[0].until == date(2026, 11, 30) and log[0].purpose == "inzage"
    assert purge_expired(archive.config, store_of(archive.config).register, by=MAKER, on=date(2026, 12, 2)) == []  # once


def test_every_delivery_leaves_a_premis_event(archive: Archive, tmp_path: Path) -> None:
    request = DipRequest(requester="Gebeurtenis", purpose="controle", on=date(2026, 11, 23),
                         query="vergunning", filters=Filters(aip=archive.personal))
    result = build_dip(tmp_path / "dip", request, archive.config, store=store_of(archive.config), by=MAKER)
    catalogue = open_catalogue(archive.config.catalogue_url)
    try:
        events = catalogue.events(archive.personal)
    finally:
        catalogue.close()
    assert any(e.type == "dissemination" and result.dip_id in e.detail and "Gebeurtenis" in e.detail for e in events)


def test_command_line_dip_create_purge_and_log(archive: Archive, names: Path, tmp_path: Path) -> None:
    def edepot(*args: str | Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "edepot.cli", "--data-dir", str(archive.config.data_dir),
                               *map(str, args)], capture_output=True, text=True, timeout=300)

    made = edepot("dip", "create", "--query", "vergunning", "--requester", "CLI", "--purpose", "test", "--json",
                  "--redact-names", names, "--redact", f"{archive.personal}:6:0-11:5.2", "--expires", "2099-01-01",
                  "--out", tmp_path / "dip")
    assert made.returncode == 0, made.stderr
    document = json.loads(made.stdout)
    assert document["expires"] == "2099-01-01" and all(r["delivered"] for r in document["records"])  # no Woo request:
    listed = {r["aip_id"] for r in document["records"]}
    assert archive.personal in listed and not listed & {archive.restricted, archive.closed}  # not even listed
    refused = edepot("dip", "create", "--aip", archive.restricted, "--requester", "CLI", "--purpose", "test",
                     "--out", tmp_path / "refused")
    assert refused.returncode == 2 and "E107" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    bad = edepot("dip", "create", "--aip", archive.open, "--requester", "CLI", "--purpose", "x",
                 "--redact", "6:9-3:onzin", "--out", tmp_path / "bad")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    listed = edepot("dip", "list", "--json")
    assert any(d["dip_id"] == document["dip_id"] for d in json.loads(listed.stdout)["dips"])
    log = json.loads(edepot("access", "log", "--requester", "CLI", "--json").stdout)["entries"]
    assert [e["action"] for e in log] == ["dip-delivered"] and log[0]["until"] == "2099-01-01"
    assert edepot("dip", "purge", "--json").returncode == 0
    assert edepot("access", "permits", "--json").returncode == 0


def test_the_own_dip_is_found_by_kenmerk_and_its_pdf_and_viewer_say_what_they_hold(archive: Archive,
                                                                                   tmp_path: Path) -> None:
    catalogue = open_catalogue(archive.config.catalogue_url)
    kenmerk = catalogue.aip(archive.open).record_id
    catalogue.close()
    result = create_dip(kenmerk, tmp_path / "own", archive.config, store=store_of(archive.config), by=MAKER)  # the kenmerk, not the AIP id
    assert result.aip_id == archive.open
    page = (result.path / "viewer.html").read_text(encoding="utf-8")
    assert "<h1>Eigen gebruik archief: niet voor verstrekking aan derden</h1>" in page
    assert "Verstrekt aan eigen gebruik archief" not in page
    assert '<audio controls preload="metadata" src="media/00000008-AUDIO-2024-03-14-10-25-33.opus.flac"' in page
    text = "\n".join(p.extract_text() for p in PdfReader(result.path / "conversation.pdf").pages)
    assert "Verstrekt aan" not in text and "Verstrekt voor" in text
    pages = PdfReader(result.path / "conversation.pdf").pages
    assert all(f"Kenmerk {kenmerk}" in p.extract_text() for p in pages)  # on every page, the title page too
    assert "10:25:33 · bericht 9" in text and "niet opgenomen" not in text  # the whole chat: no gap


def test_a_selection_shows_each_messages_number_and_the_gaps_between(archive: Archive, tmp_path: Path) -> None:
    request = DipRequest(requester="K. Journalist", purpose="Woo-verzoek",
                         on=date(2026, 11, 23), query="schetsontwerp", filters=Filters(aip=archive.open))
    result = build_dip(tmp_path / "dip", request, archive.config, store=store_of(archive.config), by=MAKER)
    text = "\n".join(p.extract_text() for p in PdfReader(result.path / "conversation.pdf").pages)
    delivered = json.loads((result.path / "conversation.json").read_text(encoding="utf-8"))["messages"]
    numbers = [m["seq"] for m in delivered]
    assert numbers and numbers[0] > 1
    for seq in numbers:
        assert f"bericht {seq}\n" in text or f"bericht {seq} " in text
    missing_before = numbers[0] - 1
    assert f"— {missing_before} bericht{'en' if missing_before != 1 else ''} niet opgenomen —" in text
    assert "tot en met" in text  # the title page says up to which number the export goes
    viewer_page = (result.path / "viewer.html").read_text(encoding="utf-8")
    assert "niet opgenomen —</div>" in viewer_page
