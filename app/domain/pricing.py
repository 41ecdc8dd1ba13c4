"""Member price at checkout (docs/domain §2): which rate applies, the unit price with stacked
discounts (折上折), line amounts, who bears the member discount, and which classes a receipt
can open.

Decisions where the business rules are silent (each is tested):

* **Rate resolution** (§2.1). Within the most specific matching level, the entry approved last
  wins; on equal ``approved_at`` the greater ``rule_id`` wins, longer ids being greater (so
  numeric ids order as numbers: "10" beats "9"), and two entries equal on both (a document
  naming one target twice, which document validation should refuse) resolve to the one given
  first to ``build``.
  Codes are matched exactly as given: category codes must be unique at their level (e.g.
  hierarchical codes ``01`` / ``0102`` / ``010203``). A line field that is ``None`` matches
  no rule at that level. An entry whose window is empty (``effective_to <= effective_from``,
  e.g. a document voided before it started) never applies.
* **Stacked** (§2.2) means the member paid strictly less than a non-stackable line would have,
  ``min(existing, original × rate)``: a discount really was taken on top of the promotion.
  So a stack_rate of 1 that merely equals the promotional price is not "stacked".
  In threshold mode ``e >= stack_threshold_rate`` is evaluated as
  ``existing >= original × stack_threshold_rate`` (the same test for original > 0, exact in
  Decimal, and no division by zero).
* **No sharing group** (§2.3): the store bears the whole member discount (store_share = 1).
* **No card**: every line is priced at its existing price; rate 1, nothing member-related.
* ``final_unit_price`` is the unrounded unit price rounded HALF_UP for display only; the
  amounts are computed from the unrounded unit, so ``final_unit_price × qty`` can differ from
  ``final_amount`` by a fen or more.
* ``price_*`` functions trust their input: call ``check_basket`` first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from app.domain.card_classes import MONEY_LIMIT, MONEY_PLACES, SharingGroup, store_share_for
from app.domain.errors import FieldError, Invalid, Message, Summary
from app.domain.money import CENT, ZERO, decimal_places, round2

ONE = Decimal(1)

MAX_LINES = 500
QTY_PLACES = 3


class Level(StrEnum):
    MAJOR_CATEGORY = "major_category"
    MID_CATEGORY = "mid_category"
    MINOR_CATEGORY = "minor_category"
    COUNTER = "counter"
    BRAND = "brand"
    PRODUCT = "product"


MOST_SPECIFIC_FIRST: tuple[Level, ...] = (
    Level.PRODUCT,
    Level.BRAND,
    Level.COUNTER,
    Level.MINOR_CATEGORY,
    Level.MID_CATEGORY,
    Level.MAJOR_CATEGORY,
)

# The Line attribute holding the code a rule at each level targets.
_LINE_FIELD = {
    Level.PRODUCT: "sku",
    Level.BRAND: "brand",
    Level.COUNTER: "counter",
    Level.MINOR_CATEGORY: "minor_category",
    Level.MID_CATEGORY: "mid_category",
    Level.MAJOR_CATEGORY: "major_category",
}
_LOOKUP_ORDER = tuple((level, _LINE_FIELD[level]) for level in MOST_SPECIFIC_FIRST)
_FOREVER = datetime.max.replace(tzinfo=UTC)


class StackingMode(StrEnum):
    THRESHOLD = "threshold"  # E3 = 2, the default
    MULTIPLY = "multiply"  # E3 = 1


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware.")
    return moment.astimezone(UTC)


# --- lines -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    line_no: int
    sku: str
    major_category: str | None
    mid_category: str | None
    minor_category: str | None
    counter: str | None
    brand: str | None
    original_price: Decimal
    existing_price: Decimal  # after a running store promotion; == original_price if none
    qty: Decimal


def _money_problem(value: Decimal) -> str | Message | None:
    if not value.is_finite() or not ZERO <= value < MONEY_LIMIT:
        return Message("must be in [0, {money_limit})", money_limit=MONEY_LIMIT)
    if decimal_places(value) > MONEY_PLACES:
        return Message("must have at most {money_places} decimal places", money_places=MONEY_PLACES)
    return None


def _qty_problem(qty: Decimal) -> str | Message | None:
    if not qty.is_finite() or qty <= 0:
        return "must be greater than 0"
    if decimal_places(qty) > QTY_PLACES:
        return Message("must have at most {qty_places} decimal places", qty_places=QTY_PLACES)
    return None


# Precedence of the error code when a basket has several kinds of problem.
_LINE_CODES = ("duplicate_line_no", "invalid_price", "invalid_qty")


def check_basket(lines: Sequence[Line]) -> None:
    """Raise ``Invalid`` unless the basket can be priced.

    ``empty_basket`` / ``too_many_lines`` (field ``lines``) come alone. Otherwise every line
    problem is listed (fields ``lines[i].line_no``, ``lines[i].original_price``,
    ``lines[i].existing_price``, ``lines[i].qty``, ``i`` the 0-based position) and the code is
    that of the first kind present in the order duplicate_line_no, invalid_price, invalid_qty.

    Prices are money (>= 0, at most 2 decimals, below the storage limit) and the existing
    price may not exceed the original one (a promotion lowers a price). ``qty`` is > 0 with at
    most 3 decimals, and a line's original amount must stay below the money limit.
    """
    if not lines:
        raise Invalid("empty_basket", "A basket needs at least one line.", field="lines")
    if len(lines) > MAX_LINES:
        raise Invalid(
            "too_many_lines",
            "A basket holds at most {max_lines} lines; this one has {len}.",
            field="lines",
            max_lines=MAX_LINES,
            len=len(lines),
        )
    found: dict[str, list[FieldError]] = {code: [] for code in _LINE_CODES}
    first_at: dict[int, int] = {}
    for i, line in enumerate(lines):
        where = f"lines[{i}]"
        if line.line_no in first_at:
            found["duplicate_line_no"].append(
                FieldError(
                    f"{where}.line_no",
                    "line_no {line_no} is also used by lines[{first_at}]",
                    line_no=line.line_no,
                    first_at=first_at[line.line_no],
                )
            )
        else:
            first_at[line.line_no] = i
        prices_ok = True
        for name in ("original_price", "existing_price"):
            if message := _money_problem(getattr(line, name)):
                found["invalid_price"].append(FieldError(f"{where}.{name}", message))
                prices_ok = False
        if prices_ok and line.existing_price > line.original_price:
            found["invalid_price"].append(
                FieldError(f"{where}.existing_price", "must not exceed original_price")
            )
        if message := _qty_problem(line.qty):
            found["invalid_qty"].append(FieldError(f"{where}.qty", message))
        elif prices_ok and line.original_price * line.qty >= MONEY_LIMIT:
            found["invalid_qty"].append(
                FieldError(
                    f"{where}.qty",
                    "original_price × qty must be below {money_limit}",
                    money_limit=MONEY_LIMIT,
                )
            )
    problems = [p for code in _LINE_CODES for p in found[code]]
    if problems:
        code = next(code for code in _LINE_CODES if found[code])
        summary = Summary(problems)
        raise Invalid(code, "Invalid basket. {summary}", errors=problems, summary=summary)


# --- which rate applies (§2.1) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleEntry:
    """One entry of an approved discount-rule document (折扣规则单).

    ``effective_to`` is exclusive; a voided document passes ``min(void time, its own end)``.
    """

    rule_id: str
    level: Level
    target: str  # the code at that level (the sku for product)
    card_class: str
    rate: Decimal  # 0 < rate <= 1, the fraction paid
    stackable: bool
    approved_at: datetime
    effective_from: datetime  # inclusive
    effective_to: datetime | None  # exclusive; None = open-ended

    def __post_init__(self) -> None:
        self._check_rate()
        for name in ("approved_at", "effective_from", "effective_to"):
            moment = getattr(self, name)
            if moment is not None and moment.utcoffset() is None:
                raise ValueError(f"Rule {self.rule_id}: {name} must be timezone-aware.")

    def _check_rate(self) -> None:
        if not ZERO < self.rate <= ONE:
            raise ValueError(f"Rule {self.rule_id}: rate {self.rate} is not in (0, 1].")


@dataclass(frozen=True, slots=True)
class PointsRuleEntry(RuleEntry):
    """One entry of an approved points-rule document (docs/domain §3.2): the same levels,
    windows and precedence as a discount entry, but ``rate`` is points per CNY, ≥ 0 (0
    excludes the target, e.g. tobacco); ``stackable`` means nothing here."""

    def _check_rate(self) -> None:
        if not self.rate.is_finite() or self.rate < ZERO:
            raise ValueError(f"Rule {self.rule_id}: points rate {self.rate} is not ≥ 0.")


@dataclass(frozen=True, slots=True)
class Resolution:
    rate: Decimal
    stackable: bool
    level: Level | None  # None when the class default applied
    rule_id: str | None


# Per key: (effective_from, effective_to, entry, resolution), all times in UTC, open ends as
# _FOREVER, the entry approved last first.
_Slot = tuple[datetime, datetime, RuleEntry, Resolution]


class RuleIndex:
    """The approved discount-rule entries of one tenant, keyed by (class, level, target).

    Resolving a line costs at most six dict lookups plus, per hit, a walk down that key's
    entries (newest approval first) to the first one in effect: never a scan of all entries.
    Immutable once built; safe to share between requests and threads.
    """

    __slots__ = ("_by_key", "_size")

    def __init__(self, by_key: dict[tuple[str, Level, str], tuple[_Slot, ...]], size: int):
        self._by_key = by_key
        self._size = size

    @classmethod
    def build(cls, entries: Iterable[RuleEntry]) -> RuleIndex:
        grouped: dict[tuple[str, Level, str], list[tuple[datetime, str, _Slot]]] = {}
        size = 0
        for entry in entries:
            start = _utc(entry.effective_from, "effective_from")
            end = (
                _FOREVER if entry.effective_to is None else _utc(entry.effective_to, "effective_to")
            )
            if end <= start:
                continue  # voided before it started: never in effect
            level = Level(entry.level)
            slot = (
                start,
                end,
                entry,
                Resolution(entry.rate, entry.stackable, level, entry.rule_id),
            )
            key = (entry.card_class, level, entry.target)
            grouped.setdefault(key, []).append(
                (_utc(entry.approved_at, "approved_at"), entry.rule_id, slot)
            )
            size += 1
        by_key = {}
        for key, items in grouped.items():
            # Stable: entries equal on (approved_at, rule_id) keep the order they were given.
            items.sort(key=lambda item: (item[0], len(item[1]), item[1]), reverse=True)
            by_key[key] = tuple(item[2] for item in items)
        return cls(by_key, size)

    def __len__(self) -> int:
        """Entries that can ever apply (empty windows are dropped)."""
        return self._size

    def _slot(self, card_class: str, line: Line, at: datetime) -> _Slot | None:
        if at.tzinfo is not UTC:
            at = _utc(at, "at")
        get = self._by_key.get
        for level, field in _LOOKUP_ORDER:
            target = getattr(line, field)
            if target is None:
                continue
            slots = get((card_class, level, target))
            if slots is None:
                continue
            for slot in slots:
                if slot[0] <= at < slot[1]:
                    return slot
        return None

    def find(self, card_class: str, line: Line, at: datetime) -> RuleEntry | None:
        """The winning entry for this class and line at ``at``; None when no rule matches."""
        slot = self._slot(card_class, line, at)
        return None if slot is None else slot[2]

    def resolve(
        self, card_class: str, line: Line, at: datetime, default_rate: Decimal
    ) -> Resolution:
        """The rate for this line: the winning rule's, else ``default_rate`` (the class's
        default_discount_rate), stackable, with no level or rule."""
        slot = self._slot(card_class, line, at)
        if slot is None:
            return Resolution(default_rate, True, None, None)
        return slot[3]


# --- unit price (§2.2) -----------------------------------------------------------------------


def unit_price(
    original: Decimal,
    existing: Decimal,
    rate: Decimal,
    stackable: bool,
    stack_threshold_rate: Decimal,
    stack_rate: Decimal,
    mode: StackingMode,
) -> tuple[Decimal, bool]:
    """(unit price, not rounded; stacked?) per docs/domain §2.2."""
    member = original * rate
    if existing == original:  # no promotion
        return member, False
    plain = existing if existing <= member else member  # min(existing, original × rate)
    if not stackable:
        return plain, False
    if mode == StackingMode.MULTIPLY:
        unit = existing * rate
    elif existing >= original * stack_threshold_rate:  # e = existing / original >= threshold
        on_top = existing * stack_rate
        unit = on_top if on_top <= member else member
    else:
        return plain, False
    return unit, unit < plain


# --- lines and baskets (§2.2, §2.3) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClassPricing:
    """What pricing needs of a card class."""

    code: str
    default_discount_rate: Decimal
    stack_threshold_rate: Decimal
    stack_rate: Decimal
    sharing: SharingGroup | None  # None: the store bears the whole member discount


@dataclass(frozen=True, slots=True)
class PricedLine:
    line_no: int
    rate: Decimal
    stackable: bool
    level: Level | None
    rule_id: str | None
    stacked: bool
    final_unit_price: Decimal  # rounded to 2 places HALF_UP, for display
    original_amount: Decimal
    final_amount: Decimal
    discount_amount: Decimal  # original_amount - final_amount (promotion + member)
    member_discount: Decimal  # the member part, round2(existing × qty) - final_amount
    store_borne: Decimal
    supplier_borne: Decimal


@dataclass(frozen=True, slots=True)
class Totals:
    original_amount: Decimal
    final_amount: Decimal
    discount_amount: Decimal


@dataclass(frozen=True, slots=True)
class PricedBasket:
    lines: tuple[PricedLine, ...]
    totals: Totals


def price_line(
    line: Line, klass: ClassPricing, index: RuleIndex, mode: StackingMode, at: datetime
) -> PricedLine:
    """One line priced for a member of ``klass`` at ``at``."""
    res = index.resolve(klass.code, line, at, klass.default_discount_rate)
    unit, stacked = unit_price(
        line.original_price,
        line.existing_price,
        res.rate,
        res.stackable,
        klass.stack_threshold_rate,
        klass.stack_rate,
        mode,
    )
    qty = line.qty
    original_amount = (line.original_price * qty).quantize(CENT, ROUND_HALF_UP)
    final_amount = (unit * qty).quantize(CENT, ROUND_HALF_UP)
    member_discount = (line.existing_price * qty).quantize(CENT, ROUND_HALF_UP) - final_amount
    if member_discount <= 0:
        member_discount = store_borne = ZERO
    else:
        sharing = klass.sharing
        if sharing is None:
            store_borne = member_discount
        else:
            share = store_share_for(sharing, line.counter, line.brand)
            store_borne = (member_discount * share).quantize(CENT, ROUND_HALF_UP)
    return PricedLine(
        line.line_no,
        res.rate,
        res.stackable,
        res.level,
        res.rule_id,
        stacked,
        unit.quantize(CENT, ROUND_HALF_UP),
        original_amount,
        final_amount,
        original_amount - final_amount,
        member_discount,
        store_borne,
        member_discount - store_borne,
    )


def price_without_card(line: Line) -> PricedLine:
    """A line for a customer without a card: its existing (promotional) price, rate 1, no
    member discount; discount_amount is then the promotion's discount."""
    original_amount = round2(line.original_price * line.qty)
    final_amount = round2(line.existing_price * line.qty)
    return PricedLine(
        line_no=line.line_no,
        rate=ONE,
        stackable=False,
        level=None,
        rule_id=None,
        stacked=False,
        final_unit_price=round2(line.existing_price),
        original_amount=original_amount,
        final_amount=final_amount,
        discount_amount=original_amount - final_amount,
        member_discount=ZERO,
        store_borne=ZERO,
        supplier_borne=ZERO,
    )


def price_basket(
    lines: Sequence[Line],
    klass: ClassPricing | None,
    index: RuleIndex,
    mode: StackingMode,
    at: datetime,
) -> PricedBasket:
    """Every line priced (``klass`` None: no card), with totals that are the lines' sums."""
    if klass is None:
        priced = tuple(price_without_card(line) for line in lines)
    else:
        priced = tuple(price_line(line, klass, index, mode, at) for line in lines)
    original = final = discount = ZERO
    for p in priced:
        original += p.original_amount
        final += p.final_amount
        discount += p.discount_amount
    return PricedBasket(priced, Totals(original, final, discount))


# --- opening a card from a receipt (§2.4) ----------------------------------------------------


def openable_classes(final_total: Decimal, thresholds: Mapping[str, Decimal | None]) -> list[str]:
    """Codes of the classes whose receipt_open_threshold is set and <= ``final_total``, the
    highest threshold first (ties by code)."""
    eligible = [
        (threshold, code)
        for code, threshold in thresholds.items()
        if threshold is not None and threshold <= final_total
    ]
    eligible.sort(key=lambda item: (-item[0], item[1]))
    return [code for _, code in eligible]
