"""What every area of the Depot service shares: configuration, clock, the acting person, the unit of work."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from edepot.service.person import Person
from kernel.config import Config
from kernel.errors import NoActingPerson
from preservation.access_register import AccessRegister
from preservation.catalogue import Catalogue
from preservation.search_index import SearchIndex
from preservation.unit_of_work import UnitOfWork


class DepotBase:
    """The service's state; the unit of work is opened on first use, so work that needs no catalogue starts fast."""

    def __init__(self, config: Config, *, person: Person | None, store: UnitOfWork | None = None) -> None:
        self.config = config
        self.person = person
        self._store = store

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Let go of the catalogue connection (the next call opens it again)."""
        if self._store is not None:
            self._store.close()

    @property
    def store(self) -> UnitOfWork:
        """The unit of work over the catalogue's ports (opened on first use)."""
        if self._store is None:
            from preservation.unit_of_work import open_unit_of_work

            self._store = open_unit_of_work(self.config.catalogue_url, self.config)
        return self._store

    @property
    def catalogue(self) -> Catalogue:
        """Records, events and retention."""
        return self.store.catalogue

    @property
    def register(self) -> AccessRegister:
        """Permits, DIPs, the access log and decided restrictions."""
        return self.store.register

    @property
    def search_index(self) -> SearchIndex:
        """The full-text index."""
        return self.store.search

    def now(self) -> datetime:
        """The service's clock."""
        return self.config.clock()

    def actor(self, action: str) -> Person:
        """The person doing `action`; NoActingPerson when nobody was named (nothing is done anonymously)."""
        if self.person is None:
            raise NoActingPerson(f"{action} must name the person who does it, and nobody was named",
                                 hint="name the acting person, or configure the data directory's operator")
        return self.person
