from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.money import ZERO
from app.schemas.common import DecimalString, Instant, JsonInt, Rate4, Strict, rate4
from app.schemas.enums import VoucherReason

_LINE: JsonDict = {
    "line_no": 1,
    "sku": "6901",
    "major_category": "10",
    "mid_category": "1010",
    "minor_category": "101010",
    "counter": "C07",
    "brand": "OLAY",
    "original_price": "100.00",
    "existing_price": "90.00",
    "qty": "1",
}
_CODE = Field(default=None, min_length=1, max_length=64)


class QuoteLine(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_LINE]})

    line_no: JsonInt = Field(ge=1, le=100_000, description="Unique within the basket.")
    sku: str = Field(min_length=1, max_length=64)
    major_category: str | None = _CODE
    mid_category: str | None = _CODE
    minor_category: str | None = _CODE
    counter: str | None = _CODE
    brand: str | None = _CODE
    original_price: DecimalString = Field(description="Unit list price (原价).")
    existing_price: DecimalString | None = Field(
        default=None,
        description="Unit price after a running store promotion (原有折扣价); "
        "defaults to original_price.",
    )
    qty: DecimalString = Field(description="> 0, up to 3 decimals for weighed goods.")


class QuoteRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"store_code": "S01", "card_number": "S01200000015", "lines": [_LINE]},
                {"store_code": "S01", "lines": [_LINE]},
            ]
        }
    )

    store_code: str = Field(min_length=1, max_length=12)
    card_number: str | None = Field(default=None, min_length=1, max_length=40)
    track: str | None = Field(default=None, min_length=1, max_length=64)
    verification_code: str | None = Field(default=None, min_length=1, max_length=16)
    at: Instant | None = Field(
        default=None,
        description="Price as of this instant (default now; past for an offline replay, "
        "future to check next week's prices).",
    )
    lines: list[QuoteLine] = Field(description="1 to 500 lines.")
    vouchers: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list,
        max_length=20,
        description="Voucher codes to apply (spaces, dashes and lower case are accepted). Each "
        "is applied or reported with a reason; none makes the quote fail.",
    )


class QuoteCard(BaseModel):
    number: str
    class_: str = Field(alias="class", serialization_alias="class")

    model_config = ConfigDict(populate_by_name=True)


class RateSource(BaseModel):
    level: str
    rule_id: str


class QuotedLine(BaseModel):
    line_no: int
    rate: Rate4
    stackable: bool
    rate_source: RateSource | None = Field(description="null when the class default applied.")
    stacked: bool = Field(description="Whether the stack rate (折上折) was used.")
    final_unit_price: DecimalString
    original_amount: DecimalString
    final_amount: DecimalString
    discount_amount: DecimalString
    member_discount: DecimalString
    store_borne: DecimalString
    supplier_borne: DecimalString
    voucher_discount: DecimalString = Field(description="What the basket's vouchers take off.")
    voucher_store_borne: DecimalString
    voucher_supplier_borne: DecimalString


class QuoteTotals(BaseModel):
    original_amount: DecimalString
    final_amount: DecimalString
    discount_amount: DecimalString
    voucher_discount: DecimalString
    payable: DecimalString = Field(description="final_amount less the vouchers: left to pay.")


class QuotedVoucher(BaseModel):
    code: str
    applied: bool
    amount: DecimalString = Field(
        description="What it takes off (0.00 when not applied): the sale's `voucher` payment "
        "for it must be exactly this."
    )
    reason: VoucherReason | None = Field(description="Why it does not apply (null if it does).")


class PointsPreview(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"A": 85, "B": 85, "C": 200, "E": 0, "total": 370}]}
    )

    A: int = Field(description="Consumption points: floor(Σ final amount × points rate).")
    B: int = Field(description="Multiplier points: floor(A × (k − 1)).")
    C: int = Field(description="Warm-rule points whose conditions the basket meets.")
    E: int = Field(description="Identity points: floor(A × the class's identity multiple).")
    total: int


class QuoteResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_serialization_defaults_required=True,  # always sent: required, for clients
        json_schema_extra={
            "examples": [
                {
                    "card": {"number": "S01200000015", "class": "GOLD"},
                    "currency": "CNY",
                    "lines": [
                        {
                            "line_no": 1,
                            "rate": "0.8800",
                            "stackable": True,
                            "rate_source": {"level": "brand", "rule_id": "42"},
                            "stacked": True,
                            "final_unit_price": "85.50",
                            "original_amount": "100.00",
                            "final_amount": "85.50",
                            "discount_amount": "14.50",
                            "member_discount": "4.50",
                            "store_borne": "2.25",
                            "supplier_borne": "2.25",
                            "voucher_discount": "18.00",
                            "voucher_store_borne": "18.00",
                            "voucher_supplier_borne": "0.00",
                        }
                    ],
                    "totals": {
                        "original_amount": "100.00",
                        "final_amount": "85.50",
                        "discount_amount": "14.50",
                        "voucher_discount": "18.00",
                        "payable": "67.50",
                    },
                    "points_preview": {"A": 6, "B": 6, "C": 0, "E": 0, "total": 12},
                    "openable_card_classes": [],
                    "vouchers": [
                        {
                            "code": "X7HF7N6SF9HPRS",
                            "applied": True,
                            "amount": "18.00",
                            "reason": None,
                        }
                    ],
                }
            ]
        },
    )

    card: QuoteCard | None
    currency: str = "CNY"
    lines: list[QuotedLine]
    totals: QuoteTotals
    points_preview: PointsPreview | None = Field(
        default=None,
        description="With a card: the points the basket would earn if paid in "
        "money (points, change-account and coupon payments earn nothing, so the sale may earn "
        "less): points rules, multiplier events and the birthday multiplier, warm rules, the "
        "identity multiple. Null without a card.",
    )
    openable_card_classes: list[str] = Field(
        description="Without a card: classes a walk-in may open on this receipt."
    )
    vouchers: list[QuotedVoucher] = Field(description="The vouchers sent, in the order sent.")


def _money(value: Decimal) -> str:
    return format(value, "f")


def _preview(earning) -> dict | None:
    if earning is None:
        return None
    points = {category.value: n for category, n in earning.points.items()}
    return {**points, "total": sum(points.values())}


def _voucher_split(outcomes, line_no: int) -> dict:
    amount = store = ZERO
    for o in outcomes:
        if o.discount is not None:
            amount += o.discount.shares.get(line_no, ZERO)
            store += o.discount.store_by_line.get(line_no, ZERO)
    return {
        "voucher_discount": _money(amount),
        "voucher_store_borne": _money(store),
        "voucher_supplier_borne": _money(amount - store),
    }


def quote_json(result) -> bytes:
    """A quote as the JSON of ``QuoteResponse``, built directly: the hottest response, so its
    values (already exact Decimals from the domain) are not validated a second time.
    ``tests/api/test_checkout.py`` checks the output against the model."""
    card = result.card
    totals = result.basket.totals
    vouchers = sum((o.amount for o in result.vouchers), ZERO)
    return json.dumps(
        {
            "card": {"number": card.number, "class": card.card_class} if card else None,
            "currency": "CNY",
            "lines": [
                {
                    "line_no": p.line_no,
                    "rate": rate4(p.rate),
                    "stackable": p.stackable,
                    "rate_source": {"level": p.level.value, "rule_id": p.rule_id}
                    if p.level
                    else None,
                    "stacked": p.stacked,
                    "final_unit_price": _money(p.final_unit_price),
                    "original_amount": _money(p.original_amount),
                    "final_amount": _money(p.final_amount),
                    "discount_amount": _money(p.discount_amount),
                    "member_discount": _money(p.member_discount),
                    "store_borne": _money(p.store_borne),
                    "supplier_borne": _money(p.supplier_borne),
                    **_voucher_split(result.vouchers, p.line_no),
                }
                for p in result.basket.lines
            ],
            "totals": {
                "original_amount": _money(totals.original_amount),
                "final_amount": _money(totals.final_amount),
                "discount_amount": _money(totals.discount_amount),
                "voucher_discount": _money(vouchers),
                "payable": _money(totals.final_amount - vouchers),
            },
            "points_preview": _preview(result.points_preview),
            "openable_card_classes": result.openable_card_classes,
            "vouchers": [
                {
                    "code": o.code,
                    "applied": o.applied,
                    "amount": _money(o.amount),
                    "reason": o.reason.value if o.reason else None,
                }
                for o in result.vouchers
            ],
        },
        ensure_ascii=False,
    ).encode()
