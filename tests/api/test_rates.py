"""Rates come back in one format per kind (README, "API conventions"): a rate the tenant sets
always with its 4 decimals, whichever form was sent, and that form is taken back as sent."""

import pytest

from tests.factories.cards import GOLD
from tests.factories.checkout import quote, setup
from tests.factories.points_rules import FUTURE, PAST


@pytest.mark.parametrize("sent", ["0.9", "0.90", "0.900", "0.9000"])
async def test_a_rate_reads_back_with_four_decimals_whatever_its_form(client, tenant, sent):
    h = tenant.headers
    body = {**GOLD, "default_discount_rate": sent, "stack_rate": "1", "default_points_rate": "0"}
    created = await client.post("/v1/card-classes", json=body, headers=h)
    assert created.status_code == 201, created.text
    got = (await client.get("/v1/card-classes/GOLD", headers=h)).json()
    listed = (await client.get("/v1/card-classes", headers=h)).json()["items"]
    for read in (created.json(), got, listed[0]):
        assert read["default_discount_rate"] == "0.9000"
        assert (read["stack_rate"], read["default_points_rate"]) == ("1.0000", "0.0000")
    # What a response gives is valid input, and changes nothing.
    again = await client.patch(
        "/v1/card-classes/GOLD",
        json={"default_discount_rate": got["default_discount_rate"]},
        headers=h,
    )
    assert again.status_code == 200 and again.json()["default_discount_rate"] == "0.9000"


async def test_the_quote_gives_default_and_rule_rates_alike(client, tenant):
    h = tenant.headers
    card = await setup(client, h, default_discount_rate="0.9")
    rule = await client.post(
        "/v1/discount-rules",
        json={
            "level": "brand",
            "entries": [
                {"target": "OLAY", "card_class": "GOLD", "rate": "0.88", "stackable": True}
            ],
        },
        headers=h,
    )
    assert rule.status_code == 201, rule.text
    assert rule.json()["entries"][0]["rate"] == "0.8800"
    approved = await client.post(f"/v1/discount-rules/{rule.json()['id']}/approve", headers=h)
    assert approved.status_code == 200, approved.text
    lines = [
        {"line_no": 1, "sku": "1", "brand": "OLAY", "qty": "1", "original_price": "100.00"},
        {"line_no": 2, "sku": "2", "brand": "NIVEA", "qty": "1", "original_price": "100.00"},
    ]
    q = await quote(client, h, card, lines)  # also checks the hand-built body against the model
    assert [line["rate"] for line in q["lines"]] == ["0.8800", "0.9000"]


async def test_shares_and_multipliers_too(client, tenant):
    h = tenant.headers
    await setup(client, h)  # sharing group STD: store_share "0.5", overrides "0.3" and "0.7"
    group = (await client.get("/v1/sharing-groups/STD", headers=h)).json()
    assert group["store_share"] == "0.5000"
    assert [o["store_share"] for o in group["overrides"]] == ["0.3000", "0.7000"]
    event = await client.post(
        "/v1/points/multiplier-events",
        json={"name": "x", "k": "2.5", "starts_at": PAST, "ends_at": FUTURE},
        headers=h,
    )
    assert event.status_code == 201, event.text
    assert event.json()["k"] == "2.5000"
