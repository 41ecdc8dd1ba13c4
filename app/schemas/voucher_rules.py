"""返券 rules. Ranges, levels, references and the window are checked by
``app.domain.voucher_rules`` (one 422 naming every bad field)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.voucher_rules import StoredVoucherRule, VoucherRuleTerms
from app.domain.vouchers import SCOPE_LEVELS
from app.schemas.common import Instant, JsonBool, JsonInt, Patch, PositiveMoney, Strict

_TERMS: JsonDict = {
    "code": "EVERY200",
    "name": "每满200返20",
    "template": "CNY20",
    "per_amount": "200.00",
    "max_per_receipt": 5,
    "card_classes": ["GOLD"],
    "stores": ["S01", "S02"],
    "include": {"major_category": ["COSMETICS"]},
    "exclude": {"brand": ["LAMER"]},
    "starts_at": "2026-12-01T00:00:00+08:00",
    "ends_at": "2027-01-01T00:00:00+08:00",
    "active": True,
}
_READ: JsonDict = {
    **_TERMS,
    "starts_at": "2026-11-30T16:00:00Z",
    "ends_at": "2026-12-31T16:00:00Z",
    "created_at": "2026-11-23T08:00:00Z",
    "updated_at": "2026-11-23T08:00:00Z",
}

ScopeCodes = dict[str, list[Annotated[str, Field(max_length=64)]]]

CODE = "1-32 letters, digits, '_' or '-', starting with a letter or digit; immutable."
TEMPLATE = "The code of the voucher template a sale earns."
PER_AMOUNT = (
    "One voucher per full amount of the receipt's eligible lines (their amount not paid with "
    "vouchers): 200.00 with a 20 CNY template is 每满200返20."
)
MAX_PER_RECEIPT = "At most this many vouchers per receipt (≥ 1); null: no cap."
CLASSES = "Card classes whose sales earn (the card of the sale). Empty: any."
STORES = "Stores whose sales earn. Empty: every store."
LEVELS = ", ".join(f"`{level}`" for level in SCOPE_LEVELS)
INCLUDE = (
    f"Goods that count, `{{level: [codes]}}` with levels {LEVELS}: a line with a listed code "
    "at any listed level. Empty: every line."
)
EXCLUDE = f"Goods that never count, `{{level: [codes]}}` (levels {LEVELS}); wins over include."
STARTS_AT = "Sales from (inclusive); null: no start."
ENDS_AT = "Sales until (exclusive); after starts_at. Null: no end."
ACTIVE = "false pauses the rule."


class VoucherRuleCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_TERMS]})

    code: str = Field(min_length=1, max_length=64, description=CODE)
    name: str = Field(min_length=1, max_length=200)
    template: str = Field(min_length=1, max_length=64, description=TEMPLATE)
    per_amount: PositiveMoney = Field(description=PER_AMOUNT)
    max_per_receipt: JsonInt | None = Field(default=None, description=MAX_PER_RECEIPT)
    card_classes: list[str] = Field(default_factory=list, max_length=200, description=CLASSES)
    stores: list[str] = Field(default_factory=list, max_length=200, description=STORES)
    include: ScopeCodes = Field(default_factory=dict, max_length=10, description=INCLUDE)
    exclude: ScopeCodes = Field(default_factory=dict, max_length=10, description=EXCLUDE)
    starts_at: Instant | None = Field(default=None, description=STARTS_AT)
    ends_at: Instant | None = Field(default=None, description=ENDS_AT)
    active: JsonBool = Field(default=True, description=ACTIVE)

    def terms(self) -> VoucherRuleTerms:
        return VoucherRuleTerms(**_domain(dict(self)))


def _domain(values: dict) -> dict:
    """Lists as tuples, as the domain keeps them."""
    out = dict(values)
    for name in ("card_classes", "stores"):
        if name in out:
            out[name] = tuple(out[name])
    for name in ("include", "exclude"):
        if name in out:
            out[name] = {level: tuple(codes) for level, codes in out[name].items()}
    return out


class VoucherRuleUpdate(Patch):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"active": False}, {"per_amount": "300.00", "max_per_receipt": 3}]
        }
    )
    nullable = frozenset({"max_per_receipt", "starts_at", "ends_at"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    template: str | None = Field(default=None, min_length=1, max_length=64, description=TEMPLATE)
    per_amount: PositiveMoney | None = Field(default=None, description=PER_AMOUNT)
    max_per_receipt: JsonInt | None = Field(default=None, description=MAX_PER_RECEIPT)
    card_classes: list[str] | None = Field(default=None, max_length=200, description=CLASSES)
    stores: list[str] | None = Field(default=None, max_length=200, description=STORES)
    include: ScopeCodes | None = Field(default=None, max_length=10, description=INCLUDE)
    exclude: ScopeCodes | None = Field(default=None, max_length=10, description=EXCLUDE)
    starts_at: Instant | None = Field(default=None, description=STARTS_AT)
    ends_at: Instant | None = Field(default=None, description=ENDS_AT)
    active: JsonBool | None = Field(default=None, description=ACTIVE)

    def changes(self) -> dict:
        return _domain(super().changes())


class VoucherRuleRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_READ]})

    code: str
    name: str
    template: str
    per_amount: PositiveMoney
    max_per_receipt: int | None
    card_classes: list[str]
    stores: list[str]
    include: dict[str, list[str]]
    exclude: dict[str, list[str]]
    starts_at: datetime | None
    ends_at: datetime | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rule: StoredVoucherRule) -> Self:
        return cls.model_validate(asdict(rule))
