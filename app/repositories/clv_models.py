"""Stored CLV models: the per-member calibration summary in SQL, predictions written back with
a binary COPY, models and their members read back.

The summary follows the BG/NBD conventions (lifetimes' ``summary_data_from_transaction_data``
with daily frequency): purchases on the same calendar day (tenant time zone) are one; x =
purchase days − 1; recency = last day − first day; T = calibration end − first day (in days
here, the service converts to its unit); monetary = the mean of the repeat days' amounts.
"""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ClvModelMemberRow, ClvModelRow, MemberRow
from app.repositories.bulk import copy_columns, driver_connection
from app.repositories.paging import newest_first

QUADRANTS = ("vip", "improve", "maintain", "abandon")

SUMMARY_TABLE = """
CREATE TEMP TABLE clv_rows (
    n int, member_id uuid, x int, recency_days int, t_days int, monetary numeric, total numeric
) ON COMMIT DROP
"""
# Days of purchases up to the end of the calibration day ($2); as of that day ($3).
SUMMARY = """
INSERT INTO clv_rows (n, member_id, x, recency_days, t_days, monetary, total)
SELECT row_number() OVER (ORDER BY s.member_id), s.member_id, s.x, s.last_day - s.first_day,
       $3::date - s.first_day, s.monetary, s.total
FROM (SELECT k.member_id, count(*) - 1 AS x, min(k.day) AS first_day, max(k.day) AS last_day,
             sum(k.amount) AS total,
             coalesce(sum(k.amount) FILTER (WHERE k.n > 1) / nullif(count(*) - 1, 0), 0)
                 AS monetary
      FROM (SELECT d.member_id, d.day, d.amount,
                   row_number() OVER (PARTITION BY d.member_id ORDER BY d.day) AS n
            FROM (SELECT t.member_id, (t.occurred_at AT TIME ZONE $4)::date AS day,
                         sum(t.amount) AS amount
                  FROM member_transactions AS t
                  WHERE t.tenant_id = $1 AND t.occurred_at < $2
                  GROUP BY 1, 2) AS d) AS k
      GROUP BY k.member_id) AS s
"""
SUMMARY_ARRAYS = """
SELECT coalesce(array_agg(x ORDER BY n), '{}'), coalesce(array_agg(recency_days ORDER BY n), '{}'),
       coalesce(array_agg(t_days ORDER BY n), '{}'),
       coalesce(array_agg(monetary::float8 ORDER BY n), '{}'),
       coalesce(array_agg(total::float8 ORDER BY n), '{}')
FROM clv_rows
"""
OUT_TABLE = """
CREATE TEMP TABLE clv_out (
    n int, p_alive float8, expected float8, average float8, historical float8,
    current_value float8, potential float8, total float8, quadrant int2
) ON COMMIT DROP
"""
# Money to the fen (half up, as numeric rounds); recency and T in the model's unit ($3 days).
STORE = """
INSERT INTO clv_model_members (model_id, member_id, frequency, recency, t, monetary, p_alive,
                               expected_purchases, expected_average_value, historical,
                               current_value, potential, total, quadrant)
SELECT $1, r.member_id, r.x, r.recency_days / $2::float8, r.t_days / $2::float8,
       round(r.monetary, 2), o.p_alive, o.expected, round(o.average::numeric, 2),
       round(o.historical::numeric, 2), round(o.current_value::numeric, 2),
       round(o.potential::numeric, 2), round(o.total::numeric, 2), ($3::text[])[o.quadrant + 1]
FROM clv_rows AS r JOIN clv_out AS o ON o.n = r.n
ORDER BY r.member_id
"""


@dataclass(frozen=True)
class Summary:
    frequency: np.ndarray  # repeat purchase days
    recency_days: np.ndarray
    t_days: np.ndarray
    monetary: np.ndarray  # mean of the repeat days' amounts (0 without a repeat)
    total: np.ndarray  # all spend to date


@dataclass(frozen=True)
class ClvModel:
    id: int
    time_unit: str
    calibration_end: date
    annual_discount_rate: Decimal
    horizon_periods: int
    gross_margin: Decimal
    value_thresholds: dict
    customers: int
    fit: dict
    duration_ms: int
    created_at: datetime


@dataclass(frozen=True)
class ClvMember:
    member_id: str
    member_ref: str | None
    frequency: int
    recency: float
    t: float
    monetary: Decimal
    p_alive: float
    expected_purchases: float
    expected_average_value: Decimal
    historical: Decimal
    current: Decimal
    potential: Decimal
    total: Decimal
    quadrant: str


def _model(row: ClvModelRow) -> ClvModel:
    return ClvModel(
        row.id,
        row.time_unit,
        row.calibration_end,
        row.annual_discount_rate,
        row.horizon_periods,
        row.gross_margin,
        row.value_thresholds,
        row.customers,
        row.fit,
        row.duration_ms,
        row.created_at,
    )


class ClvModelRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def summarise(
        self, tenant_id: str, end: datetime, calibration_end: date, time_zone: str
    ) -> Summary:
        """Every member with a purchase before ``end``, in a temporary table and as arrays."""
        conn = await driver_connection(self.session)
        await conn.execute("SET LOCAL work_mem = '256MB'")
        await conn.execute("SET LOCAL jit = off")
        await conn.execute(SUMMARY_TABLE)
        await conn.execute(SUMMARY, uuid.UUID(tenant_id), end, calibration_end, time_zone)
        x, recency, t, monetary, total = await conn.fetchrow(SUMMARY_ARRAYS)
        return Summary(
            np.asarray(x, dtype=np.float64),
            np.asarray(recency, dtype=np.float64),
            np.asarray(t, dtype=np.float64),
            np.asarray(monetary, dtype=np.float64),
            np.asarray(total, dtype=np.float64),
        )

    async def next_id(self) -> int:
        conn = await driver_connection(self.session)
        return await conn.fetchval("SELECT nextval(pg_get_serial_sequence('clv_models', 'id'))")

    async def store_members(
        self, model_id: int, unit_days: float, columns: dict[str, np.ndarray], quadrant: np.ndarray
    ) -> None:
        """The summarised members' predictions (arrays in the summary's order)."""
        conn = await driver_connection(self.session)
        await conn.execute(OUT_TABLE)
        n = np.arange(1, len(quadrant) + 1, dtype=np.int32)
        names = ["p_alive", "expected", "average", "historical", "current_value", "potential"]
        await copy_columns(
            conn,
            "clv_out",
            ["n", *names, "total", "quadrant"],
            [("int4", n)]
            + [("float8", columns[name]) for name in names]
            + [("float8", columns["total"]), ("int2", quadrant)],
        )
        await conn.execute("ANALYZE clv_rows")
        await conn.execute("ANALYZE clv_out")
        await conn.execute(STORE, model_id, unit_days, list(QUADRANTS))

    async def add(self, tenant_id: str, model_id: int, **values) -> ClvModel:
        row = ClvModelRow(id=model_id, tenant_id=uuid.UUID(tenant_id), **values)
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row)
        return _model(row)

    async def get(self, tenant_id: str, model_id: int) -> ClvModel | None:
        row = await self.session.scalar(
            select(ClvModelRow).where(
                ClvModelRow.tenant_id == uuid.UUID(tenant_id), ClvModelRow.id == model_id
            )
        )
        return _model(row) if row else None

    async def list(self, tenant_id: str, before: int | None, limit: int) -> list[ClvModel]:
        """The tenant's models, newest first, up to ``limit + 1``."""
        query = select(ClvModelRow).where(ClvModelRow.tenant_id == uuid.UUID(tenant_id))
        rows = await self.session.scalars(newest_first(query, ClvModelRow.id, before, limit))
        return [_model(r) for r in rows]

    async def members(
        self,
        tenant_id: str,
        model_id: int,
        quadrant: str | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> builtins.list[ClvMember]:
        c, m = ClvModelMemberRow, MemberRow
        query = (
            select(c, m.external_ref)
            .join(m, (m.tenant_id == uuid.UUID(tenant_id)) & (m.id == c.member_id))
            .where(c.model_id == model_id)
        )
        if quadrant is not None:
            query = query.where(c.quadrant == quadrant)
        if after is not None:
            query = query.where(c.member_id > after)
        rows = await self.session.execute(query.order_by(c.member_id).limit(limit + 1))
        return [
            ClvMember(
                str(r.member_id),
                ref,
                r.frequency,
                r.recency,
                r.t,
                r.monetary,
                r.p_alive,
                r.expected_purchases,
                r.expected_average_value,
                r.historical,
                r.current_value,
                r.potential,
                r.total,
                r.quadrant,
            )
            for r, ref in rows
        ]
