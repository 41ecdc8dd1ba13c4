"""The points ledger through the HTTP API: adjustments, redemptions and their cancellation,
purchases, lazy and batch expiry, entries, settings, isolation and a real race. After every
test the whole ledger is checked (``ledger_is_consistent``, tests/api/conftest.py)."""

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import text

from app.db import create_engine
from tests.factories.cards import issue, setup_tenant
from tests.factories.database import sql
from tests.factories.points import (
    adjust,
    age_lots,
    balance_of,
    key_with,
    new_member,
    put_settings,
    redeem,
)

ISOLATION_COVERS = {
    ("GET", "/v1/members/{member_id}/points"),
    ("GET", "/v1/members/{member_id}/points/entries"),
    ("POST", "/v1/points/adjustments"),
    ("POST", "/v1/points/redemptions"),
    ("GET", "/v1/points/redemptions/{redemption_id}"),
    ("POST", "/v1/points/redemptions/{redemption_id}/cancel"),
    ("POST", "/v1/points/purchases"),
    ("POST", "/v1/jobs/expire-points"),
    ("GET", "/v1/settings/points"),
    ("PUT", "/v1/settings/points"),
}


# --- helpers ---------------------------------------------------------------------------------


async def member_with_card(client, headers):
    member = await setup_tenant(client, headers)
    card = await issue(client, headers, member)
    return member, card["number"]


async def lots_of(database_url, member):
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT points_earned, points_left FROM points_lots WHERE member_id = :m "
                    "ORDER BY id"
                ),
                {"m": member},
            )
            return [tuple(r) for r in rows]
    finally:
        await engine.dispose()


# --- adjustments -----------------------------------------------------------------------------


async def test_adjustments_give_and_take_d_points(client, tenant, database_url):
    member = await new_member(client, tenant.headers)
    empty = await balance_of(client, tenant.headers, member)
    assert (empty["balance"], empty["available"], empty["next_expiry"]) == (0, 0, None)

    given = await adjust(client, tenant.headers, member, 100, reason="complaint #1")
    assert (given["points"], given["balance"], given["reason"]) == (100, 100, "complaint #1")
    taken = await adjust(client, tenant.headers, member, -30)
    assert taken["balance"] == 70
    points = await balance_of(client, tenant.headers, member)
    assert points["balance"] == points["available"] == 70
    assert points["by_category"] == {**dict.fromkeys("ABCDEFRX", 0), "D": 70}
    assert await lots_of(database_url, member) == [(100, 70)]

    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            logged = await conn.execute(
                text(
                    "SELECT field, new_value FROM audit_log WHERE subject = 'points_adjustment' "
                    "AND subject_id = :id ORDER BY field"
                ),
                {"id": given["id"]},
            )
            assert dict(logged.all()) == {
                "member_id": member,
                "points": "100",
                "reason": "complaint #1",
            }
    finally:
        await engine.dispose()


async def test_adjustment_validation_and_scope(client, tenant):
    member = await new_member(client, tenant.headers)
    cases = [
        ({"points": 0, "reason": "x"}, "invalid_points"),
        ({"points": 5, "reason": "   "}, "reason_required"),
        ({"points": 5}, "validation_error"),
        ({"points": 5, "reason": "x", "member_id": str(uuid.uuid4())}, "member_not_found"),
        ({"points": 5, "reason": "x", "member_id": "not-a-uuid"}, "member_not_found"),
        ({"points": 10**12, "reason": "x"}, "validation_error"),
    ]
    for body, code in cases:
        r = await client.post(
            "/v1/points/adjustments", json={"member_id": member, **body}, headers=tenant.headers
        )
        assert (r.status_code, r.json()["code"]) == (422, code), body
    pos = await key_with(client, tenant.headers, "pos")
    r = await client.post(
        "/v1/points/adjustments",
        json={"member_id": member, "points": 5, "reason": "x"},
        headers=pos,
    )
    assert r.status_code == 403
    assert (await balance_of(client, tenant.headers, member))["balance"] == 0


async def test_insufficient_points_states_the_shortfall(client, tenant):
    member = await new_member(client, tenant.headers)
    await adjust(client, tenant.headers, member, 40)
    refused = await redeem(client, tenant.headers, 409, member_id=member, points=60)
    assert refused["code"] == "insufficient_points"
    assert (refused["requested"], refused["available"], refused["shortfall"]) == (60, 40, 20)
    refused = await adjust(client, tenant.headers, member, -41, status=409)
    assert (refused["code"], refused["shortfall"]) == ("insufficient_points", 1)
    assert (await balance_of(client, tenant.headers, member))["balance"] == 40


# --- redemptions -----------------------------------------------------------------------------


async def test_cash_off_by_card_states_the_money(client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    await adjust(client, tenant.headers, member, 1000)
    pos = await key_with(client, tenant.headers, "pos")
    done = await redeem(
        client, pos, card_number=card, points=550, purpose="cash_off", reference="R-1"
    )
    assert (done["member_id"], done["card_number"], done["money"]) == (member, card, "5.50")
    assert (done["status"], done["purpose"], done["reference"]) == ("done", "cash_off", "R-1")
    got = await client.get(f"/v1/points/redemptions/{done['id']}", headers=pos)
    assert got.json() == done
    points = await balance_of(client, tenant.headers, member)
    assert (points["balance"], points["by_category"]["R"]) == (450, -550)

    await put_settings(client, tenant.headers, points_per_yuan=300)
    assert (await redeem(client, pos, card_number=card, points=150, purpose="cash_off"))[
        "money"
    ] == "0.50"
    refused = await redeem(client, pos, 422, card_number=card, points=100, purpose="cash_off")
    assert refused["code"] == "points_not_whole_fen"
    gift = await redeem(client, pos, member_id=member, points=100, purpose="rebate")
    assert gift["money"] is None and gift["card_number"] is None
    assert (await balance_of(client, tenant.headers, member))["balance"] == 200


async def test_redemption_needs_a_usable_card_or_a_member(client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    other = await new_member(client, tenant.headers, "韩梅梅")
    await adjust(client, tenant.headers, member, 100)
    cases = [
        ({}, 422, "card_or_member_required"),
        ({"card_number": "S01G0000000"}, 422, "card_not_found"),
        ({"card_number": card, "member_id": other}, 422, "card_member_mismatch"),
        ({"member_id": member, "purpose": "loan"}, 422, "validation_error"),
        ({"member_id": member, "points": 0}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        r = await client.post(
            "/v1/points/redemptions",
            json={"purpose": "gift", "points": 10, **body},
            headers=tenant.headers,
        )
        assert (r.status_code, r.json()["code"]) == (status, code), body
    both = await redeem(client, tenant.headers, card_number=card, member_id=member, points=10)
    assert both["card_number"] == card
    await client.post(f"/v1/cards/{card}/freeze", headers=tenant.headers)
    refused = await redeem(client, tenant.headers, 409, card_number=card, points=10)
    assert refused["code"] == "card_frozen"
    assert (await balance_of(client, tenant.headers, member))["balance"] == 90


async def test_cancel_gives_the_points_back_to_their_lots(client, tenant, database_url):
    member, card = await member_with_card(client, tenant.headers)
    await adjust(client, tenant.headers, member, 50)
    await adjust(client, tenant.headers, member, 50)
    done = await redeem(client, tenant.headers, card_number=card, points=80)
    assert await lots_of(database_url, member) == [(50, 0), (50, 20)]  # oldest first

    pos = await key_with(client, tenant.headers, "pos")
    r = await client.post(f"/v1/points/redemptions/{done['id']}/cancel", headers=pos)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["cancelled_at"]
    assert await lots_of(database_url, member) == [(50, 50), (50, 50)]
    points = await balance_of(client, tenant.headers, member)
    assert (points["balance"], points["by_category"]["R"]) == (100, 0)

    again = await client.post(f"/v1/points/redemptions/{done['id']}/cancel", headers=pos)
    assert (again.status_code, again.json()["code"]) == (409, "redemption_already_cancelled")
    missing = await client.post("/v1/points/redemptions/999999999/cancel", headers=pos)
    assert (missing.status_code, missing.json()["code"]) == (404, "redemption_not_found")
    app_key = await key_with(client, tenant.headers, "app")
    r = await client.post(f"/v1/points/redemptions/{done['id']}/cancel", headers=app_key)
    assert r.status_code == 403

    entries = (
        await client.get(f"/v1/members/{member}/points/entries", headers=tenant.headers)
    ).json()["items"]
    assert [(e["category"], e["points"], e["source_type"]) for e in entries[:4]] == [
        ("R", 30, "redemption_cancel"),
        ("R", 50, "redemption_cancel"),
        ("R", -30, "redemption"),
        ("R", -50, "redemption"),
    ]
    assert {e["source_id"] for e in entries[:4]} == {str(done["id"])}


async def test_idempotency_key_makes_a_redemption_happen_once(client, tenant):
    member = await new_member(client, tenant.headers)
    await adjust(client, tenant.headers, member, 100)
    headers = {**tenant.headers, "Idempotency-Key": "till-7-receipt-42"}
    body = {"member_id": member, "points": 30, "purpose": "gift"}
    first = await client.post("/v1/points/redemptions", json=body, headers=headers)
    second = await client.post("/v1/points/redemptions", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert (await balance_of(client, tenant.headers, member))["balance"] == 70


# --- purchases -------------------------------------------------------------------------------


async def test_purchase_adds_f_points_at_the_point_price(client, tenant):
    member, card = await member_with_card(client, tenant.headers)
    pos = await key_with(client, tenant.headers, "pos")
    r = await client.post(
        "/v1/points/purchases", json={"card_number": card, "points": 300}, headers=pos
    )
    assert r.status_code == 201, r.text
    bought = r.json()
    assert (bought["money"], bought["balance"], bought["card_number"]) == ("3.00", 300, card)

    await put_settings(client, tenant.headers, point_price="0.015")
    r = await client.post(
        "/v1/points/purchases", json={"member_id": member, "points": 3}, headers=pos
    )
    assert r.json()["money"] == "0.05"  # 0.045 half up
    points = await balance_of(client, tenant.headers, member)
    assert (points["balance"], points["by_category"]["F"]) == (303, 303)
    r = await client.post(
        "/v1/points/purchases", json={"member_id": member, "points": -3}, headers=pos
    )
    assert r.status_code == 422


# --- expiry ----------------------------------------------------------------------------------


async def test_lazy_expiry_with_a_rolling_policy(client, tenant, database_url):
    await put_settings(client, tenant.headers, expiry={"kind": "rolling_months", "n": 12})
    member = await new_member(client, tenant.headers)
    await adjust(client, tenant.headers, member, 100)
    await age_lots(database_url, member, 13)  # earned 13 months ago: expired a month ago
    added = await adjust(client, tenant.headers, member, 50)
    assert added["balance"] == 50  # the write expired the due lot first

    points = await balance_of(client, tenant.headers, member)
    assert (points["balance"], points["available"], points["pending"]) == (50, 50, 0)
    assert (points["by_category"]["D"], points["by_category"]["X"]) == (150, -100)
    expiry = points["next_expiry"]
    assert expiry["points"] == 50
    expected = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)
    assert abs(datetime.fromisoformat(expiry["expires_at"]) - expected).days <= 1

    entries = (
        await client.get(f"/v1/members/{member}/points/entries", headers=tenant.headers)
    ).json()["items"]
    assert [(e["category"], e["points"], e["source_type"]) for e in entries] == [
        ("D", 50, "adjustment"),
        ("X", -100, "expiry"),
        ("D", 100, "adjustment"),
    ]
    refused = await redeem(client, tenant.headers, 409, member_id=member, points=60)
    assert (refused["available"], refused["shortfall"]) == (50, 10)
    # Reading again posts nothing twice.
    assert (await balance_of(client, tenant.headers, member))["by_category"]["X"] == -100


async def test_cancelled_redemption_of_expired_points_expires_again(client, tenant, database_url):
    await put_settings(client, tenant.headers, expiry={"kind": "year_end", "n": 0})
    member = await new_member(client, tenant.headers)
    await adjust(client, tenant.headers, member, 100)
    done = await redeem(client, tenant.headers, member_id=member, points=70)
    await age_lots(database_url, member, 24)
    r = await client.post(f"/v1/points/redemptions/{done['id']}/cancel", headers=tenant.headers)
    assert r.status_code == 200, r.text
    points = await balance_of(client, tenant.headers, member)
    assert (points["balance"], points["by_category"]["R"], points["by_category"]["X"]) == (
        0,
        0,
        -100,
    )


async def test_expiry_job_expires_the_whole_tenant_once(client, tenant, other_tenant, database_url):
    for t in (tenant, other_tenant):
        await put_settings(client, t.headers, expiry={"kind": "rolling_months", "n": 6})
    members = [await new_member(client, tenant.headers, f"m{i}") for i in range(3)]
    for i, member in enumerate(members):
        await adjust(client, tenant.headers, member, 10 * (i + 1))
        await adjust(client, tenant.headers, member, 1)  # fresh: stays
    done = await redeem(client, tenant.headers, member_id=members[2], points=5)
    for member in members[:2]:
        await age_lots(database_url, member, 7)
    theirs = await new_member(client, other_tenant.headers)
    await adjust(client, other_tenant.headers, theirs, 40)
    await age_lots(database_url, theirs, 7)

    r = await client.post("/v1/jobs/expire-points", headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("lots", "members", "points")} == {
        "lots": 4,
        "members": 2,
        "points": 10 + 1 + 20 + 1,
    }
    again = (await client.post("/v1/jobs/expire-points", headers=tenant.headers)).json()
    assert (again["lots"], again["members"], again["points"]) == (0, 0, 0)
    balances = [(await balance_of(client, tenant.headers, m))["balance"] for m in members]
    assert balances == [0, 0, 31 - 5]
    r = await client.get(f"/v1/points/redemptions/{done['id']}", headers=tenant.headers)
    assert r.json()["status"] == "done"
    # The other tenant's due points wait for its own run (or its member's next read).
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            x = await conn.scalar(
                text("SELECT x FROM points_accounts WHERE member_id = :m"), {"m": theirs}
            )
    finally:
        await engine.dispose()
    assert x == 0
    pos = await key_with(client, tenant.headers, "pos")
    assert (await client.post("/v1/jobs/expire-points", headers=pos)).status_code == 403


# --- entries and settings --------------------------------------------------------------------


async def entries_in_pages_of_two(client, tenant, member: str) -> list[dict]:
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get(
            f"/v1/members/{member}/points/entries", params=params, headers=tenant.headers
        )
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) <= 2
        seen += r.json()["items"]
        if not (cursor := r.json()["next_cursor"]):
            return seen


async def test_entries_are_paged_newest_first(client, tenant):
    member = await new_member(client, tenant.headers)
    for n in range(1, 6):
        await adjust(client, tenant.headers, member, n)
    seen = await entries_in_pages_of_two(client, tenant, member)
    assert [e["points"] for e in seen] == [5, 4, 3, 2, 1]
    # Ids are opaque strings to clients; these happen to be numbers, later ones higher.
    assert [e["id"] for e in seen] == sorted((e["id"] for e in seen), key=int, reverse=True)
    entry = seen[0]
    assert set(entry) == {
        "id",
        "category",
        "points",
        "source_type",
        "source_id",
        "created_at",
        "available_at",
    }
    bad = await client.get(
        f"/v1/members/{member}/points/entries", params={"cursor": "xyz"}, headers=tenant.headers
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")
    missing = await client.get(f"/v1/members/{uuid.uuid4()}/points/entries", headers=tenant.headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "member_not_found")


async def test_entries_are_paged_by_time_when_ids_do_not_follow_it(client, tenant, database_url):
    """On Citus a member's entry ids come from the sequence of the node that holds the
    member: after the member's shard moves, newer entries can have smaller ids."""
    member = await new_member(client, tenant.headers)
    for n in range(1, 6):
        await adjust(client, tenant.headers, member, n)
    # The entry of 1 point becomes the newest, the one of 5 the oldest.
    await sql(
        database_url,
        "UPDATE points_entries SET created_at = '2026-01-01'::timestamptz "
        "+ make_interval(days => 10 - points::int) WHERE member_id = :m",
        m=uuid.UUID(member),
    )
    seen = await entries_in_pages_of_two(client, tenant, member)
    assert [e["points"] for e in seen] == [1, 2, 3, 4, 5]


async def test_settings_default_and_replace(client, tenant):
    defaults = {
        "expiry": {"kind": "none", "n": None},
        "pending_days": 0,
        "point_price": "0.0100",
        "points_per_yuan": 100,
        "birthday_multiplier": None,
    }
    r = await client.get("/v1/settings/points", headers=tenant.headers)
    assert (r.status_code, r.json()) == (200, defaults)
    wanted = {
        "expiry": {"kind": "year_end", "n": 1},
        "pending_days": 7,
        "point_price": "0.02",
        "points_per_yuan": 50,
        "birthday_multiplier": {"k": "2.5", "scope": "month"},
    }
    # Given back with the 4 decimals of a price per point and of k, as sent or not.
    given = {
        **wanted,
        "point_price": "0.0200",
        "birthday_multiplier": {"k": "2.5000", "scope": "month"},
    }
    assert await put_settings(client, tenant.headers, **wanted) == given
    assert (await client.get("/v1/settings/points", headers=tenant.headers)).json() == given
    assert await put_settings(client, tenant.headers) == defaults
    for body, code in [
        ({"expiry": {"kind": "rolling_months", "n": 0}}, "invalid_expiry"),
        ({"expiry": {"kind": "rolling_months"}}, "invalid_expiry"),
        ({"expiry": {"kind": "none", "n": 3}}, "invalid_expiry"),
        ({"point_price": "-1"}, "invalid_point_price"),
        ({"point_price": "0.00001"}, "invalid_point_price"),
        ({"points_per_yuan": 0}, "validation_error"),
        ({"expiry": {"kind": "forever"}}, "validation_error"),
        ({"birthday_multiplier": {"k": "0.5", "scope": "day"}}, "invalid_birthday_multiplier"),
        ({"birthday_multiplier": {"k": "2", "scope": "year"}}, "validation_error"),
    ]:
        assert (await put_settings(client, tenant.headers, 422, **body))["code"] == code, body
    pos = await key_with(client, tenant.headers, "pos")
    assert (await client.put("/v1/settings/points", json={}, headers=pos)).status_code == 403
    assert (await client.get("/v1/settings/points", headers=pos)).status_code == 200


# --- tenant isolation ------------------------------------------------------------------------


async def test_other_tenant_sees_and_moves_nothing(client, tenant, other_tenant, database_url):
    member, card = await member_with_card(client, tenant.headers)
    await put_settings(client, tenant.headers, points_per_yuan=50)
    await adjust(client, tenant.headers, member, 100)
    done = await redeem(client, tenant.headers, member_id=member, points=10)
    thief = other_tenant.headers

    for path in [f"/v1/members/{member}/points", f"/v1/members/{member}/points/entries"]:
        r = await client.get(path, headers=thief)
        assert (r.status_code, r.json()["code"]) == (404, "member_not_found"), path
    r = await client.get(f"/v1/points/redemptions/{done['id']}", headers=thief)
    assert r.status_code == 404
    r = await client.post(f"/v1/points/redemptions/{done['id']}/cancel", headers=thief)
    assert r.status_code == 404
    moves = [
        ("/v1/points/adjustments", {"member_id": member, "points": -10, "reason": "x"}),
        ("/v1/points/redemptions", {"member_id": member, "points": 10, "purpose": "gift"}),
        ("/v1/points/redemptions", {"card_number": card, "points": 10, "purpose": "gift"}),
        ("/v1/points/purchases", {"member_id": member, "points": 10}),
        ("/v1/points/purchases", {"card_number": card, "points": 10}),
    ]
    for path, body in moves:
        r = await client.post(path, json=body, headers=thief)
        assert r.status_code == 422, (path, body, r.text)
        assert r.json()["code"] in {"member_not_found", "card_not_found"}

    await sql(
        database_url,
        "UPDATE points_lots SET expires_at = now() - interval '1 day' WHERE member_id = :m",
        m=member,
    )
    ran = (await client.post("/v1/jobs/expire-points", headers=thief)).json()
    assert ran["lots"] == 0
    assert (await client.get("/v1/settings/points", headers=thief)).json()["points_per_yuan"] == 100
    await put_settings(client, thief, points_per_yuan=7)
    mine = (await client.get("/v1/settings/points", headers=tenant.headers)).json()
    assert mine["points_per_yuan"] == 50

    r = await client.get(f"/v1/points/redemptions/{done['id']}", headers=tenant.headers)
    assert r.json()["status"] == "done"
    points = await balance_of(client, tenant.headers, member)  # now expires lazily: its own
    assert (points["by_category"]["D"], points["by_category"]["R"]) == (100, -10)
    assert (points["balance"], points["by_category"]["X"]) == (0, -90)


# --- a real race -----------------------------------------------------------------------------


async def test_fifty_racing_redemptions_never_overdraw(live_server):
    admin = {"Authorization": f"Bearer {live_server.admin_key}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin, timeout=60) as c:
        member = (await c.post("/v1/members", json={"name": "Race"})).json()["id"]
        r = await c.post(
            "/v1/points/adjustments",
            json={"member_id": member, "points": 100, "reason": "race"},
        )
        assert r.status_code == 201, r.text
        body = {"member_id": member, "points": 60, "purpose": "gift"}
        results = await asyncio.gather(
            *[c.post("/v1/points/redemptions", json=body) for _ in range(50)]
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [201] + [409] * 49, statuses
        refusals = [r.json() for r in results if r.status_code == 409]
        assert {(p["code"], p["available"], p["shortfall"]) for p in refusals} == {
            ("insufficient_points", 40, 20)
        }
        points = (await c.get(f"/v1/members/{member}/points")).json()
    assert (points["balance"], points["by_category"]["R"]) == (40, -60)


async def test_fifty_identical_requests_with_one_key_make_one_effect(live_server):
    admin = {"Authorization": f"Bearer {live_server.admin_key}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin, timeout=60) as c:
        member = (await c.post("/v1/members", json={"name": "Retry"})).json()["id"]
        await c.post(
            "/v1/points/adjustments", json={"member_id": member, "points": 100, "reason": "x"}
        )
        body = {"member_id": member, "points": 30, "purpose": "gift", "reference": "till-9"}
        key = {"Idempotency-Key": f"retry-{member}"}
        results = await asyncio.gather(
            *[c.post("/v1/points/redemptions", json=body, headers=key) for _ in range(50)]
        )
        points = (await c.get(f"/v1/members/{member}/points")).json()
    assert [r.status_code for r in results] == [201] * 50
    assert len({r.text for r in results}) == 1  # one body, replayed identically
    replayed = [r.headers.get("Idempotent-Replayed") for r in results]
    assert replayed.count("true") == 49
    assert points["balance"] == 70  # redeemed once
