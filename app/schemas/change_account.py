"""The change account (零钞转存): requests and responses. Money travels as decimal strings."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.schemas.common import IntId, Money, PositiveMoney, SignedMoney, Strict
from app.schemas.enums import ChangeMovementKind

_MEMBER = "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10"
_CARD = "S01200000015"
_AT = "2026-11-23T08:00:00Z"


_ENTRY: JsonDict = {
    "id": "5120",
    "card_number": _CARD,
    "amount": "-3.50",
    "kind": "sale_payment",
    "source_type": "sale",
    "source_id": "8812",
    "reference": None,
    "created_at": _AT,
}


class ChangeMovementCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"amount": "0.60", "reference": "S01/R-1029"}, {"amount": "12.40"}]
        }
    )

    amount: PositiveMoney = Field(description="CNY, > 0, at most 2 decimals.")
    reference: str | None = Field(
        default=None, max_length=100, description="Your reference, e.g. the receipt."
    )


class ChangeMovementRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "entry_id": "5121",
                    "card_number": _CARD,
                    "member_id": _MEMBER,
                    "kind": "deposit",
                    "amount": "0.60",
                    "balance": "18.60",
                    "created_at": _AT,
                }
            ]
        },
    )

    entry_id: IntId = Field(description="The ledger entry this movement wrote.")
    card_number: str
    member_id: str
    kind: ChangeMovementKind
    amount: SignedMoney = Field(description="Signed: + stored, − spent.")
    balance: Money = Field(description="The member's change balance after it.")
    created_at: datetime


class ChangeEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_ENTRY]})

    id: IntId
    card_number: str | None = Field(description="The card presented (the account is the member's).")
    amount: SignedMoney = Field(description="Signed: + stored or refunded, − spent or paid.")
    kind: ChangeMovementKind
    source_type: str = Field(description="`deposit`, `spend`, `sale` or `sale_return`.")
    source_id: str = Field(description="The deposit or spend document, sale id or return id.")
    reference: str | None
    created_at: datetime


class ChangeAccountRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "card_number": _CARD,
                    "member_id": _MEMBER,
                    "balance": "18.00",
                    "limit": "100.00",
                    "enabled": True,
                    "entries": [_ENTRY],
                }
            ]
        },
    )

    card_number: str
    member_id: str
    balance: Money = Field(description="The sum of the entries; never negative.")
    limit: Money = Field(
        description="The card class's `change_account_limit`: deposits keep the balance ≤ it."
    )
    enabled: bool = Field(description="Whether the card's class takes deposits.")
    entries: list[ChangeEntryRead] = Field(
        description="The latest 50 entries, newest first; page through all of them with "
        "`GET /v1/cards/{number}/change-account/entries`."
    )
