"""The audit log filtered by one person stays as cheap in a long log as in a short one: that person's entries are
found through the index of names, not by reading the log from its newest entry until enough are found (which
reads all of it for a person who seldom acts). Counted in SQLite's own steps (its virtual machine's
instructions), not in seconds."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from preservation.directory import AuditRecord

AT = datetime(2026, 11, 1, tzinfo=timezone.utc)
RARE = ["Zeldzaam Iemand", "zeldzaam  IEMAND", "Zeldzaam iemand"]  # one person, written three ways


def _log(url: str, entries: int) -> Any:
    """A unit of work on the catalogue at `url` whose audit log has `entries` entries of fifty busy people and
    three of a person who seldom acts (the oldest of all)."""
    from preservation.unit_of_work import open_unit_of_work

    store = open_unit_of_work(url)
    from preservation.catalogue_db import models as m  # once Django is set up
    rows = [m.AuditEntry(at=AT - timedelta(seconds=entries + n), person=name, action="aip show", target="x",
                         organisation="gm0001", outcome="done", detail="") for n, name in enumerate(RARE)]
    rows += [m.AuditEntry(at=AT - timedelta(seconds=entries - n), person=f"Medewerker {n % 50}", action="aip show",
                          target=f"aip-{n}", organisation="gm0001", outcome="done", detail="")
             for n in range(entries)]
    m.AuditEntry.objects.using(store.directory._alias).bulk_create(rows, batch_size=5000)
    return store


def _steps(store: Any, ask: Any) -> tuple[Any, int]:
    """What `ask()` answers, and the SQLite steps (in thousands) it took."""
    from django.db import connections

    connection = connections[store.directory._alias]
    connection.ensure_connection()
    counted = [0]

    def count() -> int:
        counted[0] += 1
        return 0

    connection.connection.set_progress_handler(count, 1000)
    try:
        return ask(), counted[0]
    finally:
        connection.connection.set_progress_handler(None, 0)


def test_one_persons_entries_are_found_with_case_and_spacing_folded(catalogue_url: str) -> None:
    store = _log(catalogue_url, 500)
    found = store.directory.audit_log(person=" ZELDZAAM   iemand ", newest_first=True, limit=10)
    assert [e.person for e in found] == list(reversed(RARE))
    assert all(isinstance(e, AuditRecord) for e in found)
    busy = store.directory.audit_log(person="medewerker 7", newest_first=True, limit=5)
    assert len(busy) == 5 and {e.person for e in busy} == {"Medewerker 7"}  # not Medewerker 17, 27, ...
    assert [e.entry_id for e in busy] == sorted((e.entry_id for e in busy), reverse=True)
    within = store.directory.audit_log(person="Zeldzaam Iemand", within={"gm0002"}, own="Iemand Anders")
    assert within == []  # a reader of another organisation does not see them
    own = store.directory.audit_log(person="zeldzaam iemand", within={"gm0002"}, own="Zeldzaam Iemand")
    assert len(own) == 3  # but their own, of whichever organisation
    assert store.directory.audit_log(person="Niemand") == []
    store.close()


def test_a_seldom_acting_persons_entries_cost_the_same_in_a_log_ten_times_as_long(tmp_path: Any) -> None:
    costs = []
    for entries in (2_000, 20_000):
        store = _log(f"sqlite:///{tmp_path / f'catalogue-{entries}.sqlite'}", entries)
        found, steps = _steps(store, lambda: store.directory.audit_log(person="zeldzaam iemand", newest_first=True,
                                                                       limit=51))
        assert len(found) == 3
        # a busy person's entries, none of them of the reader's organisation
        hidden, more = _steps(store, lambda: store.directory.audit_log(
            person="Medewerker 7", within={"gm0002"}, own="Iemand Anders", newest_first=True, limit=51))
        assert hidden == []
        steps += more
        costs.append(steps)
        store.close()
    assert costs[1] <= 2 * max(costs[0], 1), f"{costs[0]}k steps in 2,000 entries, {costs[1]}k in 20,000"
