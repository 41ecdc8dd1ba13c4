"""Analytics reads and snapshots: settings, RFM runs, churn and lifecycle figures.

Everything is set-based SQL over ``member_transactions`` (sales through the API net of their
returns, plus imported history): aggregates per member are computed in PostgreSQL; only
arrays (one entry per member) come back for the pure scoring in app/domain, and scores go
back with a binary COPY.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.rfm import SEGMENTS, Scores
from app.models import AnalyticsSettingsRow, MemberRow, RfmRunRow, RfmScoreRow
from app.repositories.bulk import copy_columns, driver_connection
from app.repositories.paging import newest_first
from app.repositories.tenancy import as_uuid

RFM_AGG = """
CREATE TEMP TABLE rfm_agg (
    n int, member_id uuid, recency_days int, frequency int, monetary numeric(14, 2)
) ON COMMIT DROP
"""
# Per member over the window [start, end): days from the last purchase's local date to as_of,
# receipts, their average net amount (2 decimals, half up).
RFM_AGGREGATE = """
INSERT INTO rfm_agg (n, member_id, recency_days, frequency, monetary)
SELECT row_number() OVER (ORDER BY a.member_id), a.member_id, a.recency_days, a.frequency,
       a.monetary
FROM (SELECT t.member_id,
             $4::date - (max(t.occurred_at) AT TIME ZONE $5)::date AS recency_days,
             count(*) AS frequency,
             round(avg(t.amount), 2) AS monetary
      FROM member_transactions AS t
      WHERE t.tenant_id = $1 AND t.occurred_at >= $2 AND t.occurred_at < $3
      GROUP BY t.member_id) AS a
"""
RFM_ARRAYS = """
SELECT coalesce(array_agg(recency_days ORDER BY n), '{}'),
       coalesce(array_agg(frequency ORDER BY n), '{}'),
       coalesce(array_agg((monetary * 100)::bigint ORDER BY n), '{}')
FROM rfm_agg
"""
RFM_SCORED = "CREATE TEMP TABLE rfm_scored (n int, r int2, f int2, m int2, seg int2) ON COMMIT DROP"
RFM_STORE = """
INSERT INTO rfm_scores (run_id, member_id, tenant_id, recency_days, frequency, monetary,
                        r, f, m, segment)
SELECT $1, a.member_id, $2, a.recency_days, a.frequency, a.monetary, s.r, s.f, s.m,
       ($3::text[])[s.seg + 1]
FROM rfm_agg AS a JOIN rfm_scored AS s ON s.n = a.n
ORDER BY a.member_id
"""


# Per member: active in the start window [$2, $3), still active in the end window [$4, $5),
# net spend in the value window [$6, $3).
CHURN = """
SELECT count(*) FILTER (WHERE a.active) AS active,
       count(*) FILTER (WHERE a.active AND NOT a.still) AS lost,
       coalesce(sum(a.value) FILTER (WHERE a.active), 0) AS value_active,
       coalesce(sum(a.value) FILTER (WHERE a.active AND NOT a.still), 0) AS value_lost
FROM (SELECT t.member_id,
             bool_or(t.occurred_at >= $2 AND t.occurred_at < $3) AS active,
             bool_or(t.occurred_at >= $4 AND t.occurred_at < $5) AS still,
             coalesce(sum(t.amount) FILTER (WHERE t.occurred_at >= $6 AND t.occurred_at < $3),
                      0) AS value
      FROM member_transactions AS t
      WHERE t.tenant_id = $1 AND t.occurred_at >= least($2, $6) AND t.occurred_at < $5
      GROUP BY t.member_id) AS a
"""
# Per member (not erased) with purchases before $2 (the end of as_of): purchases, days since
# the last and the first (local dates, to as_of $3), spend in [$5, $2) and in [$6, $5).
LIFECYCLE = """
SELECT a.member_id, a.purchases, a.first_day, a.last_day, $3::date - a.last_day AS recency,
       $3::date - a.first_day AS tenure, a.recent, a.previous
FROM (SELECT t.member_id, count(*) AS purchases,
             (min(t.occurred_at) AT TIME ZONE $4)::date AS first_day,
             (max(t.occurred_at) AT TIME ZONE $4)::date AS last_day,
             coalesce(sum(t.amount) FILTER (WHERE t.occurred_at >= $5), 0) AS recent,
             coalesce(sum(t.amount) FILTER (WHERE t.occurred_at >= $6 AND t.occurred_at < $5),
                      0) AS previous
      FROM member_transactions AS t
      WHERE t.tenant_id = $1 AND t.occurred_at < $2 AND ($7::uuid IS NULL OR t.member_id = $7)
      GROUP BY t.member_id) AS a
JOIN members AS m ON m.tenant_id = $1 AND m.id = a.member_id AND m.erased_at IS NULL
"""
LIFECYCLE_ARRAYS = (
    "SELECT count(*), coalesce(array_agg(purchases), '{}'), coalesce(array_agg(recency), '{}'),"
    " coalesce(array_agg(tenure), '{}'), coalesce(array_agg((recent * 100)::bigint), '{}'),"
    " coalesce(array_agg((previous * 100)::bigint), '{}') FROM ("
)


@dataclass(frozen=True)
class ChurnCounts:
    active: int
    lost: int
    value_active: Decimal
    value_lost: Decimal


@dataclass(frozen=True)
class MemberHistory:
    purchases: int
    first_day: date
    last_day: date
    recency_days: int
    tenure_days: int
    recent: Decimal
    previous: Decimal


@dataclass(frozen=True)
class RfmRun:
    id: int
    as_of: date
    trigger: str
    config: dict
    members_scored: int
    segments: dict[str, int]
    duration_ms: int
    created_at: datetime


@dataclass(frozen=True)
class RfmMemberScore:
    run_id: int
    as_of: date
    member_id: str
    member_ref: str | None
    recency_days: int
    frequency: int
    monetary: Decimal
    r: int
    f: int
    m: int
    segment: str


def _run(row: RfmRunRow) -> RfmRun:
    return RfmRun(
        row.id,
        row.as_of,
        row.trigger,
        row.config,
        row.members_scored,
        row.segments,
        row.duration_ms,
        row.created_at,
    )


class AnalyticsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- settings ---------------------------------------------------------------------------

    async def settings(self, tenant_id: str, what: str) -> tuple[dict, datetime] | None:
        """The tenant's ``rfm`` or ``lifecycle`` settings (API spelling) and when they were
        set, or None (never set)."""
        row = await self.session.get(
            AnalyticsSettingsRow, uuid.UUID(tenant_id), populate_existing=True
        )
        stored = getattr(row, what) if row is not None else None
        if not stored:
            return None
        return stored["config"], datetime.fromisoformat(stored["updated_at"])

    async def put_settings(self, tenant_id: str, what: str, value: dict, now: datetime) -> None:
        s = AnalyticsSettingsRow
        document = {"config": value, "updated_at": now.isoformat()}
        stmt = insert(s).values(tenant_id=uuid.UUID(tenant_id), **{what: document})
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[s.tenant_id],
                set_={what: document, "updated_at": stmt.excluded.updated_at},
            )
        )

    # --- RFM runs ---------------------------------------------------------------------------

    async def rfm_aggregate(
        self, tenant_id: str, start: datetime, end: datetime, as_of: date, time_zone: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Aggregate every member with a purchase in [start, end) into a temporary table and
        return (recency_days, frequency, monetary in fen) as arrays in its order."""
        conn = await driver_connection(self.session)
        await conn.execute("SET LOCAL work_mem = '256MB'")
        await conn.execute("SET LOCAL jit = off")
        await conn.execute(RFM_AGG)
        await conn.execute(RFM_AGGREGATE, uuid.UUID(tenant_id), start, end, as_of, time_zone)
        recency, frequency, monetary = await conn.fetchrow(RFM_ARRAYS)
        return (
            np.asarray(recency, dtype=np.int32),
            np.asarray(frequency, dtype=np.int32),
            np.asarray(monetary, dtype=np.int64),
        )

    async def next_rfm_run_id(self) -> int:
        conn = await driver_connection(self.session)
        return await conn.fetchval("SELECT nextval(pg_get_serial_sequence('rfm_runs', 'id'))")

    async def rfm_store(self, tenant_id: str, run_id: int, scores: Scores) -> None:
        """Write the scores of the aggregated members (same order) under ``run_id``."""
        conn = await driver_connection(self.session)
        await conn.execute(RFM_SCORED)
        n = np.arange(1, len(scores.r) + 1, dtype=np.int32)
        await copy_columns(
            conn,
            "rfm_scored",
            ["n", "r", "f", "m", "seg"],
            [
                ("int4", n),
                ("int2", scores.r),
                ("int2", scores.f),
                ("int2", scores.m),
                ("int2", scores.segment),
            ],
        )
        await conn.execute("ANALYZE rfm_agg")
        await conn.execute("ANALYZE rfm_scored")
        await conn.execute(RFM_STORE, run_id, uuid.UUID(tenant_id), list(SEGMENTS))

    async def add_rfm_run(
        self,
        tenant_id: str,
        run_id: int,
        as_of: date,
        trigger: str,
        config: dict,
        members_scored: int,
        segments: dict[str, int],
        duration_ms: int,
    ) -> RfmRun:
        row = RfmRunRow(
            id=run_id,
            tenant_id=uuid.UUID(tenant_id),
            as_of=as_of,
            trigger=trigger,
            config=config,
            members_scored=members_scored,
            segments=segments,
            duration_ms=duration_ms,
        )
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row)
        return _run(row)

    async def rfm_run(self, tenant_id: str, run_id: int) -> RfmRun | None:
        row = await self.session.scalar(
            select(RfmRunRow).where(
                RfmRunRow.tenant_id == uuid.UUID(tenant_id), RfmRunRow.id == run_id
            )
        )
        return _run(row) if row else None

    async def rfm_runs(self, tenant_id: str, before: int | None, limit: int) -> list[RfmRun]:
        """Newest first, up to ``limit + 1``."""
        query = select(RfmRunRow).where(RfmRunRow.tenant_id == uuid.UUID(tenant_id))
        rows = await self.session.scalars(newest_first(query, RfmRunRow.id, before, limit))
        return [_run(r) for r in rows]

    def _scores(self):
        s, m = RfmScoreRow, MemberRow
        return (
            select(
                s.run_id,
                RfmRunRow.as_of,
                s.member_id,
                m.external_ref,
                s.recency_days,
                s.frequency,
                s.monetary,
                s.r,
                s.f,
                s.m,
                s.segment,
            )
            .join(RfmRunRow, RfmRunRow.id == s.run_id)
            .join(m, (m.tenant_id == s.tenant_id) & (m.id == s.member_id))
        )

    @staticmethod
    def _score(row) -> RfmMemberScore:
        return RfmMemberScore(
            row.run_id,
            row.as_of,
            str(row.member_id),
            row.external_ref,
            row.recency_days,
            row.frequency,
            row.monetary,
            row.r,
            row.f,
            row.m,
            row.segment,
        )

    async def rfm_members(
        self,
        tenant_id: str,
        run_id: int,
        segment: str | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[RfmMemberScore]:
        """The run's scores by member id, up to ``limit + 1``."""
        s = RfmScoreRow
        query = self._scores().where(s.run_id == run_id, s.tenant_id == uuid.UUID(tenant_id))
        if segment is not None:
            query = query.where(s.segment == segment)
        if after is not None:
            query = query.where(s.member_id > after)
        rows = await self.session.execute(query.order_by(s.member_id).limit(limit + 1))
        return [self._score(r) for r in rows]

    async def latest_rfm_run_id(self, tenant_id: str) -> int | None:
        return await self.session.scalar(
            select(RfmRunRow.id)
            .where(RfmRunRow.tenant_id == uuid.UUID(tenant_id))
            .order_by(RfmRunRow.id.desc())
            .limit(1)
        )

    async def rfm_member(
        self, tenant_id: str, run_id: int, member_id: str
    ) -> RfmMemberScore | None:
        mid = as_uuid(member_id)
        if mid is None:
            return None
        s = RfmScoreRow
        row = (
            await self.session.execute(
                self._scores().where(
                    s.run_id == run_id, s.tenant_id == uuid.UUID(tenant_id), s.member_id == mid
                )
            )
        ).first()
        return self._score(row) if row else None

    # --- churn and lifecycle ------------------------------------------------------------------

    async def churn(
        self,
        tenant_id: str,
        start: tuple[datetime, datetime],
        end: tuple[datetime, datetime],
        value_from: datetime,
    ) -> ChurnCounts:
        """Windows as UTC instants [from, to); the value window ends where ``start`` does."""
        conn = await driver_connection(self.session)
        await conn.execute("SET LOCAL work_mem = '256MB'")
        await conn.execute("SET LOCAL jit = off")
        row = await conn.fetchrow(
            CHURN, uuid.UUID(tenant_id), start[0], start[1], end[0], end[1], value_from
        )
        return ChurnCounts(row["active"], row["lost"], row["value_active"], row["value_lost"])

    async def lifecycle_arrays(
        self,
        tenant_id: str,
        end: datetime,
        as_of: date,
        time_zone: str,
        recent_from: datetime,
        previous_from: datetime,
    ) -> tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """(members not erased, arrays of purchases, recency, tenure, recent and previous
        spend in fen) over the members with purchases."""
        conn = await driver_connection(self.session)
        await conn.execute("SET LOCAL work_mem = '256MB'")
        await conn.execute("SET LOCAL jit = off")
        row = await conn.fetchrow(
            LIFECYCLE_ARRAYS + LIFECYCLE + ") AS x",
            uuid.UUID(tenant_id),
            end,
            as_of,
            time_zone,
            recent_from,
            previous_from,
            None,
        )
        members = await conn.fetchval(
            "SELECT count(*) FROM members WHERE tenant_id = $1 AND erased_at IS NULL",
            uuid.UUID(tenant_id),
        )
        purchases, recency, tenure, recent, previous = (
            np.asarray(row[i], dtype=np.int64) for i in range(1, 6)
        )
        return members, (purchases, recency, tenure, recent, previous)

    async def member_history(
        self,
        tenant_id: str,
        member_id: str,
        end: datetime,
        as_of: date,
        time_zone: str,
        recent_from: datetime,
        previous_from: datetime,
    ) -> MemberHistory | None:
        conn = await driver_connection(self.session)
        row = await conn.fetchrow(
            LIFECYCLE,
            uuid.UUID(tenant_id),
            end,
            as_of,
            time_zone,
            recent_from,
            previous_from,
            uuid.UUID(member_id),
        )
        if row is None:
            return None
        return MemberHistory(
            row["purchases"],
            row["first_day"],
            row["last_day"],
            row["recency"],
            row["tenure"],
            row["recent"],
            row["previous"],
        )

    async def member_exists(self, tenant_id: str, member_id: str) -> bool:
        mid = as_uuid(member_id)
        if mid is None:
            return False
        found = await self.session.scalar(
            select(MemberRow.id).where(
                MemberRow.tenant_id == uuid.UUID(tenant_id), MemberRow.id == mid
            )
        )
        return found is not None
