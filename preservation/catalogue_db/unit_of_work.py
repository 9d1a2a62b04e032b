"""The unit of work (`preservation.unit_of_work.UnitOfWork`) on Django: every port on the catalogue's one
database alias, so `transaction.atomic` on that alias spans them all."""
from __future__ import annotations

import re
import threading
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Callable

from django.db import connections, transaction

from preservation.catalogue_db.aip_listing_store import DjangoAipQueries
from preservation.catalogue_db.attention_store import DjangoAttention
from preservation.catalogue_db.database import catalogue_alias
from preservation.catalogue_db.directory_store import DjangoDirectory
from preservation.catalogue_db.fixity_store import DjangoFixityQueries
from preservation.catalogue_db.job_store import DjangoJobRegister
from preservation.catalogue_db.register_store import DjangoAccessRegister
from preservation.catalogue_db.search_store import DjangoSearchIndex, search_index_at
from preservation.catalogue_db.store import DjangoCatalogue
from preservation.catalogue_db.woo_store import DjangoWooRegister

if TYPE_CHECKING:
    from kernel.config import Config
    from preservation.storage import StorageLocation


_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_BOOKKEEPING = re.compile(r'^\s*\w+\s+(INTO\s+|FROM\s+)?"?(jobs|django_tasks_database\w*)"?[\s(]', re.IGNORECASE)


class DjangoUnitOfWork:
    """The ports of the catalogue at one URL; the search index is opened on first use (it checks its stems)."""

    def __init__(self, url: str, config: Config | None = None) -> None:
        self._alias = catalogue_alias(url)
        self.catalogue = DjangoCatalogue(url)
        self.register = DjangoAccessRegister(self._alias)
        self.directory = DjangoDirectory(self._alias)
        self.woo = DjangoWooRegister(self._alias)
        self.jobs = DjangoJobRegister(self._alias)
        self.attention = DjangoAttention(self._alias)
        self.aip_queries = DjangoAipQueries(self._alias)
        self.fixity = DjangoFixityQueries(self._alias)
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

    def fenced(self, check: Callable[[], None]) -> AbstractContextManager[None]:
        """Every write statement on this thread's connection in the block runs `check` first, in the write's
        transaction (a write outside any, of which there are few, is checked just before); writes to the jobs and
        the queue's tables are left alone."""
        connection = connections[self._alias]
        checking = threading.local()

        def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            if getattr(checking, "now", False) or not _WRITE.match(sql) or _BOOKKEEPING.search(sql):
                return execute(sql, params, many, context)
            checking.now = True
            try:
                with transaction.atomic(using=self._alias):  # a savepoint in the write's own transaction
                    check()
            finally:
                checking.now = False
            return execute(sql, params, many, context)

        return connection.execute_wrapper(wrapper)

    def close(self) -> None:
        """Close this thread's connection, unless a transaction still runs on it."""
        connection = connections[self._alias]
        if not connection.in_atomic_block:
            connection.close()
