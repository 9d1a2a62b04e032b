"""What every area of the Depot service shares: configuration, clock, the acting person, the catalogue port."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from edepot.service.person import Person
from kernel.config import Config
from kernel.errors import NoActingPerson
from preservation.catalogue import Catalogue


class DepotBase:
    """The service's state; the catalogue is opened on first use, so work that needs none starts fast."""

    def __init__(self, config: Config, *, person: Person | None, catalogue: Catalogue | None = None) -> None:
        self.config = config
        self.person = person
        self._catalogue = catalogue

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Let go of the catalogue connection (the next call opens it again)."""
        if self._catalogue is not None:
            self._catalogue.close()

    @property
    def catalogue(self) -> Catalogue:
        """The catalogue port (opened on first use)."""
        if self._catalogue is None:
            from preservation.catalogue import open_catalogue

            self._catalogue = open_catalogue(self.config.catalogue_url)
        return self._catalogue

    def now(self) -> datetime:
        """The service's clock."""
        return self.config.clock()

    def actor(self, action: str) -> Person:
        """The person doing `action`; NoActingPerson when nobody was named (nothing is done anonymously)."""
        if self.person is None:
            raise NoActingPerson(f"{action} must name the person who does it, and nobody was named",
                                 hint="name the acting person, or configure the data directory's operator")
        return self.person
