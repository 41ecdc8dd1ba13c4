"""The monthly RFM run (docs/domain §5.3, 每月自动计算一次): 1st at 02:00 tenant time, as of the
month just ended, once however many schedulers tick — on a database of its own (a tick works
through every tenant of its database)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.db import migrate
from app.domain.schedule import monthly_at
from app.main import create_app
from app.scheduler import default_jobs
from tests.conftest import make_settings, running, scratch_database
from tests.factories.database import sql
from tests.factories.imports import HEADER, post_import
from tests.factories.scheduler import scheduler_on, tenant_in

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


@pytest.mark.parametrize(
    "first_tick",
    [
        datetime(2026, 12, 1, 2, 0, tzinfo=SHANGHAI),  # on time
        datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI),  # the server started on the 2nd
        datetime(2026, 12, 15, 9, 0, tzinfo=SHANGHAI),  # down till the 15th
    ],
)
async def test_a_late_monthly_rfm_is_still_as_of_the_month_end(db, first_tick):
    """The month's only run covers the month just ended, whichever day of the month the
    scheduler first gets to it: a purchase of the new month is not in it."""
    tenant_id, headers = await tenant_in(db)
    body = HEADER + (
        "C1,2026-11-28T12:00:00+08:00,600,R1,S01\nC1,2026-12-01T10:00:00+08:00,80,R2,S01\n"
    )
    async with running(create_app(make_settings(db))) as client:
        await post_import(client, headers, body)
    jobs = [j for j in default_jobs() if j.name == "rfm"]
    scheduler, engine = scheduler_on(db, jobs)
    try:
        await scheduler.tick(first_tick)
        await scheduler.tick(datetime(2026, 12, 31, 23, 0, tzinfo=SHANGHAI))  # done this month
        runs = await sql(
            db,
            "SELECT as_of::text, trigger FROM rfm_runs WHERE tenant_id = :t",
            t=uuid.UUID(tenant_id),
        )
        assert runs == [("2026-11-30", "schedule")]
        scores = await sql(
            db,
            "SELECT s.recency_days, s.frequency FROM rfm_scores AS s "
            "JOIN rfm_runs AS r ON r.id = s.run_id WHERE r.tenant_id = :t",
            t=uuid.UUID(tenant_id),
        )
        assert scores == [(2, 1)]  # the purchase of the 28th; the one of December 1st not yet
        [(result,)] = await sql(
            db,
            "SELECT result FROM job_runs WHERE job = 'rfm' AND tenant_id = :t AND period = :p",
            t=uuid.UUID(tenant_id),
            p="2026-12",
        )
        assert result["as_of"] == "2026-11-30"
    finally:
        await engine.dispose()
