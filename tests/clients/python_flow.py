"""A till's checkout as a partner writes it with the generated Python client (`loyalty_client`,
made by openapi-python-client from openapi/openapi.json; tests/clients/conftest.py generates it
and puts it on sys.path before this module is imported).

Every call goes through the generated, typed functions (named by operationId) and checks that
`.parsed` is the documented model, not None and not a dict: a part of the document that no
generator can read shows up here as a failed assertion.
"""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
from loyalty_client import AuthenticatedClient, models
from loyalty_client.api.checkout import quote_basket
from loyalty_client.api.points import (
    create_points_redemption,
    get_member_points,
    get_points_redemption,
    list_member_points_entries,
)
from loyalty_client.api.sales import create_sale
from loyalty_client.models import (
    Problem,
    QuoteLine,
    QuoteRequest,
    QuoteResponse,
    RedemptionCreate,
    RedemptionRead,
    SaleCreate,
    SaleRead,
)

# Generated names of nested schemas and enums, which may still be renamed: a rename touches
# these lines only.
Method = models.PaymentMethod
Purpose = models.RedemptionPurpose
SaleLine = models.SaleLineIn
Payment = models.SalePaymentIn


def run(base_url: str, key: str, store: str, card: str, member: str, receipt: str) -> None:
    client = AuthenticatedClient(base_url=base_url, token=key, timeout=30)

    # Price the basket: the class's default rate 0.90 makes 100.00 cost 90.00.
    quote = quote_basket.sync_detailed(
        client=client,
        body=QuoteRequest(
            store_code=store,
            card_number=card,
            lines=[QuoteLine(line_no=1, sku="6901", qty="1", original_price="100.00")],
        ),
    )
    assert quote.status_code == 200, quote.content
    assert isinstance(quote.parsed, QuoteResponse), quote.parsed
    assert quote.parsed.lines[0].final_amount == "90.00"

    # Sell it: 0.1 point per yuan earns 9 A points.
    sale = SaleCreate(
        store_code=store,
        receipt_no=receipt,
        card_number=card,
        occurred_at=datetime.now(UTC),
        lines=[SaleLine(line_no=1, sku="6901", qty="1", final_amount="90.00")],
        payments=[Payment(method=Method.CASH, amount="90.00")],
    )
    first = create_sale.sync_detailed(client=client, body=sale)
    assert first.status_code == 201, first.content
    assert isinstance(first.parsed, SaleRead), first.parsed
    assert first.parsed.points_earned.a == 9 and first.parsed.balance == 9

    # The till sends it again (a lost answer): the first result, typed like it, flagged replayed.
    replay = create_sale.sync_detailed(client=client, body=sale)
    assert replay.status_code == 200, replay.content
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert isinstance(replay.parsed, SaleRead), f"replayed sale parsed as {replay.parsed!r}"
    assert replay.parsed == first.parsed

    points = get_member_points.sync_detailed(member, client=client)
    assert points.status_code == 200, points.content
    assert not isinstance(points.parsed, Problem) and points.parsed is not None
    assert (points.parsed.balance, points.parsed.by_category["A"]) == (9, 9)

    entries = list_member_points_entries.sync_detailed(member, client=client, limit=10)
    assert entries.status_code == 200, entries.content
    page = entries.parsed
    assert attrs.has(type(page)) and not isinstance(page, Problem), f"entries page: {page!r}"
    assert all(attrs.has(type(entry)) for entry in page.items)
    assert [(str(entry.category), entry.points) for entry in page.items] == [("A", 9)]
    assert page.next_cursor is None

    redemption = create_points_redemption.sync_detailed(
        client=client,
        body=RedemptionCreate(member_id=member, points=5, purpose=Purpose.GIFT, reference="R-1"),
    )
    assert redemption.status_code == 201, redemption.content
    assert isinstance(redemption.parsed, RedemptionRead), redemption.parsed
    assert (redemption.parsed.points, str(redemption.parsed.purpose)) == (5, "gift")
    # Ids are opaque strings: the one given names the redemption in a path as it is.
    redemption_id = redemption.parsed.id
    assert isinstance(redemption_id, str) and redemption_id.isdigit(), redemption_id
    again = get_points_redemption.sync_detailed(redemption_id, client=client)
    assert isinstance(again.parsed, RedemptionRead) and again.parsed.id == redemption_id
    after = get_member_points.sync_detailed(member, client=client).parsed
    assert after is not None and not isinstance(after, Problem) and after.balance == 4

    # Another sale under the same receipt: a 409 the till can match on its code.
    other = attrs.evolve(
        sale,
        lines=[SaleLine(line_no=1, sku="6902", qty="1", final_amount="90.00")],
    )
    conflict = create_sale.sync_detailed(client=client, body=other)
    assert conflict.status_code == 409, conflict.content
    assert isinstance(conflict.parsed, Problem), conflict.parsed
    assert conflict.parsed.code == "receipt_conflict" and conflict.parsed.status == 409
