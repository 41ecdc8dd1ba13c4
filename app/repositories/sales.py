"""Sales' own settings: the tenant's sale limits. Sales and returns themselves are read and
written through app/repositories/ledger.py."""

from __future__ import annotations

import uuid

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.sales import SaleLimits
from app.models import SaleSettingsRow


class SalesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def limits(self, tenant_id: str) -> SaleLimits:
        """The tenant's limits; the defaults until it sets its own."""
        row = await self.session.get(SaleSettingsRow, uuid.UUID(tenant_id))
        if row is None:
            return SaleLimits()
        return SaleLimits(row.max_line_amount, row.max_receipt_amount)

    async def put_limits(self, tenant_id: str, limits: SaleLimits) -> None:
        s = SaleSettingsRow
        values = {
            "max_line_amount": limits.max_line_amount,
            "max_receipt_amount": limits.max_receipt_amount,
        }
        await self.session.execute(
            pg_insert(s)
            .values(tenant_id=uuid.UUID(tenant_id), **values)
            .on_conflict_do_update(
                index_elements=[s.tenant_id], set_={**values, "updated_at": func.now()}
            )
        )
