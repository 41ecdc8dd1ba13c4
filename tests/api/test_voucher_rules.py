"""返券 rules through the HTTP API: create, read, list, change, delete; every bad field in one
422; every change bumps the tenant's pricing version (the sale caches rules by it); and the
active rules as the sale loads them (``uow.vouchers.rules``)."""

from decimal import Decimal

import pytest

from app.db import create_engine, create_sessionmaker
from app.uow import UnitOfWork
from tests.factories.cards import setup_tenant
from tests.factories.database import sql
from tests.factories.points import key_with
from tests.factories.problems import assert_problem
from tests.factories.vouchers import insert_template

ISOLATION_COVERS = {
    ("POST", "/v1/voucher-rules"),
    ("GET", "/v1/voucher-rules"),
    ("GET", "/v1/voucher-rules/{code}"),
    ("PATCH", "/v1/voucher-rules/{code}"),
    ("DELETE", "/v1/voucher-rules/{code}"),
    ("GET", "/v1/voucher-rules/{code}/changes"),
}

RULES = "/v1/voucher-rules"
RULE = {
    "code": "EVERY200",
    "name": "每满200返20",
    "template": "CNY20",
    "per_amount": "200.00",
    "max_per_receipt": 5,
    "card_classes": ["GOLD"],
    "stores": ["S02", "S01"],
    "include": {"major_category": ["COSMETICS"]},
    "exclude": {"brand": ["LAMER"]},
    "starts_at": "2026-12-01T00:00:00+08:00",
    "ends_at": "2027-01-01T00:00:00+08:00",
}


@pytest.fixture
async def shop(client, tenant, database_url):
    await setup_tenant(client, tenant.headers)  # stores S01, S02 and the GOLD class
    await insert_template(database_url, tenant.id, "CNY20", face_value="20.00")


async def version(database_url, tenant_id) -> int:
    rows = await sql(
        database_url, "SELECT version FROM pricing_versions WHERE tenant_id = :t", t=tenant_id
    )
    return rows[0][0] if rows else 0


async def create(client, headers, status=201, **changes):
    r = await client.post(RULES, json={**RULE, **changes}, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def active_rules(database_url, tenant_id):
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        uow = UnitOfWork(create_sessionmaker(engine))
        async with uow:
            return await uow.vouchers.rules(tenant_id)
    finally:
        await engine.dispose()


async def test_a_rule_reads_back_lists_and_bumps_the_pricing_version(
    client, tenant, shop, database_url
):
    h = tenant.headers
    before = await version(database_url, tenant.id)
    created = await create(client, h)
    assert created == {
        **RULE,
        "stores": ["S01", "S02"],
        "starts_at": "2026-11-30T16:00:00Z",
        "ends_at": "2026-12-31T16:00:00Z",
        "active": True,
        "created_at": created["created_at"],
        "updated_at": created["updated_at"],
    }
    assert await version(database_url, tenant.id) == before + 1
    r = await client.get(f"{RULES}/EVERY200", headers=h)
    assert r.json() == created
    await create(client, h, code="A100", per_amount="100", active=False, include={}, exclude={})
    page = (await client.get(RULES, params={"limit": 1}, headers=h)).json()
    assert [x["code"] for x in page["items"]] == ["A100"]
    assert page["items"][0]["per_amount"] == "100.00"
    rest = await client.get(RULES, params={"cursor": page["next_cursor"]}, headers=h)
    assert [x["code"] for x in rest.json()["items"]] == ["EVERY200"]
    paused = await client.get(RULES, params={"active": "false"}, headers=h)
    assert [x["code"] for x in paused.json()["items"]] == ["A100"]


async def test_bad_terms_are_one_422_naming_every_field(client, tenant, shop, database_url):
    before = await version(database_url, tenant.id)
    r = await client.post(
        RULES,
        json={
            **RULE,
            "template": "CNY99",
            "per_amount": "0.00",
            "max_per_receipt": 0,
            "card_classes": ["GOLD", "BRONZE"],
            "stores": ["S01", "S99"],
            "include": {"colour": ["RED"]},
            "exclude": {"sku": [""]},
            "ends_at": "2026-11-01T00:00:00Z",
        },
        headers=tenant.headers,
    )
    body = assert_problem(r, 422, "invalid_voucher_rule")
    assert [e["field"] for e in body["errors"]] == [
        "template",
        "per_amount",
        "max_per_receipt",
        "card_classes[1]",
        "stores[1]",
        "include.colour",
        "exclude.sku[0]",
        "ends_at",
    ]
    assert "no store S99" in body["detail"]
    assert await version(database_url, tenant.id) == before
    r = await client.post(RULES, json={**RULE, "per_amount": 200}, headers=tenant.headers)
    assert_problem(r, 422, "validation_error")


async def test_a_code_in_use_is_409(client, tenant, shop):
    await create(client, tenant.headers)
    assert_problem(
        await client.post(RULES, json=RULE, headers=tenant.headers), 409, "voucher_rule_exists"
    )


async def test_patch_merges_checks_the_whole_and_bumps(client, tenant, shop, database_url):
    h = tenant.headers
    await create(client, h)
    before = await version(database_url, tenant.id)
    r = await client.patch(
        f"{RULES}/EVERY200",
        json={"per_amount": "300", "max_per_receipt": None, "include": {}, "active": False},
        headers=h,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["per_amount"], body["max_per_receipt"], body["include"], body["active"]) == (
        "300.00",
        None,
        {},
        False,
    )
    assert body["exclude"] == {"brand": ["LAMER"]} and body["stores"] == ["S01", "S02"]
    assert await version(database_url, tenant.id) == before + 1
    r = await client.patch(f"{RULES}/EVERY200", json={"ends_at": "2026-11-01T00:00:00Z"}, headers=h)
    assert [e["field"] for e in assert_problem(r, 422, "invalid_voucher_rule")["errors"]] == [
        "ends_at"
    ]
    r = await client.patch(f"{RULES}/EVERY200", json={"per_amount": None}, headers=h)
    assert_problem(r, 422, "validation_error")
    r = await client.patch(f"{RULES}/NOPE", json={"active": True}, headers=h)
    assert_problem(r, 404, "voucher_rule_not_found")
    r = await client.patch(f"{RULES}/EVERY200", json={"stores": ["S01", "S02", "S01"]}, headers=h)
    assert r.status_code == 200, r.text  # the same stores: nothing to log
    log = (await client.get(f"{RULES}/EVERY200/changes", headers=h)).json()["items"]
    assert [(c["action"], c["field"], c["old"], c["new"]) for c in log[:4]] == [
        ("update", "active", "true", "false"),
        ("update", "include", '{"major_category":["COSMETICS"]}', "{}"),
        ("update", "max_per_receipt", "5", None),
        ("update", "per_amount", "200.00", "300.00"),
    ]
    assert log[4]["action"] == "create"
    assert await version(database_url, tenant.id) == before + 1


async def test_delete_removes_the_rule_and_bumps(client, tenant, shop, database_url):
    h = tenant.headers
    await create(client, h)
    before = await version(database_url, tenant.id)
    assert (await client.delete(f"{RULES}/EVERY200", headers=h)).status_code == 204
    assert await version(database_url, tenant.id) == before + 1
    r = await client.get(f"{RULES}/EVERY200", headers=h)
    assert_problem(r, 404, "voucher_rule_not_found")
    r = await client.delete(f"{RULES}/EVERY200", headers=h)
    assert_problem(r, 404, "voucher_rule_not_found")
    log = (await client.get(f"{RULES}/EVERY200/changes", headers=h)).json()["items"]
    assert [c["action"] for c in log] == ["delete"] * 11 + ["create"] * 11
    assert {(c["field"], c["old"]) for c in log[:11]} >= {
        ("stores", '["S01","S02"]'),
        ("include", '{"major_category":["COSMETICS"]}'),
        ("per_amount", "200.00"),
    }
    r = await client.get(f"{RULES}/NEVER/changes", headers=h)
    assert_problem(r, 404, "voucher_rule_not_found")


async def test_the_sale_loads_the_active_rules(client, tenant, shop, database_url):
    h = tenant.headers
    await create(client, h)
    await create(client, h, code="PAUSED", active=False)
    await create(
        client,
        h,
        code="ANY",
        per_amount="99.5",
        max_per_receipt=None,
        card_classes=[],
        stores=[],
        include={},
        exclude={},
        starts_at=None,
        ends_at=None,
    )
    rules = await active_rules(database_url, tenant.id)
    assert [r.code for r in rules] == ["ANY", "EVERY200"]
    anyone, every = rules
    assert (anyone.per_amount, anyone.max_per_receipt, anyone.card_classes) == (
        Decimal("99.50"),
        None,
        frozenset(),
    )
    assert anyone.starts_at is None and not any(anyone.scope.include.values())
    assert every.stores == frozenset({"S01", "S02"}) and every.template == "CNY20"
    assert every.scope.include == {"major_category": frozenset({"COSMETICS"})}
    assert every.scope.exclude == {"brand": frozenset({"LAMER"})}
    assert every.starts_at is not None and every.ends_at is not None


async def test_scopes(client, tenant, shop):
    h = tenant.headers
    await create(client, h)
    pos = await key_with(client, h, "pos")
    assert (await client.get(RULES, headers=pos)).status_code == 200
    r = await client.patch(f"{RULES}/EVERY200", json={"active": False}, headers=pos)
    assert_problem(r, 403, "insufficient_scope")
    assert_problem(await client.delete(f"{RULES}/EVERY200", headers=pos), 403, "insufficient_scope")


async def test_other_tenants_rules_are_404_and_unlisted(
    client, tenant, other_tenant, shop, database_url
):
    await create(client, tenant.headers)
    theirs = other_tenant.headers
    for method, path, body in [
        ("GET", "", None),
        ("PATCH", "", {"active": False}),
        ("DELETE", "", None),
        ("GET", "/changes", None),
    ]:
        r = await client.request(method, f"{RULES}/EVERY200{path}", json=body, headers=theirs)
        assert_problem(r, 404, "voucher_rule_not_found")
    assert (await client.get(RULES, headers=theirs)).json()["items"] == []
    # Their own rule may take the code, naming their own template, classes and stores.
    r = await client.post(RULES, json=RULE, headers=theirs)
    assert_problem(r, 422, "invalid_voucher_rule")
    await setup_tenant(client, theirs)
    await insert_template(database_url, other_tenant.id, "CNY20")
    await create(client, theirs, per_amount="1.00")
    mine = (await client.get(f"{RULES}/EVERY200", headers=tenant.headers)).json()
    assert (mine["per_amount"], mine["active"]) == ("200.00", True)
    assert [r.code for r in await active_rules(database_url, tenant.id)] == ["EVERY200"]
