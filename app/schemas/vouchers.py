"""Voucher templates and vouchers (docs/domain §12). Range and combination rules live in
``app.domain.voucher_templates``; these models check shapes and document the contract."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.voucher_states import VoucherRecord
from app.domain.voucher_templates import (
    MAX_LIST,
    MAX_NAME,
    MAX_PER_MEMBER,
    MAX_TARGET,
    MAX_VALID_DAYS,
    TemplateRecord,
)
from app.domain.vouchers import Kind, Scope, Template
from app.schemas.common import (
    Instant,
    IntId,
    JsonBool,
    JsonInt,
    Money,
    Patch,
    PositiveMoney,
    Rate4,
    Strict,
)
from app.schemas.enums import VoucherKind, VoucherScopeLevel, VoucherSource, VoucherStatus

_AT = "2026-11-23T08:00:00Z"
# The demo tenant's (`make run`), so that /docs' "Try it out" runs as-is.
DEMO_MEMBER_ID = "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10"
DEMO_CARD_NUMBER = "S01200000015"
_CODE = "X7HF7N6SF9HPRS"  # a well-formed code (check character included)

_TEMPLATE: JsonDict = {
    "code": "WELCOME18",
    "name": "Welcome back: 18 off 100",
    "kind": "threshold_amount_off",
    "face_value": "18.00",
    "rate": None,
    "max_discount": None,
    "min_spend": "100.00",
    "stores": [],
    "include": {},
    "exclude": {"counter": ["TOBACCO"]},
    "card_classes": [],
    "bearer": False,
    "valid_days": 30,
    "valid_from": None,
    "valid_to": None,
    "per_member_limit": 1,
    "sharing_group": None,
    "store_share": None,
}

Code = Annotated[str, Field(min_length=1, max_length=MAX_TARGET)]
Codes = Annotated[list[Code], Field(max_length=MAX_LIST)]
ScopeLists = Annotated[
    dict[VoucherScopeLevel, Codes],
    Field(
        description="Goods by level: `major_category`, `mid_category`, `minor_category`, "
        "`counter`, `brand`, `sku`; each a list of codes."
    ),
]

KIND = (
    "`amount_off` (face_value off), `threshold_amount_off` (满X减Y: face_value off once the "
    "eligible amount reaches min_spend) or `percent_off` (the eligible amount × rate is paid)."
)
FACE_VALUE = "CNY off (> 0): amount_off and threshold_amount_off; null for percent_off."
RATE = (
    "percent_off only: the fraction PAID, 0 < rate < 1, as every rate of this API — 0.9 is "
    "9折, 10 % off. Null for the other kinds."
)
MAX_DISCOUNT = "percent_off only, optional: the most CNY the voucher takes off."
MIN_SPEND = (
    "The eligible amount a receipt must reach for the voucher to apply. Optional, but "
    "required for threshold_amount_off, and there at least face_value."
)
STORES = "Store codes of the tenant where it may be used; empty: every store."
INCLUDE = "Lines it counts: any line with a listed code at any listed level; empty: all lines."
EXCLUDE = "Lines it never counts, even when included."
CARD_CLASSES = (
    "Card classes of the tenant that may use it; empty: any (and a walk-in without a card, "
    "for a bearer voucher)."
)
BEARER = "true: anyone holding the code may use it; false: only its holder (the member)."
VALID_DAYS = (
    "Validity: this many days (1-3660) from issue. Give either valid_days or "
    "valid_from/valid_to, not both."
)
VALID_FROM = "Validity: a fixed window's start (with valid_to; instead of valid_days)."
VALID_TO = "Validity: the window's end, exclusive; after valid_from."
PER_MEMBER_LIMIT = (
    f"1-{MAX_PER_MEMBER}: the most vouchers of this template one member may be issued (voided "
    "ones aside; beyond it 409 `voucher_limit_reached`), and the most of them the till applies "
    "on one receipt. Null: no limit."
)
SHARING_GROUP = (
    "Who bears the discount: a sharing group of the tenant (its store share, counter and brand "
    "overrides). Give this or store_share or neither (the store bears all)."
)
STORE_SHARE = (
    "Who bears the discount: the store's share in [0, 1] whatever the line (e.g. 0 for a "
    "supplier-funded voucher); instead of sharing_group."
)


class VoucherTemplateCreate(Strict):
    # A code the demo tenant (`make run`) doesn't have yet, so that "Try it out" creates it.
    model_config = ConfigDict(json_schema_extra={"examples": [_TEMPLATE]})

    code: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$",
        description="Immutable; 1-32 of A-Z, a-z, 0-9, _ or -, starting with a letter or digit.",
    )
    name: str = Field(min_length=1, max_length=MAX_NAME)
    kind: VoucherKind = Field(description=KIND)
    face_value: PositiveMoney | None = Field(default=None, description=FACE_VALUE)
    rate: Rate4 | None = Field(default=None, description=RATE)
    max_discount: PositiveMoney | None = Field(default=None, description=MAX_DISCOUNT)
    min_spend: Money | None = Field(default=None, description=MIN_SPEND)
    stores: Codes = Field(default=[], description=STORES)
    include: ScopeLists = Field(default={}, description=INCLUDE)
    exclude: ScopeLists = Field(default={}, description=EXCLUDE)
    card_classes: Codes = Field(default=[], description=CARD_CLASSES)
    bearer: JsonBool = Field(default=False, description=BEARER)
    valid_days: JsonInt | None = Field(
        default=None, ge=1, le=MAX_VALID_DAYS, description=VALID_DAYS
    )
    valid_from: Instant | None = Field(default=None, description=VALID_FROM)
    valid_to: Instant | None = Field(default=None, description=VALID_TO)
    per_member_limit: JsonInt | None = Field(
        default=None, ge=1, le=MAX_PER_MEMBER, description=PER_MEMBER_LIMIT
    )
    sharing_group: str | None = Field(default=None, max_length=12, description=SHARING_GROUP)
    store_share: Rate4 | None = Field(default=None, description=STORE_SHARE)

    def template(self) -> Template:
        return Template(
            code=self.code,
            name=self.name,
            kind=Kind(self.kind),
            face_value=self.face_value,
            rate=self.rate,
            max_discount=self.max_discount,
            min_spend=self.min_spend,
            stores=frozenset(self.stores),
            scope=Scope.of(self.include, self.exclude),
            card_classes=frozenset(self.card_classes),
            bearer=self.bearer,
            valid_days=self.valid_days,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            per_member_limit=self.per_member_limit,
            sharing_group=self.sharing_group,
            store_share=self.store_share,
        )


class VoucherTemplateUpdate(Patch):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Welcome back: 18 off 100 (winter)", "per_member_limit": 2},
                {"valid_days": None, "valid_from": "2026-12-01T00:00:00+08:00", "valid_to": _AT},
            ]
        }
    )
    nullable = frozenset(
        {
            "face_value",
            "rate",
            "max_discount",
            "min_spend",
            "valid_days",
            "valid_from",
            "valid_to",
            "per_member_limit",
            "sharing_group",
            "store_share",
        }
    )

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    kind: VoucherKind | None = Field(default=None, description=KIND)
    face_value: PositiveMoney | None = Field(default=None, description=FACE_VALUE)
    rate: Rate4 | None = Field(default=None, description=RATE)
    max_discount: PositiveMoney | None = Field(default=None, description=MAX_DISCOUNT)
    min_spend: Money | None = Field(default=None, description=MIN_SPEND)
    stores: Codes | None = Field(default=None, description=STORES)
    include: ScopeLists | None = Field(default=None, description=INCLUDE)
    exclude: ScopeLists | None = Field(default=None, description=EXCLUDE)
    card_classes: Codes | None = Field(default=None, description=CARD_CLASSES)
    bearer: JsonBool | None = Field(default=None, description=BEARER)
    valid_days: JsonInt | None = Field(
        default=None, ge=1, le=MAX_VALID_DAYS, description=VALID_DAYS
    )
    valid_from: Instant | None = Field(default=None, description=VALID_FROM)
    valid_to: Instant | None = Field(default=None, description=VALID_TO)
    per_member_limit: JsonInt | None = Field(
        default=None, ge=1, le=MAX_PER_MEMBER, description=PER_MEMBER_LIMIT
    )
    sharing_group: str | None = Field(default=None, max_length=12, description=SHARING_GROUP)
    store_share: Rate4 | None = Field(default=None, description=STORE_SHARE)


class VoucherTemplateRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_TEMPLATE, "created_at": _AT, "updated_at": _AT}],
        }
    )

    code: str
    name: str
    kind: VoucherKind = Field(description=KIND)
    face_value: PositiveMoney | None = Field(description=FACE_VALUE)
    rate: Rate4 | None = Field(description=RATE)
    max_discount: PositiveMoney | None = Field(description=MAX_DISCOUNT)
    min_spend: Money | None = Field(description=MIN_SPEND)
    stores: list[str] = Field(description=STORES)
    include: dict[VoucherScopeLevel, list[str]] = Field(description=INCLUDE)
    exclude: dict[VoucherScopeLevel, list[str]] = Field(description=EXCLUDE)
    card_classes: list[str] = Field(description=CARD_CLASSES)
    bearer: bool = Field(description=BEARER)
    valid_days: int | None = Field(description=VALID_DAYS)
    valid_from: datetime | None = Field(description=VALID_FROM)
    valid_to: datetime | None = Field(description=VALID_TO)
    per_member_limit: int | None = Field(description=PER_MEMBER_LIMIT)
    sharing_group: str | None = Field(description=SHARING_GROUP)
    store_share: Rate4 | None = Field(description=STORE_SHARE)
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, t: TemplateRecord) -> VoucherTemplateRead:
        include, exclude = t.scope.as_json()
        return cls(
            code=t.code,
            name=t.name,
            kind=t.kind,
            face_value=t.face_value,
            rate=t.rate,
            max_discount=t.max_discount,
            min_spend=t.min_spend,
            stores=sorted(t.stores),
            include=include,
            exclude=exclude,
            card_classes=sorted(t.card_classes),
            bearer=t.bearer,
            valid_days=t.valid_days,
            valid_from=t.valid_from,
            valid_to=t.valid_to,
            per_member_limit=t.per_member_limit,
            sharing_group=t.sharing_group,
            store_share=t.store_share,
            created_at=t.created_at,
            updated_at=t.updated_at,
        )


# --- vouchers ------------------------------------------------------------------------------


class VoucherCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "template": "WELCOME18",
                    "card_number": DEMO_CARD_NUMBER,
                    "reason": "complaint #8812: compensation",
                    "reference": "C-8812",
                },
                {"template": "WELCOME18", "member_id": DEMO_MEMBER_ID, "reason": "welcome gift"},
            ]
        }
    )

    template: str = Field(min_length=1, max_length=32, description="The template's code.")
    member_id: str | None = Field(default=None, min_length=1, max_length=64)
    card_number: str | None = Field(
        default=None, min_length=1, max_length=40, description="Its holder gets the voucher."
    )
    reason: str | None = Field(
        default=None, max_length=200, description="Why (kept in the voucher's log with who)."
    )
    reference: str | None = Field(
        default=None, max_length=64, description="Your reference, e.g. the complaint's number."
    )


class VoucherVoid(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "issued to the wrong member"}]}
    )

    reason: str = Field(min_length=1, max_length=200)


_REDEMPTION: JsonDict = {
    "store_code": "S01",
    "receipt_no": "R-20261123-0042",
    "amount": "18.00",
    "redeemed_at": _AT,
    "sale_id": "42",
}


class VoucherRedemptionRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_REDEMPTION]})

    store_code: str | None
    receipt_no: str | None
    amount: Money | None = Field(description="The discount it gave (CNY).")
    redeemed_at: datetime
    sale_id: IntId | None


_VOUCHER: JsonDict = {
    "code": _CODE,
    "status": "issued",
    "template": "WELCOME18",
    "member_id": DEMO_MEMBER_ID,
    "bearer": False,
    "valid_from": _AT,
    "valid_to": "2026-12-23T08:00:00Z",
    "source": "manual",
    "reference": "C-8812",
    "campaign": None,
    "issued_at": _AT,
    "redemption": None,
    "voided_at": None,
    "void_reason": None,
}
STATUS = (
    "`issued` (usable in its window), `redeemed`, `expired` (past valid_to: shown so at once, "
    "before the daily job writes it) or `voided`."
)


class VoucherRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_VOUCHER]})

    code: str = Field(description="14 characters: 13 random (65 bits) and a check character.")
    status: VoucherStatus = Field(description=STATUS)
    template: str
    member_id: str = Field(description="The holder.")
    bearer: bool = Field(description="Anyone holding the code may use it (the template's).")
    valid_from: datetime
    valid_to: datetime = Field(description="Exclusive.")
    source: VoucherSource = Field(
        description="`manual` (POST /v1/vouchers), `campaign`, `sale` (返券) or `reward`."
    )
    reference: str | None = Field(description="The issuer's reference (manual: as sent).")
    campaign: str | None
    issued_at: datetime
    redemption: VoucherRedemptionRead | None = Field(description="The sale that used it, if any.")
    voided_at: datetime | None
    void_reason: str | None

    @classmethod
    def of(cls, v: VoucherRecord, now: datetime) -> VoucherRead:
        r = v.redemption
        return cls(
            code=v.code,
            status=v.status(now),
            template=v.template,
            member_id=v.member_id,
            bearer=v.bearer,
            valid_from=v.valid_from,
            valid_to=v.valid_to,
            source=v.source,
            reference=v.reference,
            campaign=v.campaign,
            issued_at=v.issued_at,
            redemption=VoucherRedemptionRead(
                store_code=r.store_code,
                receipt_no=r.receipt_no,
                amount=r.amount,
                redeemed_at=r.redeemed_at,
                sale_id=r.sale_id,
            )
            if r
            else None,
            voided_at=v.voided_at,
            void_reason=v.void_reason,
        )


class VoucherExpiryRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"ran_at": _AT, "vouchers": 312}]})

    ran_at: datetime
    vouchers: int = Field(description="Vouchers that became expired.")
