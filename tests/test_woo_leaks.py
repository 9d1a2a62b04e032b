"""What a requester and a researcher can learn, on the five marktplein chats of samples/woo-marktplein with
canary words planted: in a closed record (and in its free-text nadereBeschrijving), in a record restricted
until 2029, in a record whose openness nobody decided, and in passages the redaction removes (a phone
number, an e-mail address, an IBAN, a BSN, a name on the organisation's list, a sender with that name).
No canary is in any delivered byte (file names, raw bytes, pdftotext, inflated PDF streams, XMP, outlines,
JSON and HTML unescaped, zip members), and a researcher's search or query DIP for a canary answers exactly
as for a word found nowhere. A Woo delivery waits for a decision on every record in scope, lists the
withheld ones with the ground from their metadata, and holds its records."""
from __future__ import annotations

import html
import io
import json
import re
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pikepdf
import pytest
import yaml
from access_factory import make_config

from edepot.cli import main
from ingest.pipeline import ingest
from ingest.sip import create_sip
from kernel.config import Config
from preservation.catalogue import open_catalogue
from preservation.retention import RetentionSettings, due_for_destruction, refresh_schedules
from preservation.storage import configured_locations

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "woo-marktplein"
NOWHERE = "kanarienergens"
ON = "2026-11-23"

# record kenmerk → lines appended to the sample chat (each mentions the marktplein, so the request finds it)
PLANTED = {
    "WA-2024-0101": [  # open: the canaries are in passages redaction removes
        "12-03-2024 09:12 - Wethouder Jansen: Voor het marktplein: bel 0687654321 of mail kanariemail@voorbeeld.nl",
        "12-03-2024 09:13 - Petra de Vries: Marktplein-borg naar NL91ABNA0417164300, BSN aanvrager 111222333.",
        "12-03-2024 09:14 - Karel Kanarievogel: Namens de vereniging: het marktplein moet groener.",
        "12-03-2024 09:15 - Wethouder Jansen: Karel Kanarievogel krijgt antwoord over het marktplein.",
    ],
    "WA-2024-0103": ["20-05-2024 14:06 - Karin Smit: Codewoord kanariegesloten bij het marktplein."],  # closed
    "WA-2024-0104": ["08-07-2024 10:15 - Joost Mulder: Prijs kanariebeperkt voor het marktplein."],  # until 2029
    "WA-2024-0105": ["03-09-2024 08:55 - Petra de Vries: Het marktplein en kanarieonbepaald."],  # undecided
}
NOTE_CANARY = "kanarienotitie"  # in the closed record's nadereBeschrijving (free text, never a ground)
REDACTED = ("0687654321", "kanariemail", "NL91ABNA0417164300", "111222333", "Kanarievogel")
WITHHELD = ("kanariegesloten", "kanariebeperkt", "kanarieonbepaald", NOTE_CANARY, "beveiligers", "bestrating")
CANARIES = (*REDACTED, *WITHHELD)


@dataclass(frozen=True)
class Archive:
    config: Config
    aips: dict[str, str]  # kenmerk → AIP id


def cli(config: Config, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--data-dir", str(config.data_dir), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    root = tmp_path_factory.mktemp("woo")
    config = make_config(root)
    config.data_dir.mkdir(parents=True)
    (config.data_dir / "namen.txt").write_text("mevrouw Bakker\nKarel Kanarievogel\n", encoding="utf-8")
    (config.data_dir / "edepot.toml").write_text('[redaction]\nnames = "namen.txt"\n', encoding="utf-8")
    aips = {}
    for meta in sorted(SAMPLES.glob("*.yaml")):
        metadata = yaml.safe_load(meta.read_text(encoding="utf-8"))
        kenmerk = metadata["identificatie"]["kenmerk"]
        chat = root / meta.with_suffix(".txt").name
        chat.write_text(meta.with_suffix(".txt").read_text(encoding="utf-8")
                        + "".join(line + "\n" for line in PLANTED.get(kenmerk, ())), encoding="utf-8")
        if "nadereBeschrijving" in metadata.get("beperkingGebruik", {}):
            metadata["beperkingGebruik"]["nadereBeschrijving"] += f" ({NOTE_CANARY})"
        planted = root / meta.name
        planted.write_text(yaml.safe_dump(metadata, allow_unicode=True), encoding="utf-8")
        aips[kenmerk] = ingest(create_sip([chat], root / f"sip-{meta.stem}", config, metadata_file=planted).path,
                               config).aip_id
    return Archive(config, aips)


def delivered_text(folder: Path) -> str:
    """Everything a recipient can read from a delivery, folded to lower case: file names, every file's
    bytes, every PDF's pdftotext output, inflated streams, XMP, outlines and document info, JSON and HTML
    with escapes undone, and the members of any zip (an XLSX, an export)."""
    chunks: list[str] = []
    for path in sorted(folder.rglob("*")):
        chunks.append(path.relative_to(folder).as_posix())
        if path.is_file():
            chunks += readable(path.read_bytes(), path)
    return "\n".join(chunks).casefold()


def readable(data: bytes, path: Path) -> list[str]:
    out = [data.decode("utf-8", "ignore"), data.decode("latin-1")]
    if data.startswith(b"%PDF"):
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
        out.append(text.stdout.decode("utf-8"))
        with pikepdf.open(io.BytesIO(data)) as pdf:
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream):
                    try:
                        out.append(obj.read_bytes().decode("latin-1"))
                    except pikepdf.PdfError:
                        out.append(obj.read_raw_bytes().decode("latin-1"))
            out.append(str(pdf.open_metadata()))
            out += [str(value) for value in pdf.docinfo.values()]
            with pdf.open_outline() as outline:
                stack = list(outline.root)
                while stack:
                    item = stack.pop()
                    out.append(item.title)
                    stack += item.children
    if path.suffix in (".json", ".html"):
        text = data.decode("utf-8")
        out.append(html.unescape(text))
        if path.suffix == ".json":
            out.append(json.dumps(json.loads(text), ensure_ascii=False))
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as members:
            for name in members.namelist():
                out += [name, *readable(members.read(name), Path(name))]
    return out


def assert_no_canary(folder: Path) -> str:
    text = delivered_text(folder)
    assert "marktplein" in text and "herinrichting" in text  # the reader does read the delivery
    for canary in CANARIES:
        assert canary.casefold() not in text, canary
    return text


def test_a_researchers_query_dip_holds_no_canary(archive: Archive, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(archive.config, "dip", "create", "--query", "marktplein", "--requester", "R. Onderzoeker",
                         "--purpose", "onderzoek", "--date", ON, "--out", str(tmp_path / "dip"), "--json",
                         capsys=capsys)
    assert code == 0, err
    delivered = {r["record_id"] for r in json.loads(out)["records"]}
    assert delivered == {"WA-2024-0101", "WA-2024-0102"}  # the closed, restricted and undecided are not even named
    text = assert_no_canary(tmp_path / "dip")
    assert "[gelakt: 5.1.2e] persoon a" in text and "[gelakt: 5.1.1e]" in text
    assert "wa-2024-0103" not in text and "openbaarheid" not in text


@pytest.mark.parametrize("query", [*REDACTED, *WITHHELD[:3], "marktplein {}", "marktplein -{}"])
def test_a_researcher_learns_nothing_from_a_query_about_what_they_may_not_see(
        archive: Archive, tmp_path: Path, capsys: pytest.CaptureFixture[str], query: str) -> None:
    def answers(word: str) -> list[tuple[int, str, str, list[str]]]:
        text = query.format(word) if "{}" in query else word
        runs = [cli(archive.config, "search", "--date", ON, *json_flag, "--", *text.split(), capsys=capsys)
                for json_flag in ((), ("--json",))]
        out = tmp_path / f"dip-{word}"
        code, made, err = cli(archive.config, "dip", "create", "--query", text, "--requester", "R", "--purpose", "p",
                              "--date", ON, "--out", str(out), "--json", capsys=capsys)
        if code == 0:  # a DIP has its own id and date: what it holds is compared
            made = json.dumps([(r["record_id"], r["messages"], r["redactions"]) for r in json.loads(made)["records"]])
        files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) if out.exists() else []
        return [(c, re.sub(re.escape(word), "W", o, flags=re.I), re.sub(re.escape(word), "W", e, flags=re.I), files)
                for c, o, e in (*runs, (code, made, err))]

    canary = query if "{}" not in query else REDACTED[0]
    assert answers(canary) == answers(NOWHERE)


def test_a_researchers_participant_filter_cannot_test_a_redacted_name(archive: Archive,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    found = [cli(archive.config, "search", "marktplein", "--participant", who, "--date", ON, "--json", capsys=capsys)
             for who in ("Kanarievogel", NOWHERE)]
    assert found[0][0] == found[1][0] == 0
    assert json.loads(found[0][1])["hits"] == json.loads(found[1][1])["hits"] == []
    archivist = cli(archive.config, "search", "marktplein", "--participant", "Kanarievogel", "--as", "archivist",
                    "--json", capsys=capsys)
    assert len(json.loads(archivist[1])["hits"]) == 1  # the filter itself works


def test_a_woo_delivery_waits_for_decisions_lists_grounds_and_holds_its_records(
        archive: Archive, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = RetentionSettings()
    with_catalogue = open_catalogue(archive.config.catalogue_url)
    try:
        refresh_schedules(archive.config, with_catalogue, stores=configured_locations(archive.config, with_catalogue),
                          person="W. de Wit")
        due_before = {s.record_id for s in due_for_destruction(with_catalogue, settings, date(2026, 11, 24))}
    finally:
        with_catalogue.close()
    assert due_before == set(archive.aips)  # P1Y after 2024-12-31: every record is due
    woo = ["dip", "create", "--woo", "2026-041", "--query", "marktplein", "--from", "2024-01-01", "--to",
           "2024-12-31", "--requester", "J. Jansen", "--purpose", "Woo-verzoek marktplein 2024", "--by", "W. de Wit",
           "--date", ON, "--out", str(tmp_path / "woo")]
    code, out, err = cli(archive.config, *woo, capsys=capsys)
    assert code == 2 and "E109" in err and "WA-2024-0105" in err and len(err.strip().splitlines()) == 1
    assert not any(r in err for r in ("WA-2024-0101", "WA-2024-0103", "WA-2024-0104"))
    assert not (tmp_path / "woo").exists() and cli(archive.config, "hold", "list", capsys=capsys)[1] == "no holds\n"

    for label in ("Nader te bepalen", "Onbekend"):  # undecided again, and a label the MDTO list does not have
        refused = cli(archive.config, "access", "set", "--record", "WA-2024-0105", "--type", label, "--ground",
                      "Woo art. 5.2 lid 1", "--reason", "r", "--by", "W. de Wit", capsys=capsys)
        assert refused[0] == 2 and "Traceback" not in refused[2]
    code, out, err = cli(archive.config, "access", "set", "--record", "WA-2024-0105", "--type", "Overig", "--ground",
                         "Woo art. 5.2 lid 1", "--reason", "persoonlijke beleidsopvattingen", "--by", "W. de Wit",
                         "--json", capsys=capsys)
    assert code == 0, err
    assert json.loads(out)["openness"] == "niet openbaar"
    code, out, err = cli(archive.config, *woo, "--json", capsys=capsys)
    assert code == 0, err
    text = assert_no_canary(tmp_path / "woo")
    assert "nog niet bepaald" not in text and "niet vastgesteld" not in text
    rows = {r["kenmerk"]: r for r in csv_rows(tmp_path / "woo" / "inventarislijst.csv") if not r["bericht"]}
    assert {k: (r["besluit"], r["gronden"]) for k, r in rows.items()} == {
        "WA-2024-0103": ("niet openbaar", "5.1 lid 2 sub h"),  # one notation with the redactions' grounds
        "WA-2024-0104": ("niet openbaar", "5.1 lid 2 sub f (tot en met 2029-12-31)"),
        "WA-2024-0105": ("niet openbaar", "5.2 lid 1")}
    assert "opening marktplein" in rows["WA-2024-0103"]["document"].casefold()  # the description is public

    catalogue = open_catalogue(archive.config.catalogue_url)
    try:
        holds = catalogue.holds(active_only=True)
        assert {h.record_id for h in holds if h.reason == "Woo-verzoek 2026-041"} == set(archive.aips)
        assert due_for_destruction(catalogue, settings, date(2026, 11, 24)) == []
        events = catalogue.events(archive.aips["WA-2024-0105"])
        assert any(e.type == "metadata modification" and "W. de Wit" in e.detail and "person:W. de Wit" in e.agents
                   for e in events)
    finally:
        catalogue.close()


def csv_rows(path: Path) -> list[dict[str, str]]:
    from access.inventory import read_csv

    return read_csv(path)


def test_the_archives_own_dip_is_labelled_and_never_a_requesters(archive: Archive, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(archive.config, "dip", "create", "--aip", archive.aips["WA-2024-0103"], "--out",
                       str(tmp_path / "own"), capsys=capsys)
    assert code == 0, err
    inventaris = (tmp_path / "own" / "INVENTARIS.txt").read_text(encoding="utf-8")
    assert "Eigen gebruik archief: niet voor verstrekking aan derden" in inventaris
    assert "kanariegesloten" in (tmp_path / "own" / "conversation.json").read_text(encoding="utf-8")
    for extra in (("--as", "archivist"), ("--woo", "2026-041")):
        code, _, err = cli(archive.config, "dip", "create", "--aip", archive.aips["WA-2024-0103"], *extra,
                           "--requester", "J. Jansen", "--purpose", "p", "--out", str(tmp_path / "x"), capsys=capsys)
        assert (code == 0) == (extra[0] == "--woo"), err  # --as is gone; a Woo delivery lists the record
    assert "kanariegesloten" not in delivered_text(tmp_path / "x")
    holds = json.loads(cli(archive.config, "hold", "list", "--json", capsys=capsys)[1])["holds"]
    assert [h["reason"] for h in holds if h["record_id"] == "WA-2024-0103"] == ["Woo-verzoek 2026-041"]  # once
