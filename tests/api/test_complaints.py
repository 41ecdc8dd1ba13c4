"""Complaints (docs/domain §11) through the HTTP API: the eight steps in order (409 otherwise),
approval by admin keys only, compensation written once as a D adjustment when implemented
(retries and Idempotency-Key), listing, analytics, every refusal and tenant isolation. The
points ledger is checked after every test (``ledger_is_consistent``, tests/api/conftest.py)."""

import asyncio
from datetime import datetime

import httpx
import pytest

from tests.factories.cards import issue, setup_tenant
from tests.factories.database import sql
from tests.factories.points import balance_of, key_with
from tests.factories.sales import line, post_sale, sale_body

ISOLATION_COVERS = {
    ("POST", "/v1/complaints"),
    ("GET", "/v1/complaints"),
    ("GET", "/v1/complaints/{complaint_id}"),
    ("POST", "/v1/complaints/{complaint_id}/steps/nature"),
    ("POST", "/v1/complaints/{complaint_id}/steps/department"),
    ("POST", "/v1/complaints/{complaint_id}/steps/cause"),
    ("POST", "/v1/complaints/{complaint_id}/steps/solution"),
    ("POST", "/v1/complaints/{complaint_id}/steps/approval"),
    ("POST", "/v1/complaints/{complaint_id}/steps/implementation"),
    ("POST", "/v1/complaints/{complaint_id}/steps/evaluation"),
    ("GET", "/v1/analytics/complaints"),
}

STEPS = {
    "nature": {"justified": True, "severity": "medium"},
    "department": {"department": "Fresh food", "assignee": "Wang Li"},
    "cause": {"cause": "Cold chain broken during delivery."},
    "solution": {"solution": "Refund and apologise.", "compensation_points": 200},
    "approval": {"approved": True},
    "implementation": {"note": "Refunded at the service desk."},
    "evaluation": {"satisfaction": 5},
}


async def complain(client, headers, status=201, **body):
    payload = {
        "channel": "store",
        "category": "product_quality",
        "content": "The milk was sour.",
        **body,
    }
    r = await client.post("/v1/complaints", json=payload, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def step(client, headers, complaint_id, name, body=None, status=200, key=None):
    h = {**headers, **({"Idempotency-Key": key} if key else {})}
    r = await client.post(
        f"/v1/complaints/{complaint_id}/steps/{name}",
        json=STEPS[name] if body is None else body,
        headers=h,
    )
    assert r.status_code == status, r.text
    return r


async def through(client, headers, complaint_id, last, **bodies):
    """Take the complaint through the steps up to ``last`` (admin key: may approve)."""
    done = None
    for name in STEPS:
        done = await step(client, headers, complaint_id, name, bodies.get(name))
        if name == last:
            break
    return done.json()


async def setup(client, headers):
    """Stores S01, S02 and a member with a card."""
    member = await setup_tenant(client, headers)
    return member


# --- the workflow ----------------------------------------------------------------------------


async def test_the_eight_steps_with_compensation(client, tenant):
    member = await setup(client, tenant.headers)
    pos = await key_with(client, tenant.headers, "pos")
    recorded = await complain(client, pos, member_id=member, store_code="S01")
    cid = recorded["id"]
    assert (recorded["status"], recorded["next_step"], recorded["member_id"]) == (
        "recorded",
        "nature",
        member,
    )
    assert [s["step"] for s in recorded["steps"]] == ["record"]
    assert recorded["steps"][0]["actor"] == "k"  # the pos key's name

    for name, status in [
        ("nature", "nature_judged"),
        ("department", "department_assigned"),
        ("cause", "cause_analysed"),
        ("solution", "solution_proposed"),
    ]:
        got = (await step(client, pos, cid, name)).json()
        assert got["status"] == status
    assert (got["compensation_points"], got["next_step"]) == (200, "approval")
    refused = (await step(client, pos, cid, "approval", status=403)).json()
    assert refused["code"] == "insufficient_scope"
    approved = (await step(client, tenant.headers, cid, "approval")).json()
    assert (approved["status"], approved["next_step"]) == ("approved", "implementation")
    assert (await balance_of(client, tenant.headers, member))["balance"] == 0

    done = (await step(client, pos, cid, "implementation")).json()
    assert done["status"] == "implemented" and done["adjustment_id"]
    points = await balance_of(client, tenant.headers, member)
    assert (points["balance"], points["by_category"]["D"]) == (200, 200)
    entries = await client.get(f"/v1/members/{member}/points/entries", headers=tenant.headers)
    assert [(e["category"], e["points"]) for e in entries.json()["items"]] == [("D", 200)]
    implementation = done["steps"][-1]
    assert implementation["data"]["adjustment_id"] == done["adjustment_id"]
    assert (implementation["data"]["points"], implementation["data"]["balance"]) == (200, 200)

    closed = (await step(client, pos, cid, "evaluation")).json()
    assert (closed["status"], closed["next_step"], closed["satisfaction"]) == ("closed", None, 5)
    assert closed["closed_at"] is not None
    got = (await client.get(f"/v1/complaints/{cid}", headers=pos)).json()
    assert [s["step"] for s in got["steps"]] == ["record", *STEPS]
    assert [s["actor"] for s in got["steps"]].count("k") == 7  # all but the approval
    assert got["steps"][1]["data"] == {"justified": True, "severity": "medium"}
    assert (got["justified"], got["severity"], got["department"]) == (True, "medium", "Fresh food")
    assert got["cause"] == "Cold chain broken during delivery."
    # Nothing follows a closed complaint.
    late = (await step(client, pos, cid, "evaluation", status=409)).json()
    assert (late["code"], late["complaint_status"], late["next_step"]) == (
        "step_out_of_order",
        "closed",
        None,
    )


async def test_steps_out_of_order_are_409(client, tenant):
    cid = (await complain(client, tenant.headers))["id"]
    for name in ("department", "solution", "approval", "implementation", "evaluation"):
        got = (await step(client, tenant.headers, cid, name, status=409)).json()
        assert (got["code"], got["complaint_status"], got["next_step"]) == (
            "step_out_of_order",
            "recorded",
            "nature",
        )
    await step(client, tenant.headers, cid, "nature")
    twice = (await step(client, tenant.headers, cid, "nature", status=409)).json()
    assert (twice["complaint_status"], twice["next_step"]) == ("nature_judged", "department")
    got = (await client.get(f"/v1/complaints/{cid}", headers=tenant.headers)).json()
    assert [s["step"] for s in got["steps"]] == ["record", "nature"]


async def test_compensation_is_written_once_even_if_retried(client, tenant):
    member = await setup(client, tenant.headers)
    pos = await key_with(client, tenant.headers, "pos")
    cid = (await complain(client, pos, member_id=member))["id"]
    await through(client, tenant.headers, cid, "approval")
    first = await step(client, pos, cid, "implementation", key="impl-1")
    replay = await step(client, pos, cid, "implementation", key="impl-1")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    retry = (await step(client, pos, cid, "implementation", status=409)).json()
    assert (retry["code"], retry["complaint_status"]) == ("step_out_of_order", "implemented")
    other_key = (await step(client, pos, cid, "implementation", status=409, key="impl-2")).json()
    assert other_key["code"] == "step_out_of_order"
    assert (await balance_of(client, tenant.headers, member))["balance"] == 200


async def test_rejected_solution_is_proposed_again(client, tenant):
    member = await setup(client, tenant.headers)
    cid = (await complain(client, tenant.headers, member_id=member))["id"]
    await through(client, tenant.headers, cid, "solution")
    rejected = (
        await step(
            client, tenant.headers, cid, "approval", {"approved": False, "note": "Too generous."}
        )
    ).json()
    assert (rejected["status"], rejected["next_step"]) == ("cause_analysed", "solution")
    assert rejected["steps"][-1]["data"] == {"approved": False, "note": "Too generous."}
    await step(client, tenant.headers, cid, "implementation", status=409)
    await step(
        client,
        tenant.headers,
        cid,
        "solution",
        {"solution": "Apologise.", "compensation_points": 50},
    )
    await step(client, tenant.headers, cid, "approval")
    done = (await step(client, tenant.headers, cid, "implementation", {})).json()
    assert done["compensation_points"] == 50
    assert (await balance_of(client, tenant.headers, member))["balance"] == 50


async def test_no_compensation_writes_no_adjustment(client, tenant):
    member = await setup(client, tenant.headers)
    cid = (await complain(client, tenant.headers, member_id=member))["id"]
    done = await through(
        client, tenant.headers, cid, "evaluation", solution={"solution": "Apologise."}
    )
    assert (done["status"], done["compensation_points"], done["adjustment_id"]) == (
        "closed",
        0,
        None,
    )
    assert (await balance_of(client, tenant.headers, member))["balance"] == 0


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"member_id": "nobody"}, "member_not_found", "member_id"),
        ({"store_code": "S99"}, "store_not_found", "store_code"),
        ({"channel": "pigeon"}, "validation_error", "channel"),
        ({"category": "bad category"}, "validation_error", "category"),
        ({"category": ""}, "validation_error", "category"),
        ({"content": "   "}, "validation_error", "content"),
        ({"content": "x" * 4001}, "validation_error", "content"),
        ({"priority": "high"}, "validation_error", "priority"),
    ],
)
async def test_record_refusals(client, tenant, body, code, field):
    await setup(client, tenant.headers)
    got = await complain(client, tenant.headers, 422, **body)
    assert got["code"] == code
    assert field in [e["field"] for e in got["errors"]]


@pytest.mark.parametrize(
    ("name", "body", "code", "field"),
    [
        ("nature", {"justified": True, "severity": "extreme"}, "validation_error", "severity"),
        ("nature", {"severity": "low"}, "validation_error", "justified"),
        ("department", {"department": "  "}, "validation_error", "department"),
        ("cause", {}, "validation_error", "cause"),
        (
            "solution",
            {"solution": "x", "compensation_points": -5},
            "invalid_points",
            "compensation_points",
        ),
        (
            "solution",
            {"solution": "x", "compensation_points": 2.5},
            "validation_error",
            "compensation_points",
        ),
        (
            "solution",
            {"solution": "x", "compensation_points": 10**7},
            "invalid_points",
            "compensation_points",
        ),
        ("approval", {}, "validation_error", "approved"),
        ("evaluation", {"satisfaction": 6}, "invalid_satisfaction", "satisfaction"),
        ("evaluation", {"satisfaction": 0}, "invalid_satisfaction", "satisfaction"),
        ("evaluation", {"satisfaction": 4.5}, "validation_error", "satisfaction"),
        ("implementation", {"points": 3}, "validation_error", "points"),
    ],
)
async def test_step_refusals(client, tenant, name, body, code, field):
    member = await setup(client, tenant.headers)
    cid = (await complain(client, tenant.headers, member_id=member))["id"]
    previous = list(STEPS)[list(STEPS).index(name) - 1] if name != "nature" else None
    if previous:
        await through(client, tenant.headers, cid, previous)
    got = (await step(client, tenant.headers, cid, name, body, status=422)).json()
    assert got["code"] == code
    assert field in [e["field"] for e in got["errors"]]
    after = (await client.get(f"/v1/complaints/{cid}", headers=tenant.headers)).json()
    assert after["next_step"] == name  # nothing moved


async def test_compensation_needs_a_member(client, tenant):
    cid = (await complain(client, tenant.headers))["id"]
    await through(client, tenant.headers, cid, "cause")
    got = (await step(client, tenant.headers, cid, "solution", status=422)).json()
    assert (got["code"], got["errors"][0]["field"]) == ("member_required", "compensation_points")
    ok = (await step(client, tenant.headers, cid, "solution", {"solution": "Apologise."})).json()
    assert ok["status"] == "solution_proposed"


async def test_not_found_and_bad_ids(client, tenant):
    assert (await client.get("/v1/complaints/999999999", headers=tenant.headers)).json()[
        "code"
    ] == "complaint_not_found"
    r = await step(client, tenant.headers, 999999999, "nature", status=404)
    assert r.json()["code"] == "complaint_not_found"
    r = await client.get("/v1/complaints/abc", headers=tenant.headers)
    assert (r.status_code, r.json()["code"]) == (404, "complaint_not_found")
    assert r.json()["detail"] == "No complaint abc."
    r = await client.post("/v1/complaints/1/steps/escalation", json={}, headers=tenant.headers)
    assert r.status_code in (404, 405)


async def test_scopes(client, tenant):
    analytics = await key_with(client, tenant.headers, "analytics")
    app_key = await key_with(client, tenant.headers, "app")
    partner = await key_with(client, tenant.headers, "partner")
    cid = (await complain(client, app_key, channel="app"))["id"]
    assert (await complain(client, analytics, 403))["code"] == "insufficient_scope"
    await step(client, app_key, cid, "nature", status=403)
    assert (await client.get("/v1/complaints", headers=analytics)).status_code == 200
    assert (await client.get("/v1/complaints", headers=partner)).status_code == 403
    r = await client.get("/v1/analytics/complaints", headers=app_key)
    assert r.status_code == 403


# --- lists -----------------------------------------------------------------------------------


async def test_list_filters_and_pages(client, tenant):
    member = await setup(client, tenant.headers)
    a = (await complain(client, tenant.headers, store_code="S01", member_id=member))["id"]
    b = (await complain(client, tenant.headers, store_code="S02"))["id"]
    c = (await complain(client, tenant.headers, store_code="S01"))["id"]
    await step(client, tenant.headers, a, "nature")

    async def ids(**params):
        r = await client.get("/v1/complaints", params=params, headers=tenant.headers)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["items"]], r.json()["next_cursor"]

    assert (await ids())[0] == [c, b, a]
    assert (await ids(status="recorded"))[0] == [c, b]
    assert (await ids(status="nature_judged"))[0] == [a]
    assert (await ids(store_code="S01"))[0] == [c, a]
    assert (await ids(member_id=member))[0] == [a]
    assert (await ids(member_id="not-a-uuid"))[0] == []
    first, cursor = await ids(limit=2)
    assert first == [c, b] and cursor
    assert (await ids(limit=2, cursor=cursor)) == ([a], None)
    r = await client.get("/v1/complaints", params={"status": "lost"}, headers=tenant.headers)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    r = await client.get("/v1/complaints", params={"cursor": "garbage"}, headers=tenant.headers)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_cursor")


# --- analytics -------------------------------------------------------------------------------


async def test_analytics(client, tenant, database_url):
    h = tenant.headers
    m1 = await setup(client, h)
    m2 = (await client.post("/v1/members", json={"name": "韩梅梅"}, headers=h)).json()["id"]
    c1 = (await issue(client, h, m1))["number"]
    c2 = (await issue(client, h, m2))["number"]
    day = "2026-11-10T10:00:00+08:00"
    await post_sale(client, h, sale_body(c1, "R-1", occurred_at=day))
    await post_sale(client, h, sale_body(c1, "R-2", lines=[line(amount="10.00")], occurred_at=day))
    await post_sale(client, h, sale_body(c2, "R-3", occurred_at=day))
    await post_sale(client, h, sale_body(c2, "R-4", occurred_at="2026-11-09T10:00:00+08:00"))

    a = (await complain(client, h, member_id=m1, store_code="S01"))["id"]
    b = (await complain(client, h, member_id=m2, store_code="S01", category="service_attitude"))[
        "id"
    ]
    c = (await complain(client, h, store_code="S02"))["id"]
    d = (await complain(client, h, member_id=m1, store_code="S01"))["id"]
    await through(client, h, a, "evaluation")  # satisfaction 5
    await through(client, h, b, "evaluation", evaluation={"satisfaction": 2})
    # Back-date them: a closed in 10 hours, b in 30; c recorded that day; d two days later.
    for cid, recorded, closed in [
        (a, "2026-11-10T09:00:00+08:00", "2026-11-10T19:00:00+08:00"),
        (b, "2026-11-10T08:00:00+08:00", "2026-11-11T14:00:00+08:00"),
        (c, "2026-11-10T12:00:00+08:00", None),
        (d, "2026-11-12T12:00:00+08:00", None),
    ]:
        await sql(
            database_url,
            "UPDATE complaints SET recorded_at = CAST(:r AS timestamptz), "
            "closed_at = CAST(:c AS timestamptz) WHERE id = :id",
            r=datetime.fromisoformat(recorded),
            c=datetime.fromisoformat(closed) if closed else None,
            id=int(cid),
        )

    async def figures(status=200, **params):
        r = await client.get("/v1/analytics/complaints", params=params, headers=h)
        assert r.status_code == status, r.text
        return r.json()

    got = await figures(**{"from": "2026-11-10", "to": "2026-11-10"})
    assert got == {
        "from": "2026-11-10",
        "to": "2026-11-10",
        "store_code": None,
        "total": 3,
        "by_status": {
            "recorded": 1,
            "nature_judged": 0,
            "department_assigned": 0,
            "cause_analysed": 0,
            "solution_proposed": 0,
            "approved": 0,
            "implemented": 0,
            "closed": 2,
        },
        "by_category": {"product_quality": 2, "service_attitude": 1},
        "closed": 2,
        "median_hours_to_close": "20.00",
        "members_served": 2,
        "complaints_per_1000_members": "1500.00",
        "evaluated": 2,
        "satisfied": 1,
        "satisfied_share": "0.5000",
    }
    s02 = await figures(**{"from": "2026-11-10", "to": "2026-11-10", "store_code": "S02"})
    assert (s02["total"], s02["members_served"], s02["complaints_per_1000_members"]) == (1, 0, None)
    assert (s02["median_hours_to_close"], s02["satisfied_share"]) == (None, None)
    everything = await figures()
    assert (everything["total"], everything["members_served"]) == (4, 2)
    bad = await figures(422, **{"from": "2026-11-11", "to": "2026-11-10"})
    assert bad["code"] == "invalid_period"


# --- isolation -------------------------------------------------------------------------------


async def test_other_tenant_sees_and_moves_nothing(client, tenant, other_tenant):
    member = await setup(client, tenant.headers)
    cid = (await complain(client, tenant.headers, member_id=member, store_code="S01"))["id"]
    await through(client, tenant.headers, cid, "approval")
    thief = other_tenant.headers
    r = await client.get(f"/v1/complaints/{cid}", headers=thief)
    assert (r.status_code, r.json()["code"]) == (404, "complaint_not_found")
    for name in STEPS:
        got = (await step(client, thief, cid, name, status=404)).json()
        assert got["code"] == "complaint_not_found"
    assert (await client.get("/v1/complaints", headers=thief)).json()["items"] == []
    theirs = (await client.get("/v1/analytics/complaints", headers=thief)).json()
    assert theirs["total"] == 0
    got = await complain(client, thief, 422, member_id=member)
    assert got["code"] == "member_not_found"
    got = await complain(client, thief, 422, store_code="S01")
    assert got["code"] == "store_not_found"
    mine = (await client.get(f"/v1/complaints/{cid}", headers=tenant.headers)).json()
    assert (mine["status"], mine["adjustment_id"]) == ("approved", None)
    assert (await balance_of(client, tenant.headers, member))["balance"] == 0


# --- a real race -------------------------------------------------------------------------------


async def test_racing_implementations_write_one_adjustment(live_server):
    admin = {"Authorization": f"Bearer {live_server.admin_key}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin, timeout=60) as c:
        member = (await c.post("/v1/members", json={"name": "Race"})).json()["id"]
        r = await c.post(
            "/v1/complaints",
            json={"member_id": member, "channel": "phone", "category": "race", "content": "x"},
        )
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        for name in ("nature", "department", "cause", "solution", "approval"):
            r = await c.post(f"/v1/complaints/{cid}/steps/{name}", json=STEPS[name])
            assert r.status_code == 200, r.text
        results = await asyncio.gather(
            *[c.post(f"/v1/complaints/{cid}/steps/implementation", json={}) for _ in range(12)]
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200] + [409] * 11, statuses
        points = (await c.get(f"/v1/members/{member}/points")).json()
        assert (points["balance"], points["by_category"]["D"]) == (200, 200)
