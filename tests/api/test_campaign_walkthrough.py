"""The README's walk-through, through the HTTP API only: a group → a campaign with a control
group → issue → quote → sale paid with the voucher → return → results (docs/domain §12)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.factories.cards import GOLD
from tests.factories.checkout import quote
from tests.factories.sales import line, post_return, post_sale, sale_body

MEMBERS = 20


async def test_group_campaign_issue_quote_sale_return_results(client, tenant):
    h = tenant.headers

    async def ok(method, path, body=None, status=(200, 201)):
        r = await client.request(method, path, json=body, headers=h)
        assert r.status_code in status, r.text
        return r.json()

    await ok("POST", "/v1/stores", {"code": "S01", "name": "Flagship"})
    await ok("POST", "/v1/card-classes", {**GOLD, "default_points_rate": "0.1"})
    cards = {}
    for i in range(MEMBERS):
        member = (await ok("POST", "/v1/members", {"name": f"M{i}"}))["id"]
        body = {"card_class": "GOLD", "store_code": "S01", "member_id": member}
        cards[member] = (await ok("POST", "/v1/cards", body))["number"]
    await ok("POST", "/v1/member-groups", {"code": "ALL", "name": "Everyone", "criteria": {}})
    await ok("POST", "/v1/member-groups/ALL/generate")
    await ok("PUT", "/v1/settings/vouchers", {"voucher_on_return": "deduct", "gross_margin": "0.4"})
    await ok(
        "POST",
        "/v1/voucher-templates",
        {
            "code": "BACK18",
            "name": "满100减18",
            "kind": "threshold_amount_off",
            "face_value": "18.00",
            "min_spend": "100.00",
            "valid_days": 30,
        },
    )
    now = datetime.now(UTC)
    await ok(
        "POST",
        "/v1/campaigns",
        {
            "code": "WINBACK",
            "name": "Win back",
            "template": "BACK18",
            "member_group": "ALL",
            "control_share": "0.3",
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=30)).isoformat(),
        },
    )

    first = await ok("POST", "/v1/campaigns/WINBACK/issue")
    assert first["issued"] + first["control"] == MEMBERS and first["skipped"] == 0
    assert 0 < first["control"] < MEMBERS
    again = await ok("POST", "/v1/campaigns/WINBACK/issue")
    assert again == {"issued": 0, "control": first["control"], "skipped": first["issued"]}

    drawn = (await ok("GET", "/v1/campaigns/WINBACK/members?limit=100"))["items"]
    assert sorted(m["member_id"] for m in drawn) == sorted(cards)
    treated = (await ok("GET", "/v1/campaigns/WINBACK/members?arm=treated&limit=100"))["items"]
    control = [m["member_id"] for m in drawn if m["arm"] == "control"]
    assert (len(treated), len(control)) == (first["issued"], first["control"])
    assert all(m["voucher_code"] and m["voucher_status"] == "issued" for m in treated)
    member, code = treated[0]["member_id"], treated[0]["voucher_code"]
    [voucher] = (await ok("GET", f"/v1/vouchers?member_id={member}"))["items"]
    assert (voucher["code"], voucher["template"]) == (code, "BACK18")
    for held_out in control:
        assert (await ok("GET", f"/v1/vouchers?member_id={held_out}"))["items"] == []

    basket = [
        {"line_no": 1, "sku": "A", "original_price": "80.00", "qty": "1"},
        {"line_no": 2, "sku": "B", "original_price": "70.00", "qty": "1"},
    ]
    q = await quote(client, h, cards[member], basket, vouchers=[code])
    assert q["vouchers"] == [{"code": code, "applied": True, "amount": "18.00", "reason": None}]
    assert q["totals"]["payable"] == "132.00"

    lines = [line(1, "1", "80.00"), line(2, "1", "70.00")]
    payments = [
        {"method": "voucher", "voucher_code": code, "amount": "18.00"},
        {"method": "cash", "amount": "132.00"},
    ]
    sold = await post_sale(client, h, sale_body(cards[member], "W-1", lines, payments))
    assert sold["vouchers_redeemed"] == [{"code": code, "amount": "18.00"}]
    assert sold["points_earned"]["A"] == 13  # floor(132 × 0.1)
    redeemed = await ok("GET", f"/v1/vouchers/{code}")
    assert redeemed["status"] == "redeemed"
    assert redeemed["redemption"]["receipt_no"] == "W-1"

    # A control member buys too: the comparison the uplift rests on.
    await post_sale(client, h, sale_body(cards[control[0]], "C-1", [line(1, "1", "50.00")]))

    back = await post_return(client, h, "RT-1", [{"line_no": 2, "qty": "1"}], receipt="W-1")
    assert back["voucher_deduction"] == "18.00"  # 80.00 left is not 满100

    results = await ok("GET", "/v1/campaigns/WINBACK/results")
    assert (results["issued"], results["control"]) == (first["issued"], first["control"])
    assert (results["redeemed"], results["redeeming_members"], results["transactions"]) == (1, 1, 1)
    assert Decimal(results["redemption_rate"]) == round(Decimal(1) / first["issued"], 4)
    assert (results["revenue"], results["cost"]) == ("80.00", "18.00")  # 150 sold − 70 back
    assert results["revenue_per_cost"] == "4.44"
    treated_spend = Decimal(80) / first["issued"]
    control_spend = Decimal(50) / first["control"]
    assert Decimal(results["uplift"]) == (treated_spend - control_spend).quantize(Decimal("0.01"))
    incremental = Decimal(results["incremental_revenue"])
    expected = ((incremental * Decimal("0.4") - 18) / 18).quantize(Decimal("0.0001"))
    assert abs(Decimal(results["incremental_return"]) - expected) <= Decimal("0.0001")
    assert [s["store"] for s in results["by_store"]] == ["S01"]
    members = (await ok("GET", "/v1/campaigns/WINBACK/members?arm=treated&limit=100"))["items"]
    assert next(m for m in members if m["member_id"] == member)["voucher_status"] == "redeemed"

    csv = await client.get("/v1/campaigns/WINBACK/results", headers={**h, "Accept": "text/csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "WINBACK" in csv.text and "80.00" in csv.text
