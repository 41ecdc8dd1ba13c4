"""Multiplier events and warm rules (docs/domain §3.2)."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.points_rules import (
    EVENT_FIELDS,
    WARM_FIELDS,
    EventTerms,
    MultiplierEvent,
    WarmRule,
    WarmTerms,
    condition_json,
    condition_of,
)
from app.models import MultiplierEventRow, WarmRuleRow
from app.repositories.paging import newest_first

M, W = MultiplierEventRow, WarmRuleRow


def _event(row: MultiplierEventRow) -> MultiplierEvent:
    return MultiplierEvent(
        id=row.id,
        name=row.name,
        k=row.k.normalize() if row.k != row.k.to_integral() else row.k.quantize(1),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        store_codes=tuple(row.store_codes),
        card_classes=tuple(row.card_classes),
        member_groups=tuple(row.member_groups),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _warm(row: WarmRuleRow) -> WarmRule:
    return WarmRule(
        id=row.id,
        name=row.name,
        points=row.points,
        condition=condition_of(row.condition),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _event_values(terms: EventTerms) -> dict:
    values = {name: getattr(terms, name) for name in EVENT_FIELDS}
    values["store_codes"] = list(terms.store_codes)
    values["card_classes"] = list(terms.card_classes)
    values["member_groups"] = list(terms.member_groups)
    return values


def _warm_values(terms: WarmTerms) -> dict:
    values = {name: getattr(terms, name) for name in WARM_FIELDS}
    values["condition"] = condition_json(terms.condition)
    return values


class PointsRulesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- multiplier events ---------------------------------------------------------------

    async def add_event(self, tenant_id: str, terms: EventTerms) -> MultiplierEvent:
        row = M(tenant_id=uuid.UUID(tenant_id), **_event_values(terms))
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row)
        return _event(row)

    async def _event_row(self, tenant_id: str, event_id: int) -> MultiplierEventRow | None:
        return await self.session.scalar(
            select(M)
            .where(M.tenant_id == uuid.UUID(tenant_id), M.id == event_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def get_event(self, tenant_id: str, event_id: int) -> MultiplierEvent | None:
        row = await self._event_row(tenant_id, event_id)
        return _event(row) if row else None

    async def update_event(
        self, tenant_id: str, event_id: int, terms: EventTerms
    ) -> MultiplierEvent:
        row = await self._event_row(tenant_id, event_id)
        for name, value in _event_values(terms).items():
            setattr(row, name, value)
        row.updated_at = func.now()
        await self.session.flush()
        await self.session.refresh(row)
        return _event(row)

    async def delete_event(self, tenant_id: str, event_id: int) -> bool:
        result = await self.session.execute(
            delete(M).where(M.tenant_id == uuid.UUID(tenant_id), M.id == event_id)
        )
        return result.rowcount > 0

    async def list_events(
        self, tenant_id: str, before: int | None, limit: int
    ) -> list[MultiplierEvent]:
        """Newest first; one more than ``limit`` (to tell whether a page follows)."""
        query = select(M).where(M.tenant_id == uuid.UUID(tenant_id))
        rows = await self.session.scalars(newest_first(query, M.id, before, limit))
        return [_event(row) for row in rows]

    async def all_events(self, tenant_id: str) -> list[MultiplierEvent]:
        rows = await self.session.scalars(
            select(M).where(M.tenant_id == uuid.UUID(tenant_id)).order_by(M.id)
        )
        return [_event(row) for row in rows]

    # --- warm rules ----------------------------------------------------------------------

    async def add_warm(self, tenant_id: str, terms: WarmTerms) -> WarmRule:
        row = W(tenant_id=uuid.UUID(tenant_id), **_warm_values(terms))
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row)
        return _warm(row)

    async def _warm_row(self, tenant_id: str, rule_id: int) -> WarmRuleRow | None:
        return await self.session.scalar(
            select(W)
            .where(W.tenant_id == uuid.UUID(tenant_id), W.id == rule_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def get_warm(self, tenant_id: str, rule_id: int) -> WarmRule | None:
        row = await self._warm_row(tenant_id, rule_id)
        return _warm(row) if row else None

    async def update_warm(self, tenant_id: str, rule_id: int, terms: WarmTerms) -> WarmRule:
        row = await self._warm_row(tenant_id, rule_id)
        for name, value in _warm_values(terms).items():
            setattr(row, name, value)
        row.updated_at = func.now()
        await self.session.flush()
        await self.session.refresh(row)
        return _warm(row)

    async def delete_warm(self, tenant_id: str, rule_id: int) -> bool:
        result = await self.session.execute(
            delete(W).where(W.tenant_id == uuid.UUID(tenant_id), W.id == rule_id)
        )
        return result.rowcount > 0

    async def list_warm(self, tenant_id: str, before: int | None, limit: int) -> list[WarmRule]:
        query = select(W).where(W.tenant_id == uuid.UUID(tenant_id))
        rows = await self.session.scalars(newest_first(query, W.id, before, limit))
        return [_warm(row) for row in rows]

    async def all_warm(self, tenant_id: str) -> list[WarmRule]:
        """Active ones only: inactive rules never give points."""
        rows = await self.session.scalars(
            select(W).where(W.tenant_id == uuid.UUID(tenant_id), W.active).order_by(W.id)
        )
        return [_warm(row) for row in rows]
