"""Complaints and their step log. A step is applied under the complaint's row lock, so two
requests for the same step cannot both pass the order check."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.complaints import (
    Channel,
    Complaint,
    Figures,
    Severity,
    Status,
    StepRecord,
)
from app.domain.voc import Period
from app.models import ComplaintRow, ComplaintStepRow, SaleRow
from app.repositories.paging import newest_first
from app.repositories.tenancy import as_uuid


def _complaint(row: ComplaintRow, steps: tuple[StepRecord, ...] = ()) -> Complaint:
    return Complaint(
        row.id,
        str(row.member_id) if row.member_id else None,
        row.store_code,
        Channel(row.channel),
        row.category,
        row.content,
        Status(row.status),
        row.justified,
        Severity(row.severity) if row.severity else None,
        row.department,
        row.cause,
        row.solution,
        row.compensation_points,
        row.adjustment_id,
        row.satisfaction,
        row.recorded_by,
        row.recorded_at,
        row.closed_at,
        steps,
    )


class ComplaintRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        tenant_id: str,
        *,
        member_id: str | None,
        store_code: str | None,
        channel: Channel,
        category: str,
        content: str,
        actor: str,
        now: datetime,
    ) -> Complaint:
        tid = uuid.UUID(tenant_id)
        inserted = await self.session.execute(
            insert(ComplaintRow)
            .values(
                tenant_id=tid,
                member_id=uuid.UUID(member_id) if member_id else None,
                store_code=store_code,
                channel=channel.value,
                category=category,
                content=content,
                status=Status.RECORDED.value,
                recorded_by=actor,
                recorded_at=now,
            )
            .returning(ComplaintRow)
        )
        row = inserted.scalar_one()
        step = await self.add_step(
            tenant_id,
            row.id,
            "record",
            {"channel": channel.value, "category": category},
            actor,
            now,
        )
        return _complaint(row, (step,))

    async def get(
        self, tenant_id: str, complaint_id: int, *, lock: bool = False
    ) -> Complaint | None:
        """With its steps; ``lock`` holds the complaint's row until commit."""
        c = ComplaintRow
        query = select(c).where(c.tenant_id == uuid.UUID(tenant_id), c.id == complaint_id)
        row = await self.session.scalar(query.with_for_update() if lock else query)
        if row is None:
            return None
        s = ComplaintStepRow
        steps = await self.session.scalars(
            select(s).where(s.complaint_id == complaint_id).order_by(s.id)
        )
        return _complaint(
            row,
            tuple(StepRecord(x.step, x.data, x.actor, x.at) for x in steps),
        )

    async def update(self, tenant_id: str, complaint_id: int, fields: dict) -> None:
        c = ComplaintRow
        await self.session.execute(
            update(c)
            .where(c.tenant_id == uuid.UUID(tenant_id), c.id == complaint_id)
            .values(**fields, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )

    async def add_step(
        self, tenant_id: str, complaint_id: int, step: str, data: dict, actor: str, at: datetime
    ) -> StepRecord:
        await self.session.execute(
            insert(ComplaintStepRow).values(
                tenant_id=uuid.UUID(tenant_id),
                complaint_id=complaint_id,
                step=step,
                data=data,
                actor=actor,
                at=at,
            )
        )
        return StepRecord(step, data, actor, at)

    async def list(
        self,
        tenant_id: str,
        *,
        status: Status | None,
        store_code: str | None,
        member_id: str | None,
        before: int | None,
        limit: int,
    ) -> list[Complaint]:
        """Newest first (by id), up to ``limit + 1``; without their steps."""
        c = ComplaintRow
        query = select(c).where(c.tenant_id == uuid.UUID(tenant_id))
        if status is not None:
            query = query.where(c.status == status.value)
        if store_code is not None:
            query = query.where(c.store_code == store_code)
        if member_id is not None:
            mid = as_uuid(member_id)
            if mid is None:
                return []
            query = query.where(c.member_id == mid)
        rows = await self.session.scalars(newest_first(query, c.id, before, limit))
        return [_complaint(r) for r in rows]

    async def figures(self, tenant_id: str, period: Period, store_code: str | None) -> Figures:
        """The period's complaints (by recording time) and the members served in it."""
        c = ComplaintRow
        tid = uuid.UUID(tenant_id)
        conditions = [c.tenant_id == tid]
        if period.start is not None:
            conditions.append(c.recorded_at >= period.start)
        if period.end is not None:
            conditions.append(c.recorded_at < period.end)
        if store_code is not None:
            conditions.append(c.store_code == store_code)
        by_status = dict(
            (
                await self.session.execute(
                    select(c.status, func.count()).where(*conditions).group_by(c.status)
                )
            )
            .tuples()
            .all()
        )
        by_category = dict(
            (
                await self.session.execute(
                    select(c.category, func.count())
                    .where(*conditions)
                    .group_by(c.category)
                    .order_by(c.category)
                )
            )
            .tuples()
            .all()
        )
        seconds = func.extract("epoch", c.closed_at - c.recorded_at)
        closed, median, evaluated, satisfied = (
            await self.session.execute(
                select(
                    func.count(c.closed_at),
                    func.percentile_cont(0.5).within_group(seconds),
                    func.count(c.satisfaction),
                    func.count().filter(c.satisfaction >= 4),
                ).where(*conditions, c.status == Status.CLOSED.value)
            )
        ).one()
        s = SaleRow
        served = select(func.count(s.member_id.distinct())).where(s.tenant_id == tid)
        if period.start is not None:
            served = served.where(s.occurred_at >= period.start)
        if period.end is not None:
            served = served.where(s.occurred_at < period.end)
        if store_code is not None:
            served = served.where(s.store_code == store_code)
        return Figures(
            total=sum(by_status.values()),
            by_status={st: by_status.get(st.value, 0) for st in Status},
            by_category=by_category,
            closed=closed,
            median_seconds_to_close=median,
            evaluated=evaluated,
            satisfied=satisfied,
            members_served=await self.session.scalar(served) or 0,
        )
