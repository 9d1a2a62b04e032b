"""The Depot's rules for ingest and preservation: ingest, fixity, repair, recovery, the catalogue's upgrade."""
from __future__ import annotations

from typing import TYPE_CHECKING

from edepot.service.base import DepotBase

if TYPE_CHECKING:
    from pathlib import Path

    from preservation.catalogue import FileLoss
    from preservation.catalogue_db.upgrade import UpgradeResult
    from preservation.recovery import RestoreResult


class PreservationService(DepotBase):
    """Ingest and preservation, each done by the acting person."""

    def upgrade_catalogue(self) -> UpgradeResult:
        """Bring the catalogue to this version in place (the old one kept beside it), recorded as an event."""
        from preservation.catalogue_db.upgrade import upgrade_catalogue

        return upgrade_catalogue(self.config.catalogue_url, by=self.actor("upgrading the catalogue").agent_id,
                                 now=self.now())

    def restore_files(self, aip_id: str, *, source: Path) -> RestoreResult:
        """Put back an AIP's damaged or lost files from an outside copy (verified against the catalogue's
        checksums); a declared loss of a restored file is lifted."""
        from preservation.recovery import restore_files
        from preservation.storage import open_locations

        person = self.actor("restoring files")
        return restore_files(self.config, self.catalogue, locations=open_locations(self.config.storage_locations),
                             aip_id=aip_id, source=source, person=person.name)

    def declare_loss(self, aip_id: str, *, paths: list[str], reason: str) -> list[FileLoss]:
        """Declare files of an AIP lost (no intact copy anywhere): fixity then reports them as known losses."""
        from preservation.recovery import declare_loss
        from preservation.storage import open_locations

        person = self.actor("declaring a loss")
        return declare_loss(self.config, self.catalogue, locations=open_locations(self.config.storage_locations),
                            aip_id=aip_id, paths=paths, reason=reason, person=person.name)
