"""RFM (docs/domain §5) through the HTTP API: settings, dated runs over imported history and sales
net of returns, the tenant's days, members per segment, a member's latest scores, refusals
and isolation."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories.imports import HEADER, post_import
from tests.factories.points import key_with
from tests.factories.problems import assert_problem
from tests.factories.sales import line, member_with_card, post_return, post_sale, sale_body

ISOLATION_COVERS = {
    ("GET", "/v1/analytics/rfm/config"),
    ("PUT", "/v1/analytics/rfm/config"),
    ("POST", "/v1/analytics/rfm/runs"),
    ("GET", "/v1/analytics/rfm/runs"),
    ("GET", "/v1/analytics/rfm/runs/{run_id}"),
    ("GET", "/v1/analytics/rfm/runs/{run_id}/members"),
    ("GET", "/v1/members/{member_id}/rfm"),
}

AS_OF = date(2026, 6, 30)
CONFIG = "/v1/analytics/rfm/config"
RUNS = "/v1/analytics/rfm/runs"


def day(days_before: int) -> str:
    return (AS_OF - timedelta(days=days_before)).isoformat()


# Hand-computed against the default airline table (as of 2026-06-30):
#   A: 24 purchases of 5200.00, last 10 days ago    → R5 F5 M5 important_value
#   B: 1 purchase of 3500.00, 100 days ago          → R3 F1 M4 important_develop
#   C: 6 purchases averaging 1000.005 → 1000.01, last 200 days ago → R2 F3 M3 important_keep
#   D: 2 purchases of 100 and 50, last 400 days ago → R1 F2 M1 general_win_back
#   E: only a purchase 800 days ago (outside the 730-day window) → not scored
HISTORY = (
    "".join(f"A,{day(10 + i)}T10:00:00+08:00,5200.00,A{i},S01\n" for i in range(24))
    + f"B,{day(100)},3500.00,B1,S01\n"
    + "".join(f"C,{day(200 + i)},{'1000.00' if i % 2 else '1000.01'},C{i},S01\n" for i in range(6))
    + f"D,{day(400)},100,D1,S01\nD,{day(500)},50,D2,S01\n"
    + f"E,{day(800)},10,E1,S01\n"
)
EXPECTED = {
    "A": (10, 24, "5200.00", 5, 5, 5, "important_value"),
    "B": (100, 1, "3500.00", 3, 1, 4, "important_develop"),
    "C": (200, 6, "1000.01", 2, 3, 3, "important_keep"),
    "D": (400, 2, "75.00", 1, 2, 1, "general_win_back"),
}


async def run(client, headers, as_of=AS_OF, status=201):
    r = await client.post(RUNS, json={"as_of": as_of.isoformat()}, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def members_of(client, headers, run_id, **params):
    out, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get(f"{RUNS}/{run_id}/members", params=query, headers=headers)
        assert r.status_code == 200, r.text
        out += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return out


def as_tuple(item):
    return (
        item["recency_days"],
        item["frequency"],
        item["monetary"],
        item["r"],
        item["f"],
        item["m"],
        item["segment"],
    )


# --- settings -----------------------------------------------------------------------------------


async def test_settings_default_replace_and_audit(client, tenant):
    r = await client.get(CONFIG, headers=tenant.headers)
    assert r.status_code == 200
    assert r.json() == {
        "method": "thresholds",
        "window_days": 730,
        "r_days": [30, 90, 180, 365],
        "f_counts": [2, 6, 11, 24],
        "m_amounts": ["500", "1000", "3000", "5000"],
        "high_score": 3,
        "updated_at": None,
    }
    body = {"method": "quantile", "window_days": 365, "m_amounts": ["100", "200.5", "300", "400"]}
    r = await client.put(CONFIG, json=body, headers=tenant.headers)
    assert r.status_code == 200, r.text
    got = (await client.get(CONFIG, headers=tenant.headers)).json()
    assert got["method"] == "quantile" and got["window_days"] == 365
    assert got["m_amounts"] == ["100", "200.5", "300", "400"]
    assert got["r_days"] == [30, 90, 180, 365] and got["updated_at"] is not None
    r = await client.put(CONFIG, json={}, headers=tenant.headers)  # back to the defaults
    assert r.json()["method"] == "thresholds" and r.json()["window_days"] == 730


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({"r_days": [30, 90, 90, 365]}, "invalid_rfm_config", ["r_days"]),
        ({"f_counts": [0, 6, 11, 24]}, "invalid_rfm_config", ["f_counts"]),
        ({"m_amounts": ["500", "100", "3000", "5000"]}, "invalid_rfm_config", ["m_amounts"]),
        ({"m_amounts": ["0.001", "1", "2", "3"]}, "invalid_rfm_config", ["m_amounts"]),
        ({"window_days": 0, "high_score": 9}, "invalid_rfm_config", ["window_days", "high_score"]),
        ({"r_days": [30, 90, 180]}, "validation_error", ["r_days"]),
        ({"m_amounts": [500, 1000, 3000, 5000]}, "validation_error", None),
        ({"method": "kmeans"}, "validation_error", ["method"]),
        ({"colour": "red"}, "validation_error", ["colour"]),
    ],
)
async def test_invalid_settings(client, tenant, body, code, fields):
    r = await client.put(CONFIG, json=body, headers=tenant.headers)
    problem = assert_problem(r, 422, code)
    if fields is not None:
        assert [e["field"] for e in problem["errors"]][: len(fields)] == fields
    assert (await client.get(CONFIG, headers=tenant.headers)).json()["updated_at"] is None


# --- runs ---------------------------------------------------------------------------------------


async def test_a_run_scores_the_airline_table(client, tenant):
    await post_import(client, tenant.headers, HEADER + HISTORY)
    done = await run(client, tenant.headers)
    assert done["as_of"] == "2026-06-30" and done["trigger"] == "api"
    assert done["members_scored"] == 4
    assert done["segments"] == {
        "important_value": 1,
        "important_develop": 1,
        "important_keep": 1,
        "important_win_back": 0,
        "general_value": 0,
        "general_develop": 0,
        "general_keep": 0,
        "general_win_back": 1,
    }
    assert done["config"]["r_days"] == [30, 90, 180, 365]
    scored = await members_of(client, tenant.headers, done["id"], limit=1)
    assert {m["member_ref"]: as_tuple(m) for m in scored} == EXPECTED
    assert [m["member_id"] for m in scored] == sorted(m["member_id"] for m in scored)

    keep = await members_of(client, tenant.headers, done["id"], segment="important_keep")
    assert [m["member_ref"] for m in keep] == ["C"]
    got = await client.get(f"{RUNS}/{done['id']}", headers=tenant.headers)
    assert got.json() == done
    listed = (await client.get(RUNS, headers=tenant.headers)).json()["items"]
    assert [x["id"] for x in listed] == [done["id"]]

    member = scored[0]
    mine = await client.get(f"/v1/members/{member['member_id']}/rfm", headers=tenant.headers)
    assert mine.status_code == 200
    assert mine.json() == {**member, "run_id": done["id"], "as_of": "2026-06-30"}


async def test_window_edges_and_the_tenant_day(client, tenant):
    body = HEADER + (
        f"IN,{day(729)},10,W1,S01\n"  # first day of the 730-day window
        f"OUT,{day(730)},10,W2,S01\n"  # the day before it
        "LATE,2026-06-30T23:30:00+08:00,10,W3,S01\n"  # still the 30th in Shanghai
        "NEXT,2026-06-30T16:30:00Z,10,W4,S01\n"  # 00:30 on July 1st in Shanghai
    )
    await post_import(client, tenant.headers, body)
    done = await run(client, tenant.headers)
    scored = {m["member_ref"]: m for m in await members_of(client, tenant.headers, done["id"])}
    assert set(scored) == {"IN", "LATE"}
    assert scored["IN"]["recency_days"] == 729 and scored["LATE"]["recency_days"] == 0


async def test_sales_count_net_of_returns(client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    lines = [line(1, amount="300.00"), line(2, amount="100.00")]
    await post_sale(client, tenant.headers, sale_body(card, receipt="R-1", lines=lines))
    await post_sale(client, tenant.headers, sale_body(card, receipt="R-2", lines=[line(1)]))
    await post_return(client, tenant.headers, "RT-1", [{"line_no": 1, "qty": "1"}], receipt="R-1")
    await post_return(client, tenant.headers, "RT-2", [{"line_no": 1, "qty": "1"}], receipt="R-2")
    done = await run(client, tenant.headers, as_of=datetime.now(ZoneInfo("Asia/Shanghai")).date())
    [scored] = await members_of(client, tenant.headers, done["id"])
    # 400 less the returned 300 = 100; R-2 was returned in full: no purchase
    assert scored["member_id"] == member
    assert (scored["frequency"], scored["monetary"]) == (1, "100.00")


async def test_a_sale_of_zero_is_a_purchase(client, tenant):
    """A sale whose lines come to 0 (a free gift) is a purchase; returned in full it is not."""
    member, card = await member_with_card(client, tenant.headers)
    free = sale_body(card, receipt="R-0", lines=[line(1, amount="0.00")], payments=[])
    await post_sale(client, tenant.headers, free)
    lines = [line(1, amount="60.00")]
    await post_sale(client, tenant.headers, sale_body(card, receipt="R-1", lines=lines))
    await post_sale(client, tenant.headers, sale_body(card, receipt="R-2", lines=lines))
    await post_return(client, tenant.headers, "RT-2", [{"line_no": 1, "qty": "1"}], receipt="R-2")
    done = await run(client, tenant.headers, as_of=datetime.now(ZoneInfo("Asia/Shanghai")).date())
    [scored] = await members_of(client, tenant.headers, done["id"])
    assert scored["member_id"] == member
    assert (scored["frequency"], scored["monetary"]) == (2, "30.00")


async def test_a_receipt_of_zero_is_a_purchase(client, tenant):
    """An imported receipt of 0.00 counts for frequency, and in the average amount."""
    body = HEADER + f"Z,{day(5)},0.00,Z1,S01\nY,{day(40)},100.00,Y1,S01\nY,{day(3)},0,Y2,S01\n"
    await post_import(client, tenant.headers, body)
    done = await run(client, tenant.headers)
    scored = {m["member_ref"]: m for m in await members_of(client, tenant.headers, done["id"])}
    assert (scored["Z"]["recency_days"], scored["Z"]["frequency"]) == (5, 1)
    assert scored["Z"]["monetary"] == "0.00"
    assert (scored["Y"]["recency_days"], scored["Y"]["frequency"]) == (3, 2)
    assert scored["Y"]["monetary"] == "50.00"


async def test_quantile_runs(client, tenant):
    await post_import(client, tenant.headers, HEADER + HISTORY)
    r = await client.put(CONFIG, json={"method": "quantile"}, headers=tenant.headers)
    assert r.status_code == 200
    done = await run(client, tenant.headers)
    scored = {m["member_ref"]: m for m in await members_of(client, tenant.headers, done["id"])}
    # 4 members: the best of each dimension gets 1 + ⌊5·3/4⌋ = 4, the worst 1
    assert (scored["A"]["r"], scored["A"]["f"], scored["A"]["m"]) == (4, 4, 4)
    assert (scored["D"]["r"], scored["D"]["m"]) == (1, 1)
    assert done["config"]["method"] == "quantile"


async def test_runs_are_kept_and_the_member_sees_the_latest(client, tenant):
    await post_import(client, tenant.headers, HEADER + HISTORY)
    first = await run(client, tenant.headers)
    second = await run(client, tenant.headers, as_of=AS_OF + timedelta(days=100))
    listed = (await client.get(RUNS, params={"limit": 1}, headers=tenant.headers)).json()
    assert [x["id"] for x in listed["items"]] == [second["id"]] and listed["next_cursor"]
    older = await client.get(RUNS, params={"cursor": listed["next_cursor"]}, headers=tenant.headers)
    assert [x["id"] for x in older.json()["items"]] == [first["id"]]
    # 100 days later B's only purchase is 200 days old: R2, F1, M4 → important_win_back
    scored = await members_of(client, tenant.headers, second["id"])
    b = next(m for m in scored if m["member_ref"] == "B")
    mine = (await client.get(f"/v1/members/{b['member_id']}/rfm", headers=tenant.headers)).json()
    assert (mine["run_id"], mine["recency_days"], mine["segment"]) == (
        second["id"],
        200,
        "important_win_back",
    )


async def test_member_rfm_refusals(client, tenant):
    r = await client.post("/v1/members", json={"name": "无"}, headers=tenant.headers)
    member = r.json()["id"]
    assert_problem(
        await client.get(f"/v1/members/{member}/rfm", headers=tenant.headers), 404, "rfm_not_run"
    )
    await post_import(client, tenant.headers, HEADER + HISTORY)
    done = await run(client, tenant.headers)
    body = assert_problem(
        await client.get(f"/v1/members/{member}/rfm", headers=tenant.headers), 404, "rfm_not_scored"
    )
    assert body["run_id"] == done["id"]
    assert_problem(
        await client.get("/v1/members/nope/rfm", headers=tenant.headers), 404, "member_not_found"
    )


async def test_run_refusals(client, tenant):
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date()
    body = assert_problem(
        await client.post(RUNS, json={"as_of": tomorrow.isoformat()}, headers=tenant.headers),
        422,
        "invalid_as_of",
    )
    assert body["errors"][0]["field"] == "as_of"
    assert_problem(
        await client.post(RUNS, json={"as_of": "1899-12-31"}, headers=tenant.headers),
        422,
        "validation_error",  # before the days the API takes (app.schemas.common.Day)
    )
    assert_problem(
        await client.post(RUNS, json={"as_of": "30/06/2026"}, headers=tenant.headers),
        422,
        "validation_error",
    )
    assert_problem(
        await client.post(RUNS, json={}, headers=tenant.headers), 422, "validation_error"
    )
    assert_problem(
        await client.get(f"{RUNS}/999999999", headers=tenant.headers), 404, "rfm_run_not_found"
    )
    assert_problem(
        await client.get(f"{RUNS}/999999999/members", headers=tenant.headers),
        404,
        "rfm_run_not_found",
    )
    assert_problem(
        await client.get(f"{RUNS}/abc", headers=tenant.headers), 404, "rfm_run_not_found"
    )
    done = await run(client, tenant.headers)
    assert done["members_scored"] == 0  # nothing bought: an empty snapshot
    for params, field in [({"segment": "vip"}, "segment"), ({"cursor": "!!"}, "cursor")]:
        r = await client.get(f"{RUNS}/{done['id']}/members", params=params, headers=tenant.headers)
        body = assert_problem(r, 422, r.json()["code"])
        assert body["errors"][0]["field"] == field


async def test_scopes(client, tenant):
    analyst = await key_with(client, tenant.headers, "analytics")
    assert (await client.get(CONFIG, headers=analyst)).status_code == 200
    assert (
        await client.post(RUNS, json={"as_of": "2026-01-01"}, headers=analyst)
    ).status_code == 201
    pos = await key_with(client, tenant.headers, "pos", "app", "partner")
    for method, path, body in [
        ("GET", CONFIG, None),
        ("PUT", CONFIG, {}),
        ("POST", RUNS, {"as_of": "2026-01-01"}),
        ("GET", RUNS, None),
    ]:
        r = await client.request(method, path, json=body, headers=pos)
        assert_problem(r, 403, "insufficient_scope")


async def test_other_tenant_sees_nothing(client, tenant, other_tenant):
    await post_import(client, tenant.headers, HEADER + HISTORY)
    done = await run(client, tenant.headers)
    [a] = [
        m for m in await members_of(client, tenant.headers, done["id"]) if m["member_ref"] == "A"
    ]
    thief = other_tenant.headers
    assert_problem(
        await client.get(f"{RUNS}/{done['id']}", headers=thief), 404, "rfm_run_not_found"
    )
    assert_problem(
        await client.get(f"{RUNS}/{done['id']}/members", headers=thief), 404, "rfm_run_not_found"
    )
    assert_problem(
        await client.get(f"/v1/members/{a['member_id']}/rfm", headers=thief),
        404,
        "member_not_found",
    )
    assert (await client.get(RUNS, headers=thief)).json()["items"] == []
    await client.put(CONFIG, json={"window_days": 10}, headers=thief)
    assert (await client.get(CONFIG, headers=tenant.headers)).json()["window_days"] == 730
    theirs = await run(client, thief)
    assert theirs["members_scored"] == 0  # the victim's purchases are not theirs
