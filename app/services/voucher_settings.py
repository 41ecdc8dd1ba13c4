"""The tenant's voucher settings (docs/domain §12): read, and replaced (audited)."""

from __future__ import annotations

from decimal import Decimal

from app.domain.access import Principal
from app.domain.audit import changed_fields
from app.domain.voucher_settings import VoucherSettings, voucher_settings
from app.domain.vouchers import OnReturn
from app.uow import UnitOfWork

FIELDS = ("voucher_on_return", "gross_margin")


async def get_settings(uow: UnitOfWork, who: Principal) -> VoucherSettings:
    async with uow:
        return await uow.voucher_settings.get(who.tenant_id)


async def put_settings(
    uow: UnitOfWork, who: Principal, voucher_on_return: OnReturn, gross_margin: Decimal | None
) -> VoucherSettings:
    """Replace both (absent ones take their defaults); audited as ``voucher_settings``."""
    new = voucher_settings(voucher_on_return, gross_margin)
    async with uow:
        old = await uow.voucher_settings.get(who.tenant_id, lock=True)
        await uow.voucher_settings.put(who.tenant_id, new)
        await uow.audit.write(
            who.tenant_id,
            "voucher_settings",
            who.tenant_id,
            "update",
            who.key_name,
            changed_fields(old, new, FIELDS),
        )
        await uow.commit()
    return new
