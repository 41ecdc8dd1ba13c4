"""A tenant with stores, the GOLD card class and a member; cards issued through the API."""

GOLD = {
    "code": "GOLD",
    "name": "Gold",
    "usage": "member",
    "prefix": "G",
    "serial_length": 6,
    "serial_start": 1,
    "serial_end": 999999,
    "check_digit_length": 1,
    "suffix": "",
    "validity_months": 24,
    "verification": "none",
}


async def setup_tenant(client, headers, **class_overrides):
    await client.post("/v1/stores", json={"code": "S01", "name": "Flagship"}, headers=headers)
    await client.post("/v1/stores", json={"code": "S02", "name": "Mall"}, headers=headers)
    r = await client.post("/v1/card-classes", json={**GOLD, **class_overrides}, headers=headers)
    assert r.status_code == 201, r.text
    r = await client.post(
        "/v1/members", json={"name": "王芳", "phone": "13812345678"}, headers=headers
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def issue(client, headers, member_id, **overrides):
    body = {"card_class": "GOLD", "store_code": "S01", "member_id": member_id, **overrides}
    r = await client.post("/v1/cards", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()
