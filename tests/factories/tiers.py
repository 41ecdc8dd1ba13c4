"""A chain of card classes that upgrade into each other."""

from tests.factories.cards import GOLD


async def setup_chain(client, headers):
    await client.post("/v1/stores", json={"code": "S01", "name": "Flagship"}, headers=headers)
    chain = [
        {**GOLD, "code": "DIAMOND", "name": "Diamond", "prefix": "D"},
        {**GOLD, "code": "GOLD", "upgrade_to": "DIAMOND", "upgrade_spend_12m": "20000"},
        {
            **GOLD,
            "code": "NORMAL",
            "name": "Normal",
            "prefix": "N",
            "upgrade_to": "GOLD",
            "upgrade_spend_12m": "5000",
        },
    ]
    for klass in chain:
        r = await client.post("/v1/card-classes", json=klass, headers=headers)
        assert r.status_code == 201, r.text
    members, cards = [], []
    for name in ("big", "small"):
        member = (await client.post("/v1/members", json={"name": name}, headers=headers)).json()
        card = await client.post(
            "/v1/cards",
            json={"card_class": "NORMAL", "store_code": "S01", "member_id": member["id"]},
            headers=headers,
        )
        members.append(member["id"])
        cards.append(card.json()["number"])
    return members, cards
