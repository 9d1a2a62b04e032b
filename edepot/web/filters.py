"""The audit log's filters as the screen's form and the API's query parameters give them: read and checked here,
applied by the Depot service (`PeopleService.audit_log`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from kernel.config import DEFAULT_TIMEZONE
from kernel.errors import InputError

PAGE = 50  # entries a page
MOST = 500  # entries an API call may ask for at once


@dataclass(frozen=True)
class AuditQuery:
    """What to show of the audit log: the service's filters, and which page (entries before `before`)."""

    person: str | None = None
    action: str | None = None
    organisation: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None
    limit: int = PAGE

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of `audit_log`: newest first, one entry more than shown (is there more?)."""
        return {"person": self.person, "action": self.action, "organisation": self.organisation, "since": self.since,
                "until": self.until, "before": self.before, "limit": self.limit + 1, "newest_first": True}


def audit_query(params: Mapping[str, str]) -> AuditQuery:
    """The query in `params` (person, action, organisation, since, until: a date or date and time, taken in
    Europe/Amsterdam when it names no zone, a date `until` meaning to the end of that day; before: an entry id;
    limit); InputError for a value that is none of these."""
    def text(name: str) -> str | None:
        return " ".join(params.get(name, "").split()) or None

    def number(name: str, default: int | None) -> int | None:
        value = text(name)
        if value is None:
            return default
        if not value.isdigit() or int(value) >= 2**63:
            raise InputError(f"{name} must be a whole number, not {value!r}")
        return int(value)

    limit = number("limit", PAGE) or PAGE
    if limit > MOST:
        raise InputError(f"limit may be at most {MOST}")
    return AuditQuery(person=text("person"), action=text("action"), organisation=text("organisation"),
                      since=_moment(text("since"), "since", end_of_day=False),
                      until=_moment(text("until"), "until", end_of_day=True),
                      before=number("before", None), limit=limit)


def _moment(value: str | None, name: str, *, end_of_day: bool) -> datetime | None:
    if value is None:
        return None
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), zone)
        else:
            moment = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise InputError(f"{name} must be a date (2026-12-07) or a date and time, not {value!r}") from None
    if not 1900 <= moment.year <= 9998:  # a moment the database can hold in any time zone
        raise InputError(f"{name} must be a date from 1900 to 9998, not {value!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
