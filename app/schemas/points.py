from __future__ import annotations

import datetime as dt
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.config import JsonDict
from typing_extensions import TypeAliasType

from app.domain.points import ExpiryKind
from app.domain.points_rules import BirthdayScope
from app.schemas.common import DecimalString, IntId, JsonInt, Rate4, Strict
from app.schemas.enums import PointsCategory, RedemptionPurpose, RedemptionStatus

MAX_POINTS = 1_000_000_000
_MEMBER = "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10"
_CARD = "S01200000015"
_AT = "2026-11-23T08:00:00Z"

Points = Field(ge=1, le=MAX_POINTS, description="A whole number of points > 0.")
CardNumber = Field(default=None, min_length=1, max_length=40)
MemberId = Field(default=None, min_length=1, max_length=64)


class AdjustmentCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"member_id": _MEMBER, "points": 200, "reason": "complaint #8812: compensation"},
                {"member_id": _MEMBER, "points": -50, "reason": "duplicate gift reversed"},
            ]
        }
    )

    member_id: str = Field(min_length=1, max_length=64)
    points: JsonInt = Field(
        ge=-MAX_POINTS, le=MAX_POINTS, description="Signed, not 0: + gives, − takes (FIFO)."
    )
    reason: str = Field(min_length=1, max_length=200)


class AdjustmentRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "9b0f6a1c2d3e4f5a6b7c8d9e0f1a2b3c",
                    "member_id": _MEMBER,
                    "points": 200,
                    "reason": "complaint #8812: compensation",
                    "balance": 1450,
                    "created_at": _AT,
                }
            ]
        },
    )

    id: str = Field(description="The adjustment document; its entries carry it as `source_id`.")
    member_id: str
    points: int
    reason: str
    balance: int = Field(description="The member's balance after the adjustment.")
    created_at: datetime


class RedemptionCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"card_number": _CARD, "points": 500, "purpose": "cash_off", "reference": "R-1029"},
                {"member_id": _MEMBER, "points": 3000, "purpose": "gift", "reference": "mall #77"},
            ]
        }
    )

    card_number: str | None = CardNumber
    member_id: str | None = MemberId
    points: JsonInt = Points
    purpose: RedemptionPurpose
    reference: str | None = Field(
        default=None, max_length=100, description="Your reference, e.g. receipt or order."
    )


class RedemptionRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "1042",
                    "member_id": _MEMBER,
                    "card_number": _CARD,
                    "points": 500,
                    "purpose": "cash_off",
                    "reference": "R-1029",
                    "money": "5.00",
                    "status": "done",
                    "created_at": _AT,
                    "cancelled_at": None,
                }
            ]
        },
    )

    id: IntId
    member_id: str
    card_number: str | None
    points: int
    purpose: RedemptionPurpose
    reference: str | None
    money: DecimalString | None = Field(
        description="For `cash_off`: the CNY the points pay at the tenant's rate; else null."
    )
    status: RedemptionStatus
    created_at: datetime
    cancelled_at: datetime | None


class PurchaseCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"card_number": _CARD, "points": 300}]}
    )

    card_number: str | None = CardNumber
    member_id: str | None = MemberId
    points: JsonInt = Points


class PurchaseRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "4c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
                    "member_id": _MEMBER,
                    "card_number": _CARD,
                    "points": 300,
                    "money": "3.00",
                    "balance": 300,
                    "created_at": _AT,
                }
            ]
        },
    )

    id: str
    member_id: str
    card_number: str | None
    points: int
    money: DecimalString = Field(description="What the till collects: points × point_price.")
    balance: int
    created_at: datetime


# A map, not an object with properties A…X: generated clients bind properties to variables,
# and openapi-python-client's `d = d.pop("D")` overwrote its own dict. Same wire format.
PointsByCategory = TypeAliasType(
    "PointsByCategory",
    Annotated[
        dict[PointsCategory, int],
        WithJsonSchema(
            {
                "type": "object",
                "description": "Points by ledger category; all eight categories always appear. "
                "R (redeemed) and X (expired) are ≤ 0.",
                "propertyNames": {"$ref": "#/components/schemas/PointsCategory"},
                "additionalProperties": {"type": "integer"},
                "minProperties": 8,
                "maxProperties": 8,
            }
        ),
    ],
)


class NextExpiryRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {"date": "2027-01-01", "expires_at": "2026-12-31T16:00:00Z", "points": 400}
            ]
        },
    )

    date: dt.date = Field(description="The day (tenant time) on which these points expire.")
    expires_at: datetime = Field(description="The first of them expires at this instant.")
    points: int


_POINTS: JsonDict = {
    "member_id": _MEMBER,
    "balance": 1450,
    "available": 1250,
    "pending": 200,
    "by_category": {"A": 1800, "B": 0, "C": 50, "D": 200, "E": 300, "F": 0, "R": -800, "X": -100},
    "next_expiry": {"date": "2027-01-01", "expires_at": "2026-12-31T16:00:00Z", "points": 400},
}


class PointsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_POINTS]})

    member_id: str
    balance: int = Field(description="A + B + C + D + E + F + R + X; never negative.")
    available: int = Field(description="Spendable now.")
    pending: int = Field(description="Earned on sales still in their return window.")
    by_category: PointsByCategory
    next_expiry: NextExpiryRead | None

    @classmethod
    def of(cls, points) -> PointsRead:
        return cls(
            member_id=points.member_id,
            balance=points.balance,
            available=points.available,
            pending=points.pending,
            by_category={c.value: n for c, n in points.by_category.items()},
            next_expiry=NextExpiryRead.model_validate(points.next_expiry)
            if points.next_expiry
            else None,
        )


class LedgerEntryRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "88120",
                    "category": "R",
                    "points": -500,
                    "source_type": "redemption",
                    "source_id": "1042",
                    "created_at": _AT,
                    "available_at": "2026-10-02T03:10:00Z",
                }
            ]
        },
    )

    id: IntId
    category: PointsCategory
    points: int = Field(description="Signed: R and X are negative (R positive on a cancel).")
    source_type: str = Field(
        description="adjustment, redemption, redemption_cancel, purchase, expiry, …"
    )
    source_id: str
    created_at: datetime
    available_at: datetime = Field(
        description="When the points became (or become) spendable; a negative entry carries "
        "that of the points it took."
    )


class ExpiryRunRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ran_at": _AT, "lots": 12, "members": 9, "points": 4310}]}
    )

    ran_at: datetime
    lots: int = Field(description="Lots expired.")
    members: int = Field(description="Members whose points expired.")
    points: int = Field(description="Points expired in all.")


class Expiry(Strict):
    kind: ExpiryKind = Field(
        description="`none`; `rolling_months`: a lot expires n months after it was earned; "
        "`year_end`: at the end of the nth calendar year after the year it was earned."
    )
    n: JsonInt | None = Field(default=None, ge=0, le=1200)


_SETTINGS: JsonDict = {
    "expiry": {"kind": "rolling_months", "n": 24},
    "pending_days": 7,
    "point_price": "0.0100",
    "points_per_yuan": 100,
    "birthday_multiplier": {"k": "2.0000", "scope": "day"},
}


class BirthdayMultiplierBody(Strict):
    k: Rate4 = Field(description="Multiplier k, in [1, 100), up to 4 decimals.")
    scope: BirthdayScope = Field(
        description="`day`: on the member's birthday; `month`: all through the birthday's "
        "month — in the tenant's time zone (a 29 February birthday counts on 28 February in "
        "other years)."
    )


BIRTHDAY = (
    "Members earn k times on their birthday (B = floor(A × (k − 1))); the largest k of this "
    "and the multiplier events in effect applies, never their product. Null: none."
)


class PointsSettingsUpdate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_SETTINGS]})

    expiry: Expiry = Expiry(kind=ExpiryKind.NONE)
    pending_days: JsonInt = Field(
        default=0, ge=0, le=366, description="Days before points earned on a sale can be spent."
    )
    point_price: Rate4 = Field(
        default=Decimal("0.01"),
        description="CNY per purchased (F) point, in [0, 1000), up to 4 decimals.",
    )
    points_per_yuan: JsonInt = Field(default=100, ge=1, le=1_000_000, description="Cash-off rate.")
    birthday_multiplier: BirthdayMultiplierBody | None = Field(default=None, description=BIRTHDAY)


class PointsSettingsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SETTINGS]})

    expiry: Expiry
    pending_days: int
    point_price: Rate4
    points_per_yuan: int
    birthday_multiplier: BirthdayMultiplierBody | None = Field(description=BIRTHDAY)

    @classmethod
    def of(cls, settings) -> PointsSettingsRead:
        policy = settings.expiry
        return cls(
            expiry=Expiry(kind=policy.kind, n=None if policy.kind == ExpiryKind.NONE else policy.n),
            pending_days=settings.pending_days,
            point_price=settings.point_price,
            points_per_yuan=settings.points_per_yuan,
            birthday_multiplier=None
            if (birthday := settings.birthday_multiplier) is None
            else BirthdayMultiplierBody(k=birthday.k, scope=birthday.scope),
        )
