"""Against a real Citus cluster: run when TEST_CITUS_URL points at a coordinator (a database
of it with the citus extension and its workers registered), skipped with a message otherwise.
README "Running on Citus" says how to build one."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db import async_url, create_engine, migrate, plain_url
from app.domain.access import hash_api_key
from app.main import create_app
from app.models.distribution import TABLES, Kind
from app.repositories import card_numbers
from app.repositories.reads import CHECKOUT_CONTEXT
from tests.conftest import _execute, bearer, make_settings, running
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


def _seeded(database: str, tmp_path) -> tuple[str, str]:
    """Migrated, distributed and seeded with the demo tenant: (its admin key, its card)."""
    migrate(database)
    placed = run(database, "distribute")
    assert placed.returncode == 0, placed.stderr
    seeded = run(database, "seed-demo", data_dir=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    key = re.search(r"admin API key: (\S+)", seeded.stdout).group(1)
    card = re.search(r"GOLD card: (\S+)", seeded.stdout).group(1)
    return key, card


def test_distribute_places_every_table_as_declared_and_again_does_nothing(citus_database):
    migrate(citus_database)
    first = run(citus_database, "distribute")
    assert first.returncode == 0, first.stderr
    assert "every table placed" in first.stdout
    again = run(citus_database, "distribute")
    assert again.returncode == 0, again.stderr
    assert "(0 step(s) this run)" in again.stdout

    async def placed() -> dict[str, tuple[str, str | None, int]]:
        engine = create_engine(citus_database, pool_size=1, max_overflow=0)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text(
                        "SELECT table_name::text, citus_table_type, distribution_column, "
                        "colocation_id FROM citus_tables"
                    )
                )
                return {r[0]: (r[1], r[2], r[3]) for r in rows}
        finally:
            await engine.dispose()

    tables = asyncio.run(placed())
    for name, placement in TABLES.items():
        if placement.kind == Kind.LOCAL:
            assert name not in tables
        elif placement.kind == Kind.REFERENCE:
            assert tables[name][0] == "reference", name
        else:
            assert tables[name][:2] == ("distributed", placement.column), name
    member_group = {tables[n][2] for n, p in TABLES.items() if p.kind == Kind.MEMBER}
    assert member_group == {tables["members"][2]}  # one co-location group


def test_the_quote_runs_through_the_coordinator_on_the_members_shard_only(citus_database, tmp_path):
    key, card = _seeded(citus_database, tmp_path)

    async def quote() -> httpx.Response:
        async with running(create_app(make_settings(citus_database))) as client:
            return await client.post(
                "/v1/checkout/quote",
                headers=bearer(key),
                json={
                    "store_code": "S01",
                    "card_number": card,
                    "lines": [
                        {
                            "line_no": 1,
                            "sku": "SKU1",
                            "counter": "C01",
                            "brand": "B1",
                            "qty": "2",
                            "original_price": "50.00",
                        }
                    ],
                },
            )

    answer = asyncio.run(quote())
    assert answer.status_code == 200, answer.text
    assert answer.json()["card"] == {"number": card, "class": "GOLD"}

    async def remote_commands() -> tuple[list[str], dict[str, int]]:
        connection = await asyncpg.connect(citus_database)
        issued: list[str] = []
        connection.add_log_listener(lambda _c, message: issued.append(message.message))
        try:
            key_hash = hash_api_key(key)
            member = await connection.fetchval(card_numbers.BY_KEY, key_hash, card)
            shards = {
                table: await connection.fetchval(
                    "SELECT get_shard_id_for_distribution_column($1, $2::text)",
                    table,
                    str(member),
                )
                for table in ("cards", "members", "member_group_members")
            }
            await connection.execute("SET citus.log_remote_commands = on")
            await connection.fetchrow(CHECKOUT_CONTEXT, key_hash, "S01", card, member)
        finally:
            await connection.close()
        return [m for m in issued if m.startswith("issuing")], shards

    issued, shards = asyncio.run(remote_commands())
    reads = [m for m in issued if "SELECT" in m]
    assert len(reads) == 1, issued  # one statement, routed to one shard group
    touched = set(re.findall(r"public\.(cards|members|member_group_members)_(\d+)", reads[0]))
    assert touched == {(table, str(shard)) for table, shard in shards.items()}, reads[0]
