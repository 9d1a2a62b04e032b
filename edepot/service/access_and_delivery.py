"""The Depot's rules for access: search, restrictions, permits, DIPs and their delivery, the access log."""
from __future__ import annotations

from edepot.service.base import DepotBase


class AccessService(DepotBase):
    """Search, access decisions and delivery, each done by the acting person."""
