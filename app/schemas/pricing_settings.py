"""The tenant's pricing settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.pricing import StackingMode
from app.schemas.common import Strict

_EXAMPLE: JsonDict = {"stacking_mode": "threshold"}
STACKING_MODE = (
    "How a stackable member rate combines with a running promotion (折上折, 会员控制参数 E3): "
    "`threshold` (the default) applies the class's stack_rate to the promotion price when "
    "that price is at least stack_threshold_rate of the original; `multiply` always applies "
    "the member rate to the promotion price."
)


class PricingSettingsUpdate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    stacking_mode: StackingMode = Field(description=STACKING_MODE)


class PricingSettingsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    stacking_mode: StackingMode = Field(description=STACKING_MODE)
