"""The tenant's pricing settings: the stacking mode (会员控制参数 E3)."""

from __future__ import annotations

from app.domain.access import Principal
from app.domain.pricing import StackingMode
from app.uow import UnitOfWork


async def get_pricing_settings(uow: UnitOfWork, principal: Principal) -> StackingMode:
    async with uow:
        return await uow.pricing.settings(principal.tenant_id)


async def put_pricing_settings(
    uow: UnitOfWork, principal: Principal, stacking_mode: StackingMode
) -> StackingMode:
    """Bumps the pricing version with the change, so every worker prices in the new mode."""
    async with uow:
        await uow.pricing.put_settings(principal.tenant_id, stacking_mode)
        await uow.pricing.bump_pricing_version(principal.tenant_id)
        await uow.commit()
    return stacking_mode
