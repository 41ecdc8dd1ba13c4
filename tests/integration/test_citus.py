"""Against a real Citus cluster: run when TEST_CITUS_URL points at a coordinator (a database
of it with the citus extension and its workers registered), skipped with a message otherwise.
README "Running on Citus" says how to build one."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db import async_url, create_engine, migrate, plain_url
from tests.conftest import _execute
from tests.integration.test_cli import run

CITUS_URL = os.environ.get("TEST_CITUS_URL")

pytestmark = pytest.mark.skipif(
    not CITUS_URL, reason="TEST_CITUS_URL is not set: no Citus coordinator to test against"
)


async def _workers(url: str) -> list[tuple[str, int]]:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0")
            )
            return [(r.nodename, r.nodeport) for r in rows]
    finally:
        await engine.dispose()


def _on(url: str, host: str, port: int, database: str) -> str:
    return (
        make_url(async_url(url))
        .set(host=host, port=port, database=database)
        .render_as_string(False)
    )


@pytest.fixture
def citus_database() -> Iterator[str]:
    """A new database on the coordinator and every worker, with Citus and the workers
    registered; dropped afterwards."""
    base = make_url(async_url(CITUS_URL or ""))
    name = f"loyalty_citus_{uuid.uuid4().hex[:12]}"
    workers = asyncio.run(_workers(base.render_as_string(False)))
    nodes = [(base.host, base.port or 5432), *workers]
    for host, port in nodes:
        _execute(_on(str(base), host, port, "postgres"), f'CREATE DATABASE "{name}"')
        _execute(_on(str(base), host, port, name), "CREATE EXTENSION citus")
    url = _on(str(base), base.host, base.port or 5432, name)
    registered = [f"SELECT citus_set_coordinator_host('{base.host}', {base.port or 5432})"]
    registered += [f"SELECT citus_add_node('{host}', {port})" for host, port in workers]
    _execute(url, *registered)
    try:
        yield plain_url(url)
    finally:
        for host, port in reversed(nodes):
            _execute(
                _on(str(base), host, port, "postgres"),
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            )


def test_distribute_refuses_a_table_that_breaks_the_rules(citus_database):
    migrate(citus_database)
    _execute(
        citus_database,
        "CREATE TABLE stray (id bigint PRIMARY KEY, member_id uuid NOT NULL)",
    )
    done = run(citus_database, "distribute")
    assert done.returncode == 1
    assert "stray: no placement declared (app/models/distribution.py)" in done.stderr
    assert "schema_not_distributable" in done.stderr
