"""Test fixtures on a real PostgreSQL: TEST_DATABASE_URL (CI) or a throwaway embedded server.

The database is wiped and migrated once per session. Tests isolate themselves by working
in tenants of their own (every row belongs to a tenant), so nothing needs rolling back and
the same data is visible to a real server process for the concurrency and schema tests.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import (
    async_url,
    create_engine,
    create_sessionmaker,
    embedded_get_server,
    migrate,
    plain_url,
)
from app.main import create_app
from app.services.access import create_tenant
from app.settings import Settings
from app.uow import UnitOfWork

BOOTSTRAP_KEY = "lk_test-bootstrap-key-for-the-suite"
# Server processes the suite starts share one PostgreSQL (max_connections 100 by default);
# their schedulers stay off (tests/integration/test_scheduler.py covers it).
SMALL_POOLS = {
    "LOYALTY_DB_POOL_SIZE": "4",
    "LOYALTY_DB_MAX_OVERFLOW": "4",
    "LOYALTY_SCHEDULER_INTERVAL_SECONDS": "0",
    # `loyalty serve` refuses the development secret on a database it did not start itself.
    "LOYALTY_SECRET_KEY": "test-secret-key",
}


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A URL on the PostgreSQL server the suite uses (its database may be wiped)."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    get_server = embedded_get_server()

    pgdata = tempfile.mkdtemp(prefix="loyalty-test-pg-")
    server = get_server(pgdata, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(pgdata, ignore_errors=True)


def _execute(url: str, *statements: str) -> None:
    """Run DDL in autocommit mode, from sync or async code alike (own thread, own loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _execute_async(url, *statements)).result()


async def _execute_async(url: str, *statements: str) -> None:
    engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def database_url(server_url: str) -> str:
    _execute(server_url, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")
    migrate(server_url)
    return server_url


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new empty database on the same server, dropped afterwards."""
    name = f"loyalty_scratch_{uuid.uuid4().hex[:12]}"
    _execute(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(async_url(server_url)).set(database=name).render_as_string(False)
    finally:
        _execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_settings(database_url: str, **overrides) -> Settings:
    values = {
        "database_url": database_url,
        "log_format": "text",
        "log_level": "WARNING",
        "secret_key": "test-secret-key",
        # Small pools: the suite runs several servers against one PostgreSQL (100 clients).
        "db_pool_size": 5,
        "db_max_overflow": 5,
        # No background jobs in the suite's apps (tests/integration/test_scheduler.py has its own).
        "scheduler_interval_seconds": 0,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url, max_body_bytes=64 * 1024)


@contextlib.asynccontextmanager
async def running(app) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture(scope="session")
async def app(settings: Settings):
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@dataclass
class TenantKeys:
    id: str
    admin_key: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.admin_key)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def new_tenant(database_url: str) -> TenantKeys:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        uow = UnitOfWork(create_sessionmaker(engine))
        tenant, issued = await create_tenant(uow, f"t-{uuid.uuid4().hex}")
    finally:
        await engine.dispose()
    return TenantKeys(tenant.id, issued.secret)


@pytest.fixture
async def tenant(database_url: str) -> TenantKeys:
    return await new_tenant(database_url)


@pytest.fixture
async def other_tenant(database_url: str) -> TenantKeys:
    return await new_tenant(database_url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    admin_key: str
    pid: int  # the supervisor's; its workers are its children


@pytest.fixture(scope="session")
def live_server(database_url: str) -> Iterator[LiveServer]:
    """The real service in its own process (two workers), for concurrency and fuzzing."""
    port = free_port()
    env = {
        **os.environ,
        "LOYALTY_DATABASE_URL": plain_url(database_url),
        "LOYALTY_BOOTSTRAP_KEY": BOOTSTRAP_KEY,
        "LOYALTY_LOG_LEVEL": "WARNING",
        "LOYALTY_LOG_FORMAT": "text",
        **SMALL_POOLS,
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the live server did not become ready")
            time.sleep(0.2)
        yield LiveServer(url, BOOTSTRAP_KEY, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=15)
