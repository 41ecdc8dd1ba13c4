"""The in-process scheduler on a database of its own: once per (job, tenant, period) however
many schedulers tick, failures isolated per tenant, started and stopped by the lifespan."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.db import migrate
from app.domain.schedule import daily_at
from app.main import create_app
from app.scheduler import Job
from tests.conftest import make_settings, running, scratch_database
from tests.factories.database import sql
from tests.factories.scheduler import scheduler_on, tenant_in

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def db(server_url):
    """Only this module's tenants: a tick works through every tenant of the database."""
    with scratch_database(server_url) as url:
        migrate(url)
        yield url


async def expired_lot(client, url: str, headers: dict, points: int) -> None:
    """A member with a lot of ``points`` that expired a month ago."""
    r = await client.put(
        "/v1/settings/points",
        json={"expiry": {"kind": "rolling_months", "n": 6}},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    r = await client.post("/v1/members", json={"name": "李雷"}, headers=headers)
    member = r.json()["id"]
    r = await client.post(
        "/v1/points/adjustments",
        json={"member_id": member, "points": points, "reason": "goodwill"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    await sql(
        url,
        "UPDATE points_lots SET earned_at = earned_at - interval '7 months', "
        "expires_at = expires_at - interval '7 months' WHERE member_id = :m",
        m=uuid.UUID(member),
    )


async def runs_of(url: str, job: str, tenants: list[str]) -> list:
    return await sql(
        url,
        "SELECT tenant_id::text, period, result, finished_at FROM job_runs "
        "WHERE job = :job AND tenant_id::text = ANY(:t) ORDER BY period, tenant_id",
        job=job,
        t=tenants,
    )


async def x_entries(url: str, tenants: list[str]) -> int:
    rows = await sql(
        url,
        "SELECT count(*) FROM points_entries WHERE category = 'X' AND tenant_id::text = ANY(:t)",
        t=tenants,
    )
    return rows[0][0]


async def test_two_schedulers_expire_once_per_tenant_per_period(db):
    async with running(create_app(make_settings(db))) as client:
        tenants = [await tenant_in(db) for _ in range(2)]
        ids = [t for t, _ in tenants]
        for _, headers in tenants:
            await expired_lot(client, db, headers, 10)
        (one, two), engines = zip(scheduler_on(db), scheduler_on(db), strict=True)
        try:
            # 04:00 tomorrow in Shanghai: the daily 03:00 expiry is due.
            now = (datetime.now(SHANGHAI) + timedelta(days=1)).replace(hour=4, minute=0)
            await asyncio.gather(one.tick(now), two.tick(now))
            runs = await runs_of(db, "expire-points", ids)
            assert [(t, period, result) for t, period, result, _ in runs] == [
                (t, now.date().isoformat(), {"lots": 1, "members": 1, "points": 10})
                for t in sorted(ids)
            ]
            assert all(finished is not None for *_, finished in runs)
            assert await x_entries(db, ids) == 2

            # Same period: nothing runs, not even for a lot that expired meanwhile.
            await expired_lot(client, db, tenants[0][1], 5)
            later = now + timedelta(hours=12)
            await asyncio.gather(one.tick(later), two.tick(later))
            assert len(await runs_of(db, "expire-points", ids)) == 2
            assert await x_entries(db, ids) == 2

            # The next day's period runs again, once.
            tomorrow = now + timedelta(days=1)
            await asyncio.gather(one.tick(tomorrow), two.tick(tomorrow), one.tick(tomorrow))
            runs = await runs_of(db, "expire-points", ids)
            assert len(runs) == 4
            assert await x_entries(db, ids) == 3
        finally:
            for engine in engines:
                await engine.dispose()


async def test_idempotency_keys_are_forgotten_after_thirty_days(db):
    async with running(create_app(make_settings(db))) as client:
        tenant, headers = await tenant_in(db)
        r = await client.post("/v1/members", json={"name": "李雷"}, headers=headers)
        member = r.json()["id"]
        for key in ("old", "recent"):
            r = await client.post(
                "/v1/points/adjustments",
                json={"member_id": member, "points": 5, "reason": key},
                headers={**headers, "Idempotency-Key": key},
            )
            assert r.status_code == 201, r.text
        # Idempotency keys are per (tenant, API key, key): age one of them by 31 days.
        await sql(
            db,
            "UPDATE idempotency_keys SET created_at = created_at - interval '31 days' "
            "WHERE tenant_id = :t AND key = 'old'",
            t=uuid.UUID(tenant),
        )
        scheduler, engine = scheduler_on(db)
        try:
            now = (datetime.now(SHANGHAI) + timedelta(days=1)).replace(hour=5, minute=0)
            await scheduler.tick(now)
        finally:
            await engine.dispose()
        [(_, _, result, _)] = await runs_of(db, "purge-idempotency-keys", [tenant])
        assert result == {"keys": 1}
        left = await sql(
            db, "SELECT key FROM idempotency_keys WHERE tenant_id = :t", t=uuid.UUID(tenant)
        )
        assert [k for (k,) in left] == ["recent"]


async def test_a_failing_tenant_is_logged_and_the_others_still_run(db, caplog):
    ids = [(await tenant_in(db))[0] for _ in range(3)]
    calls: list[str] = []

    async def flaky(uow, who, now):
        calls.append(who.tenant_id)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return {"n": len(calls)}

    scheduler, engine = scheduler_on(db, [Job("flaky", daily_at(0, 0), flaky)])
    try:
        caplog.set_level(logging.INFO, logger="app.scheduler")
        await scheduler.tick()
        failed = calls[0]
        [record] = [r for r in caplog.records if r.getMessage() == "scheduled job failed"]
        assert (record.job, record.tenant_id, record.levelname) == ("flaky", failed, "ERROR")
        assert "boom" in caplog.text
        ran = {t for t, *_ in await runs_of(db, "flaky", ids)}
        assert ran == set(ids) - {failed}  # the failed run left no claim...
        await scheduler.tick()
        assert {t for t, *_ in await runs_of(db, "flaky", ids)} == set(ids)  # ...so it retried
        assert calls.count(failed) == 2 and len(calls) == len(set(calls)) + 1
    finally:
        await engine.dispose()


async def test_the_lifespan_starts_and_stops_the_scheduler(db):
    # 03:00 has passed in one of these two zones whatever the time (they are 15-16 h apart).
    ids = [(await tenant_in(db, tz))[0] for tz in ("Asia/Shanghai", "America/Los_Angeles")]
    app = create_app(make_settings(db, scheduler_interval_seconds=3600))
    async with running(app):
        task = app.state.scheduler._task
        for _ in range(100):
            if await runs_of(db, "expire-points", ids):
                break
            await asyncio.sleep(0.1)
        assert await runs_of(db, "expire-points", ids)
        assert not task.done()
    assert task.cancelled()
