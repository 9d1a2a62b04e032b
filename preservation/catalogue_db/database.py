"""Django, set up lazily, and one database alias per catalogue URL.

A process may work on several data directories (a test run does), so each catalogue URL becomes a database
alias of its own, added to Django's connections on first use; every query names it (`using=alias`).
SQLite runs in WAL mode with IMMEDIATE transactions and a busy timeout, so a command, a web process and a
worker write side by side without "database is locked". A `postgresql://` URL (libpq's form, e.g.
`postgresql://edepot@db.example/edepot` or `postgresql:///edepot?host=/run/postgresql`) names an existing
PostgreSQL 15 database: an empty one is migrated on first use (under an advisory lock, so two processes
opening it at once migrate it once).

A new SQLite catalogue is a copy of a template made once per process by running the migrations, so opening a
fresh data directory costs a file copy, not a migration run. An existing catalogue must be at the current
migration: one written by an older edepot (0.2.0 had no migrations) is upgraded only on request
(`preservation.catalogue_db.upgrade`), one written by a newer edepot is refused.
"""
from __future__ import annotations

import atexit
import fcntl
import hashlib
import os
import re
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any

from kernel.errors import CatalogueUpgradeNeeded, InputError

APP_LABEL = "catalogue"
MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4}_\w+)\.py$")
_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 60,
    "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL",
}

# The job queue: Django's tasks API (the django-tasks backport) with its database backend, its table in the
# catalogue of the data directory a process works on (`use_queue_of`).
QUEUE_APPS = ("django_tasks", "django_tasks_db")
QUEUE_SETTINGS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
QUEUE_ROUTER = "preservation.catalogue_db.database.QueueRouter"
QUEUE_ROUTER_OR_DEFAULT = "preservation.catalogue_db.database.QueueRouterOrDefault"
_queue_alias: str | None = None
_TEMPLATE_FORM = "wal"  # how a template is made beside its migrations: part of a cached template's name

_lock = threading.RLock()
_aliases: dict[str, str] = {}
_template: Path | None = None


_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_connection_name = "edepot"  # the application_name of this process's PostgreSQL connections (name_connections)
_MIGRATION_LOCK = 0x6564_6570_6f74  # the advisory lock key of "migrate this catalogue" on PostgreSQL


def sqlite_path(url: str) -> Path:
    """The file behind a catalogue URL `sqlite:///path` (four slashes for an absolute path)."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    raise InputError(f"catalogue URL {url!r} is not supported",
                     hint="use sqlite:///path/to/catalogue.sqlite or postgresql://user@host/database")


def is_postgres(url: str) -> bool:
    """Whether the catalogue URL names a PostgreSQL database."""
    return url.startswith(_POSTGRES_SCHEMES)


def postgres_database(url: str) -> dict[str, Any]:
    """Django's DATABASES entry for the PostgreSQL database at a libpq URL (its query parameters, such as
    `host=/socket/folder`, kept as connection options)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except Exception as error:  # psycopg's ProgrammingError, without importing its error classes here
        raise InputError(f"catalogue URL {url!r} is not a PostgreSQL URL: {error}") from None
    if not params.get("dbname"):
        raise InputError(f"catalogue URL {url!r} names no database", hint="postgresql://user@host/database")
    return {"ENGINE": "django.db.backends.postgresql", "NAME": params.pop("dbname"),
            "USER": params.pop("user", ""), "PASSWORD": params.pop("password", ""),
            "HOST": params.pop("host", ""), "PORT": params.pop("port", ""),
            "OPTIONS": {"application_name": _connection_name[:63], **params}}


def name_connections(name: str) -> None:
    """Name the PostgreSQL connections this process opens from now on (their `application_name`), so that the
    server's list of sessions tells whose each is (a worker's: the reaper ends a stalled worker's sessions)."""
    global _connection_name
    _connection_name = name


def ensure_django() -> None:
    """Set Django up once per process: with the caller's settings module when one is named, else the
    catalogue's own minimal settings (no web application, no default database)."""
    from django.apps import apps

    if apps.ready:
        return
    import django
    from django.conf import settings

    if not os.environ.get("DJANGO_SETTINGS_MODULE") and not settings.configured:
        settings.configure(
            INSTALLED_APPS=["preservation.catalogue_db", *QUEUE_APPS],
            DATABASES={},
            TASKS=QUEUE_SETTINGS,
            DATABASE_ROUTERS=[QUEUE_ROUTER],
            USE_TZ=True,
            TIME_ZONE="UTC",
            LOGGING_CONFIG=None,
        )
    django.setup(set_prefix=False)  # no URL prefix: importing the URL machinery costs startup time


def catalogue_alias(url: str) -> str:
    """The Django database alias of the catalogue at `url`, ready to use: a new catalogue is created at the
    current migration; CatalogueUpgradeNeeded when the file was written by another edepot version."""
    with _lock:
        alias = _aliases.get(url)
        if alias is not None:
            return alias
        ensure_django()
        if is_postgres(url):
            alias = register_postgres(url)
            _migrate_if_empty(alias)
            check_current(*applied_migrations_at(alias), where=shown_url(url))
        else:
            path = sqlite_path(url)
            alias = register_database(path)
            _create_if_absent(path)
            check_current(*applied_migrations(path), where=str(path))
        _aliases[url] = alias
        return alias


def shown_url(url: str) -> str:
    """A PostgreSQL URL without its password, for messages."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def forget(url: str) -> None:
    """Close this thread's connection to the catalogue at `url` and drop its alias (the next use opens it again)."""
    from django.db import connections

    with _lock:
        alias = _aliases.pop(url, None)
        if alias is not None:
            connections[alias].close()


def register_database(path: Path, *, options: dict[str, Any] | None = None) -> str:
    """The Django alias of the SQLite file at `path` (registered on first use), without creating or checking it."""
    return _register(str(path.resolve()), sqlite_database(path, options=options))


def register_postgres(url: str) -> str:
    """The Django alias of the PostgreSQL database at `url` (registered on first use), without migrating or
    checking it."""
    return _register(url, postgres_database(url))


def _register(identity: str, database: dict[str, Any]) -> str:
    from django.db import connections

    alias = "catalogue-" + hashlib.sha256(identity.encode()).hexdigest()[:16]
    if alias not in connections.settings:
        configured = connections.configure_settings({
            "default": {"ENGINE": "django.db.backends.dummy"},
            alias: database,
        })
        connections.settings[alias] = configured[alias]
    return alias


def database_settings(url: str) -> dict[str, Any]:
    """Django's DATABASES entry for the catalogue at `url`, SQLite or PostgreSQL (for the web's settings)."""
    return postgres_database(url) if is_postgres(url) else sqlite_database(sqlite_path(url))


def sqlite_database(path: Path, *, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Django's DATABASES entry for the SQLite catalogue at `path`: WAL, IMMEDIATE transactions, a busy timeout
    (or the `options` given), for every process that opens it, the web's included."""
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path),
            "OPTIONS": dict(_SQLITE_OPTIONS if options is None else options)}


def on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Give every SQLite connection the SQL function the full-text index computes its stems with."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("edepot_stems", 1, _stems_of, deterministic=True)


def _stems_of(text: str) -> str:
    # Imported on the first call: the stemmer and its Dutch folding cost a tenth of a second to import, which
    # a command that never touches the full-text index (fixity, retention) should not pay.
    from preservation.search_stems import stems_of

    return stems_of(text)


def migration_names() -> list[str]:
    """The catalogue's migrations this edepot ships, in order."""
    return sorted(m.group(1) for f in MIGRATIONS.iterdir() if (m := _MIGRATION_NAME.match(f.name)))


def applied_migrations(path: Path) -> tuple[bool, list[str]]:
    """(whether the file holds catalogue tables, the catalogue migrations recorded as applied), read without
    Django so that an old or foreign file is never changed by looking at it."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "django_migrations" not in tables:
            return "aips" in tables, []
        rows = db.execute("SELECT name FROM django_migrations WHERE app = ? ORDER BY id", (APP_LABEL,))
        return True, [r[0] for r in rows]
    finally:
        db.close()


def applied_migrations_at(alias: str) -> tuple[bool, list[str]]:
    """(whether the database holds catalogue tables, the catalogue migrations recorded as applied), read through
    the alias's connection (for PostgreSQL, which has no file to open read-only)."""
    from django.db import connections

    connection = connections[alias]
    tables = set(connection.introspection.table_names())
    if "django_migrations" not in tables:
        return "aips" in tables, []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM django_migrations WHERE app = %s ORDER BY id", [APP_LABEL])
        return "aips" in tables, [r[0] for r in cursor.fetchall()]


def _migrate_if_empty(alias: str) -> None:
    """Create the catalogue in an empty PostgreSQL database, once however many processes open it at once (one
that finds another's migration running waits for it under the lock)."""
    from django.db import connections

    if applied_migrations_at(alias)[1] == migration_names():
        return
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_MIGRATION_LOCK])
        try:
            if not applied_migrations_at(alias)[0]:
                migrate(alias)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_MIGRATION_LOCK])


def check_current(has_tables: bool, applied: list[str], *, where: str) -> None:
    """Refuse a catalogue that is not at this edepot's newest migration (CatalogueUpgradeNeeded); `has_tables`
    and `applied` as `applied_migrations` reads them, `where` names the catalogue in messages."""
    shipped = migration_names()
    if applied == shipped:
        return
    if has_tables and not applied:
        raise CatalogueUpgradeNeeded(
            f"the catalogue {where} was written by edepot 0.2.0 and must be upgraded before use",
            hint="upgrade the data directory in place; the old catalogue is kept beside it")
    unknown = [name for name in applied if name not in shipped]
    if unknown:
        raise CatalogueUpgradeNeeded(
            f"the catalogue {where} was written by a newer edepot (migration {unknown[-1]})",
            hint="use that edepot version or newer")
    raise CatalogueUpgradeNeeded(
        f"the catalogue {where} needs {len(shipped) - len(applied)} migration(s) before use",
        hint="upgrade the data directory in place; the old catalogue is kept beside it")


def migrate(alias: str) -> None:
    """Apply every catalogue migration not yet applied to the database behind `alias`."""
    from django.core.management import call_command

    global _queue_alias
    before, _queue_alias = _queue_alias, alias  # the queue's own data migrations query through the router
    try:
        call_command("migrate", APP_LABEL, database=alias, verbosity=0, interactive=False)
    finally:
        _queue_alias = before


def _create_if_absent(path: Path) -> None:
    """Make a new catalogue from the template unless one is there: under a lock on a file beside it, so two
    processes opening a fresh data directory at once never replace each other's new catalogue."""
    if path.exists() and path.stat().st_size > 0:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.create-lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists() and path.stat().st_size > 0:
            return
        _set_aside_orphans(path)
        staged = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.new")
        try:
            with open(staged, "wb") as out:
                out.write(template_catalogue().read_bytes())
                out.flush()
                os.fsync(out.fileno())
            os.replace(staged, path)  # over nothing, or over an empty file a bare connection left
        finally:
            staged.unlink(missing_ok=True)


def _set_aside_orphans(path: Path) -> None:
    """Rename the write-ahead log and shared memory of a catalogue file that is gone (removed by hand, or lost):
    SQLite would replay that log into the new catalogue made under its name and damage it. They are kept beside
    it (`-wal.orphaned-<time>`), never deleted."""
    import time

    for suffix in ("-wal", "-shm"):
        orphan = path.with_name(path.name + suffix)
        if orphan.exists():
            orphan.rename(orphan.with_name(f"{orphan.name}.orphaned-{time.strftime('%Y%m%dT%H%M%S')}"))


def template_catalogue() -> Path:
    """A catalogue at the newest migration (journal in one file, so it copies whole): made once and kept in the
    user's cache folder under the digest of every migration it ran, so a process opening a new data directory
    copies it instead of migrating; made once per process when there is no cache folder to write."""
    global _template
    if _template is None:
        from django.db import connections

        cached = _template_cache() / f"catalogue-{_migrations_digest()}.sqlite"
        if cached.is_file():
            _template = cached
            return cached
        folder = Path(tempfile.mkdtemp(prefix="edepot-catalogue-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        file = folder / "catalogue.sqlite"
        alias = register_database(file, options={"timeout": 60})
        migrate(alias)
        connections[alias].close()
        del connections.settings[alias]
        # In WAL mode already (kept in the file's header, the WAL itself gone once closed), so processes opening a
        # new catalogue at once never contend to switch its journal mode.
        wal = sqlite3.connect(file)
        wal.execute("PRAGMA journal_mode=WAL")
        wal.close()
        _template = file
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            staged = cached.with_name(f".{cached.name}.{os.getpid()}.new")
            shutil.copyfile(file, staged)
            os.replace(staged, cached)
            _template = cached
        except OSError:
            pass  # no cache to write: this process's own template serves
    return _template


def _template_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edepot"


def _migrations_digest() -> str:
    """The digest of every migration a new catalogue runs (the catalogue's and the job queue's) and of Django's
    version: a cached template is used only by the code that would make the same one."""
    import django
    import django_tasks_db

    digest = hashlib.sha256(f"{_TEMPLATE_FORM} {django.get_version()}".encode())
    for folder in (MIGRATIONS, Path(django_tasks_db.__file__).parent / "migrations"):
        for file in sorted(folder.glob("*.py")):
            digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:20]


def use_queue_of(url: str) -> str:
    """Make the job queue of this process the one in the catalogue at `url`; returns its alias."""
    global _queue_alias
    _queue_alias = catalogue_alias(url)
    return _queue_alias


class QueueRouter:
    """Sends the job queue's queries to the catalogue `use_queue_of` named (Django's database router)."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if model._meta.app_label == "django_tasks_database":
            if _queue_alias is None:
                raise InputError("no catalogue holds this process's job queue", hint="open a data directory first")
            return _queue_alias
        return None

    db_for_write = db_for_read


class QueueRouterOrDefault(QueueRouter):
    """The web's router (its default database is the catalogue): the job queue's queries go to the default
    database until a job is queued (`use_queue_of`), then to the catalogue's own connection, so that a job is
    queued in the transaction that records it rather than on a second connection waiting for that one's lock."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if model._meta.app_label == "django_tasks_database" and _queue_alias is None:
            return None
        return super().db_for_read(model, **hints)

    db_for_write = db_for_read
