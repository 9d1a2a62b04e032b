"""A small archive for the access tests: four chats ingested through the real pipeline and indexed.

    open        the bundled iOS sample (photo, voice note, PDF), openbaar, zaak Z-2024-017 "Herinrichting Marktplein"
    personal    an Android chat full of personal data (phones, e-mail, IBAN, BSN, names), openbaar, zaak Z-2024-017,
                classificatie 11.1 Vergunningen
    restricted  beperkt openbaar until 2030-12-31 (Archiefwet 1995 art. 15), its own secret words and sender
    closed      niet openbaar (Woo 5.1 lid 2 sub i), likewise
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from ingest.pipeline import ingest
from ingest.sip import create_sip
from kernel.config import Config, load_config

REPO = Path(__file__).resolve().parents[1]
SAMPLE = next((REPO / "samples" / "whatsapp-ios-nl").glob("*.zip"))
FIXED_NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=timezone.utc)

PERSONAL_CHAT = """\
14-03-2024 10:15 - Petra de Vries: Goedemorgen, de vergunning voor het Café op het marktplein is binnen.
14-03-2024 10:16 - Jan Jansen: Mooi! Bel me op 06-12345678 of mail jan.jansen@voorbeeld.nl
14-03-2024 10:17 - Petra de Vries: Het IBAN is NL91ABNA0417164300 en het BSN van de aanvrager is 111222333.
14-03-2024 10:18 - +31 6 98765432: Ik ben de buurman, mijn nummer is 020-7654321.
15-03-2024 09:00 - Jan Jansen: De vergunningen voor de terrassen volgen morgen.
15-03-2024 09:05 - Petra de Vries: Persoonlijk vind ik dit een slecht plan van de wethouder.
16-04-2024 11:00 - Jan Jansen: Overleg met Anouk Bakker over de kapvergunning.
"""

RESTRICTED_CHAT = """\
14-03-2024 11:00 - Gerrit Geheimhouder: Het zwaluwnest-dossier: de vergunning ligt nog bij de rechter.
14-03-2024 11:05 - Ineke Stil: Niets over zwaluwnest naar buiten brengen.
"""

CLOSED_CHAT = """\
20-05-2024 14:00 - Ruud Roerdomp: Operatie ijsvogel: vergunning voor de beveiliging is rond.
"""

# Strings that must never reach a researcher's DIP or search snippets.
PERSONAL_SECRETS = ("06-12345678", "jan.jansen@voorbeeld.nl", "NL91ABNA0417164300", "111222333", "98765432",
                    "020-7654321", "Anouk Bakker", "Petra de Vries")
RESTRICTED_SECRETS = ("zwaluwnest", "Gerrit Geheimhouder", "Ineke Stil", "Overleg zwaluwnest", "ijsvogel",
                      "Ruud Roerdomp", "Operatie ijsvogel")

ZAAK = {"identificatie": {"kenmerk": "Z-2024-017", "bron": "Zaaksysteem"}, "naam": "Herinrichting Marktplein"}


@dataclass(frozen=True)
class Archive:
    config: Config
    open: str  # AIP ids
    personal: str
    restricted: str
    closed: str
    root: Path


def make_config(root: Path, catalogue_url: str | None = None) -> Config:
    """A configuration on `root`/data; with `catalogue_url`, its edepot.toml names that catalogue."""
    if catalogue_url:
        (root / "data").mkdir(parents=True, exist_ok=True)
        (root / "data" / "edepot.toml").write_text(f'[catalogue]\nurl = "{catalogue_url}"\n', encoding="utf-8")
    loaded = load_config(root / "data", clock=lambda: FIXED_NOW)
    shared = REPO.parent / "shared" / "standards"
    return dataclasses.replace(loaded, schema_dir=shared if shared.is_dir() else None)


def _ingest(root: Path, config: Config, name: str, export: Path, metadata: dict) -> str:
    meta = root / f"{name}.yaml"
    meta.write_text(yaml.safe_dump(metadata, allow_unicode=True), encoding="utf-8")
    sip = create_sip([export], root / f"sip-{name}", config, metadata_file=meta)
    return ingest(sip.path, config).aip_id


def build_archive(root: Path, catalogue_url: str | None = None) -> Archive:
    """Ingest the four chats and build the search index from the stored AIPs (`reindex`)."""
    from access.search import reindex
    from preservation.unit_of_work import open_unit_of_work

    config = make_config(root, catalogue_url)
    exports = root / "exports"
    exports.mkdir(parents=True)
    for name, text in (("personal", PERSONAL_CHAT), ("restricted", RESTRICTED_CHAT), ("closed", CLOSED_CHAT)):
        (exports / f"{name}.txt").write_text(text, encoding="utf-8")
    open_id = _ingest(root, config, "open", SAMPLE, {
        "naam": "Herinrichting Marktplein (groepsapp)", "beperkingGebruik": {"type": "Geen beperking"},
        "zaak": ZAAK})
    personal = _ingest(root, config, "personal", exports / "personal.txt", {
        "naam": "Vergunningen marktplein", "beperkingGebruik": {"type": "Geen beperking"}, "zaak": ZAAK,
        "classificatie": {"label": "Vergunningen", "code": "11.1", "begrippenlijst": "Taakvelden"}})
    restricted = _ingest(root, config, "restricted", exports / "restricted.txt", {
        "naam": "Overleg zwaluwnest",
        "beperkingGebruik": {"type": {"label": "Beperkt openbaar", "begrippenlijst": "Openbaarheid"},
                             "documentatie": "Archiefwet 1995 art. 15 lid 1 sub b",
                             "termijn": {"einddatum": "2030-12-31"}}})
    closed = _ingest(root, config, "closed", exports / "closed.txt", {
        "naam": "Operatie ijsvogel",
        "beperkingGebruik": {"type": {"label": "Niet openbaar", "begrippenlijst": "Openbaarheid"},
                             "documentatie": "Woo art. 5.1 lid 2 sub i"}})
    reindex(config, open_unit_of_work(config.catalogue_url, config))
    return Archive(config, open_id, personal, restricted, closed, root)


_BUILT: dict[str, Archive] = {}


def shared_archive(tmp_path_factory, catalogue_url: str | None = None) -> Archive:  # noqa: ANN001 (pytest's TempPathFactory)
    """One archive per test session and catalogue backend (ingest is the slow part); tests must not change what
    others read. `catalogue_url`: a fresh catalogue other than the data directory's SQLite file."""
    key = "archive" if catalogue_url is None else catalogue_url.split(":")[0]
    if key not in _BUILT:
        _BUILT[key] = build_archive(tmp_path_factory.mktemp("archive"), catalogue_url)
    return _BUILT[key]


def archive_on_backend(request, tmp_path_factory) -> Archive:  # noqa: ANN001 (pytest's FixtureRequest, TempPathFactory)
    """The shared archive of a module fixture parametrised "sqlite" / "postgresql": on PostgreSQL its catalogue is
    a database of the session's throwaway cluster."""
    if request.param == "sqlite":
        return shared_archive(tmp_path_factory)
    return shared_archive(tmp_path_factory, request.getfixturevalue("postgres").database())
