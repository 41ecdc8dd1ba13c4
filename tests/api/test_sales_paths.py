"""Every sale takes one path (services/sales.py ``record_sale``): sent as plain JSON it is
answered by the lane on a pooled connection, with an Idempotency-Key by the documented
endpoint inside the key's transaction. Both must earn, store, move tiers and claw back alike,
whatever the member's state (due lots, a card about to move up, a till clock running fast)."""

from datetime import UTC, datetime, timedelta

from tests.factories.cards import issue
from tests.factories.points import adjust, age_lots, balance_of, key_with, new_member, put_settings
from tests.factories.points_rules import event, warm
from tests.factories.sales import line, member_with_card, post_return, post_sale, sale_body
from tests.factories.tiers import setup_chain


def _same_parts(done: dict) -> dict:
    ids = ("sale_id", "receipt_no", "member_id", "card_number")
    return {k: v for k, v in done.items() if k not in ids}


async def test_a_sale_with_and_without_a_key_is_recorded_alike(client, tenant):
    h = tenant.headers
    lean_member, lean_card = await member_with_card(client, h, identity_points_multiple="2")
    keyed_member = await new_member(client, h)
    keyed_card = (await issue(client, h, keyed_member))["number"]
    await event(client, h, "3", store_codes=["S01"])
    await warm(client, h, 50, {"kind": "bought", "level": "brand", "target": "OLAY"})
    await put_settings(client, h, pending_days=7)
    pos = await key_with(client, h, "pos")
    lines = [line(1, amount="300.00", brand="OLAY"), line(2, qty="2", amount="88.80")]

    at = datetime.now(UTC).isoformat()  # one instant: the lots' times must match too
    lean = await post_sale(client, pos, sale_body(lean_card, "R-LEAN", lines, occurred_at=at))
    r = await client.post(
        "/v1/sales",
        json=sale_body(keyed_card, "R-KEYED", lines, occurred_at=at),
        headers={**pos, "Idempotency-Key": "keyed-1"},
    )
    assert r.status_code == 201, r.text
    keyed = r.json()
    assert _same_parts(lean) == _same_parts(keyed)
    # A = floor(388.8 × 0.1) = 38, B = 38 × 2, C = 50, E = 38 × 2; all pending for 7 days.
    assert lean["points_earned"] == {"A": 38, "B": 76, "C": 50, "E": 76}
    assert (lean["balance"], lean["available"], lean["pending"]) == (240, 0, 240)

    async def ledger(member):
        items = (await client.get(f"/v1/members/{member}/points/entries", headers=h)).json()[
            "items"
        ]
        return sorted(
            (e["category"], e["points"], e["source_type"], e["available_at"]) for e in items
        )

    assert await ledger(lean_member) == await ledger(keyed_member)
    lean_points, keyed_points = [
        {k: v for k, v in (await balance_of(client, h, m)).items() if k != "member_id"}
        for m in (lean_member, keyed_member)
    ]
    assert lean_points == keyed_points
    # Returns read what each stored: the same clawback.
    ret = [{"line_no": 2, "qty": "1"}]
    back_lean = await post_return(client, pos, "RT-1", ret, receipt="R-LEAN")
    back_keyed = await post_return(client, pos, "RT-1", ret, receipt="R-KEYED")
    assert back_lean["points_clawed_back"] == back_keyed["points_clawed_back"]
    assert back_lean["balance"] == back_keyed["balance"]
    # Replays answer the stored first response, whichever way the first came.
    again = await post_sale(
        client, pos, sale_body(lean_card, "R-LEAN", lines, occurred_at=at), status=200
    )
    assert again == lean
    r = await client.post(
        "/v1/sales",
        json=sale_body(keyed_card, "R-KEYED", lines, occurred_at=at),
        headers={**pos, "Idempotency-Key": "keyed-2"},  # a new key: the receipt replays it
    )
    assert (r.status_code, r.headers["Idempotent-Replayed"], r.json()) == (200, "true", keyed)


async def test_a_sale_first_expires_the_members_due_lots(client, tenant, database_url):
    h = tenant.headers
    await put_settings(client, h, expiry={"kind": "rolling_months", "n": 12})
    member, card = await member_with_card(client, h)
    await adjust(client, h, member, 100)
    await age_lots(database_url, member, 13)  # expired a month ago, not yet written off
    done = await post_sale(client, await key_with(client, h, "pos"), sale_body(card))
    assert (done["balance"], done["available"]) == (76, 76)
    points = await balance_of(client, h, member)
    assert (points["by_category"]["D"], points["by_category"]["X"]) == (100, -100)


async def test_a_sale_from_a_fast_clock_that_crosses_a_tier_upgrades_the_card(client, tenant):
    """NORMAL upgrades to GOLD at 5 000 CNY of 12-month spend. A 5 200 CNY sale stamped three
    minutes ahead of the server (within the allowed skew) is a sale of now: it counts, with
    and without an Idempotency-Key alike."""
    h = tenant.headers
    (_, _), (plain_card, keyed_card) = await setup_chain(client, h)
    ahead = (datetime.now(UTC) + timedelta(minutes=3)).isoformat()
    big = [line(amount="5200.00")]
    plain = await post_sale(client, h, sale_body(plain_card, "R-AHEAD", big, occurred_at=ahead))
    r = await client.post(
        "/v1/sales",
        json=sale_body(keyed_card, "R-AHEAD-KEY", big, occurred_at=ahead),
        headers={**h, "Idempotency-Key": "ahead-1"},
    )
    assert r.status_code == 201, r.text
    keyed = r.json()
    assert plain["tier_change"] == keyed["tier_change"] == {"from": "NORMAL", "to": "GOLD"}
    for number in (plain_card, keyed_card):
        card = (await client.get(f"/v1/cards/{number}", headers=h)).json()
        assert card["card_class"] == "GOLD"
        events = (await client.get(f"/v1/cards/{number}/events", headers=h)).json()["items"]
        assert [
            (e["kind"], e["from_value"], e["to_value"]) for e in events if e["kind"] == "tier"
        ] == [("tier", "NORMAL", "GOLD")]
    too_far = (datetime.now(UTC) + timedelta(minutes=6)).isoformat()
    r = await client.post(
        "/v1/sales", json=sale_body(plain_card, "R-FAR", occurred_at=too_far), headers=h
    )
    assert (r.status_code, r.json()["code"]) == (422, "occurred_in_future")
