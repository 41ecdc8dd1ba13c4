"""The rewards catalogue (rewards): the offers, their stock, and what an exchange reads."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.card_lifecycle import CardStatus
from app.domain.rewards import Reward, RewardTerms
from app.domain.voucher_terms import References
from app.domain.vouchers import Template
from app.models import CardRow, RewardRow, VoucherTemplateRow
from app.repositories.tenancy import as_uuid
from app.repositories.voucher_rules import references
from app.repositories.vouchers import template_of


def _reward(row: RewardRow) -> Reward:
    return Reward(
        code=row.code,
        name=row.name,
        template=row.template_code,
        points=row.points,
        stock=row.stock,
        card_classes=tuple(row.card_classes),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        active=row.active,
        exchanged=row.exchanged,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _values(terms: RewardTerms) -> dict:
    return {
        "name": terms.name,
        "template_code": terms.template,
        "points": terms.points,
        "stock": terms.stock,
        "card_classes": sorted(set(terms.card_classes)),
        "starts_at": terms.starts_at,
        "ends_at": terms.ends_at,
        "active": terms.active,
    }


class RewardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def references(self, tenant_id: str, **codes: Collection[str]) -> References:
        return await references(self.session, tenant_id, **codes)

    async def add(self, tenant_id: str, terms: RewardTerms) -> Reward | None:
        """The reward created; None when the code is taken."""
        row = await self.session.scalar(
            insert(RewardRow)
            .values(tenant_id=uuid.UUID(tenant_id), code=terms.code, **_values(terms))
            .on_conflict_do_nothing()
            .returning(RewardRow)
        )
        return _reward(row) if row is not None else None

    async def get(self, tenant_id: str, code: str, *, lock: bool = False) -> Reward | None:
        query = select(RewardRow).where(
            RewardRow.tenant_id == uuid.UUID(tenant_id), RewardRow.code == code
        )
        query = query.with_for_update() if lock else query
        row = await self.session.scalar(query.execution_options(populate_existing=True))
        return _reward(row) if row is not None else None

    async def list(
        self, tenant_id: str, after: str | None, limit: int, active: bool | None
    ) -> list[Reward]:
        r = RewardRow
        query = select(r).where(r.tenant_id == uuid.UUID(tenant_id))
        if after is not None:
            query = query.where(r.code > after)
        if active is not None:
            query = query.where(r.active == active)
        rows = await self.session.scalars(query.order_by(r.code).limit(limit + 1))
        return [_reward(row) for row in rows]

    async def save(self, tenant_id: str, terms: RewardTerms) -> Reward:
        r = RewardRow
        row = await self.session.scalar(
            update(r)
            .where(r.tenant_id == uuid.UUID(tenant_id), r.code == terms.code)
            .values(**_values(terms), updated_at=func.now())
            .returning(r)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        assert row is not None  # locked by the caller
        return _reward(row)

    async def take_one(self, tenant_id: str, code: str) -> bool:
        """Count one exchange, while the reward is active and has stock (None: unlimited).
        Racing exchanges queue on the row; each re-checks the guard on the row as the one
        before it left it, so the stock never goes below 0."""
        r = RewardRow
        taken = await self.session.scalar(
            update(r)
            .where(
                r.tenant_id == uuid.UUID(tenant_id),
                r.code == code,
                r.active,
                or_(r.stock.is_(None), r.stock > 0),
            )
            .values(stock=r.stock - 1, exchanged=r.exchanged + 1, updated_at=func.now())
            .returning(r.code)
            .execution_options(synchronize_session=False)
        )
        return taken is not None

    async def template(self, tenant_id: str, code: str) -> Template | None:
        row = await self.session.scalar(
            select(VoucherTemplateRow).where(
                VoucherTemplateRow.tenant_id == uuid.UUID(tenant_id),
                VoucherTemplateRow.code == code,
            )
        )
        return template_of(row) if row is not None else None

    async def member_classes(self, tenant_id: str, member_id: str, now: datetime) -> frozenset[str]:
        """The classes of the member's cards that are active now."""
        member = as_uuid(member_id)
        if member is None:
            return frozenset()
        c = CardRow
        rows = await self.session.scalars(
            select(c.class_code)
            .where(
                c.tenant_id == uuid.UUID(tenant_id),
                c.member_id == member,
                c.status == CardStatus.ACTIVE.value,
                or_(c.expires_at.is_(None), c.expires_at > now),
            )
            .distinct()
        )
        return frozenset(rows)
