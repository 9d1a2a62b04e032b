"""The screens' words for jobs: their kinds and states (a failure, the content refused, told from an error, the
system failing)."""
from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy

register = template.Library()

STATES = {"queued": gettext_lazy("in de wachtrij"), "running": gettext_lazy("bezig"), "done": gettext_lazy("klaar"),
          "failed": gettext_lazy("mislukt: de inhoud is afgewezen"),
          "error": gettext_lazy("fout in het systeem"), "cancelled": gettext_lazy("geannuleerd")}
KINDS = {"ingest": gettext_lazy("Ingest"), "fixity": gettext_lazy("Fixiteitscontrole"),
         "reindex": gettext_lazy("Zoekindex opnieuw opbouwen"), "destruction": gettext_lazy("Vernietiging"),
         "dip": gettext_lazy("DIP maken"), "woo-besluit": gettext_lazy("Woo-besluit")}


@register.filter
def job_state(state: str) -> str:
    """A job's state in words."""
    return str(STATES.get(state, state))


@register.filter
def job_kind(kind: str) -> str:
    """A kind of job in words."""
    return str(KINDS.get(kind, kind))
