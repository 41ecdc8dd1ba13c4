"""A tenant's voucher settings: one row, or the defaults until it sets its own."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.voucher_settings import VoucherSettings
from app.domain.vouchers import OnReturn
from app.models import VoucherSettingsRow
from app.repositories.tenancy import as_uuid


class VoucherSettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: str, *, lock: bool = False) -> VoucherSettings:
        query = select(VoucherSettingsRow).where(VoucherSettingsRow.tenant_id == as_uuid(tenant_id))
        if lock:
            query = query.with_for_update()
        row = (await self.session.scalars(query)).first()
        if row is None:
            return VoucherSettings()
        return VoucherSettings(OnReturn(row.voucher_on_return), row.gross_margin)

    async def put(self, tenant_id: str, settings: VoucherSettings) -> None:
        s = VoucherSettingsRow
        values = {
            "voucher_on_return": settings.voucher_on_return.value,
            "gross_margin": settings.gross_margin,
        }
        await self.session.execute(
            insert(s)
            .values(tenant_id=as_uuid(tenant_id), **values)
            .on_conflict_do_update(
                index_elements=[s.tenant_id], set_={**values, "updated_at": func.now()}
            )
        )
