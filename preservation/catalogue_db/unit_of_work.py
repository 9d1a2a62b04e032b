"""The unit of work (`preservation.unit_of_work.UnitOfWork`) on Django: every port on the catalogue's one
database alias, so `transaction.atomic` on that alias spans them all."""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from django.db import connections, transaction

from preservation.catalogue_db.database import catalogue_alias
from preservation.catalogue_db.directory_store import DjangoDirectory
from preservation.catalogue_db.job_store import DjangoJobRegister
from preservation.catalogue_db.register_store import DjangoAccessRegister
from preservation.catalogue_db.search_store import DjangoSearchIndex, search_index_at
from preservation.catalogue_db.store import DjangoCatalogue
from preservation.catalogue_db.woo_store import DjangoWooRegister

if TYPE_CHECKING:
    from kernel.config import Config
    from preservation.storage import StorageLocation


class DjangoUnitOfWork:
    """The ports of the catalogue at one URL; the search index is opened on first use (it checks its stems)."""

    def __init__(self, url: str, config: Config | None = None) -> None:
        self._alias = catalogue_alias(url)
        self.catalogue = DjangoCatalogue(url)
        self.register = DjangoAccessRegister(self._alias)
        self.directory = DjangoDirectory(self._alias)
        self.woo = DjangoWooRegister(self._alias)
        self.jobs = DjangoJobRegister(self._alias)
        self._search: DjangoSearchIndex | None = None
        self._config = config
        self._storage: list[StorageLocation] | None = None

    @property
    def storage(self) -> list[StorageLocation]:
        """The configured storage locations by identity (resolved on first use); none without a configuration."""
        if self._storage is None:
            from preservation.storage import configured_locations

            self._storage = configured_locations(self._config, self.catalogue) if self._config else []
        return self._storage

    @property
    def search(self) -> DjangoSearchIndex:
        """The full-text index of every message."""
        if self._search is None:
            self._search = search_index_at(self._alias)
        return self._search

    def atomic(self) -> AbstractContextManager[None]:
        """A transaction over every port (nested ones become savepoints)."""
        return transaction.atomic(using=self._alias)

    def close(self) -> None:
        """Close this thread's connection, unless a transaction still runs on it."""
        connection = connections[self._alias]
        if not connection.in_atomic_block:
            connection.close()
