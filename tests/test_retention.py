"""Retention schedules: destruction and transfer dates from waardering and bewaartermijn, across leap years and
DST, the to-appraise list, re-appraisal and start dates as recorded history, and the settings."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from kernel.config import Config
from kernel.errors import InputError
from preservation.catalogue import open_catalogue
from preservation.retention import (
    RetentionSettings,
    RetentionStatus,
    appraisal_from_mdto,
    compute_schedule,
    due_cutoff,
    load_retention_settings,
    local_today,
)
from preservation.retention_catalogue import RetentionRow

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
SETTINGS = RetentionSettings()


def row(**appraisal: object) -> RetentionRow:
    mdto = {"record_id": "WA-1", "title": "t", "waardering": "V", "looptijd": None, "trigger": None,
            "startdatum": None, "einddatum": None, "dekking_begin": "2024-01-01", "dekking_eind": "2024-03-15",
            "category": {"code": "1.1", "label": "Correspondentie", "list": "Selectielijst"}}
    mdto.update(appraisal)
    return RetentionRow("WA-1", "aip-1", "t", mdto, {}, NOW)


@pytest.mark.parametrize("start, looptijd, expected", [
    ("2024-02-29", "P1Y", "2025-02-28"),  # leap day plus a year: the last day of February
    ("2024-02-29", "P4Y", "2028-02-29"),  # to the next leap year: the leap day itself
    ("2023-02-28", "P1Y", "2024-02-28"),  # into a leap year: not shifted to the 29th
    ("2024-01-31", "P1M", "2024-02-29"),  # month end clamps to the leap February
    ("2024-03-15", "P10Y", "2034-03-15"),
    ("2024-12-31", "P1Y6M", "2026-06-30"),
])
def test_destruction_date_from_start_and_term_across_leap_years(start: str, looptijd: str, expected: str) -> None:
    schedule = compute_schedule(row(looptijd=looptijd, startdatum=start, trigger="Afsluiting zaak"), SETTINGS)
    assert schedule.status is RetentionStatus.DESTROY
    assert schedule.destruction_date == date.fromisoformat(expected)
    assert schedule.start == date.fromisoformat(start)


def test_term_counts_from_the_last_message_without_a_trigger() -> None:
    schedule = compute_schedule(row(looptijd="P1Y", dekking_eind="2024-02-29"), SETTINGS)
    assert schedule.destruction_date == date(2025, 2, 28)
    assert "laatste bericht" in schedule.why


def test_einddatum_in_the_mdto_is_the_destruction_date() -> None:
    schedule = compute_schedule(row(looptijd="P5Y", einddatum="2027-01-01"), SETTINGS)
    assert schedule.destruction_date == date(2027, 1, 1)


def test_another_trigger_without_a_date_waits_until_the_start_is_set() -> None:
    schedule = compute_schedule(row(looptijd="P5Y", trigger="Afsluiting zaak"), SETTINGS)
    assert schedule.status is RetentionStatus.START_UNKNOWN and schedule.destruction_date is None
    later = replace(row(looptijd="P5Y", trigger="Afsluiting zaak"), override={"start_override": "2025-06-30"})
    assert compute_schedule(later, SETTINGS).destruction_date == date(2030, 6, 30)


def test_n_is_never_due_and_b_gets_a_transfer_date() -> None:
    assert compute_schedule(row(waardering="N", looptijd="P1Y"), SETTINGS).status is RetentionStatus.TO_APPRAISE
    assert compute_schedule(row(waardering="N", looptijd="P1Y"), SETTINGS).destruction_date is None
    permanent = compute_schedule(row(waardering="B", dekking_eind="2016-02-29"), SETTINGS)
    assert permanent.status is RetentionStatus.TRANSFER and permanent.destruction_date is None
    assert permanent.transfer_date == date(2026, 2, 28)
    twenty = compute_schedule(row(waardering="B", dekking_eind="2016-02-29"), RetentionSettings(transfer_term="P20Y"))
    assert twenty.transfer_date == date(2036, 2, 29)


def test_v_without_a_term_is_not_destroyable() -> None:
    assert compute_schedule(row(), SETTINGS).status is RetentionStatus.NO_TERM


@pytest.mark.parametrize("utc, local", [
    # Spring forward (29 March 2026, 02:00 CET → 03:00 CEST): local midnight is 23:00 UTC the day before.
    ("2026-03-28T22:59:59+00:00", "2026-03-28"),
    ("2026-03-28T23:00:00+00:00", "2026-03-29"),
    ("2026-03-29T21:59:59+00:00", "2026-03-29"),  # 23:59:59 CEST
    ("2026-03-29T22:00:00+00:00", "2026-03-30"),
    # Fall back (25 October 2026, 03:00 CEST → 02:00 CET): midnight of the 25th is 22:00 UTC, of the 26th 23:00.
    ("2026-10-24T21:59:59+00:00", "2026-10-24"),
    ("2026-10-24T22:00:00+00:00", "2026-10-25"),
    ("2026-10-25T22:59:59+00:00", "2026-10-25"),
    ("2026-10-25T23:00:00+00:00", "2026-10-26"),
])
def test_due_is_judged_on_the_local_calendar_across_dst(utc: str, local: str) -> None:
    now = datetime.fromisoformat(utc)
    assert local_today(now, SETTINGS) == date.fromisoformat(local)
    schedule = compute_schedule(row(looptijd="P1Y", dekking_eind=f"{int(local[:4]) - 1}{local[4:]}"), SETTINGS)
    assert schedule.destruction_date == date.fromisoformat(local)
    assert schedule.destruction_date < due_cutoff(now, SETTINGS)  # due from local midnight on
    one_second_earlier = datetime.fromtimestamp(now.timestamp() - 1, timezone.utc)
    if local_today(one_second_earlier, SETTINGS) != local_today(now, SETTINGS):
        assert not schedule.destruction_date < due_cutoff(one_second_earlier, SETTINGS)


def test_appraisal_is_read_from_mdto(tmp_path: Path) -> None:
    from ingest.sources import parse_export
    from kernel.config import Organisation
    from preservation.metadata.mdto import informatieobject_xml
    from preservation.metadata.record import Begrip, Bewaartermijn, describe_conversation
    from tests.test_destruction import write_export

    conversation = parse_export([write_export(tmp_path, "x")], tz="Europe/Amsterdam")
    description = describe_conversation(conversation, Organisation(),
                                        {"waardering": "V", "bewaartermijn": {"looptijd": "P2Y",
                                         "trigger": "Afsluiting zaak", "startdatum": "2024-02-29"},
                                         "informatiecategorie": {"label": "Bezwaar", "code": "11.1.2",
                                                                 "begrippenlijst": "Selectielijst 2020"}},
                                        date(2026, 1, 1))
    assert isinstance(description.bewaartermijn, Bewaartermijn) and isinstance(description.waardering, Begrip)
    found = appraisal_from_mdto(informatieobject_xml(description, []))
    assert found["waardering"] == "V" and found["looptijd"] == "P2Y" and found["startdatum"] == "2024-02-29"
    assert found["trigger"] == "Afsluiting zaak" and found["category"]["code"] == "11.1.2"
    assert found["einddatum"] == "2026-02-28"  # record.py computes it from start + looptijd


def test_settings_are_read_and_checked(config: Config) -> None:
    assert load_retention_settings(config) == RetentionSettings()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    (config.data_dir / "edepot.toml").write_text(
        '[retention]\ntransfer_term = "P20Y"\nrequired_roles = ["archivaris", "gemeentesecretaris"]\n', encoding="utf-8")
    loaded = load_retention_settings(config)
    assert loaded.transfer_term == "P20Y" and loaded.required_roles == ("archivaris", "gemeentesecretaris")
    (config.data_dir / "edepot.toml").write_text('[retention]\ntransfer_term = "ten years"\n', encoding="utf-8")
    with pytest.raises(InputError):
        load_retention_settings(config)


def test_history_is_kept_in_the_catalogue(catalogue_url: str) -> None:
    catalogue = open_catalogue(catalogue_url)
    try:
        catalogue.save_retention(row(looptijd="P1Y"), "ingest", "edepot", "read", None, [])
        changed = replace(row(looptijd="P1Y"), override={"looptijd": "P10Y"}, updated=NOW)
        catalogue.save_retention(changed, "reappraisal", "J. Jansen", "besluit 12", {"looptijd": "P1Y"}, [])
        history = catalogue.appraisal_history("WA-1")
    finally:
        catalogue.close()
    assert [h["action"] for h in history] == ["ingest", "reappraisal"]
    assert history[1]["by"] == "J. Jansen" and history[1]["after"]["looptijd"] == "P10Y"
