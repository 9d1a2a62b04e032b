"""The main menu's desk screens: each area of the archivist's desk adds one entry here, shown to the people
whose roles allow its rule."""
from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from edepot.web.auth import depot_for


@dataclass(frozen=True)
class MenuEntry:
    """One screen in the main menu: its URL name, its label, the rule whose holders see it, and the URL names of
    the screens beneath it (which mark it as the current one)."""

    url_name: str
    label: str | Promise
    rule: str
    beneath: tuple[str, ...] = ()

    def is_current(self, url_name: str | None) -> bool:
        return url_name == self.url_name or url_name in self.beneath


DESK: list[MenuEntry] = [
    MenuEntry("transfers", gettext_lazy("Overdrachten"), "ingest"),
    MenuEntry("jobs", gettext_lazy("Taken"), "watch jobs", beneath=("job",)),
    MenuEntry("aips", gettext_lazy("AIP's"), "view aips", beneath=("aip",)),
    MenuEntry("fixity", gettext_lazy("Integriteit"), "run fixity", beneath=("fixity-aip", "fixity-declare-loss")),
    MenuEntry("retention", gettext_lazy("Bewaren en vernietigen"), "view retention",
              beneath=("retention-due", "retention-list", "retention-holds", "retention-transfer", "retention-record")),
]


def navigation(request: HttpRequest) -> dict[str, object]:
    """The templates' `may_read_audit` and `desk` (the desk entries the signed-in person's menu shows, each with
    `current`), from one look at the person's roles."""
    if getattr(request, "person", None) is None:
        return {"may_read_audit": False, "desk": []}
    here = request.resolver_match.url_name if request.resolver_match else None
    with depot_for(request) as depot:
        return {"may_read_audit": depot.may("read the audit log"),
                "desk": [{"entry": e, "current": e.is_current(here)} for e in DESK if depot.may(e.rule)]}
