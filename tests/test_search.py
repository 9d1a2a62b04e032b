"""Full-text search: Dutch words and accents, query syntax, every filter, access per role and date,
snippets that never show restricted or personal data to a researcher, index maintenance."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest
from access_factory import PERSONAL_SECRETS, RESTRICTED_SECRETS, Archive, archive_on_backend
from django.db import connections
from hypothesis import given, settings
from hypothesis import strategies as st

from access.search import SearchRequest, search
from edepot.service import Depot
from kernel.errors import InputError
from kernel.model import Message, MessageKind
from preservation.access_register import open_register
from preservation.catalogue_db.database import catalogue_alias
from preservation.record_access import Openness, RecordAccess
from preservation.search_index import Filters, open_index, parse_query
from preservation.search_stems import stemmer_version
from preservation.unit_of_work import open_unit_of_work
from tests.conftest import store_of

BEFORE = date(2026, 11, 23)
AFTER = date(2031, 1, 1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def archive(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Archive:
    """The shared archive, its catalogue on SQLite and then on PostgreSQL."""
    return archive_on_backend(request, tmp_path_factory)


def on_sqlite(url: str) -> bool:
    return url.startswith("sqlite:")


def hits(archive: Archive, query: str, role: str = "archivist", on: date = BEFORE, requester: str | None = None,
         **filters: object) -> list:
    request = SearchRequest(query, Filters(**filters), role=role, on=on, requester=requester, limit=100)  # type: ignore[arg-type]
    return list(search(store_of(archive.config), request).hits)


def seqs(found: list, aip: str) -> list[int]:
    return sorted(h.seq for h in found if h.aip_id == aip)


def test_dutch_inflections_accents_and_case(archive: Archive) -> None:
    assert seqs(hits(archive, "vergunningen"), archive.personal) == [1, 5]  # vergunning and vergunningen
    assert seqs(hits(archive, "vergunning"), archive.personal) == [1, 5]
    assert seqs(hits(archive, "cafe"), archive.personal) == [1]  # Café
    assert seqs(hits(archive, "CAFÉ"), archive.personal) == [1]
    assert seqs(hits(archive, "wethouders"), archive.personal) == [6]


def test_query_syntax_phrase_prefix_or_and_not(archive: Archive) -> None:
    assert seqs(hits(archive, '"de terrassen"'), archive.personal) == [5]
    assert seqs(hits(archive, '"terrassen de"'), archive.personal) == []
    assert seqs(hits(archive, "kapverg*"), archive.personal) == [7]
    assert seqs(hits(archive, "terrassen OR kapvergunning"), archive.personal) == [5, 7]
    assert seqs(hits(archive, "vergunning marktplein"), archive.personal) == [1]
    assert seqs(hits(archive, "vergunning -marktplein"), archive.personal) == [5]
    with pytest.raises(InputError):
        hits(archive, "-alleen -uitsluiten")


def test_filters_date_participant_conversation_zaak_classification_kind(archive: Archive) -> None:
    everything = hits(archive, "vergunning")
    assert {h.aip_id for h in everything} >= {archive.personal, archive.restricted, archive.closed}
    assert seqs(hits(archive, "vergunning", date_from=date(2024, 3, 15)), archive.personal) == [5]
    assert seqs(hits(archive, "vergunning", date_to=date(2024, 3, 14)), archive.personal) == [1]
    assert {h.sender for h in hits(archive, "vergunning", participant="jansen")} == {"Jan Jansen"}
    assert {h.aip_id for h in hits(archive, "vergunning", aip=archive.restricted)} == {archive.restricted}
    record_id = hits(archive, "vergunning", aip=archive.restricted)[0].record_id
    assert {h.aip_id for h in hits(archive, "vergunning", aip=record_id)} == {archive.restricted}
    assert {h.aip_id for h in hits(archive, "marktplein", zaak="z-2024-017")} == {archive.open, archive.personal}
    assert {h.aip_id for h in hits(archive, "marktplein", zaak="herinrichting")} == {archive.open, archive.personal}
    assert {h.aip_id for h in hits(archive, "vergunning", classification="11.1")} == {archive.personal}
    assert {h.kind for h in hits(archive, "schetsontwerp", kind="media")} == {"media"}
    assert hits(archive, "schetsontwerp", kind="system") == []


def test_researcher_sees_only_open_records_until_the_restriction_ends(archive: Archive) -> None:
    researcher = {h.aip_id for h in hits(archive, "vergunning", role="researcher", on=BEFORE)}
    assert archive.personal in researcher and not researcher & {archive.restricted, archive.closed}
    later = {h.aip_id for h in hits(archive, "vergunning", role="researcher", on=AFTER)}
    assert archive.restricted in later and archive.closed not in later  # niet openbaar stays closed
    assert hits(archive, "zwaluwnest", role="researcher", on=date(2030, 12, 31)) == []
    assert len(hits(archive, "zwaluwnest", role="researcher", on=AFTER)) == 2


def test_snippets_of_a_researcher_hold_no_personal_or_restricted_data(archive: Archive) -> None:
    request = SearchRequest("bel OR iban OR buurman OR vergunning OR zwaluwnest OR ijsvogel", role="researcher",
                            on=BEFORE, limit=100)
    document = json.dumps(search(store_of(archive.config), request).to_dict()["hits"], ensure_ascii=False)
    for secret in [*PERSONAL_SECRETS[:6], *RESTRICTED_SECRETS]:
        assert secret not in document, secret
    assert "[gelakt: 5.1.2e]" in document and "[gelakt: 5.1.1e]" in document
    archivist = SearchRequest("bel", role="archivist", on=BEFORE, limit=100)
    assert "06-12345678" in json.dumps(search(store_of(archive.config), archivist).to_dict())


def test_a_permit_opens_a_restricted_record_to_its_holder_only(archive: Archive) -> None:
    with open_register(archive.config.catalogue_url) as register:
        record_id = next(r.access.record_id for r in _records(archive) if r.aip_id == archive.restricted)
        register.grant_permit(record_id, "Dr. Onderzoeker", date(2027, 1, 31), "promotieonderzoek", "archivaris",
                              datetime(2026, 11, 23, tzinfo=timezone.utc))
    assert len(hits(archive, "zwaluwnest", role="researcher", requester="Dr. Onderzoeker")) == 2
    assert hits(archive, "zwaluwnest", role="researcher", requester="Iemand Anders") == []
    assert hits(archive, "zwaluwnest", role="researcher", requester="Dr. Onderzoeker", on=date(2027, 2, 1)) == []


def _records(archive: Archive) -> list:
    return open_index(archive.config.catalogue_url).records()


def test_sorting_and_paging(archive: Archive) -> None:
    url = archive.config.catalogue_url
    newest = search(open_unit_of_work(url), SearchRequest("vergunning", role="archivist", on=BEFORE, sort="newest", limit=100)).hits
    assert [h.timestamp for h in newest] == sorted((h.timestamp for h in newest), reverse=True)
    first = search(open_unit_of_work(url), SearchRequest("vergunning", role="archivist", on=BEFORE, limit=2))
    second = search(open_unit_of_work(url), SearchRequest("vergunning", role="archivist", on=BEFORE, limit=2, offset=2))
    assert first.more and len(first.hits) == 2
    assert {(h.aip_id, h.seq) for h in first.hits}.isdisjoint({(h.aip_id, h.seq) for h in second.hits})


def make_messages(texts: list[str]) -> list[Message]:
    start = datetime(2024, 1, 1, 9, tzinfo=timezone(timedelta(hours=1)))
    return [Message(i + 1, start + timedelta(minutes=i), "A", MessageKind.TEXT, t) for i, t in enumerate(texts)]


def test_removing_an_aip_leaves_the_others_and_a_reindexed_record_replaces_the_old(catalogue_url: str) -> None:
    url = catalogue_url
    db = open_index(url)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    open_facts = RecordAccess("R-1", "een", Openness.OPEN)
    db.index("aip-1", make_messages(["de vergunningen zijn er", "niets"]), open_facts, now)
    db.index("aip-2", make_messages(["vergunning twee"]), RecordAccess("R-2", "twee", Openness.OPEN), now)
    terms = parse_query("vergunning")
    assert len(db.find_messages(terms, Filters(), None, None)) == 2
    assert db.remove("aip-1") == 2
    assert db.remove("aip-1") == 0
    assert [m.text for m in db.find_messages(terms, Filters(), None, None)] == ["vergunning twee"]
    with connections[catalogue_alias(url)].cursor() as cursor:
        if on_sqlite(url):
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
        else:
            cursor.execute("SELECT COUNT(*) FROM search_messages WHERE doc @@ 'vergunning'::tsquery")
            assert cursor.fetchone()[0] == 1
    # A second AIP of record R-2 (a new version) hides the first from searches without --aip.
    db.index("aip-3", make_messages(["vergunning drie"]), RecordAccess("R-2", "twee", Openness.OPEN),
                       now)
    current = [r for r in db.records() if r.current]
    found = db.find_messages(terms, Filters(), current, None)
    assert [m.text for m in found] == ["vergunning drie"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_catalogue_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('hypothesis') / 'index.sqlite'}"
    return str(request.getfixturevalue("postgres").database())


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_query_text_is_either_refused_cleanly_or_searched(module_catalogue_url: str, query: str) -> None:
    db = open_index(module_catalogue_url)
    if not db.records():
        db.index("a", make_messages(['zeg "NEAR(a b)" OR AND * ^ : {x}', "gewoon"]),
                           RecordAccess("R", "r", Openness.OPEN), datetime(2026, 1, 1, tzinfo=timezone.utc))
    try:
        terms = parse_query(query)
    except InputError:
        return
    db.find_messages(terms, Filters(), None, 10)  # must not raise: user text never becomes FTS or tsquery syntax


def test_command_line_search_and_reindex(archive: Archive) -> None:
    def edepot(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "edepot.cli", "--data-dir", str(archive.config.data_dir),
                               *args], capture_output=True, text=True, timeout=300)

    result = edepot("search", "vergunningen", "--json", "--date", "2026-11-23")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    found = {h["aip_id"] for h in document["hits"]}
    assert archive.personal in found and not found & {archive.restricted, archive.closed}
    assert all("«" in h["snippet"] for h in document["hits"])
    human = edepot("search", "vergunningen", "--as", "archivist")
    assert "zwaluwnest" in human.stdout and human.returncode == 0
    assert human.stdout.startswith(f"{json.loads(edepot('search', 'vergunningen', '--as', 'archivist', '--json').stdout)['total']} hits")
    media = edepot("search", "--kind", "media", "--as", "archivist", "--json", "--custodian", "niemand")
    assert media.returncode == 0 and json.loads(media.stdout)["total"] == 0, media.stderr
    assert json.loads(edepot("search", "--kind", "media", "--as", "archivist", "--json").stdout)["total"] >= 3
    reindexed = edepot("search", "reindex", "--json")
    assert reindexed.returncode == 0, reindexed.stderr
    assert {r["aip_id"] for r in json.loads(reindexed.stdout)["reindexed"]} >= {archive.open, archive.closed}
    bad = edepot("search", "-x", "--from", "gisteren")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_the_total_counts_every_hit_and_a_filter_alone_searches_without_words(archive: Archive) -> None:
    def page(query: str, limit: int, **filters: object):  # noqa: ANN202
        request = SearchRequest(query, Filters(**filters), role="archivist", on=BEFORE, limit=limit)  # type: ignore[arg-type]
        return search(store_of(archive.config), request)

    everything = page("vergunning", 100)
    first = page("vergunning", 2)
    assert len(first.hits) == 2 and first.more and first.total == everything.total == len(everything.hits) > 2
    assert first.to_dict()["total"] == everything.total
    media = page("", 100, kind="media")  # every media message, no words needed
    assert media.total == len(media.hits) >= 3 and {h.kind for h in media.hits} == {"media"}
    assert {h.aip_id for h in media.hits} >= {archive.open}
    with pytest.raises(InputError, match="a filter"):  # the Depot's rule: no words and no filter is refused
        Depot(archive.config, person=None).search(SearchRequest("", role="archivist", on=BEFORE))
    researcher = search(store_of(archive.config), SearchRequest("vergunning", role="researcher", on=BEFORE))
    assert researcher.total == len(hits(archive, "vergunning", role="researcher"))  # counts only what one may see


def test_custodian_limits_a_search_to_chats_from_chosen_peoples_phones(catalogue_url: str) -> None:
    url = catalogue_url
    db = open_index(url)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for n, custodian in enumerate(("Wethouder Bakker", "Wethouder Claes", "Griffier de Wit"), start=1):
        facts = RecordAccess(f"R-{n}", f"gesprek {n}", Openness.OPEN, custodians=(custodian,))
        db.index(f"aip-{n}", make_messages(["vergunning marktplein"]), facts, now)

    def found(*custodians: str) -> set[str]:
        request = SearchRequest("marktplein", Filters(custodians=custodians), role="archivist", on=BEFORE)
        return {h.record_id for h in search(open_unit_of_work(url), request).hits}

    assert found() == {"R-1", "R-2", "R-3"}
    assert found("wethouder") == {"R-1", "R-2"}  # "the aldermen's chats"
    assert found("bakker", "de wit") == {"R-1", "R-3"}
    assert found("niemand") == set()


def test_stems_of_another_stemmer_version_are_derived_again_by_the_next_process(catalogue_url: str) -> None:
    url = catalogue_url
    db = open_index(url)
    db.index("aip-1", make_messages(["de wethouders"]), RecordAccess("R-1", "een", Openness.OPEN),
                       datetime(2026, 1, 1, tzinfo=timezone.utc))
    with connections[catalogue_alias(url)].cursor() as cursor:  # as an older PyStemmer left it: no stems in the FTS index
        if on_sqlite(url):
            cursor.execute("INSERT INTO search_fts(search_fts, rowid, body, stems) SELECT 'delete', message_id, "
                           "body, edepot_stems(body) FROM search_messages")
            cursor.execute("INSERT INTO search_fts(rowid, body, stems) SELECT message_id, body, '' "
                           "FROM search_messages")
        else:
            cursor.execute("UPDATE search_messages SET doc = ts_delete(doc, 'wethouder'::text)")
        cursor.execute("UPDATE search_meta SET value = 'dutch_porter PyStemmer 0.0' WHERE key = 'stemmer'")
    assert db.find_messages(parse_query("wethouder"), Filters(), None, None) == []
    script = ("import sys; from preservation.search_index import open_index, parse_query, Filters; "
              "print(len(open_index(sys.argv[1]).find_messages(parse_query('wethouder'), Filters(), None, None)))")
    found = subprocess.run([sys.executable, "-c", script, url], capture_output=True, text=True, timeout=120)
    assert found.stdout.strip() == "1", found.stderr
    with connections[catalogue_alias(url)].cursor() as cursor:
        if on_sqlite(url):
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")
        cursor.execute("SELECT value FROM search_meta WHERE key = 'stemmer'")
        assert cursor.fetchone()[0] == stemmer_version()


def test_many_matches_are_read_in_order_and_give_the_page_sorting_them_all_gives(
        catalogue_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whichever way a search reads its matches (on SQLite: sorted from every match, or read in time order; on
    PostgreSQL: from the GIN index, along an index in the page's order, in windows of ids, record by record), the
    page is that of sorting every match, filters and all; relevance ranks the first RANKED_UP_TO."""
    from preservation.search_index import rank_by_relevance

    start = datetime(2024, 1, 1, 9, tzinfo=timezone(timedelta(hours=1)))
    texts = [("de vergunningen " * (i % 3 + 1) + f"oud {i}" if i % 5 == 0 else f"vergunning {i}")
             if i % 4 else f"iets anders {i}" for i in range(80)]
    minutes = [(i * 37) % 80 for i in range(80)]  # times out of message order, so the orders differ
    db = open_index(catalogue_url)  # Django set up: the catalogue's modules can be imported
    import preservation.catalogue_db.search_postgres as search_postgres
    import preservation.catalogue_db.search_store as search_store

    db.index("aip-1", [Message(i + 1, start + timedelta(minutes=minutes[i]), "A" if i % 3 else "B",
                               MessageKind.TEXT, t) for i, t in enumerate(texts[:50])],
             RecordAccess("R-1", "een", Openness.OPEN), datetime(2026, 1, 1, tzinfo=timezone.utc))
    db.index("aip-2", [Message(i + 1, start + timedelta(minutes=minutes[i + 50]), "B", MessageKind.TEXT, t)
                       for i, t in enumerate(texts[50:])], RecordAccess("R-2", "twee", Openness.OPEN),
             datetime(2026, 1, 1, tzinfo=timezone.utc))
    records = db.records()
    withins = {"every": None, "second": records[1:], "both": records}
    searches = {"vergunning": Filters(), "vergun*": Filters(), "vergunning -oud": Filters(),
                "iets OR oud": Filters(), "vergunningen": Filters(participant="B"),
                "vergun* -oud": Filters(participant="B")}
    pages = {}
    for query, filters in searches.items():
        terms = parse_query(query)
        everything = db.find_messages(terms, filters, None, None)
        assert len(everything) > 5
        for sort in ("chat", "newest", "oldest", "relevance"):
            for name, within in withins.items():
                pages[query, sort, name] = [m.message_id for m in db.find_messages(
                    terms, filters, within, 4, sort, offset=3)]
            assert pages[query, sort, "both"] == pages[query, sort, "every"]  # each record on its own, merged
        ranked = rank_by_relevance(everything, terms)
        assert pages[query, "relevance", "every"] == [m.message_id for m in ranked[3:7]]
        newest = sorted(everything, key=lambda m: (m.timestamp, m.message_id), reverse=True)
        assert pages[query, "newest", "every"] == [m.message_id for m in newest[3:7]]
    monkeypatch.setattr(search_store, "COUNTED_UP_TO", 5)
    monkeypatch.setattr(search_store, "RANKED_UP_TO", 12)
    monkeypatch.setattr(search_store, "_WALK_BATCH", 3)
    # (a PostgreSQL walk that its budget of rows leaves short of the page gives way to the GIN index's; so does a
    # window of ids too narrow for the page to the next)
    ways = ([("matches", 1_000), ("walk", 1_000), ("walk", 2), ("window", 1_000), ("window", 2), ("records", 1_000)]
            if not on_sqlite(catalogue_url) else [("sorted", 0), ("walk", 0), ("weighed", 0)])
    for way, budget in ways:
        monkeypatch.setattr(search_postgres.PostgresSearchIndex, "_costs", lambda *_, way=way, **__: {
            w: float(w != way) for w in ("matches", "walk", "window", "records")})
        monkeypatch.setattr(search_postgres, "_WALK_FIRST", budget)
        if way == "weighed":  # SQLite's own choice, by the count and the share the filters pass
            monkeypatch.undo()
            monkeypatch.setattr(search_store, "COUNTED_UP_TO", 5)
            monkeypatch.setattr(search_store, "RANKED_UP_TO", 12)
        elif on_sqlite(catalogue_url):
            monkeypatch.setattr(search_store.DjangoSearchIndex, "_walks",  # (FTS5 reads chat order as it is)
                                lambda *args, way=way: way == "walk" and args[5] != "chat")
        for (query, sort, name), page in pages.items():
            terms, filters, within = parse_query(query), searches[query], withins[name]
            search_store._first_read.clear()  # read again, the way forced, not remembered from the last read
            found = [m.message_id for m in db.find_messages(terms, filters, within, 4, sort, offset=3)]
            if sort == "relevance":  # the first 12 matches in chat order, ranked
                first = db.find_messages(terms, filters, within, 12, "chat")
                assert found == [m.message_id for m in rank_by_relevance(first, terms)[3:7]]
            else:
                assert found == page, (query, sort, name, way, budget)
        for query, filters in searches.items():  # any 5 of the matches, for counting: none that does not match
            for name, within in withins.items():
                terms = parse_query(query)
                every = {m.message_id for m in db.find_messages(terms, filters, within, None)}
                some = [m.message_id for m in db.find_any_messages(terms, filters, within, 5)]
                assert len(set(some)) == len(some) == min(5, len(every)) and set(some) <= every, (query, name, way)
        assert db.count_messages(parse_query("vergunning"), Filters(), None, up_to=5) == 6
    assert db.count_messages(parse_query("vergunning"), Filters(), None) == 60


def test_a_researchers_count_stops_past_the_bound_and_never_counts_what_redaction_hides(tmp_path) -> None:  # noqa: ANN001
    from access.query_guard import QueryGuard, guarded_count, guarded_page
    from access.redaction import Redactor
    from preservation.search_index import IndexedMessage

    url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    texts = ["vergunning verleend"] * 30 + ["bel 0612345678 over de vergunning"] * 5 + ["bel 0612345678"] * 4
    open_index(url).index("aip-1", make_messages(texts), RecordAccess("R-1", "een", Openness.OPEN),
                          datetime(2026, 1, 1, tzinfo=timezone.utc))

    def found(query: str, role: str):  # noqa: ANN202
        return search(open_unit_of_work(url), SearchRequest(query, role=role, on=BEFORE, limit=3))

    assert found("0612345678", "archivist").total == 9
    hidden = found("0612345678", "researcher")  # the number only in redacted text: as if it were nowhere
    assert (hidden.total, hidden.hits, hidden.more) == (0, (), False)
    assert found("vergunning", "researcher").total == 35  # a hit whose word is outside the redacted passage counts
    assert found("vergunning -0612345678", "researcher").total == 35  # the excluded number is not in what is shown
    assert found("vergunning -0612345678", "archivist").total == 30

    read: list[int] = []
    messages = [IndexedMessage(n, 1, n, datetime(2026, 1, 1, tzinfo=timezone.utc), "A", "text", "vergunning")
                for n in range(5000)]

    def fetch(at: int, size: int) -> list[IndexedMessage]:
        read.append(size)
        return messages[at:at + size]

    guard = QueryGuard(parse_query("vergunning"), Redactor())
    page, counted = guarded_page(fetch, guard, 3, 0, up_to=250)
    assert [m.message_id for m in page] == [0, 1, 2] and counted == 251 and sum(read) < 1000
    assert guarded_page(fetch, guard, 3, 0)[1] == 5000  # without a bound, every hit counted

    # counted from any hits the index reads fastest; when too few of those are kept to tell, through `fetch`
    messages = [IndexedMessage(n, 1, n, datetime(2026, 1, 1, tzinfo=timezone.utc), "A", "text",
                               "vergunning verleend" if n < 20 else "vergunning") for n in range(30)]
    guard = QueryGuard(parse_query("vergunning -verleend"), Redactor())
    read.clear()
    assert guarded_count(lambda size: messages[20:20 + size], fetch, guard, up_to=5) > 5 and read == []
    assert guarded_count(lambda size: messages[:size], fetch, guard, up_to=5) > 5 and read
    assert guarded_count(lambda size: messages[:size], fetch, guard, up_to=50) == 10


def test_a_researchers_total_by_relevance_counts_past_the_matches_ranked(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    open_index(url).index("aip-1", make_messages(["vergunning verleend"] * 30), RecordAccess("R-1", "een", Openness.OPEN),
                          datetime(2026, 1, 1, tzinfo=timezone.utc))
    import preservation.catalogue_db.search_store as search_store

    monkeypatch.setattr(search_store, "RANKED_UP_TO", 12)  # relevance ranks the first 12 matches only
    for role in ("archivist", "researcher"):
        found = search(open_unit_of_work(url), SearchRequest("vergunning", role=role, on=BEFORE, limit=3,
                                                             sort="relevance"))
        assert (found.total, found.total_exact, len(found.hits)) == (30, True, 3), role


def test_a_researchers_page_past_the_counted_bound_still_tells_of_more(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    open_index(url).index("aip-1", make_messages(["vergunning verleend"] * 30), RecordAccess("R-1", "een", Openness.OPEN),
                          datetime(2026, 1, 1, tzinfo=timezone.utc))
    import access.search

    monkeypatch.setattr(access.search, "COUNTED_UP_TO", 5)  # counting stops past 5: the pages go on
    for sort in ("chat", "newest", "relevance"):
        found = search(open_unit_of_work(url), SearchRequest("vergunning", on=BEFORE, limit=3, offset=9, sort=sort))
        assert (len(found.hits), found.more, found.total, found.total_exact) == (3, True, 5, False), sort
        last = search(open_unit_of_work(url), SearchRequest("vergunning", on=BEFORE, limit=3, offset=27, sort=sort))
        assert (len(last.hits), last.more) == (3, False), sort
