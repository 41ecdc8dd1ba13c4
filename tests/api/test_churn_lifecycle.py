"""Churn and lifecycle (docs/domain §7) through the HTTP API, over imported history: a worked churn
year, a member in each lifecycle stage, the settings, refusals and isolation."""

import pytest

from tests.factories.imports import HEADER, post_import
from tests.factories.points import key_with
from tests.factories.problems import assert_problem

ISOLATION_COVERS = {
    ("GET", "/v1/analytics/churn"),
    ("GET", "/v1/analytics/lifecycle"),
    ("GET", "/v1/analytics/lifecycle/config"),
    ("PUT", "/v1/analytics/lifecycle/config"),
    ("GET", "/v1/members/{member_id}/lifecycle"),
}

CHURN = "/v1/analytics/churn"
LIFECYCLE = "/v1/analytics/lifecycle"
CONFIG = "/v1/analytics/lifecycle/config"

# The year 2025 with inactive_days 365 (Shanghai days):
#   A bought in 2024 and 2025: retained, worth 200      B only in Feb 2024: lost, worth 1000
#   C only on 2023-12-31: not active at the start      D first bought in 2025: new, not counted
#   E last on 2024-12-31 23:30 local: lost, worth 500   F came back 2025-01-01 00:10 local: kept
CHURN_YEAR = HEADER + (
    "A,2024-06-01,200,A1,S01\nA,2025-03-01,80,A2,S01\n"
    "B,2024-02-01,1000,B1,S01\n"
    "C,2023-12-31,700,C1,S01\n"
    "D,2025-05-01,90,D1,S01\n"
    "E,2024-12-31T23:30:00+08:00,500,E1,S01\n"
    "F,2024-07-01,300,F1,S01\nF,2025-01-01T00:10:00+08:00,50,F2,S01\n"
)


async def test_a_churn_year(client, tenant):
    await post_import(client, tenant.headers, CHURN_YEAR)
    r = await client.get(
        CHURN, params={"from": "2025-01-01", "to": "2025-12-31"}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "from": "2025-01-01",
        "to": "2025-12-31",
        "inactive_days": 365,
        "active_at_start": 4,
        "lost": 2,
        "retained": 2,
        "absolute_churn_rate": "0.5000",
        "value_at_start": "2000.00",
        "value_lost": "1500.00",
        "relative_churn_rate": "0.7500",
        "windows": {
            "active_at_start": {"from": "2024-01-02", "to": "2024-12-31"},
            "active_at_end": {"from": "2025-01-01", "to": "2025-12-31"},
            "value": {"from": "2024-01-01", "to": "2024-12-31"},
        },
    }


async def test_a_short_period_counts_who_crossed_the_line(client, tenant):
    """March 2025 with 90 inactive days: active at the start = bought Dec 1 - Feb 28; lost = no
    purchase from Jan 1 to Mar 31."""
    body = HEADER + (
        "P,2024-12-15,100,P1,S01\n"  # active, nothing since: crossed 90 days in March → lost
        "Q,2025-01-10,100,Q1,S01\n"  # active, still within 90 days on Mar 31 → retained
        "R,2024-11-30,100,R1,S01\n"  # not active at the start
    )
    await post_import(client, tenant.headers, body)
    params = {"from": "2025-03-01", "to": "2025-03-31", "inactive_days": 90}
    got = (await client.get(CHURN, params=params, headers=tenant.headers)).json()
    assert (got["active_at_start"], got["lost"], got["absolute_churn_rate"]) == (2, 1, "0.5000")
    assert got["value_at_start"] == "200.00" and got["relative_churn_rate"] == "0.5000"


async def test_nobody_active(client, tenant):
    got = (
        await client.get(
            CHURN, params={"from": "2025-01-01", "to": "2025-01-31"}, headers=tenant.headers
        )
    ).json()
    assert (got["active_at_start"], got["absolute_churn_rate"], got["relative_churn_rate"]) == (
        0,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"from": "2025-02-01", "to": "2025-01-01"}, "invalid_period", "to"),
        ({"from": "2025-01-01", "to": "2099-01-01"}, "invalid_period", "to"),
        ({"from": "2025-01-01", "to": "2999-01-01"}, "validation_error", "to"),  # not a Day
        (
            {"from": "2025-01-01", "to": "2025-02-01", "inactive_days": 0},
            "invalid_period",
            "inactive_days",
        ),
        ({"to": "2025-02-01"}, "validation_error", "from"),
        ({"from": "2025-13-01", "to": "2025-02-01"}, "validation_error", "from"),
    ],
)
async def test_churn_refusals(client, tenant, params, code, field):
    body = assert_problem(await client.get(CHURN, params=params, headers=tenant.headers), 422, code)
    assert body["errors"][0]["field"] == field


# --- lifecycle ----------------------------------------------------------------------------------

AS_OF = "2026-06-30"
HISTORY = HEADER + (
    "L,2024-01-01,100,L1,S01\nL,2025-01-01,100,L2,S01\n"  # 545 days quiet: lost
    "X,2026-06-01,100,X1,S01\n"  # one purchase: exploration
    + "".join(f"DC,2025-{m:02d}-01,100,DC{m},S01\n" for m in range(6, 13))  # quiet 211 days
    + "".join(f"DT,2025-{m:02d}-10,250,DT{m},S01\n" for m in (8, 9, 10, 11))  # previous: 1000
    + "DT,2025-06-01,10,DT6,S01\nDT,2026-06-15,50,DT15,S01\nDT,2026-06-20,50,DT20,S01\n"
    + "F,2026-02-01,100,F1,S01\nF,2026-03-01,100,F2,S01\nF,2026-04-01,100,F3,S01\n"  # young
    + "".join(f"S,2025-{m:02d}-01,100,S25{m},S01\n" for m in (1, 4, 7, 10))
    + "".join(f"S,2026-{m:02d}-20,100,S26{m},S01\n" for m in (1, 3, 5, 6))
)


async def test_stages(client, tenant):
    r = await client.post("/v1/members", json={"name": "没买过"}, headers=tenant.headers)
    never = r.json()["id"]
    await post_import(client, tenant.headers, HISTORY)
    got = (await client.get(LIFECYCLE, params={"as_of": AS_OF}, headers=tenant.headers)).json()
    assert got["as_of"] == AS_OF and got["members"] == 7 and got["no_purchases"] == 1
    assert got["stages"] == {
        "exploration": 1,
        "formation": 1,
        "stability": 1,
        "decline": 2,
        "lost": 1,
    }
    assert got["config"]["decline_ratio"] == "0.5000"

    members = (await client.get("/v1/members", params={"limit": 50}, headers=tenant.headers)).json()
    ids = {m["external_ref"]: m["id"] for m in members["items"]}
    expected = {
        "L": "lost",
        "X": "exploration",
        "DC": "decline",
        "DT": "decline",
        "F": "formation",
        "S": "stability",
    }
    for ref, stage in expected.items():
        mine = await client.get(
            f"/v1/members/{ids[ref]}/lifecycle", params={"as_of": AS_OF}, headers=tenant.headers
        )
        assert mine.status_code == 200 and mine.json()["stage"] == stage, (ref, mine.text)
    s = (
        await client.get(
            f"/v1/members/{ids['S']}/lifecycle", params={"as_of": AS_OF}, headers=tenant.headers
        )
    ).json()
    assert s == {
        "member_id": ids["S"],
        "as_of": AS_OF,
        "stage": "stability",
        "purchases": 8,
        "first_purchase": "2025-01-01",
        "last_purchase": "2026-06-20",
        "recency_days": 10,
        "tenure_days": 545,
        "recent_spend": "400.00",  # 2026-01-02 .. 06-30: Jan 20, Mar 20, May 20, Jun 20
        "previous_spend": "100.00",  # 2025-07-06 .. 2026-01-01: Oct 1 only
    }
    none = (
        await client.get(
            f"/v1/members/{never}/lifecycle", params={"as_of": AS_OF}, headers=tenant.headers
        )
    ).json()
    assert (none["stage"], none["purchases"], none["first_purchase"], none["recent_spend"]) == (
        None,
        0,
        None,
        "0.00",
    )


async def test_settings_change_the_stages(client, tenant):
    await post_import(client, tenant.headers, HISTORY)
    r = await client.get(CONFIG, headers=tenant.headers)
    assert r.json()["updated_at"] is None and r.json()["lost_after_days"] == 365
    r = await client.put(
        CONFIG, json={"lost_after_days": 200, "decline_after_days": 100}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["lost_after_days"],
        r.json()["trend_days"],
        r.json()["updated_at"] is not None,
    ) == (200, 180, True)
    got = (await client.get(LIFECYCLE, params={"as_of": AS_OF}, headers=tenant.headers)).json()
    assert got["stages"]["lost"] == 2 and got["stages"]["decline"] == 1  # DC is now lost
    assert got["config"]["lost_after_days"] == 200


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"decline_after_days": 400}, "invalid_lifecycle_config", "decline_after_days"),
        ({"decline_ratio": "1.5"}, "invalid_lifecycle_config", "decline_ratio"),
        ({"trend_days": 0}, "invalid_lifecycle_config", "trend_days"),
        ({"stability_min_purchases": 1}, "invalid_lifecycle_config", "stability_min_purchases"),
        ({"decline_ratio": 0.5}, "validation_error", "decline_ratio"),
        ({"colour": "red"}, "validation_error", "colour"),
    ],
)
async def test_lifecycle_settings_refusals(client, tenant, body, code, field):
    problem = assert_problem(await client.put(CONFIG, json=body, headers=tenant.headers), 422, code)
    assert problem["errors"][0]["field"] == field


async def test_lifecycle_refusals(client, tenant):
    h = tenant.headers
    assert_problem(
        await client.get(LIFECYCLE, params={"as_of": "2099-01-01"}, headers=h), 422, "invalid_as_of"
    )
    assert_problem(
        await client.get("/v1/members/nope/lifecycle", headers=h), 404, "member_not_found"
    )
    r = await client.post("/v1/members", json={"name": "x"}, headers=h)
    assert_problem(
        await client.get(
            f"/v1/members/{r.json()['id']}/lifecycle", params={"as_of": "2099-01-01"}, headers=h
        ),
        422,
        "invalid_as_of",
    )
    today = (await client.get(LIFECYCLE, headers=h)).json()
    assert today["members"] == 1 and today["no_purchases"] == 1


async def test_scopes(client, tenant):
    analyst = await key_with(client, tenant.headers, "analytics")
    assert (await client.get(LIFECYCLE, headers=analyst)).status_code == 200
    pos = await key_with(client, tenant.headers, "pos", "app", "partner")
    for path, params in [
        (LIFECYCLE, {}),
        (CONFIG, {}),
        (CHURN, {"from": "2025-01-01", "to": "2025-01-31"}),
    ]:
        assert_problem(
            await client.get(path, params=params, headers=pos), 403, "insufficient_scope"
        )
    assert_problem(await client.put(CONFIG, json={}, headers=pos), 403, "insufficient_scope")


async def test_other_tenant_sees_nothing(client, tenant, other_tenant):
    await post_import(client, tenant.headers, CHURN_YEAR)
    members = (await client.get("/v1/members", headers=tenant.headers)).json()["items"]
    thief = other_tenant.headers
    assert_problem(
        await client.get(f"/v1/members/{members[0]['id']}/lifecycle", headers=thief),
        404,
        "member_not_found",
    )
    got = (
        await client.get(CHURN, params={"from": "2025-01-01", "to": "2025-12-31"}, headers=thief)
    ).json()
    assert got["active_at_start"] == 0
    assert (await client.get(LIFECYCLE, headers=thief)).json()["members"] == 0
    await client.put(CONFIG, json={"trend_days": 30}, headers=thief)
    assert (await client.get(CONFIG, headers=tenant.headers)).json()["trend_days"] == 180
