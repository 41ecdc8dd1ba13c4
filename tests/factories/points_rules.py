"""Points rules, multiplier events and warm rules through the API."""

PAST, FUTURE = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z"


async def points_rule(client, headers, level, entries, approve=True, status=201):
    body = {
        "level": level,
        "entries": [{"target": t, "card_class": "GOLD", "rate": rate} for t, rate in entries],
    }
    r = await client.post("/v1/points-rules", json=body, headers=headers)
    assert r.status_code == status, r.text
    if approve and status == 201:
        a = await client.post(f"/v1/points-rules/{r.json()['id']}/approve", headers=headers)
        assert a.status_code == 200, a.text
        return a.json()
    return r.json()


async def event(client, headers, k, status=201, **extra):
    body = {"name": "x", "k": k, "starts_at": PAST, "ends_at": FUTURE, **extra}
    r = await client.post("/v1/points/multiplier-events", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def warm(client, headers, points, condition, status=201, **extra):
    body = {"name": "w", "points": points, "condition": condition, **extra}
    r = await client.post("/v1/points/warm-rules", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()
