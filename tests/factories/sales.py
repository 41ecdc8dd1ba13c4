"""Sales and returns from the till through the API."""

from datetime import UTC, datetime, timedelta

from tests.factories.cards import issue, setup_tenant


def _at(days_ago: float = 0) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()


def line(line_no=1, qty="1", amount="388.00", **extra):
    return {"line_no": line_no, "sku": f"SKU{line_no}", "qty": qty, "final_amount": amount, **extra}


def sale_body(card, receipt="R-1", lines=None, payments=None, **extra):
    lines = lines or [line()]
    if payments is None:
        total = sum(float(x["final_amount"]) for x in lines)
        payments = [{"method": "cash", "amount": f"{total:.2f}"}]
    return {
        "store_code": "S01",
        "receipt_no": receipt,
        "card_number": card,
        "occurred_at": _at(),
        "lines": lines,
        "payments": payments,
        **extra,
    }


async def post_sale(client, headers, body, status=201):
    r = await client.post("/v1/sales", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def post_return(client, headers, return_no, lines, status=201, receipt="R-1", **extra):
    r = await client.post(
        f"/v1/sales/S01/{receipt}/returns",
        json={"return_no": return_no, "lines": lines, **extra},
        headers=headers,
    )
    assert r.status_code == status, r.text
    return r.json()


async def member_with_card(client, headers, **class_overrides):
    """A GOLD card earning 0.1 point per CNY with identity multiple 1 (A = E)."""
    overrides = {"default_points_rate": "0.1", "identity_points_multiple": "1", **class_overrides}
    member = await setup_tenant(client, headers, **overrides)
    card = await issue(client, headers, member)
    return member, card["number"]
