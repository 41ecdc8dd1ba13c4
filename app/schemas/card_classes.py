"""Card classes, their change log and sharing groups. Range and precision rules live in
``app.domain.card_classes``; these models check shapes and document the contract."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.card_classes import (
    CLASS_CODE,
    GROUP_CODE,
    MAX_SERIAL_LENGTH,
    MAX_VALIDITY_MONTHS,
    PREFIX,
    SUFFIX,
    ClassTerms,
    OverrideLevel,
    ShareOverride,
    Usage,
    Verification,
)
from app.schemas.common import (
    JsonBool,
    JsonInt,
    Money,
    Patch,
    PositiveMoney,
    Rate4,
    Strict,
)

MAX_SERIAL = 10**MAX_SERIAL_LENGTH - 1

_CLASS_EXAMPLE: JsonDict = {
    "code": "GOLD",
    "name": "Gold card",
    "usage": "member",
    "prefix": "G",
    "serial_length": 8,
    "serial_start": 1,
    "serial_end": 99999999,
    "check_digit_length": 1,
    "suffix": "",
    "validity_months": 24,
    "verification": "code",
    "default_points_rate": "0.1000",
    "identity_points_multiple": "1.0000",
    "default_discount_rate": "0.9000",
    "sharing_group": "STD",
    "receipt_open_threshold": "5000.00",
    "stack_threshold_rate": "0.8000",
    "stack_rate": "0.9500",
    "change_account_enabled": True,
    "change_account_limit": "100.00",
    "upgrade_to": "DIAMOND",
    "upgrade_spend_12m": "50000.00",
}


class _ClassFields(Strict):
    """What a new class sets; each optional field's description names its default."""

    name: str = Field(min_length=1, max_length=200)
    usage: Usage = Field(
        description="`member` (会员卡), `temporary` (临时卡) or `coupon` (返券卡)."
    )
    prefix: str = Field(
        default="",
        pattern=PREFIX.pattern,
        description='Printed after the store code; 0-6 of A-Z, 0-9. Default "".',
    )
    serial_length: JsonInt = Field(
        ge=1, le=MAX_SERIAL_LENGTH, description="Digits of the zero-padded serial."
    )
    serial_start: JsonInt = Field(ge=0, le=MAX_SERIAL, description="First serial to issue.")
    serial_end: JsonInt = Field(
        ge=0,
        le=MAX_SERIAL,
        description="Last serial to issue; serial_start <= serial_end < 10**serial_length.",
    )
    check_digit_length: JsonInt = Field(
        default=1, ge=0, le=2, description="0: none, 1: Luhn, 2: ISO 7064 MOD 97-10. Default 1."
    )
    suffix: str = Field(
        default="", pattern=SUFFIX.pattern, description='Printed last; 0-4 of A-Z, 0-9. Default "".'
    )
    validity_months: JsonInt | None = Field(
        default=None,
        ge=1,
        le=MAX_VALIDITY_MONTHS,
        description="Cards expire this many months after issue. Default null: never.",
    )
    verification: Verification = Field(
        default=Verification.NONE,
        description="`none` (swipe only; the default) or `code` (a printed code is asked for).",
    )
    default_points_rate: Rate4 = Field(
        default=Decimal("0.1"),
        description='Points per 1 CNY of eligible spend; in [0, 100), 4 decimals. Default "0.1".',
    )
    identity_points_multiple: Rate4 = Field(
        default=Decimal("0"),
        description="Extra points as a multiple of base points (gold 1, diamond 2); in [0, 100), "
        '4 decimals. Default "0".',
    )
    default_discount_rate: Rate4 = Field(
        default=Decimal("1"),
        description='Fraction paid when no discount rule matches, in (0, 1]. Default "1".',
    )
    sharing_group: str | None = Field(
        default=None,
        max_length=12,
        description="Code of the tenant's sharing group (折扣分担分组). Default null.",
    )
    receipt_open_threshold: Money | None = Field(
        default=None,
        description="A receipt of this amount or more lets a walk-in open a card of this class "
        "(money >= 0). Default null: never offered.",
    )
    stack_threshold_rate: Rate4 = Field(
        default=Decimal("0.8"),
        description="Stacking (折上折) applies when a promotion price is at least this fraction "
        'of the original, in (0, 1]. Default "0.8".',
    )
    stack_rate: Rate4 = Field(
        default=Decimal("1"),
        description='Rate applied on top of a promotion price, in (0, 1]. Default "1".',
    )
    change_account_enabled: JsonBool = Field(
        default=False,
        description="Small change may be kept as stored value (零钞转存). Default false.",
    )
    change_account_limit: Money = Field(
        default=Decimal("0"),
        description='Largest change-account balance (money >= 0). Default "0".',
    )
    upgrade_to: str | None = Field(
        default=None,
        max_length=12,
        description="Another class of the tenant to upgrade to; set with upgrade_spend_12m. "
        "Default null.",
    )
    upgrade_spend_12m: PositiveMoney | None = Field(
        default=None,
        description="Spend within 12 months that triggers the upgrade (money > 0); set with "
        "upgrade_to. Default null.",
    )


class CardClassCreate(_ClassFields):
    # A code the demo tenant (`make run`) doesn't have yet, so that "Try it out" creates it.
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_CLASS_EXAMPLE, "code": "SILVER", "name": "Silver"}]}
    )

    code: str = Field(
        description="Immutable; 1-12 uppercase letters or digits.", pattern=CLASS_CODE.pattern
    )

    def terms(self) -> ClassTerms:
        # dict(self), not model_dump(): the decimals must stay Decimal, not strings.
        return ClassTerms(**{k: v for k, v in dict(self).items() if k != "code"})


class CardClassUpdate(Patch):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Gold card (2027)", "default_discount_rate": "0.88"}]
        }
    )
    nullable = frozenset(
        {
            "validity_months",
            "sharing_group",
            "receipt_open_threshold",
            "upgrade_to",
            "upgrade_spend_12m",
        }
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    usage: Usage | None = None
    prefix: str | None = Field(default=None, pattern=PREFIX.pattern)
    serial_length: JsonInt | None = Field(default=None, ge=1, le=MAX_SERIAL_LENGTH)
    serial_start: JsonInt | None = Field(default=None, ge=0, le=MAX_SERIAL)
    serial_end: JsonInt | None = Field(default=None, ge=0, le=MAX_SERIAL)
    check_digit_length: JsonInt | None = Field(default=None, ge=0, le=2)
    suffix: str | None = Field(default=None, pattern=SUFFIX.pattern)
    validity_months: JsonInt | None = Field(default=None, ge=1, le=MAX_VALIDITY_MONTHS)
    verification: Verification | None = None
    default_points_rate: Rate4 | None = None
    identity_points_multiple: Rate4 | None = None
    default_discount_rate: Rate4 | None = None
    sharing_group: str | None = Field(default=None, max_length=12)
    receipt_open_threshold: Money | None = None
    stack_threshold_rate: Rate4 | None = None
    stack_rate: Rate4 | None = None
    change_account_enabled: JsonBool | None = None
    change_account_limit: Money | None = None
    upgrade_to: str | None = Field(default=None, max_length=12)
    upgrade_spend_12m: PositiveMoney | None = None


class CardClassRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **_CLASS_EXAMPLE,
                    "cards_issued": 1250,
                    "created_at": "2026-11-23T08:00:00Z",
                    "updated_at": "2026-11-23T08:00:00Z",
                }
            ]
        },
    )

    code: str
    name: str
    usage: Usage
    prefix: str
    serial_length: int
    serial_start: int
    serial_end: int
    check_digit_length: int
    suffix: str
    validity_months: int | None
    verification: Verification
    default_points_rate: Rate4
    identity_points_multiple: Rate4
    default_discount_rate: Rate4
    sharing_group: str | None
    receipt_open_threshold: Money | None
    stack_threshold_rate: Rate4
    stack_rate: Rate4
    change_account_enabled: bool
    change_account_limit: Money
    upgrade_to: str | None
    upgrade_spend_12m: PositiveMoney | None
    cards_issued: int = Field(description="Cards issued so far (serials used).")
    created_at: datetime
    updated_at: datetime


# --- sharing groups ------------------------------------------------------------------------

_OVERRIDE_EXAMPLE: JsonDict = {"level": "counter", "code": "COSMETICS", "store_share": "0.3000"}
_GROUP_EXAMPLE: JsonDict = {
    "code": "STD",
    "name": "Standard split",
    "store_share": "0.5000",
    "overrides": [
        _OVERRIDE_EXAMPLE,
        {"level": "brand", "code": "OLAY", "store_share": "0.0000"},
    ],
}


class ShareOverrideBody(Strict):
    level: OverrideLevel = Field(
        description="`counter` or `brand`; a brand override beats a counter."
    )
    code: str = Field(min_length=1, max_length=64, description="The counter or brand code.")
    store_share: Rate4 = Field(description="Store's share for this counter or brand, in [0, 1].")

    def domain(self) -> ShareOverride:
        return ShareOverride(self.level, self.code, self.store_share)


_OVERRIDES = "Per counter or brand exceptions; no (level, code) twice."


class SharingGroupCreate(Strict):
    # A code the demo tenant (`make run`) doesn't have yet, so that "Try it out" creates it.
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_GROUP_EXAMPLE, "code": "PROMO", "name": "Promotions"}]}
    )

    code: str = Field(
        description="Immutable; 1-12 uppercase letters or digits.", pattern=GROUP_CODE.pattern
    )
    name: str = Field(min_length=1, max_length=200)
    store_share: Rate4 = Field(
        description="The store's share of the member discount, in [0, 1]; the supplier bears "
        "the rest."
    )
    overrides: list[ShareOverrideBody] = Field(description=_OVERRIDES, default=[], max_length=1000)


class SharingGroupUpdate(Patch):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"store_share": "0.6"}, {"overrides": []}]}
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    store_share: Rate4 | None = None
    overrides: list[ShareOverrideBody] | None = Field(
        description=_OVERRIDES + " Replaces the whole list.", default=None, max_length=1000
    )

    def changes(self) -> dict:
        out = super().changes()
        if "overrides" in out:
            out["overrides"] = tuple(o.domain() for o in out["overrides"])
        return out


class ShareOverrideRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [_OVERRIDE_EXAMPLE]}
    )

    level: OverrideLevel
    code: str
    store_share: Rate4


class SharingGroupRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **_GROUP_EXAMPLE,
                    "created_at": "2026-11-23T08:00:00Z",
                    "updated_at": "2026-11-23T08:00:00Z",
                }
            ]
        },
    )

    code: str
    name: str
    store_share: Rate4
    overrides: list[ShareOverrideRead]
    created_at: datetime
    updated_at: datetime
