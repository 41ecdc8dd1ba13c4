"""A sale paid in money without an Idempotency-Key takes the lean path
(repositories/till_sales.py); everything else the general one (services/sales.py
``record_sale``). Both must earn, store and claw back alike, and the lean path must hand a sale
to the general one whenever the member's lots fall due or a card may move up."""

from datetime import UTC, datetime

from tests.api.test_cards import issue
from tests.api.test_points import (  # noqa: F401  (an autouse fixture)
    adjust,
    age_lots,
    balance_of,
    key_with,
    ledger_is_consistent,
    new_member,
    put_settings,
)
from tests.api.test_points_rules import event, warm
from tests.api.test_sales import line, member_with_card, post_return, post_sale, sale_body


def _same_parts(done: dict) -> dict:
    ids = ("sale_id", "receipt_no", "member_id", "card_number")
    return {k: v for k, v in done.items() if k not in ids}


async def test_the_lean_and_the_general_path_record_a_sale_alike(client, tenant):
    """A money-paid sale without an Idempotency-Key takes the lean path; with a key, the
    general one. Both must earn, store and claw back the same."""
    h = tenant.headers
    lean_member, lean_card = await member_with_card(client, h, identity_points_multiple="2")
    general_member = await new_member(client, h)
    general_card = (await issue(client, h, general_member))["number"]
    await event(client, h, "3", store_codes=["S01"])
    await warm(client, h, 50, {"kind": "bought", "level": "brand", "target": "OLAY"})
    await put_settings(client, h, pending_days=7)
    pos = await key_with(client, h, "pos")
    lines = [line(1, amount="300.00", brand="OLAY"), line(2, qty="2", amount="88.80")]

    at = datetime.now(UTC).isoformat()  # one instant: the lots' times must match too
    lean = await post_sale(client, pos, sale_body(lean_card, "R-LEAN", lines, occurred_at=at))
    r = await client.post(
        "/v1/sales",
        json=sale_body(general_card, "R-GENERAL", lines, occurred_at=at),
        headers={**pos, "Idempotency-Key": "general-1"},
    )
    assert r.status_code == 201, r.text
    general = r.json()
    assert _same_parts(lean) == _same_parts(general)
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

    assert await ledger(lean_member) == await ledger(general_member)
    lean_points, general_points = [
        {k: v for k, v in (await balance_of(client, h, m)).items() if k != "member_id"}
        for m in (lean_member, general_member)
    ]
    assert lean_points == general_points
    # Returns read what each path stored: the same clawback.
    ret = [{"line_no": 2, "qty": "1"}]
    back_lean = await post_return(client, pos, "RT-1", ret, receipt="R-LEAN")
    back_general = await post_return(client, pos, "RT-1", ret, receipt="R-GENERAL")
    assert back_lean["points_clawed_back"] == back_general["points_clawed_back"]
    assert back_lean["balance"] == back_general["balance"]
    # Replays answer the stored first response on either path.
    again = await post_sale(
        client, pos, sale_body(lean_card, "R-LEAN", lines, occurred_at=at), status=200
    )
    assert again == lean


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
