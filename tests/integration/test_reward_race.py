"""积分商城 under racing exchanges, on the real server process (two workers): a reward's stock
is never oversold, and only the members who got a voucher paid for one."""

import asyncio
import os

import httpx

from tests.factories.database import sql
from tests.factories.vouchers import insert_template

MEMBERS = 300
STOCK = 100
PRICE = 100
GIVEN = 250  # enough for two: a loser must keep all of it, a winner pay exactly once


async def test_300_racing_exchanges_for_a_stock_of_100(live_server, database_url):
    headers = {"Authorization": f"Bearer {live_server.admin_key}"}
    suffix = os.urandom(4).hex().upper()
    reward, template = f"RACE-{suffix}", f"T{suffix}"
    limits = httpx.Limits(max_connections=MEMBERS)
    async with httpx.AsyncClient(
        base_url=live_server.url, headers=headers, timeout=120, limits=limits
    ) as c:
        tenant = (await c.get("/v1/api-keys")).json()["items"][0]["tenant_id"]
        await insert_template(database_url, tenant, template)
        r = await c.post(
            "/v1/rewards",
            json={
                "code": reward,
                "name": "race",
                "template": template,
                "points": PRICE,
                "stock": STOCK,
            },
        )
        assert r.status_code == 201, r.text
        setup = asyncio.Semaphore(16)

        async def member(i: int) -> str:
            async with setup:
                created = await c.post("/v1/members", json={"name": f"racer {i}"})
                member_id = created.json()["id"]
                given = await c.post(
                    "/v1/points/adjustments",
                    json={"member_id": member_id, "points": GIVEN, "reason": "race"},
                )
                assert given.status_code == 201, given.text
                return member_id

        members = await asyncio.gather(*[member(i) for i in range(MEMBERS)])
        results = await asyncio.gather(
            *[c.post(f"/v1/rewards/{reward}/exchanges", json={"member_id": m}) for m in members]
        )
        after = (await c.get(f"/v1/rewards/{reward}")).json()

    won = {m: r.json() for m, r in zip(members, results, strict=True) if r.status_code == 201}
    refused = [r.json()["code"] for r in results if r.status_code != 201]
    assert len(won) == STOCK
    assert refused == ["reward_out_of_stock"] * (MEMBERS - STOCK)
    assert (after["stock"], after["exchanged"]) == (0, STOCK)
    assert all(w["balance"] == GIVEN - PRICE for w in won.values())
    vouchers = await sql(
        database_url,
        "SELECT member_id::text, code FROM vouchers WHERE tenant_id = :t AND source_ref = :r",
        t=tenant,
        r=reward,
    )
    assert sorted(vouchers) == sorted((m, w["code"]) for m, w in won.items())
    redemptions = await sql(
        database_url,
        "SELECT member_id::text, reference, points FROM points_redemptions "
        "WHERE tenant_id = :t AND member_id = ANY(CAST(:m AS uuid[]))",
        t=tenant,
        m=members,
    )
    assert sorted(redemptions) == sorted((m, w["code"], PRICE) for m, w in won.items())
    balances = dict(
        await sql(
            database_url,
            "SELECT member_id::text, balance FROM points_accounts "
            "WHERE tenant_id = :t AND member_id = ANY(CAST(:m AS uuid[]))",
            t=tenant,
            m=members,
        )
    )
    assert balances == {m: GIVEN - PRICE if m in won else GIVEN for m in members}
