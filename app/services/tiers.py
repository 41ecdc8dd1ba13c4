"""Tier review: move cards up their class's upgrade chain on 12-month spend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from app.domain.access import Principal
from app.domain.card_lifecycle import add_months
from app.domain.tiers import upgrade_steps
from app.uow import UnitOfWork


@dataclass(frozen=True)
class TierChange:
    card_number: str
    member_id: str
    from_class: str
    to_class: str
    spend_12m: Decimal


async def apply_upgrades(
    uow: UnitOfWork, tenant_id: str, actor: str, now: datetime, member_id: str | None = None
) -> list[TierChange]:
    """Inside an open unit of work: upgrade every qualifying card (of one member, or all) and
    record one tier event per step with its reason. Sales call this for their member."""
    rules = await uow.tiers.rules(tenant_id)
    if not rules:
        return []
    changes = []
    since = add_months(now, -12)
    for candidate in await uow.tiers.candidates(tenant_id, since, now, member_id):
        steps = upgrade_steps(candidate.class_code, candidate.spend_12m, rules)
        if not steps:
            continue
        await uow.tiers.move(tenant_id, candidate.member_id, candidate.number, steps[-1].to_class)
        for step in steps:
            await uow.cards.add_event(
                tenant_id,
                candidate.member_id,
                candidate.number,
                "tier",
                step.from_class,
                step.to_class,
                step.reason(candidate.spend_12m),
                actor,
            )
        changes.append(
            TierChange(
                candidate.number,
                candidate.member_id,
                candidate.class_code,
                steps[-1].to_class,
                candidate.spend_12m,
            )
        )
    return changes


async def review_tiers(uow: UnitOfWork, who: Principal) -> tuple[datetime, list[TierChange]]:
    now = datetime.now(UTC)
    async with uow:
        changes = await apply_upgrades(uow, who.tenant_id, who.key_name, now)
        await uow.commit()
    return now, changes
