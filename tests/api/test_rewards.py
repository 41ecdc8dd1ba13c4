"""The rewards catalogue (积分商城) through the HTTP API: offers and their validation, and
exchanges — the points spent (R, gift, referencing the voucher), the voucher issued and the
stock taken in one transaction, all or nothing, exactly once per Idempotency-Key."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.voucher_codes import is_valid
from app.repositories.rewards import RewardRepository
from tests.factories.cards import issue, setup_tenant
from tests.factories.database import sql
from tests.factories.points import adjust, balance_of, key_with, new_member
from tests.factories.problems import assert_problem
from tests.factories.vouchers import insert_template, vouchers_of

ISOLATION_COVERS = {
    ("POST", "/v1/rewards"),
    ("GET", "/v1/rewards"),
    ("GET", "/v1/rewards/{code}"),
    ("PATCH", "/v1/rewards/{code}"),
    ("POST", "/v1/rewards/{code}/exchanges"),
    ("GET", "/v1/rewards/{code}/changes"),
}

REWARDS = "/v1/rewards"
OFFER = {"code": "CUP-18", "name": "18 CNY voucher", "template": "CNY18", "points": 1800}


async def create(client, headers, status=201, **changes):
    r = await client.post(REWARDS, json={**OFFER, **changes}, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def get(client, headers, code="CUP-18"):
    r = await client.get(f"{REWARDS}/{code}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def exchange(client, headers, code="CUP-18", key=None, **body):
    extra = {"Idempotency-Key": key} if key else {}
    return await client.post(f"{REWARDS}/{code}/exchanges", json=body, headers={**headers, **extra})


@pytest.fixture
async def shop(client, tenant, database_url):
    """Stores, the GOLD class, a template CNY18 (30 days from issue) and a member with a GOLD
    card and 5000 points."""
    h = tenant.headers
    member = await setup_tenant(client, h)
    card = (await issue(client, h, member))["number"]
    await adjust(client, h, member, 5000)
    await insert_template(database_url, tenant.id)
    return {"member": member, "card": card}


async def test_an_offer_reads_back_and_lists(client, tenant, shop):
    h = tenant.headers
    created = await create(
        client,
        h,
        stock=10,
        card_classes=["GOLD", "GOLD"],
        starts_at="2026-01-01T00:00:00+08:00",
    )
    assert created == {
        **OFFER,
        "stock": 10,
        "exchanged": 0,
        "card_classes": ["GOLD"],
        "starts_at": "2025-12-31T16:00:00Z",
        "ends_at": None,
        "active": True,
        "created_at": created["created_at"],
        "updated_at": created["updated_at"],
    }
    assert await get(client, h) == created
    await create(client, h, code="A-FIRST", active=False)
    listed = await client.get(REWARDS, params={"limit": 1}, headers=h)
    assert [r["code"] for r in listed.json()["items"]] == ["A-FIRST"]
    rest = await client.get(REWARDS, params={"cursor": listed.json()["next_cursor"]}, headers=h)
    assert [r["code"] for r in rest.json()["items"]] == ["CUP-18"]
    active = await client.get(REWARDS, params={"active": "true"}, headers=h)
    assert [r["code"] for r in active.json()["items"]] == ["CUP-18"]


async def test_bad_terms_are_one_422_naming_every_field(client, tenant, shop):
    r = await client.post(
        REWARDS,
        json={
            **OFFER,
            "code": "no spaces",
            "template": "NOPE",
            "points": 0,
            "stock": -1,
            "card_classes": ["GOLD", "PLATINUM"],
            "starts_at": "2026-12-01T00:00:00Z",
            "ends_at": "2026-11-01T00:00:00Z",
        },
        headers=tenant.headers,
    )
    body = assert_problem(r, 422, "invalid_reward")
    assert [e["field"] for e in body["errors"]] == [
        "code",
        "template",
        "points",
        "stock",
        "card_classes[1]",
        "ends_at",
    ]
    r = await client.post(REWARDS, json={**OFFER, "points": "1800"}, headers=tenant.headers)
    assert_problem(r, 422, "validation_error")


async def test_a_code_in_use_is_409(client, tenant, shop):
    await create(client, tenant.headers)
    r = await client.post(REWARDS, json=OFFER, headers=tenant.headers)
    assert_problem(r, 409, "reward_exists")


async def test_patch_merges_and_checks_the_whole(client, tenant, shop):
    h = tenant.headers
    await create(client, h, stock=5, starts_at="2026-01-01T00:00:00Z")
    r = await client.patch(
        f"{REWARDS}/CUP-18", json={"stock": None, "points": 900, "active": False}, headers=h
    )
    assert r.status_code == 200, r.text
    assert (r.json()["stock"], r.json()["points"], r.json()["active"]) == (None, 900, False)
    assert r.json()["starts_at"] == "2026-01-01T00:00:00Z"
    r = await client.patch(f"{REWARDS}/CUP-18", json={"ends_at": "2025-06-01T00:00:00Z"}, headers=h)
    assert [e["field"] for e in assert_problem(r, 422, "invalid_reward")["errors"]] == ["ends_at"]
    r = await client.patch(f"{REWARDS}/CUP-18", json={"code": "OTHER"}, headers=h)
    assert_problem(r, 422, "validation_error")
    r = await client.patch(f"{REWARDS}/CUP-18", json={"points": None}, headers=h)
    assert_problem(r, 422, "validation_error")
    r = await client.patch(f"{REWARDS}/NOPE", json={"points": 1}, headers=h)
    assert_problem(r, 404, "reward_not_found")
    r = await client.patch(
        f"{REWARDS}/CUP-18", json={"card_classes": ["GOLD"], "points": 900}, headers=h
    )
    log = (await client.get(f"{REWARDS}/CUP-18/changes", headers=h)).json()["items"]
    assert [(c["action"], c["field"], c["old"], c["new"]) for c in log] == [
        ("update", "card_classes", "[]", '["GOLD"]'),
        ("update", "active", "true", "false"),
        ("update", "stock", "5", None),
        ("update", "points", "1800", "900"),
        ("create", "active", None, "true"),
        ("create", "starts_at", None, "2026-01-01T00:00:00+00:00"),
        ("create", "card_classes", None, "[]"),
        ("create", "stock", None, "5"),
        ("create", "points", None, "1800"),
        ("create", "template", None, "CNY18"),
        ("create", "name", None, "18 CNY voucher"),
    ]
    assert {c["actor"] for c in log} == {"admin"}
    r = await client.get(f"{REWARDS}/NOPE/changes", headers=h)
    assert_problem(r, 404, "reward_not_found")


async def test_an_exchange_spends_issues_and_counts(client, tenant, shop, database_url):
    h = tenant.headers
    await create(client, h, stock=2, card_classes=["GOLD"])
    r = await exchange(client, h, card_number=shop["card"])
    assert r.status_code == 201, r.text
    done = r.json()
    assert is_valid(done["code"])
    assert (done["reward"], done["template"], done["member_id"], done["card_number"]) == (
        "CUP-18",
        "CNY18",
        shop["member"],
        shop["card"],
    )
    assert (done["points"], done["balance"]) == (1800, 3200)
    valid_from = datetime.fromisoformat(done["valid_from"])
    assert datetime.fromisoformat(done["valid_to"]) - valid_from == timedelta(days=30)
    assert await vouchers_of(database_url, tenant.id) == [
        (shop["member"], done["code"], "CNY18", "issued", "reward", "CUP-18")
    ]
    redemption = await client.get(f"/v1/points/redemptions/{done['redemption_id']}", headers=h)
    assert (redemption.json()["purpose"], redemption.json()["reference"]) == (
        "gift",
        done["code"],
    )
    points = await balance_of(client, h, shop["member"])
    assert (points["balance"], points["by_category"]["R"]) == (3200, -1800)
    reward = await get(client, h)
    assert (reward["stock"], reward["exchanged"]) == (1, 1)
    # By member id too (the member's active GOLD card makes her eligible).
    r = await exchange(client, h, member_id=shop["member"])
    assert (r.status_code, r.json()["balance"], r.json()["card_number"]) == (201, 1400, None)
    assert len(await vouchers_of(database_url, tenant.id)) == 2
    r = await exchange(client, h, member_id=shop["member"])
    assert_problem(r, 409, "reward_out_of_stock")
    assert (await get(client, h))["exchanged"] == 2


async def test_unlimited_stock_stays_unlimited(client, tenant, shop):
    await create(client, tenant.headers, points=100)
    for _ in range(3):
        r = await exchange(client, tenant.headers, member_id=shop["member"])
        assert r.status_code == 201, r.text
    reward = await get(client, tenant.headers)
    assert (reward["stock"], reward["exchanged"]) == (None, 3)


async def test_refusals_spend_and_issue_nothing(client, tenant, shop, database_url):
    h = tenant.headers
    poor = await new_member(client, h, "穷")
    silver_only = await create(client, h, code="SILVER", card_classes=["GOLD"], stock=5)
    assert silver_only["stock"] == 5
    cases = [
        ("CUP-18", {"member_id": poor}, 409, "insufficient_points"),
        ("SILVER", {"member_id": poor}, 409, "reward_class_not_eligible"),
        ("NOPE", {"member_id": shop["member"]}, 404, "reward_not_found"),
        ("CUP-18", {}, 422, "card_or_member_required"),
        ("CUP-18", {"member_id": "not-a-member"}, 422, "member_not_found"),
        ("CUP-18", {"card_number": "S01299999999"}, 422, "card_not_found"),
    ]
    await create(client, h, stock=3)
    await adjust(client, h, poor, 100)
    for code, body, status, problem in cases:
        body = assert_problem(await exchange(client, h, code, **body), status, problem)
        if problem == "insufficient_points":
            assert (body["requested"], body["available"]) == (1800, 100)
    await create(client, h, code="SOLD", stock=0)
    await create(client, h, code="OFF", active=False)
    await create(client, h, code="LATER", starts_at="2099-01-01T00:00:00Z")
    await create(client, h, code="OVER", ends_at="2020-01-01T00:00:00Z")
    for code, problem in [
        ("SOLD", "reward_out_of_stock"),
        ("OFF", "reward_inactive"),
        ("LATER", "reward_not_in_window"),
        ("OVER", "reward_not_in_window"),
    ]:
        assert_problem(await exchange(client, h, code, member_id=shop["member"]), 409, problem)
    assert await vouchers_of(database_url, tenant.id) == []
    assert (await balance_of(client, h, shop["member"]))["balance"] == 5000
    assert (await balance_of(client, h, poor))["balance"] == 100
    assert ((await get(client, h))["stock"], (await get(client, h, "SILVER"))["stock"]) == (3, 5)


async def test_a_template_gone_or_over_is_409(client, tenant, shop, database_url):
    h = tenant.headers
    await insert_template(
        database_url,
        tenant.id,
        "OLD",
        valid_days=None,
        valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        valid_to=datetime(2020, 2, 1, tzinfo=UTC),
    )
    await create(client, h, code="OLD", template="OLD")
    await create(client, h)
    await sql(
        database_url,
        "DELETE FROM voucher_templates WHERE tenant_id = :t AND code = 'CNY18'",
        t=tenant.id,
    )
    r = await exchange(client, h, member_id=shop["member"])
    assert_problem(r, 409, "reward_template_missing")
    r = await exchange(client, h, "OLD", member_id=shop["member"])
    assert_problem(r, 409, "reward_template_expired")
    assert (await balance_of(client, h, shop["member"]))["balance"] == 5000


async def test_stock_gone_after_the_points_were_spent_undoes_the_spend(
    client, tenant, shop, database_url, monkeypatch
):
    """The exchange read the reward with stock left; by its guarded decrement, after the
    points were spent and the voucher written, the stock is gone: nothing stays."""
    h = tenant.headers
    await create(client, h, stock=0)
    read = RewardRepository.get

    async def stale(self, tenant_id, code, *, lock=False):
        found = await read(self, tenant_id, code, lock=lock)
        return replace(found, stock=1) if found is not None else None

    monkeypatch.setattr(RewardRepository, "get", stale)
    r = await exchange(client, h, member_id=shop["member"])
    assert_problem(r, 409, "reward_out_of_stock")
    monkeypatch.undo()
    assert await vouchers_of(database_url, tenant.id) == []
    points = await balance_of(client, h, shop["member"])
    assert (points["balance"], points["by_category"]["R"]) == (5000, 0)
    redemptions = await sql(
        database_url, "SELECT count(*) FROM points_redemptions WHERE tenant_id = :t", t=tenant.id
    )
    assert redemptions == [(0,)]
    assert ((await get(client, h))["stock"], (await get(client, h))["exchanged"]) == (0, 0)


async def test_a_retry_with_the_key_replays_the_first_answer(client, tenant, shop, database_url):
    h = tenant.headers
    await create(client, h, stock=5)
    first = await exchange(client, h, key="ex-1", member_id=shop["member"])
    again = await exchange(client, h, key="ex-1", member_id=shop["member"])
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(await vouchers_of(database_url, tenant.id)) == 1
    assert (await balance_of(client, h, shop["member"]))["balance"] == 3200
    assert (await get(client, h))["stock"] == 4
    other = await exchange(client, h, key="ex-1", card_number=shop["card"])
    assert_problem(other, 422, "idempotency_key_reused")
    # A refusal is replayed too, even once it would no longer be one.
    await create(client, h, code="SOLD", stock=0)
    refused = await exchange(client, h, "SOLD", key="ex-2", member_id=shop["member"])
    await client.patch(f"{REWARDS}/SOLD", json={"stock": 1}, headers=h)
    replayed = await exchange(client, h, "SOLD", key="ex-2", member_id=shop["member"])
    assert (refused.status_code, replayed.status_code) == (409, 409)
    assert replayed.json() == refused.json()


async def test_scopes(client, tenant, shop):
    h = tenant.headers
    await create(client, h)
    pos = await key_with(client, h, "pos")
    analytics = await key_with(client, h, "analytics")
    assert (await client.get(REWARDS, headers=analytics)).status_code == 200
    assert_problem(
        await exchange(client, analytics, member_id=shop["member"]), 403, "insufficient_scope"
    )
    assert_problem(
        await client.post(REWARDS, json={**OFFER, "code": "P"}, headers=pos),
        403,
        "insufficient_scope",
    )
    assert (await exchange(client, pos, card_number=shop["card"])).status_code == 201


async def test_other_tenants_rewards_are_404_and_unlisted(
    client, tenant, other_tenant, shop, database_url
):
    await create(client, tenant.headers, stock=1)
    theirs = other_tenant.headers
    assert_problem(await client.get(f"{REWARDS}/CUP-18", headers=theirs), 404, "reward_not_found")
    r = await client.patch(f"{REWARDS}/CUP-18", json={"points": 1}, headers=theirs)
    assert_problem(r, 404, "reward_not_found")
    r = await exchange(client, theirs, member_id=shop["member"])
    assert_problem(r, 404, "reward_not_found")
    r = await client.get(f"{REWARDS}/CUP-18/changes", headers=theirs)
    assert_problem(r, 404, "reward_not_found")
    assert (await client.get(REWARDS, headers=theirs)).json()["items"] == []
    # The same code in another tenant is another reward, naming that tenant's template.
    assert_problem(await client.post(REWARDS, json=OFFER, headers=theirs), 422, "invalid_reward")
    await insert_template(database_url, other_tenant.id)
    await create(client, theirs, points=1)
    mine = await get(client, tenant.headers)
    assert (mine["points"], mine["stock"]) == (1800, 1)
