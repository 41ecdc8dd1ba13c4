"""Vouchers through the API: issue (idempotent, per-member limit), read by a code typed any
way, a member's list, void, the expiry job; forged, mistyped and other tenants' codes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.domain.voucher_codes import new_code
from app.scheduler import default_jobs
from tests.factories.cards import issue as issue_card
from tests.factories.cards import setup_tenant
from tests.factories.database import sql
from tests.factories.members import key_for
from tests.factories.scheduler import scheduler_on
from tests.factories.vouchers import (
    backdate,
    create_template,
    issue_voucher,
    mark_redeemed,
    new_member,
)

ISOLATION_COVERS = {
    ("POST", "/v1/vouchers"),
    ("GET", "/v1/vouchers"),
    ("GET", "/v1/vouchers/{code}"),
    ("POST", "/v1/vouchers/{code}/void"),
    ("GET", "/v1/vouchers/{code}/changes"),
    ("POST", "/v1/jobs/expire-vouchers"),
}


def typed(code: str) -> str:
    """As a cashier might type it: lower case, in groups of four."""
    lower = code.lower()
    return "-".join(lower[i : i + 4] for i in range(0, len(lower), 4))


async def test_issue_and_read_back_typed_any_way(client, tenant):
    await create_template(client, tenant, "WELCOME", bearer=True, valid_days=30)
    member = await new_member(client, tenant)
    issued = await issue_voucher(
        client, tenant, "WELCOME", member, reason="welcome gift", reference="W-1"
    )
    code = issued["code"]
    assert len(code) == 14
    assert issued["status"] == "issued" and issued["member_id"] == member
    assert issued["template"] == "WELCOME" and issued["bearer"] is True
    assert issued["source"] == "manual" and issued["reference"] == "W-1"
    assert issued["redemption"] is None and issued["voided_at"] is None
    assert issued["valid_from"] < issued["valid_to"]

    for spelling in (code, typed(code), " ".join(code)):
        r = await client.get(f"/v1/vouchers/{spelling}", headers=tenant.headers)
        assert r.status_code == 200, spelling
        assert r.json() == issued


async def test_issue_by_card_number(client, tenant):
    member = await setup_tenant(client, tenant.headers)
    card = await issue_card(client, tenant.headers, member)
    await create_template(client, tenant, "T")
    r = await client.post(
        "/v1/vouchers",
        json={"template": "T", "card_number": card["number"]},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["member_id"] == member
    listed = await client.get(f"/v1/vouchers?card_number={card['number']}", headers=tenant.headers)
    assert [v["code"] for v in listed.json()["items"]] == [r.json()["code"]]


async def test_issue_refusals_are_clean(client, tenant):
    await create_template(client, tenant, "T")
    member = await new_member(client, tenant)
    cases = [
        ({"template": "NOPE", "member_id": member}, 422, "voucher_template_not_found", "template"),
        ({"template": "T", "member_id": "no-such"}, 422, "member_not_found", "member_id"),
        (
            {"template": "T", "member_id": "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10"},
            422,
            "member_not_found",
            "member_id",
        ),
        ({"template": "T", "card_number": "S01999"}, 422, "card_not_found", "card_number"),
        ({"template": "T"}, 422, "card_or_member_required", "card_number"),
    ]
    for body, status, code, field in cases:
        r = await client.post("/v1/vouchers", json=body, headers=tenant.headers)
        assert r.status_code == status, (body, r.text)
        assert r.json()["code"] == code
        assert r.json()["errors"][0]["field"] == field


async def test_an_erased_member_gets_no_voucher_but_keeps_its_list(client, tenant):
    await create_template(client, tenant, "T")
    member = await new_member(client, tenant)
    kept = await issue_voucher(client, tenant, "T", member)
    assert (await client.delete(f"/v1/members/{member}", headers=tenant.headers)).status_code == 204
    r = await client.post(
        "/v1/vouchers", json={"template": "T", "member_id": member}, headers=tenant.headers
    )
    assert r.status_code == 409 and r.json()["code"] == "member_erased"
    listed = await client.get(f"/v1/vouchers?member_id={member}", headers=tenant.headers)
    assert [v["code"] for v in listed.json()["items"]] == [kept["code"]]


async def test_per_member_limit(client, tenant):
    await create_template(client, tenant, "ONCE", per_member_limit=2)
    member = await new_member(client, tenant)
    other = await new_member(client, tenant, "李雷")
    first = await issue_voucher(client, tenant, "ONCE", member)
    await issue_voucher(client, tenant, "ONCE", member)
    r = await client.post(
        "/v1/vouchers", json={"template": "ONCE", "member_id": member}, headers=tenant.headers
    )
    assert r.status_code == 409 and r.json()["code"] == "voucher_limit_reached"
    await issue_voucher(client, tenant, "ONCE", other)  # per member
    # A voided voucher no longer counts.
    r = await client.post(
        f"/v1/vouchers/{first['code']}/void", json={"reason": "wrong"}, headers=tenant.headers
    )
    assert r.status_code == 200
    await issue_voucher(client, tenant, "ONCE", member)


async def test_fixed_window_is_the_vouchers_and_an_ended_one_issues_nothing(client, tenant):
    await create_template(
        client,
        tenant,
        "XMAS",
        valid_days=None,
        valid_from="2026-12-20T00:00:00Z",
        valid_to="2099-12-27T00:00:00Z",
    )
    member = await new_member(client, tenant)
    issued = await issue_voucher(client, tenant, "XMAS", member)
    assert (issued["valid_from"], issued["valid_to"]) == (
        "2026-12-20T00:00:00Z",
        "2099-12-27T00:00:00Z",
    )
    await create_template(
        client,
        tenant,
        "PAST",
        valid_days=None,
        valid_from="2020-12-20T00:00:00Z",
        valid_to="2020-12-27T00:00:00Z",
    )
    r = await client.post(
        "/v1/vouchers", json={"template": "PAST", "member_id": member}, headers=tenant.headers
    )
    assert r.status_code == 409 and r.json()["code"] == "voucher_template_ended"


async def test_idempotency_key_replays_the_first_voucher(client, tenant):
    await create_template(client, tenant, "T")
    member = await new_member(client, tenant)
    headers = {**tenant.headers, "Idempotency-Key": "issue-1"}
    body = {"template": "T", "member_id": member, "reason": "complaint"}
    first = await client.post("/v1/vouchers", json=body, headers=headers)
    again = await client.post("/v1/vouchers", json=body, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    listed = await client.get(f"/v1/vouchers?member_id={member}", headers=tenant.headers)
    assert len(listed.json()["items"]) == 1
    other = await client.post("/v1/vouchers", json={**body, "reason": "x"}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


async def test_list_is_newest_first_paged_and_filtered(client, tenant, database_url):
    await create_template(client, tenant, "T")
    member = await new_member(client, tenant)
    codes = [(await issue_voucher(client, tenant, "T", member))["code"] for _ in range(5)]
    for i, code in enumerate(codes):  # distinct issue times, oldest first
        await backdate(database_url, tenant.id, code, 0 if i == 4 else 5 - i)
    await backdate(database_url, tenant.id, codes[0], 40)  # past its 30 days: expired
    await client.post(f"/v1/vouchers/{codes[1]}/void", json={"reason": "x"}, headers=tenant.headers)

    seen, cursor = [], None
    while True:
        url = f"/v1/vouchers?member_id={member}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url, headers=tenant.headers)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [v["code"] for v in seen] == codes[::-1]
    assert {v["code"]: v["status"] for v in seen} == {
        codes[0]: "expired",
        codes[1]: "voided",
        codes[2]: "issued",
        codes[3]: "issued",
        codes[4]: "issued",
    }
    for status, expected in (("expired", [codes[0]]), ("voided", [codes[1]])):
        r = await client.get(
            f"/v1/vouchers?member_id={member}&status={status}", headers=tenant.headers
        )
        assert [v["code"] for v in r.json()["items"]] == expected
    r = await client.get(f"/v1/vouchers?member_id={member}&status=issued", headers=tenant.headers)
    assert [v["code"] for v in r.json()["items"]] == codes[4:1:-1]

    r = await client.get("/v1/vouchers", headers=tenant.headers)
    assert r.status_code == 422 and r.json()["code"] == "card_or_member_required"
    r = await client.get("/v1/vouchers?member_id=nobody", headers=tenant.headers)
    assert r.status_code == 404 and r.json()["code"] == "member_not_found"
    r = await client.get(f"/v1/vouchers?member_id={member}&cursor=bogus", headers=tenant.headers)
    assert r.status_code == 422 and r.json()["code"] == "invalid_cursor"


async def test_the_log_says_who_issued_and_voided_and_why(client, tenant, other_tenant):
    await create_template(client, tenant, "T")
    member = await new_member(client, tenant)
    code = (await issue_voucher(client, tenant, "T", member, reason="complaint #8812"))["code"]
    await client.post(
        f"/v1/vouchers/{code}/void", json={"reason": "duplicate"}, headers=tenant.headers
    )
    r = await client.get(f"/v1/vouchers/{typed(code)}/changes", headers=tenant.headers)
    assert r.status_code == 200, r.text
    log = [(e["action"], e["field"], e["old"], e["new"]) for e in r.json()["items"]]
    assert sorted(log) == sorted(
        [
            ("issue", "status", None, "issued"),
            ("issue", "reason", None, "complaint #8812"),
            ("void", "status", "issued", "voided"),
            ("void", "reason", None, "duplicate"),
        ]
    )
    assert [e["action"] for e in r.json()["items"]][:2] == ["void", "void"]  # newest first
    assert all(e["actor"] for e in r.json()["items"])
    theirs = await client.get(f"/v1/vouchers/{code}/changes", headers=other_tenant.headers)
    never = await client.get(f"/v1/vouchers/{new_code()}/changes", headers=tenant.headers)
    assert theirs.status_code == never.status_code == 404
    mistyped = await client.get(f"/v1/vouchers/{code[:-1]}/changes", headers=tenant.headers)
    assert mistyped.status_code == 422


async def test_void_once_and_only_an_issued_voucher(client, tenant, database_url):
    await create_template(client, tenant, "T")
    member = await new_member(client, tenant)
    code = (await issue_voucher(client, tenant, "T", member))["code"]
    r = await client.post(
        f"/v1/vouchers/{typed(code)}/void", json={"reason": "wrong member"}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "voided" and r.json()["void_reason"] == "wrong member"
    assert r.json()["voided_at"]
    again = await client.post(
        f"/v1/vouchers/{code}/void", json={"reason": "x"}, headers=tenant.headers
    )
    assert again.status_code == 409 and again.json()["code"] == "voucher_not_voidable"

    redeemed = (await issue_voucher(client, tenant, "T", member))["code"]
    await mark_redeemed(database_url, tenant.id, redeemed)
    r = await client.post(
        f"/v1/vouchers/{redeemed}/void", json={"reason": "x"}, headers=tenant.headers
    )
    assert r.status_code == 409 and "redeemed" in r.json()["detail"]
    shown = (await client.get(f"/v1/vouchers/{redeemed}", headers=tenant.headers)).json()
    assert shown["status"] == "redeemed"
    assert shown["redemption"] == {
        "store_code": "S01",
        "receipt_no": "R-1",
        "amount": "18.00",
        "redeemed_at": shown["redemption"]["redeemed_at"],
        "sale_id": "7",
    }

    expired = (await issue_voucher(client, tenant, "T", member))["code"]
    await backdate(database_url, tenant.id, expired, 31)
    r = await client.post(
        f"/v1/vouchers/{expired}/void", json={"reason": "x"}, headers=tenant.headers
    )
    assert r.status_code == 409 and r.json()["code"] == "voucher_not_voidable"

    pos = await key_for(client, tenant, "pos")
    fresh = (await issue_voucher(client, tenant, "T", member))["code"]
    r = await client.post(f"/v1/vouchers/{fresh}/void", json={"reason": "x"}, headers=pos)
    assert r.status_code == 403
    assert (await client.get(f"/v1/vouchers/{fresh}", headers=pos)).status_code == 200


async def test_expiry_job_expires_only_what_is_due(client, tenant, other_tenant, database_url):
    await create_template(client, tenant, "T")
    member = await new_member(client, tenant)
    due = (await issue_voucher(client, tenant, "T", member))["code"]
    fresh = (await issue_voucher(client, tenant, "T", member))["code"]
    voided = (await issue_voucher(client, tenant, "T", member))["code"]
    await client.post(f"/v1/vouchers/{voided}/void", json={"reason": "x"}, headers=tenant.headers)
    await backdate(database_url, tenant.id, due, 31)
    await backdate(database_url, tenant.id, voided, 31)

    assert (await client.post("/v1/jobs/expire-vouchers", headers=other_tenant.headers)).json()[
        "vouchers"
    ] == 0
    r = await client.post("/v1/jobs/expire-vouchers", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["vouchers"] == 1
    again = await client.post("/v1/jobs/expire-vouchers", headers=tenant.headers)
    assert again.json()["vouchers"] == 0
    statuses = {
        c: (await client.get(f"/v1/vouchers/{c}", headers=tenant.headers)).json()["status"]
        for c in (due, fresh, voided)
    }
    assert statuses == {due: "expired", fresh: "issued", voided: "voided"}


async def test_the_daily_job_writes_the_expiry(client, tenant, database_url):
    await create_template(client, tenant, "T")
    member = await new_member(client, tenant)
    due = (await issue_voucher(client, tenant, "T", member))["code"]
    await backdate(database_url, tenant.id, due, 31)
    job = next(j for j in default_jobs() if j.name == "expire-vouchers")
    scheduler, engine = scheduler_on(database_url, [job])
    try:
        # 04:00 tomorrow in the tenant's zone: the daily 03:10 run is due.
        now = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).replace(hour=4)
        await scheduler.tick(now)
    finally:
        await engine.dispose()
    stored = await sql(
        database_url,
        "SELECT status FROM vouchers WHERE tenant_id = :t AND code = :c",
        t=uuid.UUID(tenant.id),
        c=due,
    )
    assert stored == [("expired",)]
    runs = await sql(
        database_url,
        "SELECT result FROM job_runs WHERE job = 'expire-vouchers' AND tenant_id = :t",
        t=uuid.UUID(tenant.id),
    )
    assert runs == [({"vouchers": 1},)]


async def test_mistyped_forged_and_other_tenants_codes(client, tenant, other_tenant):
    await create_template(client, tenant, "T")
    member = await new_member(client, tenant)
    code = (await issue_voucher(client, tenant, "T", member))["code"]
    substituted = code[:3] + ("1" if code[3] != "1" else "2") + code[4:]
    swapped = next(
        code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        for i in range(len(code) - 1)
        if code[i] != code[i + 1]
    )
    for bad in (substituted, swapped, code[:-1], code + "0", "U" * 14, "%20"):
        r = await client.get(f"/v1/vouchers/{bad}", headers=tenant.headers)
        assert r.status_code == 422, bad
        assert r.json()["code"] == "invalid_voucher_code"
        r = await client.post(
            f"/v1/vouchers/{bad}/void", json={"reason": "x"}, headers=tenant.headers
        )
        assert r.status_code == 422 and r.json()["code"] == "invalid_voucher_code"

    forged = new_code()  # well formed, names nothing
    never = await client.get(f"/v1/vouchers/{forged}", headers=other_tenant.headers)
    theirs = await client.get(f"/v1/vouchers/{code}", headers=other_tenant.headers)
    assert never.status_code == theirs.status_code == 404
    assert never.json()["code"] == theirs.json()["code"] == "voucher_not_found"
    # The same answer but for the code echoed back: nothing is learnt.
    assert never.json()["detail"].replace(forged, code) == theirs.json()["detail"]
    assert set(never.headers) == set(theirs.headers)
    void_never = await client.post(
        f"/v1/vouchers/{forged}/void", json={"reason": "x"}, headers=other_tenant.headers
    )
    void_theirs = await client.post(
        f"/v1/vouchers/{code}/void", json={"reason": "x"}, headers=other_tenant.headers
    )
    assert void_never.status_code == void_theirs.status_code == 404
    assert void_never.json()["detail"].replace(forged, code) == void_theirs.json()["detail"]
    # Other tenants can't issue from, list or expire this tenant's vouchers.
    r = await client.post(
        "/v1/vouchers", json={"template": "T", "member_id": member}, headers=other_tenant.headers
    )
    assert r.status_code == 422 and r.json()["code"] == "voucher_template_not_found"
    await create_template(client, other_tenant, "T")
    r = await client.post(
        "/v1/vouchers", json={"template": "T", "member_id": member}, headers=other_tenant.headers
    )
    assert r.status_code == 422 and r.json()["code"] == "member_not_found"
    r = await client.get(f"/v1/vouchers?member_id={member}", headers=other_tenant.headers)
    assert r.status_code == 404
    mine = await client.get(f"/v1/vouchers/{code}", headers=tenant.headers)
    assert mine.json()["status"] == "issued"
