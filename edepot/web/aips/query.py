"""The AIP list's filters as the screen's form and the API's query parameters give them: read and checked here,
applied by the Depot service (`AipPagesService.aip_page`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping

from edepot.service.aip_pages import MOST, PAGE
from kernel.errors import InputError
from preservation.aip_listing import AipFilters


@dataclass(frozen=True)
class AipQuery:
    """What to list: the service's filters, and which page (AIPs older than the AIP `before`)."""

    filters: AipFilters
    before: str | None = None
    limit: int = PAGE


def aip_query(params: Mapping[str, str]) -> AipQuery:
    """The query in `params` (organisation, since, until: dates YYYY-MM-DD, state, file_format: a PUID or part of a
    format's name, before: an AIP id, limit); InputError for a value that is none of these."""
    def text(name: str) -> str | None:
        return " ".join(params.get(name, "").split()) or None

    def day(name: str) -> date | None:
        value = text(name)
        try:
            return None if value is None else date.fromisoformat(value)
        except ValueError:
            raise InputError(f"{name} must be a date (2024-03-01), not {value!r}") from None

    limit = text("limit") or str(PAGE)
    if not limit.isdigit() or not 1 <= int(limit) <= MOST:
        raise InputError(f"limit must be a whole number from 1 to {MOST}, not {limit!r}")
    filters = AipFilters(organisation=text("organisation"), since=day("since"), until=day("until"),
                         state=text("state"), format=text("file_format"))
    return AipQuery(filters, before=text("before"), limit=int(limit))


def place(value: str) -> int | None:
    """A place in a list given as a query parameter (`files_from`, `events_before`): a whole number the database
    can hold, else None (from the start)."""
    return int(value) if value.isdigit() and len(value) < 18 else None
