"""`edepot catalogue copy --to URL`: a catalogue moves from SQLite to PostgreSQL and back with every row, the
search finding the same messages in the copy, verified by counts and digests; a target holding anything is
refused."""
from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from access_factory import shared_archive

from access.search import SearchRequest, search
from edepot.cli import main
from kernel.config import Config
from kernel.errors import InputError
from kernel.model import Conversation
from preservation.aip import CONVERSATION_JSON
from preservation.catalogue import open_catalogue
from preservation.catalogue_db.copy import copy_catalogue
from preservation.record_access import Openness, RecordAccess
from preservation.search_index import Filters, index_aip, parse_query
from preservation.unit_of_work import open_unit_of_work
from tests.conftest import FIXED_NOW


def found(url: str, query: str) -> set[tuple[str, int]]:
    request = SearchRequest(query, role="archivist", on=date(2026, 11, 23), limit=1000)
    return {(h.aip_id, h.seq) for h in search(open_unit_of_work(url), request).hits}


def test_a_catalogue_moves_to_postgresql_and_back_with_every_row(tmp_path_factory: pytest.TempPathFactory,
                                                                 tmp_path: Path, postgres: Any) -> None:
    archive = shared_archive(tmp_path_factory)
    source = archive.config.catalogue_url
    target = postgres.empty_database()
    copied = copy_catalogue(source, target, by="person:T. Beheerder", now=FIXED_NOW)
    assert copied.rows["aips"] == 4 and copied.rows["search_messages"] > 20 and copied.rows["events"] > 20
    assert [a.aip_id for a in open_catalogue(target).aips()] == [a.aip_id for a in open_catalogue(source).aips()]
    for query in ("vergunningen", '"de terrassen"', "kapverg*", "terrassen OR kapvergunning -markt"):
        assert found(target, query) == found(source, query) != set()
    with pytest.raises(InputError, match="not empty"):
        copy_catalogue(source, target, by="person:T. Beheerder", now=FIXED_NOW)

    data = tmp_path / "data"  # a data directory whose catalogue is now the PostgreSQL copy
    data.mkdir()
    (data / "edepot.toml").write_text(f'[catalogue]\nurl = "{target}"\n', encoding="utf-8")
    back = f"sqlite:///{tmp_path / 'back.sqlite'}"
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--data-dir", str(data), "catalogue", "copy", "--to", back, "--json"]) == 0
    returned = json.loads(out.getvalue())
    assert returned["rows"]["events"] == copied.rows["events"] + 1  # the copy's own event came along
    assert {t: d for t, d in returned["digests"].items() if t not in ("events", "audit_log")} == \
        {t: d for t, d in copied.digests.items() if t not in ("events", "audit_log")}
    assert found(back, "vergunningen") == found(source, "vergunningen")
    assert main(["--data-dir", str(data), "catalogue", "copy", "--to", back]) == 2  # not empty now


NUL_CHAT = ("14-03-2024 10:15 - Petra de Vries: De vergunning\x00is binnen.\n"
            "14-03-2024 10:16 - Jan Jansen: Mooi\x00\x00 en \uffff zo\n")


def test_nul_characters_in_messages_are_kept_on_both_backends(config: Config, tmp_path: Path, postgres: Any) -> None:
    """PostgreSQL's text cannot hold NUL: its catalogue writes each as U+FFFF "0" and reads it back, so a message
    with NULs is ingested, copied, found and shown as written, and the original stays byte-identical in the AIP."""
    from ingest.pipeline import ingest
    from ingest.sip import create_sip

    export = tmp_path / "WhatsApp Chat met Nul.txt"
    export.write_bytes(NUL_CHAT.encode())
    aip_id = ingest(create_sip([export], tmp_path / "sip", config).path, config).aip_id
    [kept] = (config.storage_locations[0] / aip_id[:2] / aip_id).rglob(export.name)
    assert kept.read_bytes() == export.read_bytes()
    target = postgres.empty_database()
    copy_catalogue(config.catalogue_url, target, by="person:T. Beheerder", now=FIXED_NOW)
    texts = {"De vergunning\x00is binnen.", "Mooi\x00\x00 en \uffff zo"}
    for url in (config.catalogue_url, target):
        index = open_unit_of_work(url).search
        assert {m.text for m in index.find_messages(parse_query("vergunning OR zo"), Filters(), None, 10)} == texts
    with psycopg.connect(target) as connection:
        stored = {r[0] for r in connection.execute("SELECT body FROM search_messages")}
    assert stored == {"De vergunning\uffff0is binnen.", "Mooi\uffff0\uffff0 en \uffff\uffff zo"}

    direct = postgres.database()  # indexed straight into PostgreSQL (COPY), not through the copy
    index = open_unit_of_work(direct).search
    conversation = Conversation.from_json((config.storage_locations[0] / aip_id[:2] / aip_id / CONVERSATION_JSON)
                                          .read_bytes())
    index_aip(index, aip_id, conversation, RecordAccess("WA-NUL", "Nul", Openness.OPEN))
    assert {m.text for m in index.find_messages(parse_query("binnen OR mooi"), Filters(), None, 10)} == texts
    assert len(index.find_messages(parse_query("0"), Filters(), None, 10)) == 0  # the stored "0" is no word
