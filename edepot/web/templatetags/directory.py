"""The screens' names of roles: `{{ grant|role_label }}` says "Archivaris voor gm0363"."""
from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from preservation.directory import RoleGrant

register = template.Library()


@register.filter
def role_label(grant: RoleGrant) -> str:
    """A role grant in words: the role's screen name, and for which organisation (or every one)."""
    from edepot.web.directory_views import role_choices

    name = dict(role_choices()).get(grant.role, grant.role)
    if grant.organisation is None:
        return _("%(role)s voor alle organisaties") % {"role": name}
    return _("%(role)s voor %(organisation)s") % {"role": name, "organisation": grant.organisation}
