"""The rewards catalogue (积分商城) and its exchanges. Ranges, references and the window are
checked by ``app.domain.rewards`` (one 422 naming every bad field)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.rewards import Exchange, Reward, RewardTerms
from app.schemas.common import Instant, IntId, JsonBool, JsonInt, Patch, Strict

_MEMBER = "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10"
_CARD = "S01200000015"
_TERMS: JsonDict = {
    "code": "CUP-18",
    "name": "18 CNY voucher for 1800 points",
    "template": "CNY18",
    "points": 1800,
    "stock": 500,
    "card_classes": ["GOLD", "DIAMOND"],
    "starts_at": "2026-12-01T00:00:00+08:00",
    "ends_at": "2027-01-01T00:00:00+08:00",
    "active": True,
}
_READ: JsonDict = {
    **_TERMS,
    "starts_at": "2026-11-30T16:00:00Z",
    "ends_at": "2026-12-31T16:00:00Z",
    "exchanged": 12,
    "created_at": "2026-11-23T08:00:00Z",
    "updated_at": "2026-11-23T08:00:00Z",
}

CODE = "1-32 letters, digits, '_' or '-', starting with a letter or digit; immutable."
TEMPLATE = "The code of the voucher template offered."
POINTS = "The points one exchange costs (a whole number > 0)."
STOCK = (
    "How many are left to exchange (≥ 0); each exchange takes one. Null: unlimited. Setting "
    "it replaces what is left."
)
CLASSES = (
    "Card classes whose holders may exchange it: the card named, or any active card of the "
    "member named. Empty: anyone."
)
STARTS_AT = "Offered from (inclusive); null: no start."
ENDS_AT = "Offered until (exclusive); after starts_at. Null: no end."
ACTIVE = "false withdraws the offer (it stays listed)."


class RewardCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_TERMS]})

    code: str = Field(min_length=1, max_length=64, description=CODE)
    name: str = Field(min_length=1, max_length=200)
    template: str = Field(min_length=1, max_length=64, description=TEMPLATE)
    points: JsonInt = Field(description=POINTS)
    stock: JsonInt | None = Field(default=None, description=STOCK)
    card_classes: list[str] = Field(default_factory=list, max_length=200, description=CLASSES)
    starts_at: Instant | None = Field(default=None, description=STARTS_AT)
    ends_at: Instant | None = Field(default=None, description=ENDS_AT)
    active: JsonBool = Field(default=True, description=ACTIVE)

    def terms(self) -> RewardTerms:
        return RewardTerms(**{**dict(self), "card_classes": tuple(self.card_classes)})


class RewardUpdate(Patch):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"stock": 1000}, {"active": False}, {"points": 1500}]}
    )
    nullable = frozenset({"stock", "starts_at", "ends_at"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    template: str | None = Field(default=None, min_length=1, max_length=64, description=TEMPLATE)
    points: JsonInt | None = Field(default=None, description=POINTS)
    stock: JsonInt | None = Field(default=None, description=STOCK)
    card_classes: list[str] | None = Field(default=None, max_length=200, description=CLASSES)
    starts_at: Instant | None = Field(default=None, description=STARTS_AT)
    ends_at: Instant | None = Field(default=None, description=ENDS_AT)
    active: JsonBool | None = Field(default=None, description=ACTIVE)

    def changes(self) -> dict:
        out = super().changes()
        if "card_classes" in out:
            out["card_classes"] = tuple(out["card_classes"])
        return out


class RewardRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_READ]})

    code: str
    name: str
    template: str
    points: int
    stock: int | None = Field(description="Left to exchange; null: unlimited.")
    exchanged: int = Field(description="Exchanges made.")
    card_classes: list[str] = Field(description="Eligible classes; empty: anyone.")
    starts_at: datetime | None
    ends_at: datetime | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, reward: Reward) -> Self:
        return cls.model_validate(asdict(reward))


class RewardExchangeCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"card_number": _CARD}, {"member_id": _MEMBER}]}
    )

    card_number: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="An active card: its holder exchanges, and its class must be eligible.",
    )
    member_id: str | None = Field(default=None, min_length=1, max_length=64)


class RewardExchangeRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "J6HB7H45BSQQH3",
                    "reward": "CUP-18",
                    "template": "CNY18",
                    "member_id": _MEMBER,
                    "card_number": _CARD,
                    "points": 1800,
                    "balance": 3200,
                    "valid_from": "2026-12-03T08:00:00Z",
                    "valid_to": "2027-01-02T08:00:00Z",
                    "redemption_id": "1042",
                    "exchanged_at": "2026-12-03T08:00:00Z",
                }
            ]
        }
    )

    code: str = Field(description="The voucher issued: give it at the till.")
    reward: str
    template: str
    member_id: str = Field(description="The voucher's holder, whose points were spent.")
    card_number: str | None
    points: int = Field(description="Points spent (a redemption: R, purpose `gift`).")
    balance: int = Field(description="The member's points after the exchange.")
    valid_from: datetime
    valid_to: datetime
    redemption_id: IntId = Field(
        description="The points redemption (GET /v1/points/redemptions/{id})."
    )
    exchanged_at: datetime

    @classmethod
    def of(cls, done: Exchange) -> Self:
        return cls(
            code=done.voucher.code,
            reward=done.reward,
            template=done.voucher.template,
            member_id=done.member_id,
            card_number=done.card_number,
            points=done.points,
            balance=done.balance,
            valid_from=done.voucher.valid_from,
            valid_to=done.voucher.valid_to,
            redemption_id=done.redemption_id,
            exchanged_at=done.exchanged_at,
        )
