"""Card classes (会员卡类别), their change log (修改日志) and sharing groups (折扣分担分组).

A class's settings are a ``ClassTerms``; ``check_class`` holds every rule they must satisfy,
so create and update (current terms merged with the patch) are validated alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from app.domain import audit
from app.domain.audit import FieldChange
from app.domain.cards import CardNumberFormat
from app.domain.errors import N_, Conflict, FieldError, Invalid, Message, Summary
from app.domain.money import decimal_places
from app.domain.stores import STORE_CODE

CLASS_CODE = STORE_CODE
GROUP_CODE = STORE_CODE
PREFIX = re.compile(r"^[A-Z0-9]{0,6}$")
SUFFIX = re.compile(r"^[A-Z0-9]{0,4}$")
MAX_SERIAL_LENGTH = 12
MAX_VALIDITY_MONTHS = 1200
# A whole card number (store code + class format) must fit in 32 characters whatever store
# issues it, so the class's own part leaves room for the longest store code.
MAX_CARD_NUMBER_LENGTH = 32
MAX_STORE_CODE_LENGTH = 12

# Column capacities: rates are Numeric(12,4), money Numeric(14,2), shares Numeric(5,4).
RATE_PLACES, RATE_LIMIT = 4, Decimal(10) ** 8
# Points per CNY and the identity multiple stay below 100, like points rules and multipliers
# (docs/domain §3.2): a receipt's points, A × (1 + (k − 1) + multiple), then stay far inside BIGINT.
POINTS_FACTOR_LIMIT = Decimal(100)
MONEY_PLACES, MONEY_LIMIT = 2, Decimal(10) ** 12


class Usage(StrEnum):
    MEMBER = "member"
    TEMPORARY = "temporary"
    COUPON = "coupon"


class Verification(StrEnum):
    NONE = "none"
    CODE = "code"


class ChangeAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class OverrideLevel(StrEnum):
    COUNTER = "counter"
    BRAND = "brand"


@dataclass(frozen=True, kw_only=True)
class ClassTerms:
    """Everything an admin sets on a card class except its immutable code."""

    name: str
    usage: Usage
    prefix: str = ""
    serial_length: int
    serial_start: int
    serial_end: int
    check_digit_length: int = 1
    suffix: str = ""
    validity_months: int | None = None
    verification: Verification = Verification.NONE
    default_points_rate: Decimal = Decimal("0.1")
    identity_points_multiple: Decimal = Decimal("0")
    default_discount_rate: Decimal = Decimal("1")
    sharing_group: str | None = None
    receipt_open_threshold: Decimal | None = None
    stack_threshold_rate: Decimal = Decimal("0.8")
    stack_rate: Decimal = Decimal("1")
    change_account_enabled: bool = False
    change_account_limit: Decimal = Decimal("0")
    upgrade_to: str | None = None
    upgrade_spend_12m: Decimal | None = None


TERM_FIELDS = tuple(f.name for f in fields(ClassTerms))
# Printed into every card number: frozen once the class has issued a card.
FORMAT_FIELDS = ("prefix", "serial_length", "serial_start", "check_digit_length", "suffix")


@dataclass(frozen=True, kw_only=True)
class CardClass(ClassTerms):
    tenant_id: str
    code: str
    next_serial: int  # the serial the next issued card gets
    created_at: datetime
    updated_at: datetime

    @property
    def cards_issued(self) -> int:
        return self.next_serial - self.serial_start

    @property
    def number_format(self) -> CardNumberFormat:
        return CardNumberFormat(
            prefix=self.prefix,
            serial_length=self.serial_length,
            check_digit_length=self.check_digit_length,
            suffix=self.suffix,
        )


def terms_of(card_class: ClassTerms) -> ClassTerms:
    """Just the settings of a class (e.g. to merge a patch into)."""
    return ClassTerms(**{name: getattr(card_class, name) for name in TERM_FIELDS})


# --- validation ----------------------------------------------------------------------------


def _decimal_problem(
    value: Decimal, *, low: Decimal, low_open: bool, high: Decimal, high_open: bool, places: int
) -> str | Message | None:
    """Why ``value`` is outside the interval or too precise; None if it is fine."""
    if not value.is_finite():
        return "must be a finite number"
    if value < low or (low_open and value == low) or value > high or (high_open and value == high):
        return Message(
            "must be in {value}{low}, {high}{value2}",
            value="(" if low_open else "[",
            low=low,
            high=high,
            value2=")" if high_open else "]",
        )
    if decimal_places(value) > places:
        return Message("must have at most {places} decimal places", places=places)
    return None


def rate_problem(value: Decimal) -> str | Message | None:
    """A discount rate is the fraction paid: 0 < rate <= 1."""
    return _decimal_problem(
        value, low=Decimal(0), low_open=True, high=Decimal(1), high_open=False, places=RATE_PLACES
    )


def share_problem(value: Decimal) -> str | Message | None:
    return _decimal_problem(
        value, low=Decimal(0), low_open=False, high=Decimal(1), high_open=False, places=RATE_PLACES
    )


def factor_problem(value: Decimal) -> str | Message | None:
    """A non-negative multiplier of points: a points rate or the identity multiple."""
    return _decimal_problem(
        value,
        low=Decimal(0),
        low_open=False,
        high=POINTS_FACTOR_LIMIT,
        high_open=True,
        places=RATE_PLACES,
    )


def money_problem(value: Decimal, *, positive: bool = False) -> str | Message | None:
    return _decimal_problem(
        value,
        low=Decimal(0),
        low_open=positive,
        high=MONEY_LIMIT,
        high_open=True,
        places=MONEY_PLACES,
    )


def _raise_if_any(code: str, what: str, problems: list[FieldError]) -> None:
    if problems:
        summary = Summary(problems)
        raise Invalid(
            code, "Invalid {what}. {summary}", errors=problems, what=Message(what), summary=summary
        )


def check_class(code: str, terms: ClassTerms) -> None:
    """Raise ``Invalid`` listing every field (named as in the API) that breaks a rule."""
    problems: list[FieldError] = []

    def check(ok: bool, field: str, message: str | Message) -> None:
        if not ok:
            problems.append(FieldError(field, message))

    check(bool(CLASS_CODE.fullmatch(code)), "code", "must be 1-12 characters A-Z or 0-9")
    check(0 < len(terms.name.strip()) <= 200, "name", "must be 1-200 characters")
    check(terms.usage in set(Usage), "usage", "must be member, temporary or coupon")
    check(bool(PREFIX.fullmatch(terms.prefix)), "prefix", "must be 0-6 characters A-Z or 0-9")
    check(bool(SUFFIX.fullmatch(terms.suffix)), "suffix", "must be 0-4 characters A-Z or 0-9")
    check(terms.check_digit_length in (0, 1, 2), "check_digit_length", "must be 0, 1 or 2")
    length_ok = 1 <= terms.serial_length <= MAX_SERIAL_LENGTH
    check(
        length_ok,
        "serial_length",
        Message("must be 1-{max_serial_length}", max_serial_length=MAX_SERIAL_LENGTH),
    )
    check(terms.serial_start >= 0, "serial_start", "must be at least 0")
    check(terms.serial_end >= terms.serial_start, "serial_end", "must be at least serial_start")
    if length_ok:
        check(
            terms.serial_end < 10**terms.serial_length,
            "serial_end",
            Message(
                "must fit in serial_length ({serial_length}) digits",
                serial_length=terms.serial_length,
            ),
        )
        own_part = (
            len(terms.prefix) + terms.serial_length + terms.check_digit_length + len(terms.suffix)
        )
        check(
            own_part + MAX_STORE_CODE_LENGTH <= MAX_CARD_NUMBER_LENGTH,
            "serial_length",
            Message(
                "prefix, serial, check digits and suffix take {own_part} characters; with a "
                "{max_store_code_length}-character store code the card number would exceed "
                "{max_card_number_length}",
                own_part=own_part,
                max_store_code_length=MAX_STORE_CODE_LENGTH,
                max_card_number_length=MAX_CARD_NUMBER_LENGTH,
            ),
        )
    if terms.validity_months is not None:
        check(
            1 <= terms.validity_months <= MAX_VALIDITY_MONTHS,
            "validity_months",
            Message(
                "must be 1-{max_validity_months} or null (never expires)",
                max_validity_months=MAX_VALIDITY_MONTHS,
            ),
        )
    check(terms.verification in set(Verification), "verification", "must be none or code")

    decimals = {
        "default_points_rate": factor_problem(terms.default_points_rate),
        "identity_points_multiple": factor_problem(terms.identity_points_multiple),
        "default_discount_rate": rate_problem(terms.default_discount_rate),
        "stack_threshold_rate": rate_problem(terms.stack_threshold_rate),
        "stack_rate": rate_problem(terms.stack_rate),
        "change_account_limit": money_problem(terms.change_account_limit),
    }
    if terms.receipt_open_threshold is not None:
        decimals["receipt_open_threshold"] = money_problem(terms.receipt_open_threshold)
    if terms.upgrade_spend_12m is not None:
        decimals["upgrade_spend_12m"] = money_problem(terms.upgrade_spend_12m, positive=True)
    problems += [FieldError(field, message) for field, message in decimals.items() if message]

    check(
        (terms.upgrade_to is None) == (terms.upgrade_spend_12m is None),
        "upgrade_spend_12m" if terms.upgrade_to else "upgrade_to",
        "upgrade_to and upgrade_spend_12m are set together or both null",
    )
    check(terms.upgrade_to != code, "upgrade_to", "a class cannot upgrade to itself")
    _raise_if_any("invalid_card_class", N_("card class"), problems)


def check_change(current: CardClass, new: ClassTerms) -> None:
    """What a class that has issued cards may no longer change (a conflict, not bad input)."""
    if current.cards_issued == 0:
        return
    frozen = [f for f in FORMAT_FIELDS if getattr(new, f) != getattr(current, f)]
    if frozen:
        raise Conflict(
            "card_class_in_use",
            "Class {code_name} has issued cards, so its number format ({value}) can no longer"
            " change.",
            errors=[FieldError(f, "cannot change once cards were issued") for f in frozen],
            code_name=current.code,
            value=", ".join(frozen),
        )
    if new.serial_end < current.next_serial - 1:
        raise Conflict(
            "card_class_in_use",
            "Class {code_name} has issued serials up to {value}; serial_end cannot go below that.",
            field="serial_end",
            code_name=current.code,
            value=current.next_serial - 1,
        )


# --- change log ----------------------------------------------------------------------------


def changed_fields(before: ClassTerms | None, after: ClassTerms | None) -> list[FieldChange]:
    """One log entry per setting that differs; ``None`` stands for "no class" (create, delete)."""
    return audit.changed_fields(before, after, TERM_FIELDS)


# --- sharing groups ------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareOverride:
    level: OverrideLevel
    code: str
    store_share: Decimal


@dataclass(frozen=True)
class SharingGroup:
    """How the member discount's cost is split: the store bears ``store_share``, the
    supplier the rest, unless a counter or brand override says otherwise."""

    tenant_id: str
    code: str
    name: str
    store_share: Decimal
    overrides: tuple[ShareOverride, ...]

    @cached_property
    def share_by_target(self) -> dict[tuple[OverrideLevel, str], Decimal]:
        """Overrides by (level, code): checkout looks one up per basket line."""
        return {(o.level, o.code): o.store_share for o in self.overrides}

    created_at: datetime
    updated_at: datetime


def check_sharing_group(
    code: str, name: str, store_share: Decimal, overrides: Iterable[ShareOverride]
) -> None:
    problems: list[FieldError] = []
    if not GROUP_CODE.fullmatch(code):
        problems.append(FieldError("code", "must be 1-12 characters A-Z or 0-9"))
    if not 0 < len(name.strip()) <= 200:
        problems.append(FieldError("name", "must be 1-200 characters"))
    if message := share_problem(store_share):
        problems.append(FieldError("store_share", message))
    seen = set()
    for i, override in enumerate(overrides):
        if message := share_problem(override.store_share):
            problems.append(FieldError(f"overrides[{i}].store_share", message))
        key = (override.level, override.code)
        if key in seen:
            problems.append(
                FieldError(
                    f"overrides[{i}]",
                    "duplicate {level} {code_name}",
                    level=override.level,
                    code_name=override.code,
                )
            )
        seen.add(key)
    _raise_if_any("invalid_sharing_group", N_("sharing group"), problems)


def store_share_for(group: SharingGroup, counter: str | None, brand: str | None) -> Decimal:
    """The store's share of a line's member discount: a brand override beats a counter
    override, which beats the group's default."""
    for key in ((OverrideLevel.BRAND, brand), (OverrideLevel.COUNTER, counter)):
        if (share := group.share_by_target.get(key)) is not None:
            return share
    return group.store_share
