"""Vouchers at the till through the HTTP API: the quote applies and explains them, the sale
redeems them in its own transaction (points exclude what they paid), returns keep, deduct or
restore them, sales earn 返券 and returns take it back, coupon cards get no member price."""

import asyncio
import uuid
from decimal import Decimal
from types import SimpleNamespace

import httpx

from tests.factories.cards import GOLD
from tests.factories.checkout import quote
from tests.factories.database import sql
from tests.factories.points import balance_of
from tests.factories.sales import line, member_with_card, post_return, post_sale, sale_body
from tests.factories.till_vouchers import (
    rule,
    set_voucher_on_return,
    template,
    voucher,
    voucher_row,
)


def goods(line_no, price, **extra):
    return {
        "line_no": line_no,
        "sku": f"SKU{line_no}",
        "original_price": price,
        "qty": "1",
        **extra,
    }


def paid(card, receipt, lines, vouchers, total, **extra):
    """A sale of ``lines`` paid with ``vouchers`` ({code: amount}) and cash for the rest."""
    cash = f"{total - sum(float(a) for a in vouchers.values()):.2f}"
    payments = [{"method": "voucher", "voucher_code": c, "amount": a} for c, a in vouchers.items()]
    return sale_body(card, receipt, lines, [*payments, {"method": "cash", "amount": cash}], **extra)


async def test_a_quote_applies_a_voucher_pro_rata_and_explains_the_others(
    client, tenant, database_url
):
    member, card = await member_with_card(client, tenant.headers, default_discount_rate="1")
    await template(client, tenant, "V18")
    silver = {**GOLD, "code": "SILVER", "prefix": "S"}
    assert (await client.post("/v1/card-classes", json=silver, headers=tenant.headers)).is_success
    await template(client, tenant, "GOLDONLY", card_classes=["SILVER"])
    await template(client, tenant, "S02ONLY", stores=["S02"])
    await template(client, tenant, "BEAUTY", include={"counter": ["C07"]})
    await template(client, tenant, "M300", kind="threshold_amount_off", min_spend="300.00")
    good = await voucher(database_url, tenant.id, member, "V18")
    expired = await voucher(database_url, tenant.id, member, "V18", days=-0.5, starts_in_days=-2)
    later = await voucher(database_url, tenant.id, member, "V18", starts_in_days=1)
    klass = await voucher(database_url, tenant.id, member, "GOLDONLY")
    store = await voucher(database_url, tenant.id, member, "S02ONLY")
    scope = await voucher(database_url, tenant.id, member, "BEAUTY")
    spend = await voucher(database_url, tenant.id, member, "M300")
    stranger = (await client.post("/v1/members", json={"name": "S"}, headers=tenant.headers)).json()
    theirs = await voucher(database_url, tenant.id, stranger["id"], "V18")
    codes = [good, expired, later, klass, store, scope, spend, theirs, good, "NOT-A-CODE"]
    typed = good.lower()[:7] + "-" + good.lower()[7:]  # as a cashier may type it
    q = await quote(
        client,
        tenant.headers,
        card,
        [goods(1, "100.00"), goods(2, "50.00"), goods(3, "50.00")],
        vouchers=[typed, *codes[1:]],
    )
    got = [(v["applied"], v["amount"], v["reason"]) for v in q["vouchers"]]
    assert got == [
        (True, "18.00", None),
        (False, "0.00", "expired"),
        (False, "0.00", "not_yet_valid"),
        (False, "0.00", "class"),
        (False, "0.00", "store"),
        (False, "0.00", "scope"),
        (False, "0.00", "min_spend"),
        (False, "0.00", "not_holder"),
        (False, "0.00", "duplicate"),
        (False, "0.00", "invalid_code"),
    ]
    assert q["vouchers"][0]["code"] == good and q["vouchers"][-1]["code"] == "NOT-A-CODE"
    # 18 over 100/50/50, in fen, cumulatively rounded: 9.00, 4.50, 4.50.
    assert [x["voucher_discount"] for x in q["lines"]] == ["9.00", "4.50", "4.50"]
    assert [x["voucher_store_borne"] for x in q["lines"]] == ["9.00", "4.50", "4.50"]
    assert q["totals"]["voucher_discount"] == "18.00" and q["totals"]["payable"] == "182.00"
    assert q["points_preview"]["A"] == 18  # floor(182 × 0.1): the voucher's part earns nothing


async def test_percent_off_comes_first_and_can_break_a_threshold(client, tenant, database_url):
    member, card = await member_with_card(client, tenant.headers, default_discount_rate="1")
    await template(client, tenant, "P9", kind="percent_off", rate="0.9")
    await template(
        client,
        tenant,
        "M200",
        kind="threshold_amount_off",
        face_value="20.00",
        min_spend="200.00",
    )
    await template(client, tenant, "V18", store_share="0.4")
    pct, threshold, cash = [
        await voucher(database_url, tenant.id, member, t) for t in ("P9", "M200", "V18")
    ]
    lines = [goods(1, "150.00"), goods(2, "50.00")]
    # Sent in the "wrong" order: percent off still applies first, on the member price.
    q = await quote(client, tenant.headers, card, lines, vouchers=[cash, threshold, pct])
    got = {v["code"]: (v["applied"], v["amount"], v["reason"]) for v in q["vouchers"]}
    assert got[pct] == (True, "20.00", None)  # 10 % of 200
    assert got[threshold] == (False, "0.00", "min_spend")  # 180 left < 200
    assert got[cash] == (True, "18.00", None)
    assert q["totals"]["payable"] == "162.00"
    # The store bears all of the percent-off voucher and 40 % of the 18.00 one: 20 + 7.20.
    assert sum(Decimal(x["voucher_store_borne"]) for x in q["lines"]) == Decimal("27.20")
    assert sum(Decimal(x["voucher_supplier_borne"]) for x in q["lines"]) == Decimal("10.80")

    q = await quote(client, tenant.headers, card, lines, vouchers=[threshold, cash])
    got = {v["code"]: (v["applied"], v["amount"]) for v in q["vouchers"]}
    assert got == {threshold: (True, "20.00"), cash: (True, "18.00")}


async def test_a_voucher_pays_a_sale_once_and_its_share_earns_no_points(
    client, tenant, database_url
):
    member, card = await member_with_card(client, tenant.headers)
    await template(client, tenant, "V18", store_share="0.5")
    code = await voucher(database_url, tenant.id, member, "V18")
    lines = [line(1, "1", "100.00"), line(2, "1", "100.00")]

    wrong = paid(card, "V-1", lines, {code: "20.00"}, 200)
    r = await client.post("/v1/sales", json=wrong, headers=tenant.headers)
    assert r.status_code == 422 and r.json()["code"] == "voucher_amount_mismatch", r.text
    assert r.json()["expected"] == "18.00"
    assert r.json()["errors"][0]["field"] == "payments[0].amount"
    r = await client.post(
        "/v1/sales",
        json=paid(
            card, "V-1", lines, {code[:-1] + ("0" if code[-1] != "0" else "1"): "18.00"}, 200
        ),
        headers=tenant.headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_voucher_code", r.text
    no_code = sale_body(card, "V-1", lines, [{"method": "voucher", "amount": "200.00"}])
    r = await client.post("/v1/sales", json=no_code, headers=tenant.headers)
    assert r.status_code == 422, r.text
    assert (await voucher_row(database_url, tenant.id, code))["status"] == "issued"

    body = paid(card, "V-1", lines, {code: "18.00"}, 200)
    done = await post_sale(client, tenant.headers, body)
    assert done["vouchers_redeemed"] == [{"code": code, "amount": "18.00"}]
    assert done["points_earned"]["A"] == 18  # floor(182 × 0.1)
    row = await voucher_row(database_url, tenant.id, code)
    assert row["status"] == "redeemed" and row["redeemed_receipt"] == "V-1"
    assert (str(row["redeemed_amount"]), str(row["store_borne"])) == ("18.00", "9.00")
    assert str(row["supplier_borne"]) == "9.00"

    again = await client.post("/v1/sales", json=body, headers=tenant.headers)
    assert again.status_code == 200 and again.json() == done  # the replay
    other = await client.post(
        "/v1/sales", json=paid(card, "V-2", lines, {code: "18.00"}, 200), headers=tenant.headers
    )
    assert other.status_code == 409 and other.json()["code"] == "voucher_already_redeemed"
    q = await quote(client, tenant.headers, card, [goods(1, "10.00")], vouchers=[code])
    assert q["vouchers"][0]["reason"] == "already_used"
    points = await balance_of(client, tenant.headers, member)
    assert points["by_category"]["A"] == 18


async def test_returns_keep_deduct_or_restore_the_voucher(client, tenant, database_url):
    member, card = await member_with_card(client, tenant.headers)
    await template(
        client,
        tenant,
        "M200",
        kind="threshold_amount_off",
        face_value="20.00",
        min_spend="200.00",
    )
    lines = [line(1, "1", "150.00"), line(2, "1", "100.00")]

    async def sale(receipt):
        code = await voucher(database_url, tenant.id, member, "M200")
        await post_sale(client, tenant.headers, paid(card, receipt, lines, {code: "20.00"}, 250))
        return code

    kept = await sale("K-1")
    back = await post_return(
        client, tenant.headers, "RT1", [{"line_no": 2, "qty": "1"}], receipt="K-1"
    )
    assert (back["voucher_deduction"], back["returned_amount"]) == ("0.00", "100.00")

    await set_voucher_on_return(database_url, tenant.id, "deduct")
    await sale("D-1")
    back = await post_return(
        client, tenant.headers, "RT1", [{"line_no": 2, "qty": "1"}], receipt="D-1"
    )
    assert back["voucher_deduction"] == "20.00"  # 150 left: no longer 满200
    back = await post_return(
        client, tenant.headers, "RT2", [{"line_no": 1, "qty": "1"}], receipt="D-1"
    )
    assert back["voucher_deduction"] == "0.00"  # taken once only

    await set_voucher_on_return(database_url, tenant.id, "restore")
    restored = await sale("R-1")
    part = await post_return(
        client, tenant.headers, "RT1", [{"line_no": 2, "qty": "1"}], receipt="R-1"
    )
    assert part["vouchers_restored"] == []  # only a full return reinstates it
    full = await post_return(
        client, tenant.headers, "RT2", [{"line_no": 1, "qty": "1"}], receipt="R-1"
    )
    assert full["vouchers_restored"] == [restored]
    assert (await voucher_row(database_url, tenant.id, restored))["status"] == "issued"
    assert (await voucher_row(database_url, tenant.id, kept))["status"] == "redeemed"
    # Reinstated, it pays another sale.
    await post_sale(client, tenant.headers, paid(card, "R-2", lines, {restored: "20.00"}, 250))


async def test_a_sale_earns_fanquan_and_a_return_takes_it_back(client, tenant, database_url):
    _, card = await member_with_card(client, tenant.headers)
    await template(client, tenant, "V20", face_value="20.00")
    await rule(client, tenant, "R200", template="V20", per_amount="200.00", max_per_receipt=2)
    lines = [line(1, "1", "300.00"), line(2, "1", "150.00"), line(3, "1", "100.00")]
    done = await post_sale(client, tenant.headers, sale_body(card, "F-1", lines))
    earned = [v["code"] for v in done["vouchers_earned"]]
    assert len(earned) == 2  # 550 → 2 (capped at 2, not 2.75)
    assert all(v["template"] == "V20" for v in done["vouchers_earned"])

    # One of them pays a later sale.
    used = earned[0]
    await post_sale(
        client, tenant.headers, paid(card, "F-2", [line(1, "1", "50.00")], {used: "20.00"}, 50)
    )
    # 300 returned: 250 left earns 1 of 2; the unused one is voided.
    back = await post_return(
        client, tenant.headers, "RT1", [{"line_no": 1, "qty": "1"}], receipt="F-1"
    )
    assert back["vouchers_voided"] == [earned[1]] and back["voucher_deduction"] == "0.00"
    row = await voucher_row(database_url, tenant.id, earned[1])
    assert row["status"] == "voided" and row["void_reason"] == "return RT1"
    # 150 returned: 100 left earns none; the used one's value comes off the refund.
    back = await post_return(
        client, tenant.headers, "RT2", [{"line_no": 2, "qty": "1"}], receipt="F-1"
    )
    assert back["vouchers_voided"] == [] and back["voucher_deduction"] == "20.00"
    back = await post_return(
        client, tenant.headers, "RT3", [{"line_no": 3, "qty": "1"}], receipt="F-1"
    )
    assert back["voucher_deduction"] == "0.00"


async def test_a_coupon_card_holds_vouchers_but_gets_no_member_price_nor_points(
    client, tenant, database_url
):
    _, card = await member_with_card(
        client, tenant.headers, usage="coupon", default_discount_rate="0.9"
    )
    await template(client, tenant, "V20", face_value="20.00")
    await rule(client, tenant, "R200", template="V20", per_amount="200.00")
    q = await quote(client, tenant.headers, card, [goods(1, "200.00")])
    assert q["lines"][0]["final_amount"] == "200.00" and q["points_preview"]["total"] == 0
    done = await post_sale(client, tenant.headers, sale_body(card, "C-1", [line(1, "1", "200.00")]))
    assert done["points_earned_total"] == 0 and len(done["vouchers_earned"]) == 1


async def test_other_tenants_codes_are_unknown_here(client, tenant, other_tenant, database_url):
    _, card = await member_with_card(client, tenant.headers)
    theirs_member, _ = await member_with_card(client, other_tenant.headers)
    await template(client, other_tenant, "V18")
    theirs = await voucher(database_url, other_tenant.id, theirs_member, "V18")
    q = await quote(client, tenant.headers, card, [goods(1, "100.00")], vouchers=[theirs])
    assert q["vouchers"][0]["reason"] == "not_found"
    r = await client.post(
        "/v1/sales",
        json=paid(card, "O-1", [line(1, "1", "100.00")], {theirs: "18.00"}, 100),
        headers=tenant.headers,
    )
    assert r.status_code == 422 and r.json()["reason"] == "not_found", r.text


async def test_one_voucher_in_twenty_racing_sales_is_redeemed_once(live_server, database_url):
    admin = {"Authorization": f"Bearer {live_server.admin_key}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin, timeout=60) as c:
        await c.post("/v1/stores", json={"code": "S01", "name": "x"})
        code_ = "Q" + uuid.uuid4().hex[:6].upper()
        klass = {**GOLD, "code": code_, "prefix": code_[1:5], "default_points_rate": "0.1"}
        assert (await c.post("/v1/card-classes", json=klass)).status_code == 201
        cards = []
        for i in range(4):  # a bearer voucher: several members race for it
            member = (await c.post("/v1/members", json={"name": f"R{i}"})).json()["id"]
            r = await c.post(
                "/v1/cards", json={"card_class": code_, "store_code": "S01", "member_id": member}
            )
            cards.append((member, r.json()["number"]))
        tenant_id = (
            await sql(database_url, "SELECT tenant_id FROM members WHERE id = :m", m=cards[0][0])
        )[0][0]
        template_code = "B" + uuid.uuid4().hex[:8].upper()
        await template(c, SimpleNamespace(headers=admin), template_code, bearer=True)
        code = await voucher(database_url, str(tenant_id), cards[0][0], template_code)
        run = uuid.uuid4().hex[:8]
        bodies = [
            paid(cards[i % 4][1], f"RV-{run}-{i}", [line(1, "1", "100.00")], {code: "18.00"}, 100)
            for i in range(20)
        ]
        results = await asyncio.gather(*[c.post("/v1/sales", json=b) for b in bodies])
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [409] * 19, [r.text for r in results]
    assert {r.json()["code"] for r in results if r.status_code == 409} == {
        "voucher_already_redeemed"
    }
    sales = await sql(
        database_url,
        "SELECT count(*) FROM sales WHERE receipt_no LIKE :p",
        p=f"RV-{run}-%",
    )
    assert sales[0][0] == 1
    assert (await voucher_row(database_url, str(tenant_id), code))["status"] == "redeemed"
