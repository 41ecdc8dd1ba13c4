from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.card_lifecycle import CardStatus
from app.schemas.common import IntId, Strict
from app.schemas.enums import CardEventKind

_CARD: JsonDict = {
    "number": "S01200000015",
    "card_class": "GOLD",
    "store_code": "S01",
    "member_id": "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10",
    "status": "active",
    "issued_at": "2026-11-23T08:00:00Z",
    "expires_at": "2028-11-23T08:00:00Z",
    "replaced_by": None,
}


class CardIssue(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"card_class": "GOLD", "store_code": "S01", "member_id": _CARD["member_id"]}
            ]
        }
    )

    card_class: str = Field(min_length=1, max_length=12)
    store_code: str = Field(min_length=1, max_length=12, description="The issuing store.")
    member_id: str = Field(min_length=1, max_length=64)


class CardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_CARD]})

    number: str
    card_class: str
    store_code: str
    member_id: str
    status: CardStatus = Field(description="`expired` is derived from `expires_at`.")
    issued_at: datetime
    expires_at: datetime | None
    replaced_by: str | None


class CardIssued(CardRead):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_CARD, "track": "S01200000015=9f3a61c2", "verification_code": None}]
        }
    )

    track: str = Field(description="Magnetic-stripe data: number = MAC. Shown at issue only.")
    verification_code: str | None = Field(
        description="For classes with verification `code`: print it on the card. It is stored "
        "only as a hash and never shown again."
    )


class CardStatusChange(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "customer request"}]})

    reason: str | None = Field(default=None, max_length=200)


class CardReplace(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"store_code": "S02", "reason": "lost on 2026-11-20"}]}
    )

    store_code: str | None = Field(
        default=None, min_length=1, max_length=12, description="Defaults to the old card's."
    )
    reason: str | None = Field(default=None, max_length=200)


class CardEventRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "7",
                    "kind": "status",
                    "from_value": "active",
                    "to_value": "frozen",
                    "reason": "customer request",
                    "actor": "admin",
                    "at": "2026-11-23T08:00:00Z",
                }
            ]
        },
    )

    id: IntId
    kind: CardEventKind
    from_value: str | None
    to_value: str
    reason: str
    actor: str = Field(description="The API key's name.")
    at: datetime


class CardResolve(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"card_number": "S01200000015"},
                {"card_number": "S01300000014", "verification_code": "402913"},
                {"track": "S01200000015=9f3a61c2"},
            ]
        }
    )

    card_number: str | None = Field(default=None, min_length=1, max_length=40)
    track: str | None = Field(default=None, min_length=1, max_length=64)
    verification_code: str | None = Field(default=None, min_length=1, max_length=16)


class CardClassSummary(BaseModel):
    code: str
    name: str
    usage: str


class CardHolder(BaseModel):
    id: str
    name: str | None
    phone: str | None = Field(description="Masked (138****5678) unless the key is admin or app.")


class ResolvedCard(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "card": _CARD,
                    "member": {"id": _CARD["member_id"], "name": "王芳", "phone": "138****5678"},
                    "card_class": {"code": "GOLD", "name": "Gold", "usage": "member"},
                }
            ]
        }
    )

    card: CardRead
    member: CardHolder
    card_class: CardClassSummary
