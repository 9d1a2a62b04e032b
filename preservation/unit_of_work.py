"""One unit of work over the catalogue's ports: records and events with retention (`Catalogue`), the access
register (`AccessRegister`), the search index (`SearchIndex`) and the directory of organisations, people and
the audit log (`Directory`), and one transaction across them; beside them the storage locations as BlobStores,
each by its identity.

The Depot service holds one per data directory and hands its ports to the engine; work that must change two
ports together (a decided restriction and its PREMIS event, a destroyed AIP and its index rows) runs inside
`atomic()`, so either both changes are there or neither is. The implementation on Django is
`preservation.catalogue_db.unit_of_work`.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

from preservation.access_register import AccessRegister
from preservation.aip_listing import AipQueries
from preservation.attention import AttentionQueries
from preservation.blobstore import BlobStore
from preservation.catalogue import Catalogue
from preservation.directory import Directory
from preservation.fixity_overview import FixityQueries
from preservation.job_register import JobRegister
from preservation.search_index import SearchIndex
from preservation.woo_register import WooRegister

if TYPE_CHECKING:
    from kernel.config import Config


class UnitOfWork(Protocol):
    """The catalogue's ports, each opened on first use, sharing one connection and its transactions."""

    @property
    def catalogue(self) -> Catalogue:
        """AIPs, files, replicas, PREMIS events, retention, holds and destruction."""
    @property
    def register(self) -> AccessRegister:
        """Permits, delivered DIPs, the access log and decided restrictions."""
    @property
    def search(self) -> SearchIndex:
        """The full-text index of every message."""
    @property
    def storage(self) -> Sequence[BlobStore]:
        """The configured storage locations, in configuration order, each known by its identity (a unit of work
        opened without a configuration has none)."""
    @property
    def directory(self) -> Directory:
        """Organisations, people, roles, tokens and the audit log."""
    @property
    def jobs(self) -> JobRegister:
        """Long work queued for workers: its state, progress and report."""
    @property
    def woo(self) -> WooRegister:
        """Woo requests, their scope and the decision per document."""
    @property
    def attention(self) -> AttentionQueries:
        """Bounded questions about what needs attention now (failed jobs, damage, open lists, holds)."""
    @property
    def aip_queries(self) -> AipQueries:
        """AIPs filtered and paged, and one AIP's files, events, versions and DIPs a page at a time."""

    @property
    def fixity(self) -> FixityQueries:
        """Bounded questions for the fixity overview, and the tallies of runs and restores it reads."""
    def atomic(self) -> AbstractContextManager[None]:
        """A transaction over every port: all that is written inside is kept together, or none of it."""
    def fenced(self, check: Callable[[], None]) -> AbstractContextManager[None]:
        """For the length of the block, every write this thread makes through the catalogue first runs `check`
        in the write's transaction (a job's claim, which raises ClaimLost once another worker took the job over);
        the job register's own bookkeeping is not checked."""
    def close(self) -> None:
        """Let go of the connection (the next use opens it again)."""


def open_unit_of_work(catalogue_url: str, config: Config | None = None) -> UnitOfWork:
    """The unit of work over the catalogue at `catalogue_url`, with the storage locations of `config` (Django set
    up on first use; E111 when the catalogue was written by another edepot version)."""
    from preservation.catalogue_db.database import ensure_django

    ensure_django()
    from preservation.catalogue_db.unit_of_work import DjangoUnitOfWork

    return DjangoUnitOfWork(catalogue_url, config)
