"""Input that cannot break the till: timestamps and dates at the ends of their ranges, lax
JSON types, NUL characters, unreadable JSON and a doubled Authorization header are refused
with a 4xx naming what is wrong, and the tenant keeps selling and quoting afterwards."""

import pytest
from sqlalchemy import text

from app.db import create_engine
from app.main import create_app
from tests.conftest import make_settings, running
from tests.factories.points_rules import event, points_rule, warm
from tests.factories.problems import assert_problem
from tests.factories.sales import line, member_with_card, post_sale, sale_body

FAR_PAST = ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59.999999Z"]
FAR_FUTURE = [
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59-12:00",
    "2100-01-01T00:00:00Z",
    "2100-01-01T10:00:00+10:00",
]
NOT_INSTANTS = [
    1700000000,
    "1700000000",
    "2026-11-23T08:00:00",  # naive
    "2026-11-23",
    "2026-11-23T08:00:00+14:01",
    "2026-11-23T08:00:00-14:30",
    "2026-02-30T08:00:00Z",
    True,
]
EDGE_END = "2099-12-31T23:59:59.999999Z"


def quote_body(card):
    priced = {"line_no": 1, "sku": "SKU1", "original_price": "100.00", "qty": "1"}
    return {"store_code": "S01", "card_number": card, "lines": [priced]}


async def still_sells_and_quotes(client, headers, card, receipt):
    """The tenant's till works: a normal sale is recorded and a basket priced."""
    await post_sale(client, headers, sale_body(card, receipt))
    r = await client.post("/v1/checkout/quote", json=quote_body(card), headers=headers)
    assert r.status_code == 200, r.text


def refused(r, field):
    body = assert_problem(r, 422, "validation_error")
    assert field in [e["field"] for e in body["errors"]], body
    return body


# --- timestamps ------------------------------------------------------------------------------


async def test_instants_outside_the_range_are_refused_naming_the_field(client, tenant):
    h = tenant.headers
    _, card = await member_with_card(client, h)
    rule_entry = [{"target": "SKU1", "card_class": "GOLD", "rate": "0.9", "stackable": True}]
    for value in FAR_PAST + FAR_FUTURE + NOT_INSTANTS:
        cases = [
            ("/v1/points/multiplier-events", {"name": "x", "k": "2", "starts_at": value,
             "ends_at": EDGE_END}, "starts_at"),
            ("/v1/points/multiplier-events", {"name": "x", "k": "2",
             "starts_at": "2020-01-01T00:00:00Z", "ends_at": value}, "ends_at"),
            ("/v1/points/warm-rules", {"name": "w", "points": 5, "ends_at": value,
             "condition": {"kind": "birthday"}}, "ends_at"),
            ("/v1/discount-rules", {"level": "product", "effective_to": value,
             "entries": rule_entry}, "effective_to"),
            ("/v1/points-rules", {"level": "product", "effective_from": value,
             "entries": [{**rule_entry[0], "rate": "1"}]}, "effective_from"),
            ("/v1/sales", {**sale_body(card, "R-X"), "occurred_at": value}, "occurred_at"),
            ("/v1/checkout/quote", {**quote_body(card), "at": value}, "at"),
            ("/v1/surveys/nps/responses", {"score": 9, "answered_at": value}, "answered_at"),
        ]  # fmt: skip
        for path, body, field in cases:
            refused(await client.post(path, json=body, headers=h), field)
    events = await client.get("/v1/points/multiplier-events", headers=h)
    assert events.json()["items"] == []
    await still_sells_and_quotes(client, h, card, "R-1")


async def test_rules_reaching_the_edge_of_the_range_are_approved_and_the_till_works(client, tenant):
    """What used to break every sale: bounds at the ends of what may be sent now."""
    h = tenant.headers
    _, card = await member_with_card(client, h)
    await event(client, h, "2", starts_at="2000-01-01T00:00:00Z", ends_at=EDGE_END)
    await event(client, h, "3", starts_at="2000-01-01T14:00:00+14:00", ends_at=EDGE_END)
    await warm(client, h, 7, {"kind": "receipt_at_least", "amount": "1.00"}, ends_at=EDGE_END)
    await points_rule(client, h, "product", [("SKU1", "0.5")])
    body = {
        "level": "product",
        "effective_from": "2000-01-01T00:00:00Z",
        "effective_to": "2100-01-01T09:59:59.999999+10:00",
        "entries": [{"target": "SKU1", "card_class": "GOLD", "rate": "0.9", "stackable": True}],
    }
    r = await client.post("/v1/discount-rules", json=body, headers=h)
    assert r.status_code == 201, r.text
    approved = await client.post(f"/v1/discount-rules/{r.json()['id']}/approve", headers=h)
    assert approved.status_code == 200, approved.text
    assert approved.json()["effective_to"] == "2099-12-31T23:59:59.999999Z"

    done = await post_sale(client, h, sale_body(card, "R-1", [line(amount="100.00")]))
    assert done["points_earned"]["B"] > 0 and done["points_earned"]["C"] == 7
    r = await client.post("/v1/checkout/quote", json=quote_body(card), headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["lines"][0]["final_amount"] == "90.00"


async def test_offsets_up_to_14_hours_are_taken(client, tenant):
    h = tenant.headers
    _, card = await member_with_card(client, h)
    for n, at in enumerate(["2020-06-01T23:30:00+14:00", "2020-06-01T00:30:00-12:00"]):
        done = await post_sale(client, h, {**sale_body(card, f"R-{n}"), "occurred_at": at})
        assert done["sale_id"]
    r = await client.post(
        "/v1/surveys/nps/responses",
        json={"score": 9, "answered_at": "2026-01-01T00:00:00-14:00"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["answered_at"] == "2026-01-01T14:00:00Z"


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "birthday",
    ["1990-05-17T00:00:00Z", "1990-05-17T00:00:00", 642556800, "642556800", "19900517",
     "1899-12-31", "2100-01-01", "1990-02-30", True],
)  # fmt: skip
async def test_a_birthday_is_a_date_string_in_range(client, tenant, birthday):
    r = await client.post("/v1/members", json={"birthday": birthday}, headers=tenant.headers)
    refused(r, "birthday")


async def test_dates_at_the_ends_of_the_range_are_taken(client, tenant):
    r = await client.post("/v1/members", json={"birthday": "1900-01-01"}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    params = {"from": "1970-01-01", "to": "2099-12-31"}  # NPS periods start in 1970
    r = await client.get("/v1/analytics/nps/summary", params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/analytics/nps/summary", {"from": "2026-01-01T00:00:00"}, "from"),
        ("/v1/analytics/nps/summary", {"to": "1700000000"}, "to"),
        ("/v1/analytics/complaints", {"from": "1899-12-31"}, "from"),
        ("/v1/analytics/churn", {"from": "2025-01-01", "to": "2999-01-01"}, "to"),
        ("/v1/analytics/lifecycle", {"as_of": "0001-01-01"}, "as_of"),
    ],
)
async def test_date_parameters_are_days_in_range(client, tenant, path, params, field):
    refused(await client.get(path, params=params, headers=tenant.headers), field)


async def test_a_stored_date_outside_todays_range_still_reads_back(client, tenant, database_url):
    """Member groups took consumption dates up to 2999 before: such a group still reads."""
    h = tenant.headers
    criteria = {"consumption": {"from": "2026-01-01", "to": "2099-12-31"}}
    r = await client.post(
        "/v1/member-groups", json={"code": "G1", "name": "g", "criteria": criteria}, headers=h
    )
    assert r.status_code == 201, r.text
    too_late = {"consumption": {"from": "2026-01-01", "to": "2100-01-01"}}
    refused(
        await client.patch("/v1/member-groups/G1", json={"criteria": too_late}, headers=h),
        "criteria.consumption.to",
    )
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE member_groups SET criteria = jsonb_set(criteria, "
                    "'{consumption,to}', '\"2999-12-31\"') WHERE tenant_id = :t"
                ),
                {"t": tenant.id},
            )
    finally:
        await engine.dispose()
    r = await client.get("/v1/member-groups/G1", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["criteria"]["consumption"]["to"] == "2999-12-31"


# --- lax JSON types ----------------------------------------------------------------------------


async def test_booleans_numbers_and_strings_are_not_taken_for_each_other(client, tenant):
    h = tenant.headers
    member, card = await member_with_card(client, h)
    sale = sale_body(card, "R-1")
    cases = [
        ("/v1/sales", {**sale, "lines": [{**line(), "line_no": True}]}, "lines[0].line_no"),
        ("/v1/sales", {**sale, "lines": [{**line(), "line_no": 1.0}]}, "lines[0].line_no"),
        ("/v1/sales", {**sale, "lines": [{**line(), "line_no": "1"}]}, "lines[0].line_no"),
        ("/v1/points/adjustments", {"member_id": member, "points": True, "reason": "x"}, "points"),
        ("/v1/points/adjustments", {"member_id": member, "points": 5.0, "reason": "x"}, "points"),
        ("/v1/members", {"consent": {"marketing": "yes"}}, "consent.marketing"),
        ("/v1/members", {"consent": {"marketing": 1}}, "consent.marketing"),
        ("/v1/points/warm-rules", {"name": "w", "points": 5, "active": "true",
         "condition": {"kind": "birthday"}}, "active"),
        ("/v1/points/warm-rules", {"name": "w", "points": "5",
         "condition": {"kind": "birthday"}}, "points"),
        ("/v1/analytics/rfm/runs", {"as_of": 20260101}, "as_of"),
    ]  # fmt: skip
    for path, body, field in cases:
        refused(await client.post(path, json=body, headers=h), field)
    r = await client.patch("/v1/card-classes/GOLD", json={"serial_end": 99.0}, headers=h)
    refused(r, "serial_end")
    assert (await client.get(f"/v1/members/{member}/points", headers=h)).json()["balance"] == 0


# --- NUL characters ------------------------------------------------------------------------------


async def test_nul_is_refused_in_every_string_naming_its_place(client, tenant):
    h = tenant.headers
    _, card = await member_with_card(client, h)
    sale = sale_body(card, "R-1")
    cases = [
        ("/v1/sales", {**sale, "lines": [line(sku="A\x00")]}, "lines[0].sku"),
        ("/v1/sales", {**sale, "receipt_no": "R\x00"}, "receipt_no"),
        ("/v1/checkout/quote", {**quote_body(card), "store_code": "S\x00"}, "store_code"),
        ("/v1/members", {"tags": ["vip", "a\x00b"]}, "tags[1]"),
        ("/v1/points/multiplier-events", {"name": "x", "k": "2",
         "starts_at": "2020-01-01T00:00:00Z", "ends_at": EDGE_END,
         "store_codes": ["\x00"]}, "store_codes[0]"),
        ("/v1/complaints", {"channel": "store", "category": "price",
         "content": "bad\x00"}, "content"),
    ]  # fmt: skip
    for path, body, field in cases:
        refused(await client.post(path, json=body, headers=h), field)
    refused(await client.get("/v1/stores/%00", headers=h), "code")
    refused(await client.get("/v1/stores/S01%00", headers=h), "code")
    refused(await client.get("/v1/members", params={"phone": "\x00"}, headers=h), "phone")
    refused(await client.get("/v1/stores", params={"cursor": "a\x00"}, headers=h), "cursor")
    await still_sells_and_quotes(client, h, card, "R-1")


# --- JSON no parser can read ---------------------------------------------------------------------


async def test_unreadable_json_is_malformed_json(database_url, tenant):
    """On FastAPI's path (not the lanes'), with a body limit large enough to let them in."""
    app = create_app(make_settings(database_url, max_body_bytes=1 << 20))
    headers = {**tenant.headers, "content-type": "application/json"}
    bodies = {
        "nested too deeply": b"[" * 100_000 + b"]" * 100_000,
        "a number too long": b'{"code": "S01", "name": ' + b"9" * 5000 + b"}",
        "not UTF-8": b'{"code": "S01", "name": "\xff\xfe"}',
    }
    async with running(app) as client:
        for path in ("/v1/stores", "/v1/points/adjustments", "/v1/members"):
            for what, body in bodies.items():
                r = await client.post(path, content=body, headers=headers)
                problem = assert_problem(r, 400, "malformed_json")
                assert problem["errors"] == [{"field": "body", "message": "Malformed JSON"}], what
        r = await client.get("/v1/stores", headers=tenant.headers)
        assert r.status_code == 200 and r.json()["items"] == []


async def test_unreadable_json_on_the_lanes_is_malformed_json_too(database_url, tenant):
    """The lanes hand what they can't parse to the endpoint, which reports it."""
    app = create_app(make_settings(database_url, max_body_bytes=1 << 20))
    headers = {**tenant.headers, "content-type": "application/json"}
    async with running(app) as client:
        for path in ("/v1/sales", "/v1/checkout/quote"):
            for body in (b"[" * 100_000 + b"]" * 100_000, b'{"lines": ' + b"1" * 5000 + b"}"):
                r = await client.post(path, content=body, headers=headers)
                assert_problem(r, 400, "malformed_json")


# --- Authorization, once ------------------------------------------------------------------------


async def test_a_doubled_authorization_header_is_refused_everywhere(client, tenant, other_tenant):
    h = tenant.headers
    _, card = await member_with_card(client, h)
    mine, theirs = h["Authorization"], other_tenant.headers["Authorization"]
    for pair in ([mine, theirs], [theirs, mine], [mine, mine], ["Bearer nonsense", mine]):
        headers = [("Authorization", value) for value in pair]
        calls = [
            client.get("/v1/stores", headers=headers),
            client.post("/v1/sales", json=sale_body(card, "R-9"), headers=headers),
            client.post("/v1/checkout/quote", json=quote_body(card), headers=headers),
            client.get("/healthz", headers=headers),
        ]
        for call in calls:
            body = assert_problem(await call, 400, "duplicate_authorization")
            assert body["errors"][0]["field"] == "Authorization"
    # Nothing was recorded under either key: the receipt is new (201, not a 200 replay).
    await still_sells_and_quotes(client, h, card, "R-9")


# --- numbers every column and computation can hold ---------------------------------------------


async def test_numbers_are_bounded_by_what_they_reach(client, tenant):
    h = tenant.headers
    member, card = await member_with_card(client, h)
    cases = [
        ("PUT", "/v1/settings/points", {"point_price": "1000"}, "invalid_point_price",
         "point_price"),
        ("PATCH", "/v1/card-classes/GOLD", {"default_points_rate": "100"}, "invalid_card_class",
         "default_points_rate"),
        ("PATCH", "/v1/card-classes/GOLD", {"identity_points_multiple": "99999999"},
         "invalid_card_class", "identity_points_multiple"),
        ("POST", "/v1/analytics/nps", {"promoters": 10**4299, "passives": 10**4299,
         "detractors": 10**4299}, "invalid_count", "promoters"),
        ("POST", "/v1/analytics/weights", {"method": "ahp", "indicators": ["A", "B"],
         "matrix": [[1, "9" * 5000], ["1/3", 1]]}, "invalid_matrix", "matrix[0][1]"),
        ("POST", "/v1/analytics/weights", {"method": "ahp", "indicators": ["A", "B"],
         "matrix": [[1, "3"], ["1/" + "9" * 5000, 1]]}, "invalid_matrix", "matrix[1][0]"),
        ("POST", "/v1/points/adjustments", {"member_id": member, "points": 10**9 + 1,
         "reason": "x"}, "validation_error", "points"),
    ]  # fmt: skip
    for method, path, body, code, field in cases:
        r = await client.request(method, path, json=body, headers=h)
        problem = assert_problem(r, 422, code)
        assert field in [e["field"] for e in problem["errors"]], problem

    # At the limits, the largest purchase still fits the money columns.
    r = await client.put("/v1/settings/points", json={"point_price": "999.9999"}, headers=h)
    assert r.status_code == 200, r.text
    r = await client.post(
        "/v1/points/purchases", json={"card_number": card, "points": 10**9}, headers=h
    )
    assert r.status_code == 201, r.text
    assert r.json()["money"] == "999999900000.00"
    r = await client.patch(
        "/v1/card-classes/GOLD",
        json={"default_points_rate": "99.9999", "identity_points_multiple": "99.9999"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    await still_sells_and_quotes(client, h, card, "R-1")
