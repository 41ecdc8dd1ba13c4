"""Sales and returns from the till through the HTTP API: earning A and E, paying with points,
pending points, exactly-once receipts and returns, clawbacks, shortfalls, refunds of points
paid, tier upgrades, isolation and a real race. The ledger invariant is checked after every
test (``ledger_is_consistent``, tests/api/conftest.py)."""

import asyncio
import json
import uuid
from decimal import Decimal

import httpx

from tests.factories.cards import GOLD
from tests.factories.points import adjust, balance_of, key_with, put_settings, redeem
from tests.factories.sales import _at, line, member_with_card, post_return, post_sale, sale_body
from tests.factories.tiers import setup_chain

ISOLATION_COVERS = {
    ("POST", "/v1/sales"),
    ("POST", "/v1/sales/{store_code}/{receipt_no}/returns"),
    ("GET", "/v1/settings/sales"),
    ("PUT", "/v1/settings/sales"),
}


# --- earning -------------------------------------------------------------------------------


async def test_a_sale_earns_a_and_e(client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    pos = await key_with(client, tenant.headers, "pos")
    done = await post_sale(client, pos, sale_body(card))
    assert done["points_earned"] == {"A": 38, "B": 0, "C": 0, "E": 38}  # floor(388 × 0.1)
    assert (done["points_earned_total"], done["points_spent"]) == (76, 0)
    assert (done["balance"], done["available"], done["pending"]) == (76, 76, 0)
    assert (done["member_id"], done["card_number"], done["tier_change"]) == (member, card, None)
    assert (done["store_code"], done["receipt_no"]) == ("S01", "R-1")

    points = await balance_of(client, tenant.headers, member)
    assert points["by_category"] == {**dict.fromkeys("ABCDEFRX", 0), "A": 38, "E": 38}
    entries = (
        await client.get(f"/v1/members/{member}/points/entries", headers=tenant.headers)
    ).json()["items"]
    assert sorted((e["category"], e["points"], e["source_type"]) for e in entries) == [
        ("A", 38, "sale"),
        ("E", 38, "sale"),
    ]
    assert {e["source_id"] for e in entries} == {str(done["sale_id"])}

    # Two lines, the sum floored once: 3 × 0.1 + 5.55 × 0.1 = 0.855 → 0.
    small = sale_body(card, "R-2", [line(1, "1", "3.00"), line(2, "1", "5.55")])
    assert (await post_sale(client, pos, small))["points_earned"]["A"] == 0
    app_key = await key_with(client, tenant.headers, "app")
    r = await client.post("/v1/sales", json=sale_body(card, "R-3"), headers=app_key)
    assert r.status_code == 403


async def test_sale_validation(client, tenant):
    _, card = await member_with_card(client, tenant.headers)
    cash = [{"method": "cash", "amount": "388.00"}]
    cases = [
        ({"payments": [{"method": "cash", "amount": "300.00"}]}, "payments_mismatch"),
        ({"store_code": "NOPE"}, "store_not_found"),
        (
            {"lines": [line(), line()], "payments": [{"method": "cash", "amount": "776.00"}]},
            "duplicate_line_no",
        ),
        ({"lines": [line(qty="0")]}, "invalid_qty"),
        (
            {"lines": [line(amount="-1.00")], "payments": [{"method": "cash", "amount": "-1.00"}]},
            "invalid_amount",
        ),
        (
            {"lines": [line(amount="1.001")], "payments": [{"method": "cash", "amount": "1.001"}]},
            "invalid_amount",
        ),
        ({"lines": []}, "validation_error"),
        ({"occurred_at": "2026-11-23T08:00:00"}, "validation_error"),  # naive
        ({"occurred_at": _at(-1)}, "occurred_in_future"),
        ({"receipt_no": "x" * 65}, "validation_error"),
        ({"lines": [line(qty=1)]}, "validation_error"),  # not a decimal string
    ]
    for extra, code in cases:
        body = {**sale_body(card, payments=cash), **extra}
        r = await client.post("/v1/sales", json=body, headers=tenant.headers)
        assert (r.status_code, r.json()["code"]) == (422, code), (extra, r.text)
    r = await client.post("/v1/sales", json=sale_body(card[:-1] + "X"), headers=tenant.headers)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_card_number")
    # The class offers no change account and nothing is stored (see test_change_account.py).
    change = [{"method": "change_account", "amount": "388.00"}]
    r = await client.post(
        "/v1/sales", json=sale_body(card, payments=change), headers=tenant.headers
    )
    assert (r.status_code, r.json()["code"]) == (409, "change_account_disabled")
    await client.post(f"/v1/cards/{card}/freeze", headers=tenant.headers)
    r = await client.post("/v1/sales", json=sale_body(card), headers=tenant.headers)
    assert (r.status_code, r.json()["code"]) == (409, "card_frozen")


async def test_paying_with_points_spends_them_in_the_same_transaction(client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    await adjust(client, tenant.headers, member, 9_999)
    paid = [{"method": "bank_card", "amount": "288.00"}, {"method": "points", "amount": "100.00"}]
    refused = await post_sale(client, tenant.headers, sale_body(card, payments=paid), 409)
    assert (refused["code"], refused["shortfall"]) == ("insufficient_points", 1)
    points = await balance_of(client, tenant.headers, member)
    assert (points["balance"], points["by_category"]["A"]) == (9_999, 0)  # nothing recorded

    await adjust(client, tenant.headers, member, 1)
    done = await post_sale(client, tenant.headers, sale_body(card, payments=paid))
    # 100.00 CNY of points is not eligible: A = floor(288 × 0.1) = 28, E = 28.
    assert done["points_earned"] == {"A": 28, "B": 0, "C": 0, "E": 28}
    assert (done["points_spent"], done["balance"]) == (10_000, 56)
    points = await balance_of(client, tenant.headers, member)
    assert (points["by_category"]["R"], points["by_category"]["D"]) == (-10_000, 10_000)

    await put_settings(client, tenant.headers, points_per_yuan=50)
    odd = [{"method": "cash", "amount": "387.99"}, {"method": "points", "amount": "0.01"}]
    refused = await post_sale(client, tenant.headers, sale_body(card, "R-2", payments=odd), 422)
    assert (refused["code"], refused["errors"][0]["field"]) == (
        "points_payment_not_whole",
        "payments[1].amount",
    )


async def test_pending_days_hold_points_until_the_window_ends(client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    await put_settings(client, tenant.headers, pending_days=7)
    done = await post_sale(client, tenant.headers, sale_body(card))
    assert (done["balance"], done["available"], done["pending"]) == (76, 0, 76)
    refused = await redeem(client, tenant.headers, 409, member_id=member, points=1)
    assert refused["code"] == "insufficient_points"

    old = await post_sale(
        client, tenant.headers, {**sale_body(card, "R-old"), "occurred_at": _at(8)}
    )
    assert (old["balance"], old["available"], old["pending"]) == (152, 76, 76)
    points = await balance_of(client, tenant.headers, member)
    assert (points["available"], points["pending"]) == (76, 76)
    await redeem(client, tenant.headers, member_id=member, points=76)
    refused = await redeem(client, tenant.headers, 409, member_id=member, points=1)
    assert refused["available"] == 0


async def test_amounts_over_the_tenants_limits_are_refused(client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    h = tenant.headers
    r = await client.get("/v1/settings/sales", headers=h)
    assert r.json() == {"max_line_amount": "1000000.00", "max_receipt_amount": "5000000.00"}

    typo = sale_body(card, "R-TYPO", [line(amount="999999999999.99")])
    refused = await post_sale(client, h, typo, 422)
    assert (refused["code"], refused["errors"][0]["field"]) == (
        "line_amount_over_limit",
        "lines[0].final_amount",
    )
    six = [line(n, amount="999999.99") for n in range(1, 7)]  # 5 999 999.94 in all
    refused = await post_sale(client, h, sale_body(card, "R-SIX", six), 422)
    assert (refused["code"], refused["limit"]) == ("receipt_amount_over_limit", "5000000.00")
    assert (await balance_of(client, h, member))["balance"] == 0  # nothing was recorded

    pos = await key_with(client, h, "pos")
    limits = {"max_line_amount": "100.00", "max_receipt_amount": "150"}
    r = await client.put("/v1/settings/sales", json=limits, headers=pos)
    assert r.status_code == 403
    r = await client.put("/v1/settings/sales", json=limits, headers=h)
    assert r.json() == {"max_line_amount": "100.00", "max_receipt_amount": "150.00"}
    await post_sale(client, pos, sale_body(card, "R-100", [line(amount="100.00")]))
    refused = await post_sale(client, pos, sale_body(card, "R-101", [line(amount="100.01")]), 422)
    assert refused["code"] == "line_amount_over_limit"
    two = [line(1, amount="80.00"), line(2, amount="80.00")]
    refused = await post_sale(client, pos, sale_body(card, "R-160", two), 422)
    assert refused["code"] == "receipt_amount_over_limit"

    bad = {"max_line_amount": "0", "max_receipt_amount": "1000000000.001"}
    r = await client.put("/v1/settings/sales", json=bad, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "invalid_sale_limits"
    assert {e["field"] for e in r.json()["errors"]} == {"max_line_amount", "max_receipt_amount"}
    assert (await client.get("/v1/settings/sales", headers=pos)).json()["max_line_amount"] == (
        "100.00"
    )


# --- exactly once --------------------------------------------------------------------------


async def test_the_same_receipt_again_replays_the_first_result(client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    body = sale_body(card)
    first = await client.post("/v1/sales", json=body, headers=tenant.headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    await adjust(client, tenant.headers, member, 5)  # the balance moves meanwhile
    again = await client.post("/v1/sales", json=body, headers=tenant.headers)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    # Same content written differently (key order, 388.0 for 388.00) is the same sale.
    same = {**body, "lines": [{**line(), "final_amount": "388.0"}]}
    assert (await client.post("/v1/sales", json=same, headers=tenant.headers)).status_code == 200
    assert (await balance_of(client, tenant.headers, member))["balance"] == 81  # one effect

    other = {
        **body,
        "lines": [line(qty="2", amount="776.00")],
        "payments": [{"method": "cash", "amount": "776.00"}],
    }
    refused = await post_sale(client, tenant.headers, other, 409)
    assert (refused["code"], refused["sale_id"]) == ("receipt_conflict", first.json()["sale_id"])
    await post_sale(client, tenant.headers, {**body, "store_code": "S02"})  # another store's

    keyed = {**tenant.headers, "Idempotency-Key": "till-1-R-9"}
    body = sale_body(card, "R-9")
    one = await client.post("/v1/sales", json=body, headers=keyed)
    two = await client.post("/v1/sales", json=body, headers=keyed)
    assert (one.status_code, two.status_code) == (201, 201)
    assert two.headers["Idempotent-Replayed"] == "true" and two.json() == one.json()
    assert (await balance_of(client, tenant.headers, member))["balance"] == 81 + 76 + 76


# --- returns -------------------------------------------------------------------------------


async def test_partial_then_full_return_claws_back_exactly_what_was_earned(client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    await post_sale(client, tenant.headers, sale_body(card, lines=[line(1, "3", "100.00")]))
    pos = await key_with(client, tenant.headers, "pos")
    # Earned A = 10, E = 10. Remaining 66.67 → 6; 33.33 → 3; 0 → 0.
    first = await post_return(client, pos, "RT-1", [{"line_no": 1, "qty": "1"}])
    assert first["points_clawed_back"] == {"A": 4, "B": 0, "C": 0, "E": 4}
    assert (first["points_purchased"], first["money_due"], first["points_refunded"]) == (
        0,
        "0.00",
        0,
    )
    assert first["balance"] == 12
    again = await client.post(
        "/v1/sales/S01/R-1/returns",
        json={"return_no": "RT-1", "lines": [{"line_no": 1, "qty": "1.000"}]},
        headers=pos,
    )
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (200, "true")
    assert again.json() == first
    conflict = await post_return(client, pos, "RT-1", [{"line_no": 1, "qty": "2"}], 409)
    assert conflict["code"] == "return_conflict"

    over = await post_return(client, pos, "RT-2", [{"line_no": 1, "qty": "2.5"}], 422)
    assert (over["code"], Decimal(over["returnable"]), over["errors"][0]["field"]) == (
        "return_exceeds_sale",
        2,
        "lines[0].qty",
    )
    unknown = await post_return(client, pos, "RT-2", [{"line_no": 9, "qty": "1"}], 422)
    assert unknown["code"] == "unknown_line"
    rest = await post_return(client, pos, "RT-2", [{"line_no": 1, "qty": "2"}])
    assert rest["points_clawed_back"] == {"A": 6, "B": 0, "C": 0, "E": 6}
    assert rest["balance"] == 0
    points = await balance_of(client, tenant.headers, member)
    assert (points["by_category"]["A"], points["by_category"]["E"]) == (0, 0)
    nothing_left = await post_return(client, pos, "RT-3", [{"line_no": 1, "qty": "0.001"}], 422)
    assert nothing_left["code"] == "return_exceeds_sale"
    missing = await post_return(
        client, pos, "RT-1", [{"line_no": 1, "qty": "1"}], 404, receipt="NOPE"
    )
    assert missing["code"] == "sale_not_found"


async def test_a_short_balance_is_rejected_or_bought(client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    await post_sale(client, tenant.headers, sale_body(card, lines=[line(1, "2", "388.00")]))
    await redeem(client, tenant.headers, member_id=member, points=70)  # balance 6
    everything = [{"line_no": 1, "qty": "2"}]
    refused = await post_return(client, tenant.headers, "RT-1", everything, 409)
    assert refused["code"] == "insufficient_points_for_return"
    assert (refused["shortfall"], refused["price"], refused["clawback"]) == (70, "0.70", 76)
    assert (await balance_of(client, tenant.headers, member))["balance"] == 6  # untouched

    await put_settings(client, tenant.headers, point_price="0.015")
    bought = await post_return(client, tenant.headers, "RT-1", everything, shortfall="purchase")
    assert bought["points_clawed_back"] == {"A": 38, "B": 0, "C": 0, "E": 38}
    assert (bought["points_purchased"], bought["money_due"], bought["balance"]) == (70, "1.05", 0)
    points = await balance_of(client, tenant.headers, member)
    assert (points["by_category"]["F"], points["by_category"]["A"]) == (70, 0)
    # Enough points: purchase buys nothing.
    await post_sale(client, tenant.headers, sale_body(card, "R-2"))
    enough = await post_return(
        client,
        tenant.headers,
        "RT-1",
        [{"line_no": 1, "qty": "1"}],
        receipt="R-2",
        shortfall="purchase",
    )
    assert (enough["points_purchased"], enough["money_due"], enough["balance"]) == (0, "0.00", 0)


async def test_points_paid_are_refunded_pro_rata(client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    await adjust(client, tenant.headers, member, 10_000)
    paid = [{"method": "cash", "amount": "288.00"}, {"method": "points", "amount": "100.00"}]
    done = await post_sale(
        client, tenant.headers, sale_body(card, lines=[line(1, "2", "388.00")], payments=paid)
    )
    assert (done["points_earned"]["A"], done["balance"]) == (28, 56)
    half = await post_return(client, tenant.headers, "RT-1", [{"line_no": 1, "qty": "1"}])
    # Half the receipt: half the 10 000 points paid; 144.00 eligible left → A 14.
    assert half["points_refunded"] == 5_000
    assert half["points_clawed_back"] == {"A": 14, "B": 0, "C": 0, "E": 14}
    assert half["balance"] == 56 + 5_000 - 28
    rest = await post_return(client, tenant.headers, "RT-2", [{"line_no": 1, "qty": "1"}])
    assert (rest["points_refunded"], rest["balance"]) == (5_000, 10_000)
    points = await balance_of(client, tenant.headers, member)
    assert points["by_category"] == {**dict.fromkeys("ABCDEFRX", 0), "D": 10_000}


async def test_clawback_may_take_pending_points(client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    await put_settings(client, tenant.headers, pending_days=30)
    await post_sale(client, tenant.headers, sale_body(card))
    back = await post_return(client, tenant.headers, "RT-1", [{"line_no": 1, "qty": "1"}])
    assert (back["points_clawed_back"]["A"], back["balance"]) == (38, 0)
    points = await balance_of(client, tenant.headers, member)
    assert (points["pending"], points["available"]) == (0, 0)


# --- tiers ---------------------------------------------------------------------------------


async def test_a_sale_can_move_the_card_up_a_tier(client, tenant):
    (member, _), (card, _) = await setup_chain(client, tenant.headers)
    small = await post_sale(client, tenant.headers, sale_body(card, lines=[line(amount="4999.99")]))
    assert small["tier_change"] is None
    done = await post_sale(client, tenant.headers, sale_body(card, "R-2", [line(amount="0.01")]))
    assert done["tier_change"] == {"from": "NORMAL", "to": "GOLD"}
    got = (await client.get(f"/v1/cards/{card}", headers=tenant.headers)).json()
    assert got["card_class"] == "GOLD"
    # A return lowers the spend; it never moves a card down.
    await post_return(client, tenant.headers, "RT-1", [{"line_no": 1, "qty": "1"}])
    got = (await client.get(f"/v1/cards/{card}", headers=tenant.headers)).json()
    assert got["card_class"] == "GOLD"
    assert (await balance_of(client, tenant.headers, member))["balance"] >= 0


# --- isolation -----------------------------------------------------------------------------


async def test_other_tenant_can_neither_sell_on_nor_return_our_sales(client, tenant, other_tenant):
    member, card = await member_with_card(client, tenant.headers)
    await post_sale(client, tenant.headers, sale_body(card))
    thief = other_tenant.headers
    _, their_card = await member_with_card(client, thief)
    assert their_card == card  # same class format and store: the same number, another card
    r = await client.post(
        "/v1/sales/S01/R-1/returns",
        json={"return_no": "RT-1", "lines": [{"line_no": 1, "qty": "1"}]},
        headers=thief,
    )
    assert (r.status_code, r.json()["code"]) == (404, "sale_not_found")
    # The same receipt number is theirs to use, and the card number names their own card.
    theirs = await post_sale(client, thief, sale_body(their_card))
    assert theirs["member_id"] != member and theirs["points_earned"]["A"] == 38
    back = await post_return(client, thief, "RT-1", [{"line_no": 1, "qty": "1"}])
    assert back["balance"] == 0
    assert (await balance_of(client, tenant.headers, member))["balance"] == 76
    # A card number unknown to the tenant is refused.
    await client.post("/v1/cards/" + their_card + "/cancel", headers=thief)
    r = await client.post("/v1/sales", json=sale_body(their_card, "R-2"), headers=thief)
    assert r.status_code == 409 and r.json()["code"] == "card_cancelled"
    # Their limits are theirs: ours stay as they were.
    tiny = {"max_line_amount": "1.00", "max_receipt_amount": "1.00"}
    assert (await client.put("/v1/settings/sales", json=tiny, headers=thief)).status_code == 200
    assert (await client.get("/v1/settings/sales", headers=thief)).json() == tiny
    ours = (await client.get("/v1/settings/sales", headers=tenant.headers)).json()
    assert ours["max_line_amount"] == "1000000.00"
    await post_sale(client, tenant.headers, sale_body(card, "R-2"))


# --- a real race ---------------------------------------------------------------------------


async def live_card(c, letter: str, name: str, **class_extra) -> tuple[str, str]:
    """On the live server's shared tenant: store S01, a card class of its own (so tests never
    meet), a member and a card of it. The member's id and the card number."""
    code = letter + uuid.uuid4().hex[:6].upper()
    await c.post("/v1/stores", json={"code": "S01", "name": "x"})
    klass = {**GOLD, "code": code, "prefix": code[1:5], **class_extra}
    r = await c.post("/v1/card-classes", json=klass)
    assert r.status_code == 201, r.text
    member = (await c.post("/v1/members", json={"name": name})).json()["id"]
    r = await c.post(
        "/v1/cards", json={"card_class": code, "store_code": "S01", "member_id": member}
    )
    return member, r.json()["number"]


async def test_twenty_racing_partial_returns_never_claw_back_more_than_earned(live_server):
    admin = {"Authorization": f"Bearer {live_server.admin_key}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin, timeout=60) as c:
        member, card = await live_card(c, "R", "Race", identity_points_multiple="1")
        receipt = f"RACE-{uuid.uuid4().hex[:8]}"
        body = sale_body(card, receipt, [line(1, "10", "1000.00")])
        r = await c.post("/v1/sales", json=body)
        assert r.status_code == 201, r.text
        assert r.json()["points_earned"] == {"A": 100, "B": 0, "C": 0, "E": 100}

        results = await asyncio.gather(
            *[
                c.post(
                    f"/v1/sales/S01/{receipt}/returns",
                    json={"return_no": f"RT-{i}", "lines": [{"line_no": 1, "qty": "1"}]},
                )
                for i in range(20)
            ]
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [201] * 10 + [422] * 10, statuses
        assert {r.json()["code"] for r in results if r.status_code == 422} == {
            "return_exceeds_sale"
        }
        clawed = [r.json()["points_clawed_back"] for r in results if r.status_code == 201]
        assert sum(x["A"] for x in clawed) == 100 and sum(x["E"] for x in clawed) == 100
        points = (await c.get(f"/v1/members/{member}/points")).json()
    assert (points["balance"], points["by_category"]["A"], points["by_category"]["E"]) == (0, 0, 0)


async def test_ten_racing_copies_of_one_sale_record_it_once(live_server):
    admin = {"Authorization": f"Bearer {live_server.admin_key}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin, timeout=60) as c:
        member, card = await live_card(c, "Q", "Twice")
        body = sale_body(card, f"DUP-{uuid.uuid4().hex[:8]}")
        results = await asyncio.gather(*[c.post("/v1/sales", json=body) for _ in range(10)])
        assert sorted(r.status_code for r in results) == [200] * 9 + [201]
        assert len({r.text for r in results}) == 1
        assert all(
            r.headers.get("Idempotent-Replayed") == "true" for r in results if r.status_code == 200
        )
        points = (await c.get(f"/v1/members/{member}/points")).json()
    assert (points["balance"], points["by_category"]["A"]) == (38, 38)


async def test_copies_racing_through_both_paths_record_the_sale_once(live_server):
    """Half the copies carry an Idempotency-Key (the endpoint's unit of work), half not (the
    lane): one records the sale, every other copy replays it, whichever way it came in."""
    admin = {"Authorization": f"Bearer {live_server.admin_key}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin, timeout=60) as c:
        member, card = await live_card(c, "P", "Both")
        body = sale_body(card, f"MIX-{uuid.uuid4().hex[:8]}")
        keyed = [{"Idempotency-Key": f"mix-{i}"} for i in range(6)]
        results = await asyncio.gather(
            *[c.post("/v1/sales", json=body, headers=h) for h in [*keyed, *[{}] * 6]]
        )
        assert sorted(r.status_code for r in results) == [200] * 11 + [201]
        assert len({json.dumps(r.json(), sort_keys=True) for r in results}) == 1
        points = (await c.get(f"/v1/members/{member}/points")).json()
    assert (points["balance"], points["by_category"]["A"]) == (38, 38)


async def test_twenty_racing_sales_of_one_member_each_see_the_one_before(live_server):
    """Sales of one member decided on the same read: all but one find the account moved, read
    and decide again; none is lost or refused, and each answers the balance after its own."""
    admin = {"Authorization": f"Bearer {live_server.admin_key}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin, timeout=60) as c:
        member, card = await live_card(c, "B", "Busy")
        run = uuid.uuid4().hex[:8]
        results = await asyncio.gather(
            *[c.post("/v1/sales", json=sale_body(card, f"BUSY-{run}-{i}")) for i in range(20)]
        )
        assert [r.status_code for r in results] == [201] * 20, [r.text for r in results]
        assert sorted(r.json()["balance"] for r in results) == [38 * n for n in range(1, 21)]
        points = (await c.get(f"/v1/members/{member}/points")).json()
    assert (points["balance"], points["by_category"]["A"]) == (38 * 20, 38 * 20)


async def test_racing_sales_paid_with_points_and_redemptions_never_overdraw(live_server):
    admin = {"Authorization": f"Bearer {live_server.admin_key}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin, timeout=60) as c:
        member, card = await live_card(c, "O", "Overdraw")
        r = await c.post(
            "/v1/points/adjustments", json={"member_id": member, "points": 30_000, "reason": "x"}
        )
        assert r.status_code == 201, r.text
        paid = [{"method": "cash", "amount": "288.00"}, {"method": "points", "amount": "100.00"}]
        run = uuid.uuid4().hex[:8]
        sales = [
            c.post("/v1/sales", json=sale_body(card, f"PTS-{run}-{i}", payments=paid))
            for i in range(6)
        ]
        redemptions = [
            c.post(
                "/v1/points/redemptions",
                json={"member_id": member, "points": 10_000, "purpose": "gift"},
            )
            for _ in range(6)
        ]
        results = await asyncio.gather(*sales, *redemptions)
        ok = [r for r in results if r.status_code == 201]
        refused = [r for r in results if r.status_code != 201]
        # 30 000 points pay for three of the twelve (each spends 10 000); a sale earns 28 A,
        # never enough for a fourth.
        assert len(ok) == 3, [r.text for r in results]
        assert {(r.status_code, r.json()["code"]) for r in refused} == {
            (409, "insufficient_points")
        }
        points = (await c.get(f"/v1/members/{member}/points")).json()
    earned = 28 * sum(1 for r in ok if "sale_id" in r.json())
    assert points["balance"] == 30_000 - 30_000 + earned
    assert points["by_category"]["R"] == -30_000
