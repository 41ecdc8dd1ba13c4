"""POST /v1/checkout/quote: docs/domain §2 through the API, with the seed examples."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.factories.cards import GOLD
from tests.factories.checkout import quote, setup

ISOLATION_COVERS = {("POST", "/v1/checkout/quote")}

NOW = datetime.now(UTC)


def day(n: int) -> str:
    return (NOW + timedelta(days=n)).isoformat()


def line(n, *, price="100.00", existing=None, counter="C01", brand="NIVEA", sku=None, qty="1"):
    return {
        "line_no": n,
        "sku": sku or f"SKU{n}",
        "major_category": "10",
        "mid_category": "1010",
        "minor_category": "101010",
        "counter": counter,
        "brand": brand,
        "original_price": price,
        "existing_price": existing or price,
        "qty": qty,
    }


async def rule(client, headers, level, entries, **window):
    body = {
        "level": level,
        "entries": [
            {"target": t, "card_class": "GOLD", "rate": rate, "stackable": stackable}
            for t, rate, stackable in entries
        ],
        **window,
    }
    r = await client.post("/v1/discount-rules", json=body, headers=headers)
    assert r.status_code == 201, r.text
    approved = await client.post(f"/v1/discount-rules/{r.json()['id']}/approve", headers=headers)
    assert approved.status_code == 200, approved.text
    return approved.json()["id"]


async def test_counter_rule_beats_the_class_default(client, tenant):
    card = await setup(client, tenant.headers)
    rule_id = await rule(client, tenant.headers, "counter", [("COSMETICS", "0.98", False)])
    q = await quote(client, tenant.headers, card, [line(1, counter="COSMETICS"), line(2)])
    first, second = q["lines"]
    assert (first["rate"], first["final_amount"]) == ("0.9800", "98.00")
    assert first["rate_source"] == {"level": "counter", "rule_id": rule_id}
    assert (second["rate"], second["final_amount"], second["rate_source"]) == (
        "0.9000",
        "90.00",
        None,
    )
    assert q["card"] == {"number": card, "class": "GOLD"} and q["currency"] == "CNY"
    assert q["totals"] == {
        "original_amount": "200.00",
        "final_amount": "188.00",
        "discount_amount": "12.00",
        "voucher_discount": "0.00",
        "payable": "188.00",
    }


async def test_olay_rules_by_approval_order_and_dates(client, tenant):
    card = await setup(client, tenant.headers)
    first = await rule(
        client, tenant.headers, "brand", [("OLAY", "0.9", False)], effective_from=day(11)
    )
    second = await rule(
        client,
        tenant.headers,
        "brand",
        [("OLAY", "0.8", False), ("LOREAL", "0.8", False)],
        effective_from=day(15),
        effective_to=day(20),
    )
    basket = [line(1, brand="OLAY"), line(2, brand="LOREAL")]

    async def rates(at):
        q = await quote(client, tenant.headers, card, basket, at=at)
        return [(ln["rate"], (ln["rate_source"] or {}).get("rule_id")) for ln in q["lines"]]

    assert await rates(day(10)) == [("0.9000", None), ("0.9000", None)]  # class default
    assert await rates(day(12)) == [("0.9000", first), ("0.9000", None)]
    assert await rates(day(16)) == [("0.8000", second), ("0.8000", second)]
    # The second document ends on the 20th (exclusive): Olay falls back to the first.
    assert await rates(day(20)) == [("0.9000", first), ("0.9000", None)]


async def test_stacked_discount_table_and_stacking_mode(client, tenant):
    card = await setup(client, tenant.headers)
    await rule(client, tenant.headers, "brand", [("OLAY", "0.88", True)])
    basket = [
        line(1, brand="OLAY", existing="90.00"),
        line(2, brand="OLAY", existing="84.00"),
        line(3, brand="OLAY", existing="75.00"),
        line(4, brand="OLAY"),
    ]
    q = await quote(client, tenant.headers, card, basket)
    got = [(ln["final_unit_price"], ln["stacked"]) for ln in q["lines"]]
    assert got == [("85.50", True), ("79.80", True), ("75.00", False), ("88.00", False)]
    first = q["lines"][0]
    # member part 90.00 - 85.50 = 4.50; Olay's override: the store bears 30 %.
    assert (first["member_discount"], first["store_borne"], first["supplier_borne"]) == (
        "4.50",
        "1.35",
        "3.15",
    )
    assert first["discount_amount"] == "14.50"

    r = await client.put(
        "/v1/settings/pricing", json={"stacking_mode": "multiply"}, headers=tenant.headers
    )
    assert r.status_code == 200
    q = await quote(client, tenant.headers, card, basket)
    assert q["lines"][2]["final_unit_price"] == "66.00"


async def test_without_a_card_prices_are_existing_and_classes_can_be_opened(client, tenant):
    await setup(client, tenant.headers, receipt_open_threshold="500")
    body = {
        "store_code": "S01",
        "lines": [line(1, price="300.00", existing="280.00", qty="2"), line(2)],
    }
    r = await client.post("/v1/checkout/quote", json=body, headers=tenant.headers)
    q = r.json()
    assert q["card"] is None
    assert [ln["final_amount"] for ln in q["lines"]] == ["560.00", "100.00"]
    assert q["totals"]["final_amount"] == "660.00"
    assert q["openable_card_classes"] == ["GOLD"]
    small = {"store_code": "S01", "lines": [line(1)]}
    r = await client.post("/v1/checkout/quote", json=small, headers=tenant.headers)
    assert r.json()["openable_card_classes"] == []


async def test_weighed_goods_round_once(client, tenant):
    card = await setup(client, tenant.headers)
    q = await quote(client, tenant.headers, card, [line(1, price="39.90", qty="0.375")])
    only = q["lines"][0]
    # 39.90 × 0.9 = 35.91 a kilo; × 0.375 = 13.46625 → 13.47 (unit not rounded first)
    assert (only["original_amount"], only["final_amount"]) == ("14.96", "13.47")


async def test_bad_baskets(client, tenant):
    card = await setup(client, tenant.headers)

    async def refused(lines, **extra):
        body = {"store_code": "S01", "card_number": card, "lines": lines, **extra}
        r = await client.post("/v1/checkout/quote", json=body, headers=tenant.headers)
        assert r.status_code == 422, r.text
        return r.json()

    bare = [{"line_no": i + 1, "sku": "X", "original_price": "1", "qty": "1"} for i in range(501)]
    assert (await refused(bare))["errors"][0]["field"] == "lines"
    dup = await refused([line(1), line(1)])
    assert dup["errors"][0]["field"].startswith("lines[1]")
    await refused([line(1, qty="0")])
    await refused([line(1, price="1.001")])
    await refused([])
    assert (await refused([line(1)], store_code="NOPE"))["code"] == "store_not_found"
    await refused([line(1)], at="2026-11-23T10:00:00")  # no offset


async def test_card_problems_are_the_resolve_problems(client, tenant):
    card = await setup(client, tenant.headers)
    await client.post(f"/v1/cards/{card}/freeze", headers=tenant.headers)
    body = {"store_code": "S01", "card_number": card, "lines": [line(1)]}
    r = await client.post("/v1/checkout/quote", json=body, headers=tenant.headers)
    assert r.status_code == 409 and r.json()["code"] == "card_frozen"


async def test_other_tenants_rules_and_cards_stay_theirs(client, tenant, other_tenant):
    card = await setup(client, tenant.headers)
    # Its own prefix: with the same one both tenants would hold the same (separate) number.
    other_card = await setup(client, other_tenant.headers, prefix="H")
    await rule(client, other_tenant.headers, "brand", [("NIVEA", "0.5", False)])
    q = await quote(client, tenant.headers, card, [line(1)])
    assert q["lines"][0]["rate"] == "0.9000"
    body = {"store_code": "S01", "card_number": other_card, "lines": [line(1)]}
    mine = await client.post("/v1/checkout/quote", json=body, headers=tenant.headers)
    assert mine.status_code in {404, 422}  # never priced with the other tenant's card


async def test_an_approval_reaches_every_worker_at_once(live_server):
    admin = {"Authorization": f"Bearer {live_server.admin_key}"}
    brand = "B" + uuid.uuid4().hex[:8].upper()
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin, timeout=30) as c:
        code = "W" + uuid.uuid4().hex[:5].upper()
        await c.post("/v1/stores", json={"code": "S01", "name": "x"})
        r = await c.post(
            "/v1/card-classes",
            json={**GOLD, "code": code, "prefix": code[1:4], "default_discount_rate": "0.9"},
        )
        assert r.status_code == 201, r.text
        member = (await c.post("/v1/members", json={"name": "W"})).json()["id"]
        card = (
            await c.post(
                "/v1/cards", json={"card_class": code, "store_code": "S01", "member_id": member}
            )
        ).json()["number"]
        body = {"store_code": "S01", "card_number": card, "lines": [line(1, brand=brand)]}

        async def rates():
            rs = await asyncio.gather(*[c.post("/v1/checkout/quote", json=body) for _ in range(30)])
            return {r.json()["lines"][0]["rate"] for r in rs}

        assert await rates() == {"0.9000"}  # both workers have cached the tenant's rules
        doc = await c.post(
            "/v1/discount-rules",
            json={
                "level": "brand",
                "entries": [
                    {"target": brand, "card_class": code, "rate": "0.7", "stackable": False}
                ],
            },
        )
        await c.post(f"/v1/discount-rules/{doc.json()['id']}/approve")
        assert await rates() == {"0.7000"}
        await c.post(f"/v1/discount-rules/{doc.json()['id']}/void")
        assert await rates() == {"0.9000"}
