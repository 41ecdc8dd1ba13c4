"""POST /v1/jobs/tier-review on spend rows (sales write them; here they are inserted)."""

from datetime import UTC, datetime, timedelta

from tests.factories.database import sql
from tests.factories.tiers import setup_chain

ISOLATION_COVERS = {("POST", "/v1/jobs/tier-review")}


async def spend(database_url, tenant_id, member_id, amount, days_ago):
    await sql(
        database_url,
        "INSERT INTO member_spend (tenant_id, member_id, occurred_at, amount, source, source_ref)"
        " VALUES (:t, :m, :at, :amount, 'sale', 'test')",
        t=tenant_id,
        m=member_id,
        amount=amount,
        at=datetime.now(UTC) - timedelta(days=days_ago),
    )


async def test_spend_moves_cards_up_the_chain(client, tenant, other_tenant, database_url):
    (big, small), (big_card, small_card) = await setup_chain(client, tenant.headers)
    await spend(database_url, tenant.id, big, "15000.00", 30)
    await spend(database_url, tenant.id, big, "6000.00", 200)
    await spend(database_url, tenant.id, big, "-500.00", 10)  # a return
    await spend(database_url, tenant.id, small, "4000.00", 20)
    await spend(database_url, tenant.id, small, "9000.00", 400)  # too old to count

    # Another tenant's run touches nothing of ours.
    other = await client.post("/v1/jobs/tier-review", headers=other_tenant.headers)
    assert other.status_code == 200 and other.json()["upgraded"] == []

    r = await client.post("/v1/jobs/tier-review", headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["upgraded"] == [
        {
            "card_number": big_card,
            "member_id": big,
            "from_class": "NORMAL",
            "to_class": "DIAMOND",
            "spend_12m": "20500.00",
        }
    ]
    card = (await client.get(f"/v1/cards/{big_card}", headers=tenant.headers)).json()
    assert card["card_class"] == "DIAMOND"
    small_now = (await client.get(f"/v1/cards/{small_card}", headers=tenant.headers)).json()
    assert small_now["card_class"] == "NORMAL"

    events = (await client.get(f"/v1/cards/{big_card}/events", headers=tenant.headers)).json()
    tiers = [e for e in events["items"] if e["kind"] == "tier"]
    assert [(e["from_value"], e["to_value"]) for e in tiers] == [
        ("GOLD", "DIAMOND"),
        ("NORMAL", "GOLD"),
    ]
    assert "20500.00 reached 5000.00" in tiers[1]["reason"]

    # Idempotent: nothing more to do, and the card still resolves under its new class.
    again = await client.post("/v1/jobs/tier-review", headers=tenant.headers)
    assert again.json()["upgraded"] == []
    resolved = await client.post(
        "/v1/cards/resolve", json={"card_number": big_card}, headers=tenant.headers
    )
    assert resolved.json()["card_class"]["code"] == "DIAMOND"


async def test_tier_review_needs_admin(client, tenant):
    key = (
        await client.post(
            "/v1/api-keys", json={"name": "p", "scopes": ["pos"]}, headers=tenant.headers
        )
    ).json()["key"]
    r = await client.post("/v1/jobs/tier-review", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 403
