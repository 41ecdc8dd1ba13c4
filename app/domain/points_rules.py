"""What a sale earns beyond its points rates (docs/domain §3.2): multiplier events and the
birthday multiplier (B), and warm rules (C). Pure: no I/O.

Decisions where the business rules are silent (each is tested):

* **k** is the largest k of the events in effect at the sale's ``occurred_at`` (``starts_at``
  inclusive, ``ends_at`` exclusive) for its store and the card's class (an empty list matches
  every store / class) and of the birthday multiplier when it applies; 1 when none does.
  Several matching never multiply.
* **Birthday**: the member's birthday compared with the sale's local date in the tenant's time
  zone: ``day`` = same month and day, ``month`` = same month. A 29 February birthday is
  celebrated on 28 February in other years. A member without a birthday has none.
* **Warm rules** are in effect when ``active`` and ``starts_at <= at < ends_at`` (either end
  open when null). Each gives its points at most once per receipt, however many lines meet
  it. ``bought`` matches a line whose code at the rule's level equals the target exactly;
  ``receipt_at_least`` compares the receipt's final total (≥); ``birthday`` uses the
  condition's scope (default ``day``).
* Member groups (issue 6) are not a condition yet.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from app.domain.errors import N_, FieldError, Invalid, Message, Summary
from app.domain.money import decimal_places
from app.domain.points import Earning, SaleLine, earn
from app.domain.pricing import Goods, Level, RuleIndex

if TYPE_CHECKING:  # points_ledger imports this module
    from app.domain.points_ledger import PointsSettings

ONE = Decimal(1)
MAX_K = Decimal(100)
K_PLACES = 4
MAX_NAME_LENGTH = 100
MAX_CODES = 500
MAX_CODE_LENGTH = 64
MAX_WARM_POINTS = 1_000_000
MAX_AMOUNT = Decimal("10000000000")

# The line attribute holding the code a condition at each level names.
LINE_FIELD = {
    Level.PRODUCT: "sku",
    Level.BRAND: "brand",
    Level.COUNTER: "counter",
    Level.MINOR_CATEGORY: "minor_category",
    Level.MID_CATEGORY: "mid_category",
    Level.MAJOR_CATEGORY: "major_category",
}


class BirthdayScope(StrEnum):
    DAY = "day"
    MONTH = "month"


def k_problem(k: Decimal) -> str | Message | None:
    if not k.is_finite() or not ONE <= k < MAX_K:
        return Message("must be in [1, {max_k})", max_k=MAX_K)
    if decimal_places(k) > K_PLACES:
        return Message("must have at most {k_places} decimal places", k_places=K_PLACES)
    return None


@dataclass(frozen=True)
class BirthdayMultiplier:
    """Tenant setting: members earn ``k`` on their birthday (day or month)."""

    k: Decimal
    scope: BirthdayScope


def birthday_multiplier(k: Decimal, scope: BirthdayScope) -> BirthdayMultiplier:
    """As a client sent it; a 422 naming the field when out of range."""
    if message := k_problem(k):
        raise Invalid("invalid_birthday_multiplier", message, field="birthday_multiplier.k")
    return BirthdayMultiplier(k, BirthdayScope(scope))


def is_birthday(birthday: date | None, at: datetime, tz: tzinfo, scope: BirthdayScope) -> bool:
    """Whether ``at`` (aware) falls on the member's birthday day / month in zone ``tz``."""
    if birthday is None:
        return False
    local = at.astimezone(tz).date()
    if birthday.month != local.month:
        return False
    if scope is BirthdayScope.MONTH:
        return True
    day = birthday.day
    if birthday.month == 2 and day == 29 and not calendar.isleap(local.year):
        day = 28
    return local.day == day


# --- multiplier events -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EventTerms:
    name: str
    k: Decimal
    starts_at: datetime  # inclusive
    ends_at: datetime  # exclusive
    store_codes: tuple[str, ...] = ()  # empty: every store
    card_classes: tuple[str, ...] = ()  # empty: every class
    member_groups: tuple[str, ...] = ()  # empty: every member (docs/domain §10 groups)


EVENT_FIELDS = (
    "name",
    "k",
    "starts_at",
    "ends_at",
    "store_codes",
    "card_classes",
    "member_groups",
)


@dataclass(frozen=True, kw_only=True)
class MultiplierEvent(EventTerms):
    id: int
    created_at: datetime
    updated_at: datetime


def _problems(code: str, what: str, problems: list[FieldError]) -> None:
    if problems:
        summary = Summary(problems, 5)
        raise Invalid(
            code, "Invalid {what}. {summary}", errors=problems, what=Message(what), summary=summary
        )


def _check_window(
    start: datetime | None, end: datetime | None, names: tuple[str, str]
) -> list[FieldError]:
    problems = []
    for name, moment in zip(names, (start, end), strict=True):
        if moment is not None and moment.utcoffset() is None:
            problems.append(FieldError(name, "must carry a UTC offset"))
    if not problems and start is not None and end is not None and end <= start:
        problems.append(FieldError(names[1], "must be later than {names}", names=names[0]))
    return problems


def _check_name(name: str) -> list[FieldError]:
    if name.strip() == "" or len(name) > MAX_NAME_LENGTH:
        return [
            FieldError(
                "name",
                "must be 1-{max_name_length} characters, not blank",
                max_name_length=MAX_NAME_LENGTH,
            )
        ]
    return []


def _check_codes(field: str, codes: Sequence[str]) -> list[FieldError]:
    problems = []
    if len(codes) > MAX_CODES:
        problems.append(
            FieldError(field, "must hold at most {max_codes} codes", max_codes=MAX_CODES)
        )
    if len(set(codes)) != len(codes):
        problems.append(FieldError(field, "must not name a code twice"))
    for i, code in enumerate(codes):
        if code.strip() == "" or len(code) > MAX_CODE_LENGTH:
            problems.append(
                FieldError(
                    f"{field}[{i}]",
                    "must be 1-{max_code_length} characters",
                    max_code_length=MAX_CODE_LENGTH,
                )
            )
    return problems


def check_event(terms: EventTerms) -> None:
    """Raise ``Invalid`` (``invalid_multiplier_event``) listing every field that breaks a rule."""
    problems = _check_name(terms.name)
    if message := k_problem(terms.k):
        problems.append(FieldError("k", message))
    problems += _check_window(terms.starts_at, terms.ends_at, ("starts_at", "ends_at"))
    problems += _check_codes("store_codes", terms.store_codes)
    problems += _check_codes("card_classes", terms.card_classes)
    problems += _check_codes("member_groups", terms.member_groups)
    _problems("invalid_multiplier_event", N_("multiplier event"), problems)


def event_applies(
    event: EventTerms,
    at: datetime,
    store_code: str,
    card_class: str,
    member_groups: frozenset[str] = frozenset(),
) -> bool:
    return (
        event.starts_at <= at < event.ends_at
        and (not event.store_codes or store_code in event.store_codes)
        and (not event.card_classes or card_class in event.card_classes)
        and (not event.member_groups or not member_groups.isdisjoint(event.member_groups))
    )


def needs_member_groups(events: Iterable[EventTerms], at: datetime) -> bool:
    """Whether an event in effect targets member groups (else don't read the member's)."""
    return any(e.member_groups and e.starts_at <= at < e.ends_at for e in events)


def multiplier(
    events: Iterable[EventTerms],
    at: datetime,
    store_code: str,
    card_class: str,
    *,
    member_groups: frozenset[str] = frozenset(),
    birthday: BirthdayMultiplier | None = None,
    member_birthday: date | None = None,
    tz: tzinfo | None = None,
) -> Decimal:
    """k for a sale: the largest k of what applies (never their product), else 1.
    ``member_groups``: the codes of the groups the member is in."""
    k = ONE
    for event in events:
        if event.k > k and event_applies(event, at, store_code, card_class, member_groups):
            k = event.k
    if (
        birthday is not None
        and birthday.k > k
        and tz is not None
        and is_birthday(member_birthday, at, tz, birthday.scope)
    ):
        k = birthday.k
    return k


# --- warm rules ------------------------------------------------------------------------------


class ConditionKind(StrEnum):
    BIRTHDAY = "birthday"
    BOUGHT = "bought"
    RECEIPT_AT_LEAST = "receipt_at_least"


@dataclass(frozen=True, kw_only=True)
class WarmCondition:
    kind: ConditionKind
    scope: BirthdayScope = BirthdayScope.DAY  # birthday
    level: Level | None = None  # bought
    target: str | None = None  # bought
    amount: Decimal | None = None  # receipt_at_least


@dataclass(frozen=True, kw_only=True)
class WarmTerms:
    name: str
    points: int
    condition: WarmCondition
    starts_at: datetime | None = None  # inclusive
    ends_at: datetime | None = None  # exclusive
    active: bool = True


WARM_FIELDS = ("name", "points", "condition", "starts_at", "ends_at", "active")


@dataclass(frozen=True, kw_only=True)
class WarmRule(WarmTerms):
    id: int
    created_at: datetime
    updated_at: datetime


def check_warm_rule(terms: WarmTerms) -> None:
    """Raise ``Invalid`` (``invalid_warm_rule``) listing every field that breaks a rule."""
    problems = _check_name(terms.name)
    if not 0 < terms.points <= MAX_WARM_POINTS:
        problems.append(
            FieldError("points", "must be 1-{max_warm_points}", max_warm_points=MAX_WARM_POINTS)
        )
    c = terms.condition
    if c.kind is ConditionKind.BOUGHT:
        if c.level is None:
            problems.append(FieldError("condition.level", "is required for bought"))
        if c.target is None or c.target.strip() == "" or len(c.target) > MAX_CODE_LENGTH:
            problems.append(
                FieldError(
                    "condition.target",
                    "must be 1-{max_code_length} characters",
                    max_code_length=MAX_CODE_LENGTH,
                )
            )
    elif c.kind is ConditionKind.RECEIPT_AT_LEAST:
        amount = c.amount
        if (
            amount is None
            or not amount.is_finite()
            or not Decimal(0) < amount < MAX_AMOUNT
            or decimal_places(amount) > 2
        ):
            problems.append(
                FieldError(
                    "condition.amount",
                    "must be in (0, {max_amount}), 2 decimals",
                    max_amount=MAX_AMOUNT,
                )
            )
    problems += _check_window(terms.starts_at, terms.ends_at, ("starts_at", "ends_at"))
    _problems("invalid_warm_rule", N_("warm rule"), problems)


def warm_in_effect(rule: WarmTerms, at: datetime) -> bool:
    return (
        rule.active
        and (rule.starts_at is None or rule.starts_at <= at)
        and (rule.ends_at is None or at < rule.ends_at)
    )


def condition_met(
    condition: WarmCondition,
    at: datetime,
    lines: Sequence[Goods],
    receipt_total: Decimal,
    member_birthday: date | None,
    tz: tzinfo,
) -> bool:
    if condition.kind is ConditionKind.BIRTHDAY:
        return is_birthday(member_birthday, at, tz, condition.scope)
    # check_warm_rule guarantees the fields each kind needs.
    if condition.kind is ConditionKind.BOUGHT:
        assert condition.level is not None
        field = LINE_FIELD[condition.level]
        return any(getattr(line, field) == condition.target for line in lines)
    assert condition.amount is not None
    return receipt_total >= condition.amount


def warm_points(
    rules: Iterable[WarmRule],
    at: datetime,
    lines: Sequence[Goods],
    receipt_total: Decimal,
    member_birthday: date | None,
    tz: tzinfo,
) -> dict[str, int]:
    """rule id → points of every rule in effect at ``at`` whose condition the receipt meets;
    each rule once."""
    return {
        str(rule.id): rule.points
        for rule in rules
        if warm_in_effect(rule, at)
        and condition_met(rule.condition, at, lines, receipt_total, member_birthday, tz)
    }


def needs_birthday(
    rules: Iterable[WarmRule], birthday: BirthdayMultiplier | None, at: datetime
) -> bool:
    """Whether anything in effect looks at the member's birthday (else don't read it)."""
    return birthday is not None or any(
        r.condition.kind is ConditionKind.BIRTHDAY and warm_in_effect(r, at) for r in rules
    )


def condition_json(condition: WarmCondition) -> dict:
    """The condition in the API's (and the table's) spelling."""
    if condition.kind is ConditionKind.BIRTHDAY:
        return {"kind": condition.kind.value, "scope": condition.scope.value}
    if condition.kind is ConditionKind.BOUGHT:
        assert condition.level is not None  # check_warm_rule
        return {
            "kind": condition.kind.value,
            "level": condition.level.value,
            "target": condition.target,
        }
    return {"kind": condition.kind.value, "amount": format(condition.amount, "f")}


def condition_of(data: Mapping) -> WarmCondition:
    """The inverse of ``condition_json`` (for stored conditions)."""
    kind = ConditionKind(data["kind"])
    if kind is ConditionKind.BIRTHDAY:
        return WarmCondition(kind=kind, scope=BirthdayScope(data.get("scope", "day")))
    if kind is ConditionKind.BOUGHT:
        return WarmCondition(kind=kind, level=Level(data["level"]), target=data["target"])
    return WarmCondition(kind=kind, amount=Decimal(data["amount"]))


# --- what a receipt earns with ---------------------------------------------------------------


@dataclass(frozen=True)
class PointsRules:
    """A tenant's points rules, events and warm rules, as the pricing snapshot holds them."""

    index: RuleIndex
    events: tuple[MultiplierEvent, ...]
    warm: tuple[WarmRule, ...]


@dataclass(frozen=True)
class Applied:
    """What a receipt earns with: per-line rates, k and the warm rules' points."""

    rates: dict[int, Decimal]
    k: Decimal
    warm_points: dict[str, int]


def line_rates(
    rules: PointsRules,
    card_class: str,
    default_rate: Decimal,
    lines: Sequence[Goods],
    at: datetime,
) -> dict[int, Decimal]:
    """Each line's points rate: the most specific points rule in effect, else the default."""
    return {
        line.line_no: rules.index.resolve(card_class, line, at, default_rate).rate for line in lines
    }


def applied(
    rules: PointsRules,
    settings: PointsSettings,
    *,
    card_class: str,
    default_rate: Decimal,
    store_code: str,
    lines: Sequence[Goods],
    receipt_total: Decimal,
    at: datetime,
    birthday: date | None,
    tz: tzinfo,
    groups: frozenset[str] = frozenset(),
) -> Applied:
    return Applied(
        rates=line_rates(rules, card_class, default_rate, lines, at),
        k=multiplier(
            rules.events,
            at,
            store_code,
            card_class,
            member_groups=groups,
            birthday=settings.birthday_multiplier,
            member_birthday=birthday,
            tz=tz,
        ),
        warm_points=warm_points(rules.warm, at, lines, receipt_total, birthday, tz),
    )


def preview(
    amounts: Mapping[int, tuple[Decimal, Decimal]], what: Applied, identity_multiple: Decimal
) -> Earning:
    """What a basket would earn without payments: ``amounts`` line_no → (qty, final amount)."""
    lines = [SaleLine(no, qty, amount) for no, (qty, amount) in amounts.items()]
    return earn(lines, [], what.rates, what.k, what.warm_points, identity_multiple)
