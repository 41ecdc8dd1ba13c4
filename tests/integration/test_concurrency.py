"""Real parallel requests against the real server process (two workers)."""

import asyncio

import httpx


async def test_parallel_creates_of_one_store_yield_one_winner(live_server):
    headers = {"Authorization": f"Bearer {live_server.admin_key}"}
    code = "R" + __import__("os").urandom(3).hex().upper()
    async with httpx.AsyncClient(base_url=live_server.url, headers=headers, timeout=30) as c:
        results = await asyncio.gather(
            *[c.post("/v1/stores", json={"code": code, "name": f"n{i}"}) for i in range(20)]
        )
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [409] * 19
    assert all(r.json()["code"] == "store_exists" for r in results if r.status_code == 409)
