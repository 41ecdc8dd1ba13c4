"""Member groups: the saved criteria and the generated member lists.

``generate`` is one set-based ``INSERT ... SELECT`` (attributes, one aggregation of the
tenant's purchases in the range, optional ranking); ``groups_of`` answers which groups a
member is listed in (for targeting, e.g. multiplier events).
"""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.member_groups import (
    Criteria,
    GroupStatus,
    RankBy,
    age_to_birth_years,
    criteria_from_json,
)
from app.models import MemberGroupMemberRow, MemberGroupRow, MemberRow
from app.repositories.tenancy import as_uuid


@dataclass(frozen=True)
class MemberGroup:
    code: str
    name: str
    criteria: Criteria
    status: GroupStatus
    member_count: int | None
    generated_at: datetime | None
    generated_as_of: date | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class GroupMember:
    member_id: str
    member_ref: str | None


def _group(row: MemberGroupRow) -> MemberGroup:
    return MemberGroup(
        row.code,
        row.name,
        criteria_from_json(row.criteria),
        GroupStatus(row.status),
        row.member_count,
        row.generated_at,
        row.generated_as_of,
        row.created_at,
        row.updated_at,
    )


# Per member: net spend and purchases, over all history or within [start, end).
_SPEND = (
    " LEFT JOIN (SELECT t.member_id, sum(t.amount) AS amount, count(*) AS n"
    " FROM member_transactions AS t WHERE t.tenant_id = :tenant"
    " GROUP BY t.member_id) AS b ON b.member_id = m.id"
)
_SPEND_IN_RANGE = (
    " LEFT JOIN (SELECT t.member_id, sum(t.amount) AS amount, count(*) AS n"
    " FROM member_transactions AS t WHERE t.tenant_id = :tenant"
    " AND t.occurred_at >= :start AND t.occurred_at < :end"
    " GROUP BY t.member_id) AS b ON b.member_id = m.id"
)


_INSERT = (
    "INSERT INTO member_group_members (tenant_id, group_code, member_id) "
    "SELECT :tenant, :code, s.id FROM ({selection}) AS s"
)


def _selection(criteria: Criteria, as_of: date, latest_run: int | None) -> tuple[str, dict]:
    """The members meeting ``criteria`` as SQL (``SELECT id ...``) and its parameters."""
    params: dict = {}
    where = ["m.tenant_id = :tenant", "m.erased_at IS NULL"]
    joins = ""
    order = ""
    a, c, r = criteria.attributes, criteria.consumption, criteria.ranking
    if a is not None:
        if a.genders:
            where.append("m.gender = ANY(CAST(:genders AS text[]))")
            params["genders"] = list(a.genders)
        if a.age is not None:
            earliest, latest = age_to_birth_years(a.age, as_of.year)
            where.append("m.birth_year IS NOT NULL")
            if earliest is not None:
                where.append("m.birth_year >= :earliest")
                params["earliest"] = earliest
            if latest is not None:
                where.append("m.birth_year <= :latest")
                params["latest"] = latest
        if a.regions:
            where.append("m.region = ANY(CAST(:regions AS text[]))")
            params["regions"] = list(a.regions)
        if a.tags:
            where.append("m.tags && CAST(:tags AS text[])")
            params["tags"] = list(a.tags)
        if a.card_classes:
            where.append(
                "EXISTS (SELECT 1 FROM cards AS k WHERE k.tenant_id = m.tenant_id"
                " AND k.member_id = m.id AND k.class_code = ANY(CAST(:classes AS text[]))"
                " AND k.status = 'active' AND (k.expires_at IS NULL OR k.expires_at > now()))"
            )
            params["classes"] = list(a.card_classes)
        if a.rfm_segments:
            where.append(
                "EXISTS (SELECT 1 FROM rfm_scores AS s WHERE s.run_id = :run"
                " AND s.member_id = m.id AND s.segment = ANY(CAST(:segments AS text[])))"
            )
            params["run"] = latest_run if latest_run is not None else -1
            params["segments"] = list(a.rfm_segments)
    if c is not None:
        joins = _SPEND_IN_RANGE
    elif r is not None:
        joins = _SPEND
    if c is not None:
        if c.amount is not None and c.amount.min is not None:
            where.append("coalesce(b.amount, 0) >= :amount_min")
            params["amount_min"] = c.amount.min
        if c.amount is not None and c.amount.max is not None:
            where.append("coalesce(b.amount, 0) <= :amount_max")
            params["amount_max"] = c.amount.max
        if c.count.min:
            where.append("coalesce(b.n, 0) >= :count_min")
            params["count_min"] = c.count.min
        if c.count.max is not None:
            where.append("coalesce(b.n, 0) <= :count_max")
            params["count_max"] = c.count.max
        # Lines of sales recorded through the API in the range (imported history has none).
        line_match = (
            "EXISTS (SELECT 1 FROM sales AS x CROSS JOIN LATERAL"
            " jsonb_array_elements(CASE WHEN jsonb_typeof(x.detail -> 'lines') = 'array'"
            " THEN x.detail -> 'lines' ELSE '[]'::jsonb END) AS l"
            " WHERE x.tenant_id = m.tenant_id AND x.member_id = m.id"
            " AND x.occurred_at >= :start AND x.occurred_at < :end AND ({}))"
        )
        if c.categories:
            where.append(
                line_match.format(
                    "l.value ->> 'major_category' = ANY(CAST(:categories AS text[]))"
                    " OR l.value ->> 'mid_category' = ANY(CAST(:categories AS text[]))"
                    " OR l.value ->> 'minor_category' = ANY(CAST(:categories AS text[]))"
                )
            )
            params["categories"] = list(c.categories)
        if c.brands:
            where.append(line_match.format("l.value ->> 'brand' = ANY(CAST(:brands AS text[]))"))
            params["brands"] = list(c.brands)
    if r is not None:
        value = "b.amount" if r.by is RankBy.AMOUNT else "b.n"
        where.append(f"{value} > 0")
        order = f" ORDER BY {value} DESC, m.id LIMIT :top"
        params["top"] = r.top
    sql = f"SELECT m.id FROM members AS m{joins} WHERE {' AND '.join(where)}{order}"  # noqa: S608
    return sql, params


class MemberGroupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, tenant_id: str, code: str, name: str, criteria: Criteria) -> bool:
        """False if the code is taken."""
        g = MemberGroupRow
        added = await self.session.scalar(
            insert(g)
            .values(
                tenant_id=uuid.UUID(tenant_id),
                code=code,
                name=name,
                criteria=criteria.as_json(),
                status=GroupStatus.NEW.value,
            )
            .on_conflict_do_nothing(index_elements=[g.tenant_id, g.code])
            .returning(g.code)
        )
        return added is not None

    async def get(self, tenant_id: str, code: str, *, lock: bool = False) -> MemberGroup | None:
        g = MemberGroupRow
        query = select(g).where(g.tenant_id == uuid.UUID(tenant_id), g.code == code)
        if lock:
            query = query.with_for_update()
        row = await self.session.scalar(query.execution_options(populate_existing=True))
        return _group(row) if row else None

    async def list(self, tenant_id: str, after: str | None, limit: int) -> list[MemberGroup]:
        g = MemberGroupRow
        query = select(g).where(g.tenant_id == uuid.UUID(tenant_id))
        if after is not None:
            query = query.where(g.code > after)
        rows = await self.session.scalars(query.order_by(g.code).limit(limit + 1))
        return [_group(r) for r in rows]

    async def update(self, tenant_id: str, code: str, **values) -> None:
        g = MemberGroupRow
        if "criteria" in values:
            values["criteria"] = values["criteria"].as_json()
        if "status" in values:
            values["status"] = values["status"].value
        await self.session.execute(
            update(g)
            .where(g.tenant_id == uuid.UUID(tenant_id), g.code == code)
            .values(**values, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )

    async def generate(
        self, tenant_id: str, code: str, criteria: Criteria, as_of: date, bounds, latest_run
    ) -> int:
        """Replace the group's list by the members meeting ``criteria`` now; their number.
        ``bounds``: the consumption range as UTC instants [start, end)."""
        tid = uuid.UUID(tenant_id)
        await self.session.execute(
            delete(MemberGroupMemberRow).where(
                MemberGroupMemberRow.tenant_id == tid, MemberGroupMemberRow.group_code == code
            )
        )
        selection, params = _selection(criteria, as_of, latest_run)
        params = {**params, "tenant": tid, "code": code}
        if bounds is not None:
            params["start"], params["end"] = bounds
        # Only constant fragments of this module make up the statement; values are bound.
        statement = _INSERT.replace("{selection}", selection)
        result = await self.session.execute(text(statement), params)
        return cast("CursorResult[Any]", result).rowcount

    async def members(
        self, tenant_id: str, code: str, after: uuid.UUID | None, limit: int
    ) -> builtins.list[GroupMember]:
        gm, m = MemberGroupMemberRow, MemberRow
        query = (
            select(gm.member_id, m.external_ref)
            .join(m, (m.tenant_id == gm.tenant_id) & (m.id == gm.member_id))
            .where(gm.tenant_id == uuid.UUID(tenant_id), gm.group_code == code)
        )
        if after is not None:
            query = query.where(gm.member_id > after)
        rows = await self.session.execute(query.order_by(gm.member_id).limit(limit + 1))
        return [GroupMember(str(r.member_id), r.external_ref) for r in rows]

    async def groups_of(self, tenant_id: str, member_id: str) -> set[str]:
        """Codes of the groups whose generated list holds the member (a stale group keeps its
        list until it is generated again)."""
        mid = as_uuid(member_id)
        if mid is None:
            return set()
        gm = MemberGroupMemberRow
        rows = await self.session.scalars(
            select(gm.group_code).where(gm.tenant_id == uuid.UUID(tenant_id), gm.member_id == mid)
        )
        return set(rows)
