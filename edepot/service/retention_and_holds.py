"""The Depot's rules for retention: holds on destruction, appraisal, destruction lists with four eyes."""
from __future__ import annotations

from edepot.service.base import DepotBase
from preservation.retention_catalogue import Hold


class RetentionService(DepotBase):
    """Holds, appraisal and destruction, each done by the acting person."""

    def place_hold(self, record_id: str, *, reason: str) -> Hold:
        """Put a record on hold: it is not destroyed until every hold on it is lifted. Needs a reason."""
        from preservation.retention import add_hold

        return add_hold(self.catalogue, record_id, reason, self.actor("placing a hold").name, self.now())

    def lift_holds(self, record_id: str, *, reason: str) -> int:
        """Lift every active hold on a record; returns how many were lifted."""
        from preservation.retention import lift_hold

        return lift_hold(self.catalogue, record_id, reason, self.actor("lifting a hold").name, self.now())

    def holds(self, *, include_lifted: bool = False) -> list[Hold]:
        """The holds (the active ones, or all)."""
        return self.catalogue.holds(active_only=not include_lifted)
