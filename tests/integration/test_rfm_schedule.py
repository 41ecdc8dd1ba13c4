"""The monthly RFM run (docs/domain §5.3, 每月自动计算一次): 1st at 02:00 tenant time, as of the
month just ended, once however many schedulers tick — on a database of its own (a tick works
through every tenant of its database)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.db import migrate
from app.domain.schedule import monthly_at
from app.main import create_app
from app.scheduler import default_jobs
from tests.api.test_imports import HEADER, post_import
from tests.conftest import make_settings, running, scratch_database
from tests.integration.test_scheduler import scheduler_on, sql, tenant_in

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def db(server_url):
    with scratch_database(server_url) as url:
        migrate(url)
        yield url


def test_rfm_is_a_default_monthly_job():
    [job] = [j for j in default_jobs() if j.name == "rfm"]
    at = datetime(2026, 12, 1, 2, 0, tzinfo=SHANGHAI)
    assert job.schedule(at, SHANGHAI) == monthly_at(1, 2, 0)(at, SHANGHAI)
    assert job.schedule(at, SHANGHAI).due
    assert not job.schedule(datetime(2026, 12, 1, 1, 59, tzinfo=SHANGHAI), SHANGHAI).due


async def test_monthly_rfm_runs_once_as_of_the_month_end(db):
    tenant_id, headers = await tenant_in(db)
    async with running(create_app(make_settings(db))) as client:
        await post_import(client, headers, HEADER + "C1,2026-10-31T23:00:00+08:00,600,R1,S01\n")
    jobs = [j for j in default_jobs() if j.name == "rfm"]
    (one, e1), (two, e2) = scheduler_on(db, jobs), scheduler_on(db, jobs)
    try:
        await one.tick(datetime(2026, 11, 1, 1, 59, tzinfo=SHANGHAI))
        assert await sql(db, "SELECT count(*) FROM rfm_runs") == [(0,)]
        at = datetime(2026, 11, 1, 2, 0, tzinfo=SHANGHAI)
        await asyncio.gather(one.tick(at), two.tick(at), one.tick(at))
        await two.tick(datetime(2026, 11, 20, tzinfo=SHANGHAI))  # same period: nothing more
        runs = await sql(
            db, "SELECT tenant_id::text, as_of::text, trigger, members_scored FROM rfm_runs"
        )
        assert runs == [(tenant_id, "2026-10-31", "schedule", 1)]
        [(result,)] = await sql(db, "SELECT result FROM job_runs WHERE job = 'rfm'")
        assert result["as_of"] == "2026-10-31" and result["members_scored"] == 1
        scores = await sql(db, "SELECT recency_days, r, f, m, segment FROM rfm_scores")
        assert scores == [(0, 5, 1, 2, "general_develop")]
        await one.tick(datetime(2026, 12, 1, 2, 0, tzinfo=SHANGHAI))  # the next month's
        assert len(await sql(db, "SELECT id FROM rfm_runs")) == 2
    finally:
        await e1.dispose()
        await e2.dispose()
