from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from app.domain.errors import N_
from app.domain.points import PaymentMethod
from app.schemas.common import (
    DecimalString,
    Instant,
    IntId,
    JsonInt,
    Money,
    PositiveMoney,
    Strict,
    refused,
)
from app.schemas.enums import ReturnShortfall

_CODE = Field(default=None, min_length=1, max_length=64)
_LINE: JsonDict = {
    "line_no": 1,
    "sku": "6901",
    "major_category": "10",
    "mid_category": "1010",
    "minor_category": "101010",
    "counter": "C07",
    "brand": "OLAY",
    "qty": "2",
    "final_amount": "388.00",
}
EXAMPLE_RECEIPT_NO = "S01-20261123-000042"  # also the returns path's example: that sale's
_SALE: JsonDict = {
    "store_code": "S01",
    "receipt_no": EXAMPLE_RECEIPT_NO,
    "card_number": "S01200000015",
    "occurred_at": "2026-11-23T08:00:00Z",
    "lines": [_LINE],
    "payments": [
        {"method": "bank_card", "amount": "288.00"},
        {"method": "points", "amount": "100.00"},
    ],
}


class SaleLineIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_LINE]})

    line_no: JsonInt = Field(ge=1, le=100_000, description="Unique within the receipt.")
    sku: str = Field(min_length=1, max_length=64)
    major_category: str | None = _CODE
    mid_category: str | None = _CODE
    minor_category: str | None = _CODE
    counter: str | None = _CODE
    brand: str | None = _CODE
    qty: DecimalString = Field(description="> 0, up to 3 decimals for weighed goods.")
    final_amount: Money = Field(
        description="What the line cost after every discount (CNY, ≥ 0, 2 decimals)."
    )


class SalePaymentIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"method": "bank_card", "amount": "370.00"},
                {"method": "voucher", "voucher_code": "X7HF7N6SF9HPRS", "amount": "18.00"},
            ]
        }
    )

    method: PaymentMethod = Field(
        description="`points`: paid with points (amount × points_per_yuan points, spent FIFO); "
        "`change_account`: taken from the member's change account in the same transaction and "
        "refunded pro rata on returns; `voucher`: one of our vouchers (`voucher_code`), "
        "redeemed in the same transaction, for exactly what the quote gives for this basket. "
        "Points, change-account, coupon and voucher payments earn no points."
    )
    voucher_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="With `method: voucher` (and only then): the voucher's code (spaces, "
        "dashes and lower case are accepted).",
    )
    amount: Money = Field(description="CNY, ≥ 0, 2 decimals.")

    @model_validator(mode="after")
    def _voucher_code_with_voucher(self) -> SalePaymentIn:
        if (self.method is PaymentMethod.VOUCHER) != (self.voucher_code is not None):
            raise refused(N_("voucher_code is given with method voucher, and only then"))
        return self


class SaleCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                # First (what /docs pre-fills): paid in money, so it works on a demo member
                # who has no points yet; then the same receipt partly paid with points.
                {**_SALE, "payments": [{"method": "bank_card", "amount": "388.00"}]},
                _SALE,
            ]
        }
    )

    store_code: str = Field(min_length=1, max_length=12)
    receipt_no: str = Field(
        min_length=1, max_length=64, description="With store_code, identifies the sale."
    )
    card_number: str = Field(min_length=1, max_length=40)
    occurred_at: Instant = Field(description="When the sale happened at the till.")
    lines: list[SaleLineIn] = Field(min_length=1, max_length=500, description="1 to 500 lines.")
    payments: list[SalePaymentIn] = Field(
        max_length=20, description="They must total the lines' final amounts."
    )


class EarnedPoints(BaseModel):
    A: int = Field(description="Consumption points.")
    B: int = Field(description="Multiplier points: floor(A × (k − 1)).")
    C: int = Field(description="Warm points: the warm rules this receipt met, each once.")
    E: int = Field(description="Identity points: floor(A × the class's identity multiple).")


class TierChange(BaseModel):
    from_: str = Field(alias="from", serialization_alias="from")
    to: str

    model_config = ConfigDict(populate_by_name=True)


class SaleRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sale_id": "1042",
                    "store_code": "S01",
                    "receipt_no": "S01-20261123-000042",
                    "member_id": "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10",
                    "card_number": "S01200000015",
                    "points_earned": {"A": 28, "B": 0, "C": 0, "E": 28},
                    "points_earned_total": 56,
                    "points_spent": 10000,
                    "balance": 1456,
                    "available": 1400,
                    "pending": 56,
                    "tier_change": None,
                }
            ]
        }
    )

    sale_id: IntId
    store_code: str
    receipt_no: str
    member_id: str
    card_number: str
    points_earned: EarnedPoints
    points_earned_total: int
    points_spent: int = Field(description="Points paid for the `points` payments (R).")
    balance: int = Field(description="The member's balance after the sale.")
    available: int
    pending: int = Field(description="Points still in their return window (pending_days).")
    tier_change: TierChange | None = Field(
        description="The card's class before and after, when the sale moved it up a tier."
    )
    vouchers_redeemed: list[RedeemedVoucher] = Field(
        default_factory=list, description="The vouchers the sale was paid with, now redeemed."
    )
    vouchers_earned: list[EarnedVoucher] = Field(
        default_factory=list,
        description="Vouchers the sale earned by the tenant's 返券 rules, issued to the member.",
    )


class RedeemedVoucher(BaseModel):
    code: str
    amount: DecimalString


class EarnedVoucher(BaseModel):
    code: str
    template: str
    valid_to: Instant


class ReturnLineIn(Strict):
    line_no: JsonInt = Field(ge=1, le=100_000)
    qty: DecimalString = Field(description="> 0, up to 3 decimals; at most what is left.")


class ReturnCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"return_no": "RT-0001", "lines": [{"line_no": 1, "qty": "1"}]},
                {
                    "return_no": "RT-0002",
                    "lines": [{"line_no": 1, "qty": "1"}],
                    "shortfall": "purchase",
                },
            ]
        }
    )

    return_no: str = Field(min_length=1, max_length=64, description="Unique per sale.")
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=500)
    shortfall: ReturnShortfall = Field(
        default="reject",
        description="If the balance can't cover the clawback: `reject` (409 "
        "`insufficient_points_for_return`) or `purchase` the shortfall as F points.",
    )


class ReturnRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "return_id": "77",
                    "return_no": "RT-0001",
                    "sale_id": "1042",
                    "points_clawed_back": {"A": 19, "B": 0, "C": 0, "E": 19},
                    "points_purchased": 0,
                    "money_due": "0.00",
                    "points_refunded": 5000,
                    "balance": 6418,
                }
            ]
        }
    )

    return_id: IntId
    return_no: str
    sale_id: IntId
    points_clawed_back: EarnedPoints
    points_purchased: int = Field(description="F points bought for the shortfall.")
    money_due: DecimalString = Field(
        description="What the till must collect for the purchased points."
    )
    points_refunded: int = Field(description="Points paid on the sale given back (R).")
    balance: int
    returned_amount: DecimalString | None = Field(
        default=None, description="The returned goods' share of the receipt's final amount."
    )
    voucher_deduction: DecimalString = Field(
        default=Decimal("0.00"),
        description="What the refund is reduced by for vouchers: with `voucher_on_return: "
        "deduct`, the part of the sale's vouchers that the rest of the receipt no longer "
        "earns; and the value of 返券 vouchers the return takes back that were already used.",
    )
    vouchers_voided: list[str] = Field(
        default_factory=list,
        description="Unused 返券 vouchers the rest of the receipt no longer earns, now void.",
    )
    vouchers_restored: list[str] = Field(
        default_factory=list,
        description="With `voucher_on_return: restore`, on a full return: the sale's vouchers "
        "still valid, issued again.",
    )


_LIMITS: JsonDict = {"max_line_amount": "1000000.00", "max_receipt_amount": "5000000.00"}


class SaleLimitsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_LIMITS]})

    max_line_amount: PositiveMoney = Field(description="The largest final amount of a line (CNY).")
    max_receipt_amount: PositiveMoney = Field(
        description="The largest final amount of a receipt (CNY)."
    )


class SaleLimitsUpdate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_LIMITS]})

    max_line_amount: PositiveMoney = Field(
        description="CNY, > 0 and ≤ 1000000000.00, 2 decimals. A sale with a line above it is "
        "422 `line_amount_over_limit`."
    )
    max_receipt_amount: PositiveMoney = Field(
        description="CNY, > 0 and ≤ 1000000000.00, 2 decimals. A sale whose lines total more is "
        "422 `receipt_amount_over_limit`."
    )
