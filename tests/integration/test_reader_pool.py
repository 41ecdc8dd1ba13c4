"""The reader pool serves waiters first come, first served (app/db.py ReaderPool)."""

import asyncio
import itertools
import random

from app.db import create_reader


async def test_no_request_for_a_connection_overtakes_an_earlier_one(database_url):
    # 40 clients for 2 connections, as a busy worker's requests: each asks, holds its
    # connection for a query, lets go and asks again a moment later. Served in the order they
    # asked, none is ever served before one that asked earlier. asyncpg's own queue lets a
    # request arriving just then take a connection freed for a woken waiter, which then
    # queues again at the back.
    pool = await create_reader(database_url, 2)
    tickets = itertools.count()
    served: list[int] = []  # tickets, in the order their requests got a connection

    async def client() -> None:
        for _ in range(10):
            await asyncio.sleep(random.random() / 500)
            ticket = next(tickets)
            async with pool.acquire() as connection:
                served.append(ticket)
                await connection.fetchval("SELECT 1")

    try:
        await asyncio.gather(*(pool.fetchrow("SELECT pg_sleep(0.01)") for _ in range(2)))
        await asyncio.gather(*(client() for _ in range(40)))
    finally:
        await pool.close()
    assert len(served) == 400
    assert served == sorted(served)


async def test_the_pool_reads(database_url):
    pool = await create_reader(database_url, 2)
    try:
        assert (await pool.fetchrow("SELECT $1::int + 1 AS n", 41))["n"] == 42
    finally:
        await pool.close()
