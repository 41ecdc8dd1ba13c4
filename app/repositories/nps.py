"""NPS answers: stored one per row, summarised set-based (counts per group in SQL)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import SQLColumnExpression, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.voc import Period
from app.models import NpsResponseRow


@dataclass(frozen=True)
class NpsResponse:
    id: int
    member_id: str | None
    store_code: str | None
    score: int
    answered_at: datetime
    comment: str | None
    response_ref: str | None
    fingerprint: str
    created_at: datetime


@dataclass(frozen=True)
class GroupCounts:
    key: str | None
    promoters: int
    passives: int
    detractors: int


def _response(row: NpsResponseRow) -> NpsResponse:
    return NpsResponse(
        row.id,
        str(row.member_id) if row.member_id else None,
        row.store_code,
        row.score,
        row.answered_at,
        row.comment,
        row.response_ref,
        row.fingerprint,
        row.created_at,
    )


class NpsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        tenant_id: str,
        *,
        member_id: str | None,
        store_code: str | None,
        score: int,
        answered_at: datetime,
        comment: str | None,
        response_ref: str | None,
        fingerprint: str,
    ) -> tuple[NpsResponse, bool]:
        """(the answer, True) when stored now; (the one stored before under the same
        ``response_ref``, False) otherwise. Racing duplicates are settled by the unique key."""
        r = NpsResponseRow
        tid = uuid.UUID(tenant_id)
        row = await self.session.scalar(
            pg_insert(r)
            .values(
                tenant_id=tid,
                member_id=uuid.UUID(member_id) if member_id else None,
                store_code=store_code,
                score=score,
                answered_at=answered_at,
                comment=comment,
                response_ref=response_ref,
                fingerprint=fingerprint,
            )
            .on_conflict_do_nothing(index_elements=[r.tenant_id, r.response_ref])
            .returning(r)
        )
        if row is not None:
            return _response(row), True
        existing = await self.session.execute(  # the insert conflicted: the row is there
            select(r).where(r.tenant_id == tid, r.response_ref == response_ref)
        )
        return _response(existing.scalar_one()), False

    async def counts(
        self, tenant_id: str, period: Period, store_code: str | None, group_by: str | None, tz: str
    ) -> list[GroupCounts]:
        """Promoters, passives and detractors per group (``store``, ``month`` in ``tz``, or
        one group for all), ordered by the group key."""
        r = NpsResponseRow
        key: SQLColumnExpression[Any] | None
        if group_by == "store":
            key = r.store_code
        elif group_by == "month":
            key = func.to_char(func.timezone(tz, r.answered_at), "YYYY-MM")
        else:
            key = None
        columns = [
            func.count().filter(r.score >= 9),
            func.count().filter(r.score.between(7, 8)),
            func.count().filter(r.score <= 6),
        ]
        query = select(*([key.label("key")] if key is not None else []), *columns).where(
            r.tenant_id == uuid.UUID(tenant_id)
        )
        if period.start is not None:
            query = query.where(r.answered_at >= period.start)
        if period.end is not None:
            query = query.where(r.answered_at < period.end)
        if store_code is not None:
            query = query.where(r.store_code == store_code)
        if key is not None:
            query = query.group_by(key).order_by(key.asc().nulls_last())
            rows = await self.session.execute(query)
            return [GroupCounts(k, p, m, d) for k, p, m, d in rows]
        p, m, d = (await self.session.execute(query)).one()
        return [GroupCounts(None, p, m, d)]
