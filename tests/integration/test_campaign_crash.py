"""kill -9 the server in the middle of a campaign's bulk issue, then issue again: exactly one
voucher per member outside the control group, none in it, and the arms drawn before the crash
unchanged."""

import asyncio
import signal
from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import free_port
from tests.factories.campaigns import bulk_group
from tests.factories.database import sql
from tests.factories.server import start_server
from tests.factories.vouchers import insert_template

MEMBERS = 60_000


async def arms(database_url, tenant_id) -> dict[str, str]:
    rows = await sql(
        database_url,
        "SELECT member_id::text, arm FROM campaign_members"
        " WHERE tenant_id = CAST(:t AS uuid) AND campaign_code = 'CRASH'",
        t=tenant_id,
    )
    return dict(rows)


async def test_kill_9_mid_issue_then_a_rerun_completes_exactly_once(database_url, tenant):
    await bulk_group(database_url, tenant.id, "BULK", MEMBERS)
    await insert_template(database_url, tenant.id, "BACK18")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(database_url, port)
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=base, headers=tenant.headers, timeout=120) as c:
        r = await c.post(
            "/v1/campaigns",
            json={
                "code": "CRASH",
                "name": "Crash",
                "template": "BACK18",
                "member_group": "BULK",
                "control_share": "0.2",
                "starts_at": now.isoformat(),
                "ends_at": (now + timedelta(days=30)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        issuing = asyncio.create_task(c.post("/v1/campaigns/CRASH/issue"))
        drawn = 0
        while drawn == 0 and not issuing.done():  # the first batch committed
            await asyncio.sleep(0.01)
            drawn = (
                await sql(
                    database_url,
                    "SELECT count(*) FROM campaign_members WHERE tenant_id = CAST(:t AS uuid)",
                    t=tenant.id,
                )
            )[0][0]
        server.send_signal(signal.SIGKILL)
        server.wait()
        try:
            await issuing
            answered = True
        except httpx.TransportError:
            answered = False
    assert not answered, "the issue should have been cut off"
    before = await arms(database_url, tenant.id)
    assert 0 < len(before) < MEMBERS

    server = start_server(database_url, port)
    try:
        async with httpx.AsyncClient(base_url=base, headers=tenant.headers, timeout=120) as c:
            r = await c.post("/v1/campaigns/CRASH/issue")
            assert r.status_code == 200, r.text
            rerun = r.json()
            again = (await c.post("/v1/campaigns/CRASH/issue")).json()
    finally:
        server.terminate()
        server.wait()

    after = await arms(database_url, tenant.id)
    assert len(after) == MEMBERS
    assert {m: after[m] for m in before} == before  # no arm drawn again
    treated = {m for m, arm in after.items() if arm == "treated"}
    control = set(after) - treated
    assert rerun["control"] == len(control) and 0.18 < len(control) / MEMBERS < 0.22
    assert rerun["issued"] + rerun["skipped"] == len(treated)
    assert again == {"issued": 0, "control": len(control), "skipped": len(treated)}
    per_member = dict(
        await sql(
            database_url,
            "SELECT v.member_id::text, count(*) FROM vouchers AS v"
            " JOIN voucher_codes AS c ON c.tenant_id = v.tenant_id AND c.code = v.code"
            "  AND c.member_id = v.member_id"
            " JOIN campaign_members AS a ON a.tenant_id = v.tenant_id"
            "  AND a.member_id = v.member_id AND a.campaign_code = 'CRASH'"
            "  AND a.voucher_code = v.code"
            " WHERE v.tenant_id = CAST(:t AS uuid) AND v.campaign_code = 'CRASH'"
            " GROUP BY v.member_id",
            t=tenant.id,
        )
    )
    assert per_member == dict.fromkeys(treated, 1)
    totals = await sql(
        database_url,
        "SELECT (SELECT count(*) FROM vouchers WHERE tenant_id = CAST(:t AS uuid)),"
        " (SELECT count(*) FROM voucher_codes WHERE tenant_id = CAST(:t AS uuid))",
        t=tenant.id,
    )
    assert totals == [(len(treated), len(treated))]
