from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_, select, update

from app.domain.tiers import UpgradeRule
from app.models import CardClassRow, CardRow, MemberSpendRow


@dataclass(frozen=True)
class UpgradeCandidate:
    number: str
    member_id: str
    class_code: str
    spend_12m: Decimal


class TierRepository:
    def __init__(self, session) -> None:
        self.session = session

    async def rules(self, tenant_id: str) -> dict[str, UpgradeRule]:
        c = CardClassRow
        rows = await self.session.execute(
            select(c.code, c.upgrade_to, c.upgrade_spend_12m).where(
                c.tenant_id == uuid.UUID(tenant_id), c.upgrade_to.is_not(None)
            )
        )
        return {code: UpgradeRule(to, spend) for code, to, spend in rows}

    async def candidates(
        self, tenant_id: str, since: datetime, now: datetime, member_id: str | None = None
    ) -> list[UpgradeCandidate]:
        """Usable cards whose member's spend since ``since`` reaches their class's upgrade
        threshold, locked for the upgrade. One set-based query, whatever the member count."""
        tid = uuid.UUID(tenant_id)
        totals = select(
            MemberSpendRow.member_id, func.sum(MemberSpendRow.amount).label("total")
        ).where(MemberSpendRow.tenant_id == tid, MemberSpendRow.occurred_at > since)
        if member_id is not None:
            totals = totals.where(MemberSpendRow.member_id == uuid.UUID(member_id))
        spend = totals.group_by(MemberSpendRow.member_id).subquery()
        c, k = CardRow, CardClassRow
        query = (
            select(c.number, c.member_id, c.class_code, spend.c.total)
            .join(k, (k.tenant_id == c.tenant_id) & (k.code == c.class_code))
            .join(spend, spend.c.member_id == c.member_id)
            .where(
                c.tenant_id == tid,
                c.status.in_(("active", "frozen")),
                or_(c.expires_at.is_(None), c.expires_at > now),
                k.upgrade_to.is_not(None),
                spend.c.total >= k.upgrade_spend_12m,
            )
            .order_by(c.number)
            .with_for_update(of=c)
        )
        rows = await self.session.execute(query)
        return [UpgradeCandidate(n, str(m), k_, total) for n, m, k_, total in rows]

    async def move(self, tenant_id: str, member_id: str, number: str, to_class: str) -> None:
        await self.session.execute(
            update(CardRow)
            .where(
                CardRow.tenant_id == uuid.UUID(tenant_id),
                CardRow.member_id == uuid.UUID(member_id),
                CardRow.number == number,
            )
            .values(class_code=to_class)
        )
