"""Campaigns (docs/domain §12) through the HTTP API: the campaign, its bulk issue (control
draw, budget, idempotence), its results (net of returns, by store and day, CSV, control
comparison), the voucher settings, refusals and isolation."""

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.db import create_engine, create_sessionmaker
from app.domain.access import Principal, Scope
from app.domain.campaigns import is_control
from app.domain.voucher_codes import is_valid
from app.services import campaigns
from app.uow import UnitOfWork
from tests.factories.campaigns import redeem
from tests.factories.cards import issue, setup_tenant
from tests.factories.database import sql
from tests.factories.problems import assert_problem
from tests.factories.sales import line, post_return, post_sale, sale_body
from tests.factories.vouchers import create_template, insert_template

ISOLATION_COVERS = {
    ("POST", "/v1/campaigns"),
    ("GET", "/v1/campaigns"),
    ("GET", "/v1/campaigns/{code}"),
    ("PATCH", "/v1/campaigns/{code}"),
    ("DELETE", "/v1/campaigns/{code}"),
    ("POST", "/v1/campaigns/{code}/issue"),
    ("GET", "/v1/campaigns/{code}/results"),
    ("GET", "/v1/campaigns/{code}/members"),
    ("GET", "/v1/settings/vouchers"),
    ("PUT", "/v1/settings/vouchers"),
}

NOW = datetime.now(UTC)


def body(code="WB", **fields):
    return {
        "code": code,
        "name": "Winback",
        "template": "BACK18",
        "member_group": "ALL",
        "control_share": "0.5",
        "starts_at": (NOW - timedelta(days=1)).isoformat(),
        "ends_at": (NOW + timedelta(days=30)).isoformat(),
        **fields,
    }


async def create(client, h, status=201, **fields):
    r = await client.post("/v1/campaigns", json=body(**fields), headers=h)
    assert r.status_code == status, r.text
    return r.json()


async def issue_campaign(client, h, code="WB", status=200):
    r = await client.post(f"/v1/campaigns/{code}/issue", headers=h)
    assert r.status_code == status, r.text
    return r.json()


async def group(client, h, code="ALL", generate=True):
    r = await client.post(
        "/v1/member-groups", json={"code": code, "name": code, "criteria": {}}, headers=h
    )
    assert r.status_code == 201, r.text
    if generate:
        r = await client.post(f"/v1/member-groups/{code}/generate", headers=h)
        assert r.status_code == 200, r.text
        return r.json()["member_count"]
    return 0


@pytest.fixture
async def shop(client, tenant, database_url):
    """Stores S01 and S02, GOLD, 40 members with a card each, the BACK18 template and a
    generated group ALL of every member."""
    h = tenant.headers
    first = await setup_tenant(client, h, default_points_rate="0.1")
    cards = {first: (await issue(client, h, first))["number"]}
    for i in range(39):
        r = await client.post("/v1/members", json={"name": f"m{i}"}, headers=h)
        member = r.json()["id"]
        cards[member] = (await issue(client, h, member))["number"]
    await create_template(client, tenant, "BACK18")
    assert await group(client, h) == 40
    return cards


async def arms(database_url, tenant_id, code="WB"):
    rows = await sql(
        database_url,
        "SELECT member_id::text, arm, voucher_code FROM campaign_members"
        " WHERE tenant_id = CAST(:t AS uuid) AND campaign_code = :c",
        t=tenant_id,
        c=code,
    )
    return {r[0]: (r[1], r[2]) for r in rows}


async def seed_of(database_url, tenant_id, code="WB"):
    rows = await sql(
        database_url,
        "SELECT seed FROM campaigns WHERE tenant_id = CAST(:t AS uuid) AND code = :c",
        t=tenant_id,
        c=code,
    )
    return rows[0][0]


async def test_create_read_list_change_and_delete(client, tenant, shop):
    h = tenant.headers
    created = await create(client, h, budget=100)
    assert created["code"] == "WB"
    assert created["control_share"] == "0.5000"
    assert created["budget"] == 100
    assert created["issued"] is False and created["last_issued_at"] is None
    assert (await client.get("/v1/campaigns/WB", headers=h)).json() == created
    empty = (await client.get("/v1/campaigns/WB/results", headers=h)).json()
    assert (empty["issued"], empty["redeemed"], empty["revenue"]) == (0, 0, "0.00")
    assert empty["redemption_rate"] is None and empty["revenue_per_cost"] is None
    assert empty["by_store"] == [] and empty["uplift"] is None
    await create(client, h, code="WB2")
    page = (await client.get("/v1/campaigns?limit=1", headers=h)).json()
    assert [c["code"] for c in page["items"]] == ["WB"]
    rest = await client.get(f"/v1/campaigns?cursor={page['next_cursor']}", headers=h)
    assert [c["code"] for c in rest.json()["items"]] == ["WB2"]

    r = await client.patch(
        "/v1/campaigns/WB", json={"control_share": "0.1", "budget": None}, headers=h
    )
    assert r.status_code == 200, r.text
    assert r.json()["control_share"] == "0.1000" and r.json()["budget"] is None
    r = await client.delete("/v1/campaigns/WB2", headers=h)
    assert r.status_code == 204
    assert (await client.get("/v1/campaigns/WB2", headers=h)).status_code == 404


async def test_changes_are_audited(client, tenant, shop, database_url):
    h = tenant.headers
    await create(client, h)
    await client.patch("/v1/campaigns/WB", json={"name": "Renamed"}, headers=h)
    rows = await sql(
        database_url,
        "SELECT action, field, old_value, new_value FROM audit_log"
        " WHERE tenant_id = CAST(:t AS uuid) AND subject = 'campaign' ORDER BY id",
        t=tenant.id,
    )
    assert ("create", "template", None, "BACK18") in rows
    assert ("update", "name", "Winback", "Renamed") in rows


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({"control_share": "0.6"}, 422, "invalid_control_share", "control_share"),
        ({"control_share": "0.125"}, 422, "invalid_control_share", "control_share"),
        (
            {"ends_at": (NOW - timedelta(days=2)).isoformat()},
            422,
            "invalid_campaign_window",
            "ends_at",
        ),
        ({"budget": 0}, 422, "invalid_budget", "budget"),
        ({"code": "no spaces"}, 422, "invalid_campaign_code", "code"),
        ({"template": "NOPE"}, 422, "voucher_template_not_found", "template"),
        ({"member_group": "NOPE"}, 422, "member_group_not_found", "member_group"),
        ({"member_group": "FRESH"}, 409, "member_group_not_generated", "member_group"),
    ],
)
async def test_refusals(client, tenant, shop, fields, status, code, field):
    h = tenant.headers
    await group(client, h, "FRESH", generate=False)
    r = await client.post("/v1/campaigns", json=body(**fields), headers=h)
    assert_problem(r, status, code)
    assert r.json()["errors"][0]["field"] == field


async def test_duplicate_code_is_a_conflict(client, tenant, shop):
    await create(client, tenant.headers)
    r = await client.post("/v1/campaigns", json=body(), headers=tenant.headers)
    assert_problem(r, 409, "campaign_exists")


async def test_issue_draws_arms_once_and_issues_one_voucher_per_treated_member(
    client, tenant, shop, database_url
):
    h = tenant.headers
    await create(client, h)
    first = await issue_campaign(client, h)
    assert first["issued"] + first["control"] == 40 and first["skipped"] == 0
    assert 0 < first["control"] < 40
    stored = await arms(database_url, tenant.id)
    seed = await seed_of(database_url, tenant.id)
    # The SQL draw is the domain's: control iff md5(seed ‖ member) < control_share.
    for member, (arm, _) in stored.items():
        assert (arm == "control") == is_control(seed, member, Decimal("0.5"))
    assert {m for m, (arm, _) in stored.items() if arm == "control"}.isdisjoint(
        m for m, (_, code) in stored.items() if code
    )
    vouchers = await sql(
        database_url,
        "SELECT v.member_id::text, v.code, v.source, v.source_ref, v.template_code, v.status,"
        " v.valid_to - v.valid_from, c.member_id::text FROM vouchers AS v"
        " JOIN voucher_codes AS c ON c.tenant_id = v.tenant_id AND c.code = v.code"
        " WHERE v.tenant_id = CAST(:t AS uuid) AND v.campaign_code = 'WB'",
        t=tenant.id,
    )
    assert len(vouchers) == first["issued"]
    assert {v[0] for v in vouchers} == {m for m, (arm, _) in stored.items() if arm == "treated"}
    for member, code, source, ref, template, status, length, holder in vouchers:
        assert is_valid(code) and holder == member and stored[member][1] == code
        assert (source, ref, template, status) == ("campaign", "WB", "BACK18", "issued")
        assert length == timedelta(days=30)

    again = await issue_campaign(client, h)
    assert again == {"issued": 0, "control": first["control"], "skipped": first["issued"]}
    assert await arms(database_url, tenant.id) == stored
    campaign = (await client.get("/v1/campaigns/WB", headers=h)).json()
    assert campaign["issued"] is True and campaign["last_issued_at"] is not None


async def test_a_regenerated_group_issues_only_to_newcomers(client, tenant, shop, database_url):
    h = tenant.headers
    await create(client, h, control_share="0")
    assert (await issue_campaign(client, h))["issued"] == 40
    await client.post("/v1/members", json={"name": "late"}, headers=h)
    await client.post("/v1/member-groups/ALL/generate", headers=h)
    assert await issue_campaign(client, h) == {"issued": 1, "control": 0, "skipped": 40}


async def test_budget_caps_the_vouchers_and_a_raised_budget_issues_the_rest(
    client, tenant, shop, database_url
):
    h = tenant.headers
    await create(client, h, control_share="0.25", budget=5)
    first = await issue_campaign(client, h)
    treated = 40 - first["control"]
    assert first == {"issued": 5, "control": first["control"], "skipped": treated - 5}
    r = await client.patch("/v1/campaigns/WB", json={"budget": 1000}, headers=h)
    assert r.status_code == 200, r.text
    assert (await issue_campaign(client, h))["issued"] == treated - 5
    served = [a for a in (await arms(database_url, tenant.id)).values() if a[1]]
    assert len(served) == treated


async def test_small_batches_give_the_same_answer(client, tenant, shop, database_url):
    """The issue walks the group in batches; batch edges change nothing."""
    h = tenant.headers
    await create(client, h, control_share="0.2", budget=30)
    engine = create_engine(database_url, pool_size=2, max_overflow=0)  # two parts at once
    try:
        uow = UnitOfWork(create_sessionmaker(engine))
        who = Principal(tenant.id, "0", "test", frozenset({Scope.ADMIN}))
        result = await campaigns.issue(uow, who, "WB", datetime.now(UTC), batch_size=7, parts=3)
    finally:
        await engine.dispose()
    stored = await arms(database_url, tenant.id)
    assert len(stored) == 40
    assert result.control == sum(1 for a, _ in stored.values() if a == "control")
    assert result.issued == min(30, 40 - result.control)
    assert result.issued + result.control + result.skipped == 40


async def test_after_the_first_issue_only_name_ends_at_and_budget_change(client, tenant, shop):
    h = tenant.headers
    await create(client, h)
    await issue_campaign(client, h)
    for field, value in [("template", "OTHER"), ("control_share", "0.1"), ("member_group", "X")]:
        r = await client.patch("/v1/campaigns/WB", json={field: value}, headers=h)
        assert_problem(r, 409, "campaign_issued")
    r = await client.patch(
        "/v1/campaigns/WB",
        json={"name": "Longer", "ends_at": (NOW + timedelta(days=60)).isoformat(), "budget": 9},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert_problem(await client.delete("/v1/campaigns/WB", headers=h), 409, "campaign_issued")
    r = await client.patch("/v1/campaigns/WB", json={"code": "NEW"}, headers=h)
    assert_problem(r, 422, "code_immutable")


async def test_issue_refusals(client, tenant, shop, database_url):
    h = tenant.headers
    await create(client, h)
    await sql(
        database_url,
        "UPDATE campaigns SET starts_at = now() - interval '9 days', ends_at = now() - interval"
        " '1 day' WHERE tenant_id = CAST(:t AS uuid)",
        t=tenant.id,
    )
    assert_problem(await client.post("/v1/campaigns/WB/issue", headers=h), 409, "campaign_ended")
    await insert_template(
        database_url,
        tenant.id,
        "OLD",
        valid_days=None,
        valid_from=NOW - timedelta(days=9),
        valid_to=NOW - timedelta(days=1),
    )
    await create(client, h, code="WB2", template="OLD")
    await create(client, h, code="WB3")
    r = await client.post("/v1/campaigns/WB2/issue", headers=h)
    assert_problem(r, 409, "voucher_template_expired")
    await client.patch(
        "/v1/member-groups/ALL",
        json={"criteria": {"ranking": {"by": "amount", "top": 1}}},
        headers=h,
    )
    r = await client.post("/v1/campaigns/WB3/issue", headers=h)
    assert_problem(r, 409, "member_group_not_generated")
    assert_problem(
        await client.post("/v1/campaigns/NOPE/issue", headers=h), 404, "campaign_not_found"
    )
    assert await arms(database_url, tenant.id, "WB2") == {}


async def test_results_count_revenue_net_of_returns_and_break_down(
    client, tenant, shop, database_url
):
    h = tenant.headers
    await create(client, h, control_share="0")
    await issue_campaign(client, h)
    vouchers = dict(
        await sql(
            database_url,
            "SELECT member_id::text, code FROM vouchers WHERE tenant_id = CAST(:t AS uuid)",
            t=tenant.id,
        )
    )
    members = list(shop)[:3]
    # Three receipts paid in part with a voucher: 200 at S01, 100 at S01 (half returned),
    # 300 at S02; the third's voucher is borne 10/8 by the store and a supplier.
    amounts = [("R-1", "S01", "200.00"), ("R-2", "S01", "100.00"), ("R-3", "S02", "300.00")]
    for member, (receipt, store, amount) in zip(members, amounts, strict=True):
        sale = sale_body(shop[member], receipt, [line(amount=amount)], store_code=store)
        await post_sale(client, h, sale)
    await post_return(client, h, "B-1", [{"line_no": 1, "qty": "0.5"}], receipt="R-2")
    await redeem(database_url, tenant.id, vouchers[members[0]], "R-1")
    await redeem(database_url, tenant.id, vouchers[members[1]], "R-2")
    await redeem(
        database_url, tenant.id, vouchers[members[2]], "R-3", store_borne="10.00", store_code="S02"
    )

    r = await client.get("/v1/campaigns/WB/results", headers=h)
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["issued"] == 40 and res["control"] == 0
    assert res["redeemed"] == 3 and res["transactions"] == 3 and res["redeeming_members"] == 3
    assert res["redemption_rate"] == "0.0750"
    assert res["revenue"] == "550.00"  # 200 + (100 − 50) + 300
    assert (res["cost"], res["cost_store"], res["cost_supplier"]) == ("54.00", "46.00", "8.00")
    assert res["revenue_per_cost"] == "10.19"
    assert res["uplift"] is None and res["incremental_return"] is None
    by_store = {s["store"]: s for s in res["by_store"]}
    assert by_store["S01"]["revenue"] == "250.00" and by_store["S01"]["transactions"] == 2
    assert by_store["S02"]["cost_supplier"] == "8.00"
    assert sum(d["redeemed"] for d in res["by_day"]) == 3

    r = await client.get("/v1/campaigns/WB/results", headers={**h, "Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows[0]["section"] == "campaign" and rows[0]["revenue"] == "550.00"
    assert rows[0]["redemption_rate"] == "0.0750" and rows[0]["revenue_per_cost"] == "10.19"
    assert {(x["section"], x["key"]) for x in rows[1:3]} == {("store", "S01"), ("store", "S02")}
    assert rows[-1]["section"] == "day"


async def test_results_compare_treated_and_control_spend(client, tenant, shop, database_url):
    h = tenant.headers
    r = await client.put("/v1/settings/vouchers", json={"gross_margin": "0.4"}, headers=h)
    assert r.status_code == 200, r.text
    await create(client, h, control_share="0.5")
    await issue_campaign(client, h)
    stored = await arms(database_url, tenant.id)
    treated = [m for m, (arm, _) in stored.items() if arm == "treated"]
    control = [m for m, (arm, _) in stored.items() if arm == "control"]
    # Every treated member spends 100 and redeems (cost 18 each); the first two control
    # members spend 50: uplift = 100 − 100 / n_control.
    for i, member in enumerate(treated):
        await post_sale(client, h, sale_body(shop[member], f"T-{i}", [line(amount="100.00")]))
        await redeem(database_url, tenant.id, stored[member][1], f"T-{i}")
    for i, member in enumerate(control[:2]):
        await post_sale(client, h, sale_body(shop[member], f"C-{i}", [line(amount="50.00")]))
    res = (await client.get("/v1/campaigns/WB/results", headers=h)).json()
    nt, nc = len(treated), len(control)
    uplift = Decimal(100) - Decimal(100) / nc
    assert res["treated_members"] == nt and res["control"] == nc
    assert res["treated_spend_per_member"] == "100.00"
    assert Decimal(res["uplift"]) == uplift.quantize(Decimal("0.01"))
    assert Decimal(res["uplift_low"]) <= Decimal(res["uplift"]) <= Decimal(res["uplift_high"])
    incremental = uplift * nt
    assert Decimal(res["incremental_revenue"]) == incremental.quantize(Decimal("0.01"))
    cost = Decimal(18 * nt)
    expected = ((incremental * Decimal("0.4") - cost) / cost).quantize(Decimal("0.0001"))
    assert Decimal(res["incremental_return"]) == expected


async def test_voucher_settings_default_put_audit_and_refusals(client, tenant, database_url):
    h = tenant.headers
    r = await client.get("/v1/settings/vouchers", headers=h)
    assert r.json() == {"voucher_on_return": "keep", "gross_margin": None}
    r = await client.put(
        "/v1/settings/vouchers",
        json={"voucher_on_return": "deduct", "gross_margin": "0.35"},
        headers=h,
    )
    assert r.json() == {"voucher_on_return": "deduct", "gross_margin": "0.3500"}
    assert (await client.get("/v1/settings/vouchers", headers=h)).json() == r.json()
    log = await sql(
        database_url,
        "SELECT field, old_value, new_value FROM audit_log WHERE tenant_id = CAST(:t AS uuid)"
        " AND subject = 'voucher_settings' ORDER BY field",
        t=tenant.id,
    )
    assert log == [("gross_margin", None, "0.3500"), ("voucher_on_return", "keep", "deduct")]
    for bad in ({"gross_margin": "1.5"}, {"gross_margin": "0.12345"}):
        assert_problem(
            await client.put("/v1/settings/vouchers", json=bad, headers=h),
            422,
            "invalid_gross_margin",
        )
    r = await client.put("/v1/settings/vouchers", json={"voucher_on_return": "burn"}, headers=h)
    assert r.status_code == 422


async def test_other_tenants_see_nothing(client, tenant, other_tenant, shop):
    h, o = tenant.headers, other_tenant.headers
    await create(client, h)
    await client.put("/v1/settings/vouchers", json={"gross_margin": "0.3"}, headers=h)
    for method, path in [
        ("GET", "/v1/campaigns/WB"),
        ("PATCH", "/v1/campaigns/WB"),
        ("DELETE", "/v1/campaigns/WB"),
        ("POST", "/v1/campaigns/WB/issue"),
        ("GET", "/v1/campaigns/WB/results"),
        ("GET", "/v1/campaigns/WB/members"),
    ]:
        r = await client.request(
            method, path, json={"name": "x"} if method == "PATCH" else None, headers=o
        )
        assert_problem(r, 404, "campaign_not_found")
    assert (await client.get("/v1/campaigns", headers=o)).json()["items"] == []
    assert (await client.get("/v1/settings/vouchers", headers=o)).json()["gross_margin"] is None
    # The other tenant's own campaign of the same code can't see this tenant's template.
    r = await client.post("/v1/campaigns", json=body(), headers=o)
    assert_problem(r, 422, "voucher_template_not_found")
    await client.put("/v1/settings/vouchers", json={"voucher_on_return": "restore"}, headers=o)
    assert (await client.get("/v1/settings/vouchers", headers=h)).json()["gross_margin"] == "0.3000"
    assert (await client.get("/v1/campaigns/WB", headers=h)).json()["name"] == "Winback"


async def test_two_issues_at_once_serve_each_member_once(client, tenant, shop, database_url):
    """Two calls of one campaign take turns on each part: no member gets two vouchers, and
    neither call fails."""
    await create(client, tenant.headers, control_share="0.1")
    engine = create_engine(database_url, pool_size=4, max_overflow=0)
    try:
        who = Principal(tenant.id, "0", "test", frozenset({Scope.ADMIN}))
        now = datetime.now(UTC)
        a, b = await asyncio.gather(
            *(
                campaigns.issue(UnitOfWork(create_sessionmaker(engine)), who, "WB", now, 3)
                for _ in range(2)
            )
        )
    finally:
        await engine.dispose()
    stored = await arms(database_url, tenant.id)
    treated = sum(1 for arm, _ in stored.values() if arm == "treated")
    assert a.issued + b.issued == treated
    assert a.control == b.control == 40 - treated
    rows = await sql(
        database_url,
        "SELECT member_id, count(*) FROM vouchers WHERE tenant_id = CAST(:t AS uuid)"
        " GROUP BY member_id HAVING count(*) > 1",
        t=tenant.id,
    )
    assert rows == []
