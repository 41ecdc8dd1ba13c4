"""Voucher templates and vouchers (docs/domain §12). Pure.

A template says what a voucher is worth (``kind``: amount off, 满X减Y, percent off), where and
on what it applies (stores, goods scope, card classes), who may use it (its holder, or anyone
holding the code: ``bearer``), how long it is valid (a window, or N days from issue), and who
bears its cost (the store's share: a template override, else a sharing group, else all of it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from app.domain.card_classes import SharingGroup, store_share_for
from app.domain.pricing import Goods

ONE = Decimal(1)


class Kind(StrEnum):
    AMOUNT_OFF = "amount_off"
    THRESHOLD_AMOUNT_OFF = "threshold_amount_off"  # 满X减Y
    PERCENT_OFF = "percent_off"


class Status(StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    VOIDED = "voided"


class Source(StrEnum):
    MANUAL = "manual"
    CAMPAIGN = "campaign"
    SALE = "sale"  # 返券
    REWARD = "reward"  # 积分商城


class OnReturn(StrEnum):
    """What a return does to a voucher the sale was paid with (tenant setting)."""

    KEEP = "keep"
    DEDUCT = "deduct"
    RESTORE = "restore"


# The goods levels a scope can name, as discount rules name them.
SCOPE_LEVELS = ("major_category", "mid_category", "minor_category", "counter", "brand", "sku")


@dataclass(frozen=True)
class Scope:
    """Which lines a voucher (or a 返券 rule) counts: any line with a listed value at any listed
    level is included (nothing listed: every line), unless it is excluded."""

    include: Mapping[str, frozenset[str]] = field(default_factory=dict)
    exclude: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def covers(self, line: Goods) -> bool:
        if any(getattr(line, level) in codes for level, codes in self.exclude.items()):
            return False
        if not any(self.include.values()):
            return True
        return any(getattr(line, level) in codes for level, codes in self.include.items())

    def as_json(self) -> tuple[dict, dict]:
        return (
            {k: sorted(v) for k, v in self.include.items() if v},
            {k: sorted(v) for k, v in self.exclude.items() if v},
        )

    @classmethod
    def of(cls, include: Mapping | None, exclude: Mapping | None) -> Scope:
        return cls(
            {k: frozenset(v) for k, v in (include or {}).items()},
            {k: frozenset(v) for k, v in (exclude or {}).items()},
        )


@dataclass(frozen=True)
class Template:
    code: str
    name: str
    kind: Kind
    face_value: Decimal | None = None  # amount_off, threshold_amount_off
    rate: Decimal | None = None  # percent_off: the fraction paid (0.9 = 9折 = 10 % off)
    max_discount: Decimal | None = None  # percent_off
    min_spend: Decimal | None = None  # required for threshold_amount_off
    stores: frozenset[str] = frozenset()  # empty: every store
    scope: Scope = field(default_factory=Scope)
    card_classes: frozenset[str] = frozenset()  # empty: any, and walk-ins for a bearer voucher
    bearer: bool = False
    valid_days: int | None = None  # from issue; else the window below
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    per_member_limit: int | None = None  # most of this template on one receipt; and per member
    sharing_group: str | None = None
    store_share: Decimal | None = None

    def store_share_of(self, line: Goods, groups: Mapping[str, SharingGroup]) -> Decimal:
        """The store's share of this voucher's discount on ``line``."""
        if self.store_share is not None:
            return self.store_share
        group = groups.get(self.sharing_group) if self.sharing_group else None
        if group is None:
            return ONE
        return store_share_for(group, line.counter, line.brand)


@dataclass(frozen=True)
class Voucher:
    """A voucher as one read saw it."""

    code: str
    template: str
    status: Status
    holder: str  # member id
    valid_from: datetime
    valid_to: datetime
    campaign: str | None = None
    redeemed_amount: Decimal | None = None


@dataclass(frozen=True)
class NewVoucher:
    """A voucher to issue: its code is drawn by the caller (voucher_codes.new_code)."""

    code: str
    template: str
    holder: str  # member id
    valid_from: datetime
    valid_to: datetime
    source: Source
    source_ref: str | None = None
    campaign: str | None = None


def validity(template: Template, issued_at: datetime) -> tuple[datetime, datetime]:
    """A voucher's window: ``valid_days`` from its issue, else the template's window."""
    if template.valid_days is not None:
        return issued_at, issued_at + timedelta(days=template.valid_days)
    assert template.valid_from is not None and template.valid_to is not None  # template_terms
    return template.valid_from, template.valid_to


@dataclass(frozen=True)
class VoucherRule:
    """返券: a sale earns vouchers of ``template``, one per full ``per_amount`` of eligible
    amount (its covered lines' amount not paid with vouchers), at most ``max_per_receipt``."""

    code: str
    template: str
    per_amount: Decimal
    max_per_receipt: int | None = None
    card_classes: frozenset[str] = frozenset()  # empty: any
    stores: frozenset[str] = frozenset()  # empty: every store
    scope: Scope = field(default_factory=Scope)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
