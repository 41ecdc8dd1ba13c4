"""Member groups (docs/domain §10, 会员卡群组): a saved query over members, generated into a list.

Criteria (every part optional; all given conditions must hold; within a list, any value):

* ``attributes``: ``genders``, ``age`` {min, max} (years reached in the generation year: the
  birthday is sealed, only its year is kept in clear), ``regions``, ``card_classes`` (holds an
  active card of the class), ``tags`` (has any of them), ``rfm_segments`` (segment in the
  tenant's latest RFM run).
* ``consumption`` in ``from``..``to`` (local dates, inclusive): ``amount`` {min, max} of the
  net spend and ``count`` {min, max} of purchases in the range — ``count.min`` defaults to 1
  (bought at least once); ``{"count": {"max": 0}}`` selects those who did not buy —,
  ``categories`` (a line of any of these category codes, at any level) and ``brands``.
* ``ranking``: the ``top`` N of the members meeting the rest, by ``amount`` or ``count`` in
  the consumption range (all history without one), buyers only; ties by member id.

Erased members are never in a group. The code is immutable; changing the criteria marks a
generated group ``stale`` (its list stays, dated) until it is generated again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from app.domain.errors import FieldError, Invalid, Message
from app.domain.members import Gender
from app.domain.rfm import SEGMENTS

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
MAX_VALUES = 100
MAX_TOP = 1_000_000
MAX_AGE = 150
MAX_AMOUNT = Decimal("999999999999.99")
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


class GroupStatus(StrEnum):
    NEW = "new"  # never generated
    GENERATED = "generated"
    STALE = "stale"  # criteria changed since the list was made


class RankBy(StrEnum):
    AMOUNT = "amount"
    COUNT = "count"


@dataclass(frozen=True)
class IntRange:
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class AmountRange:
    min: Decimal | None = None
    max: Decimal | None = None


@dataclass(frozen=True)
class Attributes:
    genders: tuple[str, ...] = ()
    age: IntRange | None = None
    regions: tuple[str, ...] = ()
    card_classes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    rfm_segments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Consumption:
    start: date
    end: date
    amount: AmountRange | None = None
    count: IntRange = field(default_factory=lambda: IntRange(1, None))
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ranking:
    by: RankBy
    top: int


@dataclass(frozen=True)
class Criteria:
    attributes: Attributes | None = None
    consumption: Consumption | None = None
    ranking: Ranking | None = None

    def as_json(self) -> dict:
        out: dict = {}
        if (a := self.attributes) is not None:
            attrs: dict = {}
            for name in ("genders", "regions", "card_classes", "tags", "rfm_segments"):
                if getattr(a, name):
                    attrs[name] = list(getattr(a, name))
            if a.age is not None:
                attrs["age"] = {"min": a.age.min, "max": a.age.max}
            out["attributes"] = attrs
        if (c := self.consumption) is not None:
            cons: dict = {
                "from": c.start.isoformat(),
                "to": c.end.isoformat(),
                "count": {"min": c.count.min, "max": c.count.max},
            }
            if c.amount is not None:
                cons["amount"] = {
                    "min": _text(c.amount.min),
                    "max": _text(c.amount.max),
                }
            if c.categories:
                cons["categories"] = list(c.categories)
            if c.brands:
                cons["brands"] = list(c.brands)
            out["consumption"] = cons
        if (r := self.ranking) is not None:
            out["ranking"] = {"by": r.by.value, "top": r.top}
        return out


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


# --- building and checking --------------------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, where: str, message: str | Message) -> None:
        self.items.append(FieldError(where, message))


def _values(raw, where: str, errors: _Errors, allowed: tuple[str, ...] | None = None) -> tuple:
    if raw is None:
        return ()
    values = tuple(dict.fromkeys(str(v) for v in raw))  # deduplicated, first-seen order
    if len(values) > MAX_VALUES:
        errors.add(
            where,
            Message("{where} has at most {max_values} values.", where=where, max_values=MAX_VALUES),
        )
    if any(not v.strip() or len(v) > 64 for v in values):
        errors.add(where, Message("{where} values are 1-64 characters.", where=where))
    if allowed is not None:
        unknown = [v for v in values if v not in allowed]
        if unknown:
            errors.add(
                where,
                Message(
                    "{where}: {unknown!r} is not one of {value}.",
                    where=where,
                    unknown=unknown[0],
                    value=", ".join(allowed),
                ),
            )
    return values


def _int_range(raw: dict | None, where: str, errors: _Errors, high: int) -> IntRange | None:
    if raw is None:
        return None
    low_value, high_value = raw.get("min"), raw.get("max")
    for name, value in (("min", low_value), ("max", high_value)):
        if value is not None and not 0 <= value <= high:
            errors.add(
                f"{where}.{name}",
                Message("{where}.{name} is 0 to {high}.", where=where, name=name, high=high),
            )
    if low_value is not None and high_value is not None and low_value > high_value:
        errors.add(where, Message("{where}.min is at most {where}.max.", where=where))
    return IntRange(low_value, high_value)


def _amount_range(raw: dict | None, where: str, errors: _Errors) -> AmountRange | None:
    if raw is None:
        return None
    low, high = (None if v is None else Decimal(str(v)) for v in (raw.get("min"), raw.get("max")))
    for name, value in (("min", low), ("max", high)):
        if value is not None and (
            value < 0 or value > MAX_AMOUNT or value != value.quantize(Decimal("0.01"))
        ):
            errors.add(
                f"{where}.{name}",
                Message(
                    "{where}.{name} is CNY ≥ 0 with at most 2 decimals.", where=where, name=name
                ),
            )
    if low is not None and high is not None and low > high:
        errors.add(where, Message("{where}.min is at most {where}.max.", where=where))
    return AmountRange(low, high)


def criteria_of(raw: dict) -> Criteria:
    """Criteria from their API form (already typed: dates, Decimals, ints); 422
    ``invalid_criteria`` naming every offending field (``criteria.consumption.to``, …)."""
    errors = _Errors()
    attributes = consumption = ranking = None
    if (a := raw.get("attributes")) is not None:
        p = "criteria.attributes"
        attributes = Attributes(
            genders=_values(a.get("genders"), f"{p}.genders", errors, tuple(g for g in Gender)),
            age=_int_range(a.get("age"), f"{p}.age", errors, MAX_AGE),
            regions=_values(a.get("regions"), f"{p}.regions", errors),
            card_classes=_values(a.get("card_classes"), f"{p}.card_classes", errors),
            tags=_values(a.get("tags"), f"{p}.tags", errors),
            rfm_segments=_values(a.get("rfm_segments"), f"{p}.rfm_segments", errors, SEGMENTS),
        )
    if (c := raw.get("consumption")) is not None:
        p = "criteria.consumption"
        start, end = c.get("from"), c.get("to")
        if start is None or end is None:
            errors.add(p, Message("{p} needs from and to (dates).", p=p))
        elif start > end:
            errors.add(f"{p}.to", Message("{p}.to is on or after from.", p=p))
        elif start < EARLIEST or end > LATEST:
            errors.add(
                p,
                Message(
                    "{p} lies between {earliest} and {latest}.",
                    p=p,
                    earliest=EARLIEST.isoformat(),
                    latest=LATEST.isoformat(),
                ),
            )
        count = _int_range(c.get("count"), f"{p}.count", errors, 10**9)
        if count is None:
            count = IntRange(1, None)
        elif count.min is None:
            count = IntRange(0 if count.max == 0 else 1, count.max)
        consumption = Consumption(
            start=start or date.min,
            end=end or date.min,
            amount=_amount_range(c.get("amount"), f"{p}.amount", errors),
            count=count,
            categories=_values(c.get("categories"), f"{p}.categories", errors),
            brands=_values(c.get("brands"), f"{p}.brands", errors),
        )
    if (r := raw.get("ranking")) is not None:
        top = r.get("top")
        if top is None or not 1 <= top <= MAX_TOP:
            errors.add(
                "criteria.ranking.top",
                Message("criteria.ranking.top is 1 to {max_top}.", max_top=MAX_TOP),
            )
        by = r.get("by")
        if by not in tuple(RankBy):
            errors.add("criteria.ranking.by", "criteria.ranking.by is amount or count.")
        else:
            ranking = Ranking(RankBy(by), top or 1)
    if errors.items:
        raise Invalid(
            "invalid_criteria",
            "The criteria are invalid: {problems}",
            errors=errors.items,
            problems=errors.items,
        )
    return Criteria(attributes, consumption, ranking)


def criteria_from_json(data: dict) -> Criteria:
    """Stored criteria (as written by ``as_json``) back into the domain."""
    raw = dict(data)
    if (c := raw.get("consumption")) is not None:
        amount = c.get("amount")
        raw["consumption"] = {
            **c,
            "from": date.fromisoformat(c["from"]),
            "to": date.fromisoformat(c["to"]),
            "amount": None
            if amount is None
            else {k: None if v is None else Decimal(v) for k, v in amount.items()},
        }
    return criteria_of(raw)


def check_code(code: str) -> str:
    if not CODE.fullmatch(code):
        raise Invalid(
            "invalid_group_code",
            "A group code is 1-32 letters, digits, '_' or '-', starting with a letter or digit.",
            field="code",
        )
    return code


def age_to_birth_years(age: IntRange, year: int) -> tuple[int | None, int | None]:
    """(earliest, latest) birth year for an age range reached in ``year``."""
    earliest = year - age.max if age.max is not None else None
    latest = year - age.min if age.min is not None else None
    return earliest, latest
