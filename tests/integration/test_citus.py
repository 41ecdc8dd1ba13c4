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
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db import ReaderPool, async_url, create_engine, migrate, plain_url
from app.main import create_app
from app.models.distribution import TABLES, Kind
from tests.conftest import _execute, bearer, make_settings, running
from tests.factories.cli import run

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

    rows = asyncio.run(
        _fetch(
            citus_database,
            "SELECT table_name::text, citus_table_type, distribution_column, colocation_id "
            "FROM citus_tables",
        )
    )
    tables = {r[0]: (r[1], r[2], r[3]) for r in rows}
    # A new session: the database's own settings.
    assert asyncio.run(_fetchrow(citus_database, "SHOW citus.propagate_set_commands"))[0] == "local"
    for name, placement in TABLES.items():
        if placement.kind == Kind.LOCAL:
            assert name not in tables
        elif placement.kind == Kind.REFERENCE:
            assert tables[name][0] == "reference", name
        else:
            assert tables[name][:2] == ("distributed", placement.column), name
    member_group = {tables[n][2] for n, p in TABLES.items() if p.kind == Kind.MEMBER}
    assert member_group == {tables["members"][2]}  # one co-location group


LINES = [{"line_no": 1, "sku": "SKU1", "counter": "C01", "brand": "B1", "qty": "2"}]
MEMBER_TABLES = [name for name, p in TABLES.items() if p.kind == Kind.MEMBER]
DISTRIBUTED = {name for name, p in TABLES.items() if p.distributed}


async def _logging_reader(url: str, issued: list[str]) -> ReaderPool:
    """The app's reader pool, with every command the coordinator sends a worker noted."""
    reader = ReaderPool(2)

    async def setup(connection) -> None:  # on each use (asyncpg warns on release)
        connection.add_log_listener(
            lambda _c, message: issued.append(f"{message.message}\n{message.detail}")
        )

    reader.pool = await asyncpg.create_pool(
        url,
        min_size=0,
        max_size=2,
        setup=setup,
        server_settings={"timezone": "UTC", "citus.log_remote_commands": "on"},
    )
    return reader


def _shards(issued: list[str]) -> set[tuple[str, int]]:
    """The shards of distributed tables that the noted commands touched."""
    found = re.findall(r"public\.([a-z_]+?)_(\d{6,})\b", "\n".join(issued))
    return {(table, int(shard)) for table, shard in found if table in DISTRIBUTED}


def _node(command: str) -> str:
    """The worker a noted command went to (its detail: "on server user@host:port …")."""
    return re.search(r"on server \S+@(\S+:\d+)", command).group(1)


async def _node_of(url: str, table: str, value: str) -> str:
    row = await _fetchrow(
        url,
        "SELECT nodename || ':' || nodeport FROM citus_shards WHERE shardid = "
        "get_shard_id_for_distribution_column($1, $2::text)",
        table,
        value,
    )
    return row[0]


async def _fetch(url: str, query: str, *args) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


async def _fetchrow(url: str, query: str, *args) -> asyncpg.Record:
    return (await _fetch(url, query, *args))[0]


async def _shard_of(url: str, table: str, value: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(
            "SELECT get_shard_id_for_distribution_column($1, $2::text)", table, value
        )
    finally:
        await connection.close()


@pytest.mark.filterwarnings("ignore:.*active log listener:asyncpg.InterfaceWarning")
def test_the_till_and_an_rfm_run_work_through_the_coordinator_on_the_shards_they_name(
    citus_database, tmp_path
):
    """The quote reads the member's shards only; the sale writes them and its receipt's
    shard; replay, return, adjustment, redemption and an RFM run answer as on one node."""
    key, card = _seeded(citus_database, tmp_path)
    issued: list[str] = []

    async def flow() -> None:
        app = create_app(make_settings(citus_database))
        async with running(app) as client:
            await app.state.reader.close()
            app.state.reader = await _logging_reader(citus_database, issued)
            till = bearer(key)
            member = (await client.get(f"/v1/cards/{card}", headers=till)).json()["member_id"]
            mine = {
                (table, await _shard_of(citus_database, table, member)) for table in MEMBER_TABLES
            }

            quote = {
                "store_code": "S01",
                "card_number": card,
                "lines": [{**LINES[0], "original_price": "50.00"}],
            }
            issued.clear()
            answer = await client.post("/v1/checkout/quote", json=quote, headers=till)
            assert answer.status_code == 200, answer.text
            assert answer.json()["card"] == {"number": card, "class": "GOLD"}
            number = ("card_numbers", await _shard_of(citus_database, "card_numbers", card))
            assert _shards(issued) - {number} <= mine and _shards(issued) & mine, issued

            sale = {
                "store_code": "S01",
                "receipt_no": "R-1",
                "card_number": card,
                "occurred_at": "2026-12-01T10:00:00+08:00",
                "lines": [{**LINES[0], "final_amount": "100.00"}],
                "payments": [{"method": "cash", "amount": "100.00"}],
            }
            issued.clear()
            first = await client.post("/v1/sales", json=sale, headers=till)
            assert first.status_code == 201, first.text
            # Two commands: the read, routed to the member's shards, then the write, sent
            # whole to the member's node (it claims the receipt on the receipt's shard there).
            assert len(issued) == 2 and _shards(issued[:1]) <= mine, issued
            assert "apply_ledger_plan" in issued[1] and _node(issued[1]) == await _node_of(
                citus_database, "cards", member
            ), issued[1]
            claimed = await _fetchrow(
                citus_database,
                "SELECT member_id::text, sale_id FROM sale_receipts WHERE receipt_no = 'R-1'",
            )
            assert tuple(claimed) == (member, first.json()["sale_id"])
            again = await client.post("/v1/sales", json=sale, headers=till)
            assert (again.status_code, again.json()) == (200, first.json())
            # In the unit of work's transaction (its SET LOCAL lock_timeout reaches the
            # workers), committed with the key: the same key again is the same answer.
            keyed = {**till, "Idempotency-Key": "till-1-R-2"}
            once = await client.post("/v1/sales", json={**sale, "receipt_no": "R-2"}, headers=keyed)
            twice = await client.post(
                "/v1/sales", json={**sale, "receipt_no": "R-2"}, headers=keyed
            )
            assert (once.status_code, twice.status_code) == (201, 201), once.text
            assert twice.headers["Idempotent-Replayed"] == "true"
            earned = first.json()["points_earned_total"]
            assert earned > 0

            back = await client.post(
                "/v1/sales/S01/R-1/returns",
                json={"return_no": "B-1", "lines": [{"line_no": 1, "qty": "1"}]},
                headers=till,
            )
            assert back.status_code == 201, back.text
            clawed = sum(back.json()["points_clawed_back"].values())
            assert 0 < clawed < earned

            adjusted = await client.post(
                "/v1/points/adjustments",
                json={"member_id": member, "points": 500, "reason": "citus"},
                headers=till,
            )
            assert adjusted.status_code == 201, adjusted.text
            redeemed = await client.post(
                "/v1/points/redemptions",
                json={"card_number": card, "points": 100, "purpose": "gift", "reference": "C1"},
                headers=till,
            )
            assert redeemed.status_code == 201, redeemed.text
            points = (await client.get(f"/v1/members/{member}/points", headers=till)).json()
            assert points["balance"] == 2 * earned - clawed + 500 - 100

            run = await client.post(
                "/v1/analytics/rfm/runs", json={"as_of": "2026-12-03"}, headers=till
            )
            assert run.status_code == 201, run.text
            assert run.json()["members_scored"] == 1  # two receipts, one member

    asyncio.run(flow())
