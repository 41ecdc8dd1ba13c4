"""Runs of scheduled jobs (app/scheduler.py) and the tenants they run for."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import JobRunRow, TenantRow


class JobRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def tenant_zones(self) -> list[tuple[str, str]]:
        """(tenant id, time zone) of every tenant, in a stable order."""
        rows = await self.session.execute(
            select(TenantRow.id, TenantRow.time_zone).order_by(TenantRow.id)
        )
        return [(str(tid), tz) for tid, tz in rows]

    async def claim(self, job: str, tenant_id: str, period: str, now: datetime) -> bool:
        """Take the run for this transaction: False if another one took it (committed). A
        concurrent claim not yet committed makes this wait for it; if it rolls back, this
        one gets the run."""
        taken = await self.session.scalar(
            insert(JobRunRow)
            .values(job=job, tenant_id=uuid.UUID(tenant_id), period=period, started_at=now)
            .on_conflict_do_nothing()
            .returning(JobRunRow.job)
        )
        return taken is not None

    async def finish(
        self, job: str, tenant_id: str, period: str, now: datetime, result: dict | None
    ) -> None:
        await self.session.execute(
            update(JobRunRow)
            .where(
                JobRunRow.job == job,
                JobRunRow.tenant_id == uuid.UUID(tenant_id),
                JobRunRow.period == period,
            )
            .values(finished_at=now, result=result)
        )
