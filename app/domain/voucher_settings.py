"""A tenant's voucher settings (docs/domain §12). Pure.

``voucher_on_return`` says what a return does to a voucher the sale was paid with (keep,
deduct, restore); ``gross_margin`` turns a campaign's incremental revenue into its incremental
return (none set: the return is not computed)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.errors import Invalid
from app.domain.vouchers import OnReturn

PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class VoucherSettings:
    voucher_on_return: OnReturn = OnReturn.KEEP
    gross_margin: Decimal | None = None


def voucher_settings(voucher_on_return: OnReturn, gross_margin: Decimal | None) -> VoucherSettings:
    if gross_margin is not None and not (
        Decimal(0) <= gross_margin <= Decimal(1) and gross_margin == gross_margin.quantize(PLACES)
    ):
        raise Invalid(
            "invalid_gross_margin",
            "gross_margin is a fraction from 0 to 1 with at most 4 decimals.",
            field="gross_margin",
        )
    margin = None if gross_margin is None else gross_margin.quantize(PLACES)
    return VoucherSettings(OnReturn(voucher_on_return), margin)
