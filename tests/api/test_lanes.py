"""The till's common sale and the quote are answered by routers/lanes.py before FastAPI's
routing. What a lane answers must look exactly like the documented endpoint's answers (status,
problem bodies, headers, metrics), and everything it does not answer must reach the endpoint
unchanged."""

import json

import httpx

from app.routers.lanes import Lane, Lanes
from app.routers.v1.sales import sale_lane
from tests.factories.points import adjust, key_with
from tests.factories.problems import assert_problem
from tests.factories.sales import member_with_card, post_sale, sale_body


class Downstream:
    """Stands for the FastAPI app behind the lane: records what it was handed."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope, receive, send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.bodies.append(b"".join(chunks))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def _through_lane(app, downstream, body: bytes, headers: dict) -> httpx.Response:
    lane = Lanes(downstream, state=app.state, lanes={"/v1/sales": Lane(sale_lane, "create_sale")})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=lane), base_url="http://test"
    ) as c:
        return await c.post(
            "/v1/sales", content=body, headers={"content-type": "application/json", **headers}
        )


async def test_the_lane_answers_every_valid_sale_and_hands_the_rest_over(app, client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    await adjust(client, tenant.headers, member, 38_800)
    pos = await key_with(client, tenant.headers, "pos")
    downstream = Downstream()

    cash = json.dumps(sale_body(card, "R-LANE")).encode()
    r = await _through_lane(app, downstream, cash, pos)
    assert r.status_code == 201, r.text
    assert r.json()["points_earned"] == {"A": 38, "B": 0, "C": 0, "E": 38}
    points = [{"method": "points", "amount": "388.00"}]  # paid with points: the lane's too
    r = await _through_lane(
        app, downstream, json.dumps(sale_body(card, "R-PTS", payments=points)).encode(), pos
    )
    assert r.status_code == 201, r.text
    assert (r.json()["points_spent"], r.json()["balance"]) == (38_800, 76)
    assert downstream.bodies == []

    handed = [
        (json.dumps(sale_body(card, "R-KEY")).encode(), {**pos, "Idempotency-Key": "k-1"}),
        (json.dumps({**sale_body(card, "R-BAD"), "lines": []}).encode(), pos),
        (b'{"store_code": "S01",', pos),
        (b"[" * 100_000 + b"]" * 100_000, pos),  # too deep for the JSON parser
    ]
    for body, headers in handed:
        r = await _through_lane(app, downstream, body, headers)
        assert r.status_code == 299, (body, r.text)  # the downstream app answered
        assert downstream.bodies[-1] == body  # handed over exactly as read
    assert len(downstream.bodies) == len(handed)


async def test_refusals_on_the_lane_are_the_usual_problems(client, tenant):
    _, card = await member_with_card(client, tenant.headers)
    body = sale_body(card)

    r = await client.post("/v1/sales", json=body)
    assert_problem(r, 401, "missing_credentials")
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.headers["x-request-id"]

    r = await client.post("/v1/sales", json=body, headers={"Authorization": "Bearer lk_nope"})
    assert_problem(r, 401, "invalid_credentials")

    app_key = await key_with(client, tenant.headers, "app")
    r = await client.post("/v1/sales", json=body, headers=app_key)
    assert_problem(r, 403, "insufficient_scope")

    r = await client.post(
        "/v1/sales", json={**body, "card_number": card[:-1] + "X"}, headers=tenant.headers
    )
    problem = assert_problem(r, 422, "invalid_card_number")
    assert problem["errors"] == [
        {"field": "card_number", "message": problem["errors"][0]["message"]}
    ]


async def test_a_revoked_key_is_refused_on_the_next_sale(client, tenant):
    _, card = await member_with_card(client, tenant.headers)
    created = await client.post(
        "/v1/api-keys", json={"name": "till", "scopes": ["pos"]}, headers=tenant.headers
    )
    key = created.json()
    pos = {"Authorization": f"Bearer {key['key']}"}
    await post_sale(client, pos, sale_body(card, "R-1"))
    r = await client.post(f"/v1/api-keys/{key['id']}/revoke", headers=tenant.headers)
    assert r.status_code == 200, r.text
    r = await client.post("/v1/sales", json=sale_body(card, "R-2"), headers=pos)
    assert_problem(r, 401, "invalid_credentials")


async def test_bad_input_still_gets_the_endpoints_problems(client, tenant, settings):
    _, card = await member_with_card(client, tenant.headers)
    json_headers = {**tenant.headers, "content-type": "application/json"}

    r = await client.post("/v1/sales", content=b'{"store_code": "S01",', headers=json_headers)
    assert_problem(r, 400, "malformed_json")
    r = await client.post("/v1/sales", json={**sale_body(card), "lines": []}, headers=json_headers)
    assert assert_problem(r, 422, "validation_error")["errors"][0]["field"] == "lines"
    r = await client.post(
        "/v1/sales",
        content=b"store_code=S01",
        headers={**tenant.headers, "content-type": "text/plain"},
    )
    assert_problem(r, 415, "unsupported_media_type")

    async def chunks():  # no Content-Length: the limit applies while the lane reads
        yield b'{"store_code": "'
        for _ in range(settings.max_body_bytes // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    r = await client.post("/v1/sales", content=chunks(), headers=json_headers)
    assert "content-length" not in r.request.headers
    assert_problem(r, 413, "payload_too_large")


async def test_quotes_on_the_lane(client, tenant):
    _, card = await member_with_card(client, tenant.headers)
    basket = {
        "store_code": "S01",
        "card_number": card,
        "lines": [{"line_no": 1, "sku": "A", "original_price": "100.00", "qty": "1"}],
    }
    r = await client.post("/v1/checkout/quote", json=basket, headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json()["card"]["number"] == card
    r = await client.post("/v1/checkout/quote", json=basket)
    assert_problem(r, 401, "missing_credentials")
    other = await key_with(client, tenant.headers, "analytics")
    r = await client.post("/v1/checkout/quote", json=basket, headers=other)
    assert_problem(r, 403, "insufficient_scope")
    r = await client.post(
        "/v1/checkout/quote",
        json={**basket, "card_number": card[:-1] + "X"},
        headers=tenant.headers,
    )
    assert_problem(r, 422, "invalid_card_number")
    bad = {**basket, "lines": [{**basket["lines"][0], "qty": 1}]}  # not a decimal string
    r = await client.post("/v1/checkout/quote", json=bad, headers=tenant.headers)
    assert assert_problem(r, 422, "validation_error")["errors"][0]["field"] == "lines[0].qty"
    text = (await client.get("/metrics")).text
    assert any(
        ln.startswith("http_requests_total{")
        and 'route="/v1/checkout/quote"' in ln
        and 'status="200"' in ln
        for ln in text.splitlines()
    )


async def test_lane_sales_are_counted_under_the_endpoints_route(client, tenant):
    _, card = await member_with_card(client, tenant.headers)
    body = sale_body(card, "R-M1")
    await post_sale(client, tenant.headers, body)
    await post_sale(client, tenant.headers, body, status=200)  # a replay
    text = (await client.get("/metrics")).text
    counted = {
        ln.split('status="')[1].split('"')[0]: float(ln.rsplit(" ", 1)[1])
        for ln in text.splitlines()
        if ln.startswith("http_requests_total{") and 'route="/v1/sales"' in ln
    }
    assert counted.get("201", 0) >= 1 and counted.get("200", 0) >= 1
