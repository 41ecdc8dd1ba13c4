"""Members, adjustments, redemptions, balances, points settings and aged lots through the API."""

from tests.conftest import bearer
from tests.factories.database import sql


async def new_member(client, headers, name="李雷"):
    r = await client.post("/v1/members", json={"name": name}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def adjust(client, headers, member, points, status=201, reason="goodwill"):
    r = await client.post(
        "/v1/points/adjustments",
        json={"member_id": member, "points": points, "reason": reason},
        headers=headers,
    )
    assert r.status_code == status, r.text
    return r.json()


async def redeem(client, headers, status=201, **body):
    r = await client.post(
        "/v1/points/redemptions", json={"purpose": "gift", **body}, headers=headers
    )
    assert r.status_code == status, r.text
    return r.json()


async def balance_of(client, headers, member):
    r = await client.get(f"/v1/members/{member}/points", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["available"] + body["pending"] == body["balance"]
    return body


async def put_settings(client, headers, status=200, **body):
    r = await client.put("/v1/settings/points", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def key_with(client, headers, *scopes):
    r = await client.post(
        "/v1/api-keys", json={"name": "k", "scopes": list(scopes)}, headers=headers
    )
    return bearer(r.json()["key"])


async def age_lots(database_url, member, months):
    """Pretend the member's lots were earned ``months`` ago (with the expiry that gives)."""
    await sql(
        database_url,
        "UPDATE points_lots SET earned_at = earned_at - make_interval(months => :n), "
        "expires_at = expires_at - make_interval(months => :n) WHERE member_id = :m",
        n=months,
        m=member,
    )
