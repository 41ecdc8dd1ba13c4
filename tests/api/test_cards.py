"""Cards through the HTTP API: issue, lifecycle, replace, resolve, isolation."""

import asyncio
import uuid

import httpx
import pytest

from app.domain.cards import CardNumberFormat, track_mac
from tests.conftest import bearer
from tests.factories.cards import GOLD, issue, setup_tenant
from tests.factories.database import sql

ISOLATION_COVERS = {
    ("POST", "/v1/cards"),
    ("GET", "/v1/cards"),
    ("GET", "/v1/cards/{number}"),
    ("GET", "/v1/cards/{number}/events"),
    ("POST", "/v1/cards/{number}/freeze"),
    ("POST", "/v1/cards/{number}/unfreeze"),
    ("POST", "/v1/cards/{number}/report-lost"),
    ("POST", "/v1/cards/{number}/cancel"),
    ("POST", "/v1/cards/{number}/replace"),
    ("POST", "/v1/cards/resolve"),
}


async def test_issue_composes_the_number_and_shows_secrets_once(client, tenant, app):
    member = await setup_tenant(client, tenant.headers, verification="code")
    card = await issue(client, tenant.headers, member)
    fmt = CardNumberFormat(prefix="G", serial_length=6, check_digit_length=1, suffix="")
    assert card["number"] == fmt.compose("S01", 1) and card["number"].startswith("S01G000001")
    number, mac = card["track"].split("=")
    assert number == card["number"]
    assert mac == track_mac(app.state.vault.card_mac_key, number)
    assert len(card["verification_code"]) == 6 and card["verification_code"].isdigit()
    assert card["status"] == "active" and card["member_id"] == member
    assert card["expires_at"][:4] == str(int(card["issued_at"][:4]) + 2)

    again = (await client.get(f"/v1/cards/{card['number']}", headers=tenant.headers)).json()
    assert "verification_code" not in again and "track" not in again
    second = await issue(client, tenant.headers, member, store_code="S02")
    assert second["number"] == fmt.compose("S02", 2)
    listed = await client.get("/v1/cards", params={"member_id": member}, headers=tenant.headers)
    assert [c["number"] for c in listed.json()["items"]] == sorted(
        [card["number"], second["number"]]
    )


async def test_issue_validation(client, tenant):
    member = await setup_tenant(client, tenant.headers)
    cases = [
        ({"card_class": "NOPE"}, 422, "card_class_not_found"),
        ({"store_code": "S99"}, 422, "store_not_found"),
        ({"member_id": str(uuid.uuid4())}, 422, "member_not_found"),
        ({"member_id": "not-a-uuid"}, 422, "member_not_found"),
    ]
    for overrides, status, code in cases:
        body = {"card_class": "GOLD", "store_code": "S01", "member_id": member, **overrides}
        r = await client.post("/v1/cards", json=body, headers=tenant.headers)
        assert (r.status_code, r.json()["code"]) == (status, code)


async def test_exhausted_range_is_409(client, tenant):
    member = await setup_tenant(client, tenant.headers, serial_start=5, serial_end=6)
    await issue(client, tenant.headers, member)
    await issue(client, tenant.headers, member)
    r = await client.post(
        "/v1/cards",
        json={"card_class": "GOLD", "store_code": "S01", "member_id": member},
        headers=tenant.headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "serial_range_exhausted"


async def test_lifecycle_and_history(client, tenant):
    member = await setup_tenant(client, tenant.headers)
    number = (await issue(client, tenant.headers, member))["number"]

    async def act(action, status=200, **body):
        r = await client.post(
            f"/v1/cards/{number}/{action}", json=body or None, headers=tenant.headers
        )
        assert r.status_code == status, r.text
        return r.json()

    assert (await act("freeze", reason="customer asked"))["status"] == "frozen"
    conflict = await act("freeze", 409)
    assert conflict["code"] == "invalid_card_transition" and conflict["card_status"] == "frozen"
    assert (await act("unfreeze"))["status"] == "active"
    assert (await act("replace", 409))["code"] == "invalid_card_transition"  # not lost yet
    assert (await act("report-lost"))["status"] == "lost"
    assert (await act("unfreeze", 409))["code"] == "invalid_card_transition"

    new = await act("replace", 201, store_code="S02")
    assert new["member_id"] == member and new["store_code"] == "S02"
    assert new["number"].startswith("S02G000002") and new["track"].startswith(new["number"])
    old = (await client.get(f"/v1/cards/{number}", headers=tenant.headers)).json()
    assert old["status"] == "replaced" and old["replaced_by"] == new["number"]
    assert (await act("cancel", 409))["code"] == "invalid_card_transition"

    events = (await client.get(f"/v1/cards/{number}/events", headers=tenant.headers)).json()
    kinds = [(e["kind"], e["from_value"], e["to_value"]) for e in events["items"]]
    assert kinds == [
        ("status", "lost", "replaced"),
        ("status", "active", "lost"),
        ("status", "frozen", "active"),
        ("status", "active", "frozen"),
        ("issued", None, "GOLD"),
    ]
    assert events["items"][-2]["reason"] == "customer asked"
    assert all(e["actor"] == "admin" for e in events["items"])


async def test_expired_card_is_reported_and_can_only_be_cancelled(client, tenant, database_url):
    member = await setup_tenant(client, tenant.headers)
    number = (await issue(client, tenant.headers, member))["number"]
    await sql(
        database_url,
        "UPDATE cards SET expires_at = now() - interval '1 day' "
        "WHERE number = :number AND tenant_id = :tenant",
        number=number,
        tenant=tenant.id,
    )
    got = (await client.get(f"/v1/cards/{number}", headers=tenant.headers)).json()
    assert got["status"] == "expired"
    r = await client.post("/v1/cards/resolve", json={"card_number": number}, headers=tenant.headers)
    assert r.status_code == 409 and r.json()["code"] == "card_expired"
    r = await client.post(f"/v1/cards/{number}/freeze", headers=tenant.headers)
    assert r.status_code == 409
    r = await client.post(f"/v1/cards/{number}/cancel", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


async def test_resolve_by_number_and_track(client, tenant):
    member = await setup_tenant(client, tenant.headers)
    card = await issue(client, tenant.headers, member)
    pos = (
        await client.post(
            "/v1/api-keys", json={"name": "till", "scopes": ["pos"]}, headers=tenant.headers
        )
    ).json()["key"]
    for body in ({"card_number": card["number"]}, {"track": card["track"]}):
        r = await client.post("/v1/cards/resolve", json=body, headers=bearer(pos))
        assert r.status_code == 200, r.text
        resolved = r.json()
        assert resolved["card"]["number"] == card["number"]
        assert resolved["card_class"] == {"code": "GOLD", "name": "Gold", "usage": "member"}
        assert resolved["member"] == {"id": member, "name": "王芳", "phone": "138****5678"}
    admin = await client.post(
        "/v1/cards/resolve", json={"track": card["track"]}, headers=tenant.headers
    )
    assert admin.json()["member"]["phone"] == "13812345678"


async def test_resolve_refuses_typos_and_forged_tracks(client, tenant):
    member = await setup_tenant(client, tenant.headers)
    card = await issue(client, tenant.headers, member)
    number = card["number"]
    typo = number[:-2] + str((int(number[-2]) + 1) % 10) + number[-1]
    r = await client.post("/v1/cards/resolve", json={"card_number": typo}, headers=tenant.headers)
    assert r.status_code == 422 and r.json()["code"] == "invalid_card_number"
    assert r.json()["errors"][0]["field"] == "card_number"

    forged = number + "=" + ("0" * 8 if not card["track"].endswith("0" * 8) else "1" * 8)
    r = await client.post("/v1/cards/resolve", json={"track": forged}, headers=tenant.headers)
    assert r.status_code == 422 and r.json()["code"] == "invalid_track"
    r = await client.post("/v1/cards/resolve", json={}, headers=tenant.headers)
    assert r.status_code == 422


async def test_verification_code_and_lockout(client, tenant):
    member = await setup_tenant(client, tenant.headers, verification="code")
    card = await issue(client, tenant.headers, member)
    number, code = card["number"], card["verification_code"]
    wrong = "000000" if code != "000000" else "111111"

    async def resolve(verification_code):
        body = {"card_number": number, "verification_code": verification_code}
        return await client.post("/v1/cards/resolve", json=body, headers=tenant.headers)

    r = await client.post("/v1/cards/resolve", json={"card_number": number}, headers=tenant.headers)
    assert r.status_code == 403 and r.json()["code"] == "verification_failed"
    assert (await resolve(code)).status_code == 200  # a success clears the count
    for _ in range(4):
        assert (await resolve(wrong)).status_code == 403
    assert (await resolve(code)).status_code == 200
    for _ in range(5):
        assert (await resolve(wrong)).status_code == 403
    locked = await resolve(code)  # even the right code waits out the lock
    assert locked.status_code == 429 and locked.json()["code"] == "card_locked"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60  # until the 15-minute lock ends


@pytest.mark.parametrize("status_action", ["freeze", "report-lost", "cancel"])
async def test_unusable_cards_say_why(client, tenant, status_action):
    member = await setup_tenant(client, tenant.headers)
    number = (await issue(client, tenant.headers, member))["number"]
    await client.post(f"/v1/cards/{number}/{status_action}", headers=tenant.headers)
    r = await client.post("/v1/cards/resolve", json={"card_number": number}, headers=tenant.headers)
    expected = {"freeze": "frozen", "report-lost": "lost", "cancel": "cancelled"}[status_action]
    assert r.status_code == 409
    assert r.json()["code"] == f"card_{expected}" and r.json()["card_status"] == expected


async def test_other_tenant_sees_nothing(client, tenant, other_tenant):
    member = await setup_tenant(client, tenant.headers)
    card = await issue(client, tenant.headers, member)
    number = card["number"]
    await setup_tenant(client, other_tenant.headers)
    h = other_tenant.headers
    for path in [f"/v1/cards/{number}", f"/v1/cards/{number}/events"]:
        assert (await client.get(path, headers=h)).status_code == 404
    for action in ["freeze", "unfreeze", "report-lost", "cancel", "replace"]:
        assert (await client.post(f"/v1/cards/{number}/{action}", headers=h)).status_code == 404
    r = await client.post("/v1/cards/resolve", json={"track": card["track"]}, headers=h)
    assert r.status_code in {404, 422}
    listed = await client.get("/v1/cards", params={"member_id": member}, headers=h)
    assert listed.json()["items"] == []
    r = await client.post(
        "/v1/cards",
        json={"card_class": "GOLD", "store_code": "S01", "member_id": member},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["code"] == "member_not_found"
    mine = (await client.get(f"/v1/cards/{number}", headers=tenant.headers)).json()
    assert mine["status"] == "active"


async def test_fifty_parallel_issues_get_fifty_consecutive_serials(live_server):
    admin = {"Authorization": f"Bearer {live_server.admin_key}"}
    code = "P" + uuid.uuid4().hex[:6].upper()
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin, timeout=60) as c:
        await c.post("/v1/stores", json={"code": "S01", "name": "x"})
        # Its own prefix: the demo tenant's other classes must not share its numbers.
        klass = {**GOLD, "code": code, "prefix": code[1:5], "serial_start": 100}
        r = await c.post("/v1/card-classes", json=klass)
        assert r.status_code == 201, r.text
        member = (await c.post("/v1/members", json={"name": "Parallel"})).json()["id"]
        body = {"card_class": code, "store_code": "S01", "member_id": member}
        results = await asyncio.gather(*[c.post("/v1/cards", json=body) for _ in range(50)])
    assert [r.status_code for r in results] == [201] * 50
    fmt = CardNumberFormat(prefix=code[1:5], serial_length=6, check_digit_length=1, suffix="")
    numbers = {r.json()["number"] for r in results}
    assert numbers == {fmt.compose("S01", s) for s in range(100, 150)}
