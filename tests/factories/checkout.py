"""A tenant priced through a sharing group, and quotes checked against their documented model."""

from app.schemas.checkout import QuoteResponse
from tests.factories.cards import GOLD


async def setup(client, headers, **class_overrides):
    await client.post("/v1/stores", json={"code": "S01", "name": "Flagship"}, headers=headers)
    await client.post(
        "/v1/sharing-groups",
        json={
            "code": "STD",
            "name": "Standard",
            "store_share": "0.5",
            "overrides": [
                {"level": "brand", "code": "OLAY", "store_share": "0.3"},
                {"level": "counter", "code": "C07", "store_share": "0.7"},
            ],
        },
        headers=headers,
    )
    klass = {
        **GOLD,
        "default_discount_rate": "0.9",
        "stack_threshold_rate": "0.8",
        "stack_rate": "0.95",
        "sharing_group": "STD",
        **class_overrides,
    }
    r = await client.post("/v1/card-classes", json=klass, headers=headers)
    assert r.status_code == 201, r.text
    member = (await client.post("/v1/members", json={"name": "Q"}, headers=headers)).json()
    card = await client.post(
        "/v1/cards",
        json={"card_class": "GOLD", "store_code": "S01", "member_id": member["id"]},
        headers=headers,
    )
    return card.json()["number"]


async def quote(client, headers, card, lines, **extra):
    body = {"store_code": "S01", "card_number": card, "lines": lines, **extra}
    r = await client.post("/v1/checkout/quote", json=body, headers=headers)
    assert r.status_code == 200, r.text
    # The body is built by hand for speed: it must still be exactly the documented model.
    assert QuoteResponse.model_validate_json(r.text).model_dump(mode="json", by_alias=True) == (
        r.json()
    )
    return r.json()
