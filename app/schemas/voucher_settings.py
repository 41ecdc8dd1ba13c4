"""The tenant's voucher settings (docs/domain §12)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.vouchers import OnReturn
from app.schemas.common import Rate4, Strict
from app.schemas.enums import VoucherOnReturn

_EXAMPLE: JsonDict = {"voucher_on_return": "keep", "gross_margin": "0.3500"}
ON_RETURN = (
    "What a return does to a voucher the sale was paid with: `keep` (the default: the "
    "discount stays with the customer), `deduct` (the refund is reduced so that what is kept "
    "still meets the voucher's conditions), `restore` (a full return reinstates the voucher "
    "if it is still valid)."
)
MARGIN = (
    "The tenant's gross margin (0 to 1, 4 decimals): a campaign's incremental_return = "
    "(incremental revenue × gross_margin − cost) / cost. null (the default): not computed."
)


class VoucherSettingsUpdate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    voucher_on_return: VoucherOnReturn = Field(default=OnReturn.KEEP, description=ON_RETURN)
    gross_margin: Rate4 | None = Field(default=None, description=MARGIN)


class VoucherSettingsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    voucher_on_return: VoucherOnReturn = Field(description=ON_RETURN)
    gross_margin: Rate4 | None = Field(description=MARGIN)
