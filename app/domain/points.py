"""Points ledger arithmetic (docs/domain §3) and the change account (§4): pure, exact, no I/O.

Decisions where the business rules are silent (each is tested):

* **Exact arithmetic.** Products and ratios are taken as ``Fraction`` and rounded once:
  points by floor, money half up to the fen. No Decimal context rounding is involved.
* **Allocation** (§3.2). Points, change-account and coupon payments are spread over *all*
  lines (rate-0 lines too: the payment paid for the receipt), in the order given, in
  proportion to their final amounts, capped at the receipt total. "Remainder to the last
  line" is done cumulatively: line i takes ``round2(P·F_i/T) − round2(P·F_{i−1}/T)`` (F the
  running total), so the last line gets what is left and no share is negative or larger than
  its line; independently rounded shares can't promise that (three 0.01 lines and a 0.00
  line sharing 0.02 would round to 0.03).
* **Returns** (§3.3) recompute what the *remaining* receipt is worth from what was stored at
  sale time (rates, k, identity multiple, warm points), never from today's rules. A line's
  remaining eligible amount is ``round2(eligible × remaining_qty / qty)``: returned goods take
  their share of the points/coupon payment with them. A return claws back
  ``worth(before) − worth(after)`` per category; every step is ≥ 0 because worth is monotone
  in the remaining quantities, and the steps telescope: any sequence of partial returns
  claws back at most what was earned, and exactly that once everything is returned.
  C (warm points) stays until the receipt is fully returned, unless the caller passes
  ``warm_kept`` (which rules the remaining goods still satisfy; it must be monotone).
* **Points paid** are refunded by the returned share of the receipt's final amount, floored
  cumulatively: ``floor(P × after) − floor(P × before)``. Never more than P in total; all of P
  once everything is returned.
* **FIFO** spends the oldest-earned lot first (ties: expiring soonest, never-expiring last,
  then id). Under one expiry policy expiry is non-decreasing in ``earned_at``, so oldest
  first is also expiring-soonest first. Pending and expired lots are never spent.
* **Expiry instants are exclusive**: a lot is spendable while ``now < expires_at``.
  ``year_end: N`` expires at local midnight of 1 January of year ``earned + N + 1``
  (i.e. after 31 December 23:59:59.999999 local of the Nth year after), in UTC.
  ``rolling_months: N`` is the same local wall time N months later (``add_months``).
* **Signs**: A–F are positive when earned, negative when reversed (D either way); R is
  negative when spent and positive when a redemption is cancelled; X is negative. A negative
  entry carries the ``available_at`` of the points it removes (one entry per lot when they
  differ), so available and pending each stay ≥ 0.
* **Cash off** refuses a number of points that is not a whole number of fen.
* Inputs the service builds from stored configuration (rates, k, multiples, policies) raise
  ``ValueError``; what a client sent raises ``Invalid`` / ``Conflict``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Context, Decimal, localcontext
from enum import StrEnum
from fractions import Fraction

from app.domain.card_lifecycle import add_months
from app.domain.errors import Conflict, Invalid
from app.domain.money import CENT, ZERO, decimal_places

ONE = Decimal(1)
QTY_PLACES = 3

# Enough digits that sums of products of amounts and rates are never rounded.
EXACT = Context(prec=60)


class Category(StrEnum):
    """| A consumption | B multiplier | C warm | D gift (adjustment) | E identity |
    F purchased | R redeemed (stored negative) | X expired (stored negative) |"""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"
    R = "R"
    X = "X"


EARNED_ON_SALE = (Category.A, Category.B, Category.C, Category.E)


class PaymentMethod(StrEnum):
    CASH = "cash"
    BANK_CARD = "bank_card"
    POINTS = "points"
    CHANGE_ACCOUNT = "change_account"
    COUPON = "coupon"
    VOUCHER = "voucher"  # one of our vouchers, by its code: it pays the lines it covers


# Paid with value the member did not pay money for now: earns no points. A voucher pays the
# lines it covers (its shares, app/domain/voucher_till.py), not the receipt pro rata.
NOT_EARNING = frozenset({PaymentMethod.POINTS, PaymentMethod.CHANGE_ACCOUNT, PaymentMethod.COUPON})


def fen(value: Fraction) -> Decimal:
    """Half up to the fen (value ≥ 0), exactly."""
    return (Decimal(math.floor(value * 100 + Fraction(1, 2))) / 100).quantize(CENT)


def _is_money(value: Decimal) -> bool:
    return value.is_finite() and value >= 0 and decimal_places(value) <= 2


# --- earning (§3.2) --------------------------------------------------------------------------


@dataclass(frozen=True)
class SaleLine:
    line_no: int
    qty: Decimal
    final_amount: Decimal


@dataclass(frozen=True)
class Payment:
    method: PaymentMethod
    amount: Decimal
    voucher_code: str | None = None  # a ``voucher`` payment's


@dataclass(frozen=True)
class Earning:
    points: dict[Category, int]  # A, B, C, E
    eligible: dict[int, Decimal]  # line_no → eligible amount

    @property
    def total(self) -> int:
        return sum(self.points.values())


def allocate_pro_rata(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``amount`` (≤ Σ weights, 2 places) over ``weights``, cumulatively rounded: the
    shares sum to ``amount`` exactly and 0 ≤ share_i ≤ weight_i."""
    total = sum(weights, ZERO)
    if not amount or not total:
        return [ZERO for _ in weights]
    shares, running, done = [], Fraction(0), ZERO
    for weight in weights:
        running += Fraction(weight)
        upto = fen(Fraction(amount) * running / Fraction(total))
        shares.append(upto - done)
        done = upto
    return shares


def _check_sale(lines: Sequence[SaleLine], payments: Sequence[Payment]) -> None:
    if not lines:
        raise Invalid("empty_sale", "A sale needs at least one line.", field="lines")
    seen: set[int] = set()
    for i, line in enumerate(lines):
        if line.line_no in seen:
            raise Invalid("duplicate_line_no", "line_no is repeated", field=f"lines[{i}].line_no")
        seen.add(line.line_no)
        if not (line.qty.is_finite() and line.qty > 0 and decimal_places(line.qty) <= QTY_PLACES):
            raise Invalid("invalid_qty", "must be > 0, 3 decimals", field=f"lines[{i}].qty")
        if not _is_money(line.final_amount):
            raise Invalid(
                "invalid_amount", "must be ≥ 0, 2 decimals", field=f"lines[{i}].final_amount"
            )
    for i, payment in enumerate(payments):
        if not _is_money(payment.amount):
            raise Invalid(
                "invalid_amount", "must be ≥ 0, 2 decimals", field=f"payments[{i}].amount"
            )


def _worth(
    eligible: Mapping[int, Decimal],
    rates: Mapping[int, Decimal],
    k: Decimal,
    identity_multiple: Decimal,
    warm: int,
) -> dict[Category, int]:
    # Exact in Decimal with room to spare (amounts < 10^12 with 2 places, rates and
    # multiples with at most 4): Fractions gave the same floors at several times the cost,
    # and a quote previews this for every basket.
    with localcontext(EXACT):
        a = math.floor(sum((amount * rates[no] for no, amount in eligible.items()), ZERO))
        return {
            Category.A: a,
            Category.B: math.floor(a * (k - 1)),
            Category.C: warm,
            Category.E: math.floor(a * identity_multiple),
        }


def earn(
    lines: Sequence[SaleLine],
    payments: Sequence[Payment],
    rates: Mapping[int, Decimal],
    k: Decimal = ONE,
    warm_points: Mapping[str, int] | None = None,
    identity_multiple: Decimal = ZERO,
    voucher_shares: Mapping[int, Decimal] | None = None,
) -> Earning:
    """A, B, C, E for a sale. ``rates``: points per CNY for every line_no (0 excludes);
    ``k``: the largest applicable multiplier (≥ 1); ``warm_points``: rule_id → points, each
    rule once by construction; ``voucher_shares``: line_no → the part paid with vouchers."""
    _check_sale(lines, payments)
    warm_points = warm_points or {}
    for line in lines:
        rate = rates.get(line.line_no)
        if rate is None or not rate.is_finite() or rate < 0:
            raise ValueError(f"line {line.line_no}: rate must be given and ≥ 0, got {rate}")
    if not k.is_finite() or k < 1:
        raise ValueError(f"multiplier k must be ≥ 1, got {k}")
    if not identity_multiple.is_finite() or identity_multiple < 0:
        raise ValueError(f"identity multiple must be ≥ 0, got {identity_multiple}")
    if any(not isinstance(p, int) or p < 0 for p in warm_points.values()):
        raise ValueError("warm points must be integers ≥ 0")
    by_voucher = voucher_shares or {}
    amounts = [line.final_amount - by_voucher.get(line.line_no, ZERO) for line in lines]
    not_earning = sum((p.amount for p in payments if p.method in NOT_EARNING), ZERO)
    shares = allocate_pro_rata(min(not_earning, sum(amounts, ZERO)), amounts)
    eligible = {line.line_no: a - s for line, a, s in zip(lines, amounts, shares, strict=True)}
    points = _worth(eligible, rates, k, identity_multiple, sum(warm_points.values()))
    return Earning(points, eligible)


# --- returns (§3.3) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sale:
    """A sale as stored with what it earned from; returns recompute from this."""

    lines: tuple[SaleLine, ...]
    payments: tuple[Payment, ...]
    rates: Mapping[int, Decimal]
    k: Decimal = ONE
    warm_points: Mapping[str, int] = field(default_factory=dict)
    identity_multiple: Decimal = ZERO
    voucher_shares: Mapping[int, Decimal] = field(default_factory=dict)

    def earning(self) -> Earning:
        return earn(
            self.lines,
            self.payments,
            self.rates,
            self.k,
            self.warm_points,
            self.identity_multiple,
            self.voucher_shares,
        )


@dataclass(frozen=True)
class ReturnLine:
    line_no: int
    qty: Decimal


WarmKept = Callable[[Mapping[int, Decimal]], Collection[str]]


def returned_after(
    sale: Sale, returned_before: Mapping[int, Decimal], returning: Sequence[ReturnLine]
) -> dict[int, Decimal]:
    """Cumulative returned qty per line once ``returning`` is applied (store it for the next
    return). Refuses unknown or repeated lines, bad quantities and returning more than sold."""
    sold = {line.line_no: line.qty for line in sale.lines}
    for no, qty in returned_before.items():
        if no not in sold or not 0 <= qty <= sold[no]:
            raise ValueError(f"previous returns of line {no} are inconsistent: {qty}")
    if not returning:
        raise Invalid("empty_return", "A return needs at least one line.", field="lines")
    after = {no: returned_before.get(no, ZERO) for no in sold}
    seen: set[int] = set()
    for i, line in enumerate(returning):
        if line.line_no not in sold:
            raise Invalid("unknown_line", "no such line on the sale", field=f"lines[{i}].line_no")
        if line.line_no in seen:
            raise Invalid("duplicate_line_no", "line_no is repeated", field=f"lines[{i}].line_no")
        seen.add(line.line_no)
        if not (line.qty.is_finite() and line.qty > 0 and decimal_places(line.qty) <= QTY_PLACES):
            raise Invalid("invalid_qty", "must be > 0, 3 decimals", field=f"lines[{i}].qty")
        after[line.line_no] += line.qty
        if after[line.line_no] > sold[line.line_no]:
            left = sold[line.line_no] - returned_before.get(line.line_no, ZERO)
            raise Invalid(
                "return_exceeds_sale",
                "line {line_no}: {qty} returned, only {left} left to return",
                field=f"lines[{i}].qty",
                extra={"line_no": line.line_no, "returnable": str(left)},
                line_no=line.line_no,
                qty=line.qty,
                left=left,
            )
    return after


def shares_left(sale: Sale, returned: Mapping[int, Decimal]) -> dict[int, Fraction]:
    """Remaining fraction of each line's quantity."""
    return {
        line.line_no: 1 - Fraction(returned.get(line.line_no, ZERO)) / Fraction(line.qty)
        for line in sale.lines
    }


def worth_after_returns(
    sale: Sale, returned: Mapping[int, Decimal], warm_kept: WarmKept | None = None
) -> dict[Category, int]:
    """A, B, C, E that the receipt is worth with ``returned`` (cumulative qty) removed."""
    left = shares_left(sale, returned)
    if not any(left.values()):
        return dict.fromkeys(EARNED_ON_SALE, 0)
    eligible = {no: fen(Fraction(e) * left[no]) for no, e in sale.earning().eligible.items()}
    kept: AbstractSet[str] = sale.warm_points.keys()
    if warm_kept is not None:
        qty_left = {
            line.line_no: line.qty - returned.get(line.line_no, ZERO) for line in sale.lines
        }
        kept = kept & set(warm_kept(qty_left))
    warm = sum(sale.warm_points[rule] for rule in kept)
    return _worth(eligible, sale.rates, sale.k, sale.identity_multiple, warm)


def clawback(
    sale: Sale,
    returned_before: Mapping[int, Decimal],
    returning: Sequence[ReturnLine],
    warm_kept: WarmKept | None = None,
) -> dict[Category, int]:
    """Points to take back (≥ 0 per category) for this return, given earlier returns."""
    after = returned_after(sale, returned_before, returning)
    before_worth = worth_after_returns(sale, returned_before, warm_kept)
    after_worth = worth_after_returns(sale, after, warm_kept)
    back = {c: before_worth[c] - after_worth[c] for c in EARNED_ON_SALE}
    if any(v < 0 for v in back.values()):
        raise ValueError(f"warm_kept is not monotone: a return would give points: {back}")
    return back


def returned_fraction(sale: Sale, returned: Mapping[int, Decimal]) -> Fraction:
    """Share of the receipt's final amount returned so far (remaining amounts half up)."""
    left = shares_left(sale, returned)
    total = sum((line.final_amount for line in sale.lines), ZERO)
    if not total:
        return Fraction(0 if any(left.values()) else 1)
    remaining = sum(
        (fen(Fraction(line.final_amount) * left[line.line_no]) for line in sale.lines), ZERO
    )
    return 1 - Fraction(remaining) / Fraction(total)


def refund_of_points_paid(points_paid: int, before: Fraction, after: Fraction) -> int:
    """Points paid on the sale to give back for a return taking the returned fraction from
    ``before`` to ``after``: floor(P × after) − floor(P × before)."""
    if points_paid < 0 or not 0 <= before <= after <= 1:
        raise ValueError(f"need points_paid ≥ 0 and 0 ≤ before ≤ after ≤ 1: {before}, {after}")
    return math.floor(points_paid * after) - math.floor(points_paid * before)


def shortfall(balance: int, clawback_total: int, point_price: Decimal) -> tuple[int, Decimal]:
    """(F points to buy, their price in CNY, half up) so the balance covers the clawback.
    ``balance`` is the whole balance: a clawback may take pending points."""
    if point_price < 0 or balance < 0 or clawback_total < 0:
        raise ValueError("balance, clawback and point price must be ≥ 0")
    points = max(0, clawback_total - balance)
    return points, fen(points * Fraction(point_price))


# --- lots, FIFO and expiry -------------------------------------------------------------------


@dataclass(frozen=True)
class Lot:
    id: str
    category: Category
    points_left: int
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None = None  # exclusive


def _spendable(lot: Lot, now: datetime, include_pending: bool) -> bool:
    return (
        lot.points_left > 0
        and (include_pending or lot.available_at <= now)
        and (lot.expires_at is None or now < lot.expires_at)
    )


def spend_fifo(
    lots: Iterable[Lot], points: int, now: datetime, include_pending: bool = False
) -> list[tuple[str, int]]:
    """(lot id, points) taken oldest-earned first. ``include_pending`` is for clawbacks,
    which may take points still in their return window."""
    if points <= 0:
        raise Invalid("invalid_points", "must be a whole number > 0", field="points")
    usable = sorted(
        (lot for lot in lots if _spendable(lot, now, include_pending)),
        key=lambda lot: (lot.earned_at, lot.expires_at is None, lot.expires_at or now, lot.id),
    )
    have = sum(lot.points_left for lot in usable)
    if have < points:
        raise Conflict(
            "insufficient_points",
            "{points} points needed, {have} available",
            extra={"requested": points, "available": have, "shortfall": points - have},
            points=points,
            have=have,
        )
    taken: list[tuple[str, int]] = []
    for lot in usable:
        take = min(points, lot.points_left)
        taken.append((lot.id, take))
        points -= take
        if not points:
            break
    return taken


class ExpiryKind(StrEnum):
    NONE = "none"
    ROLLING_MONTHS = "rolling_months"
    YEAR_END = "year_end"


@dataclass(frozen=True)
class ExpiryPolicy:
    kind: ExpiryKind = ExpiryKind.NONE
    n: int = 0  # months (≥ 1) or years after the year of earning (≥ 0)

    def __post_init__(self) -> None:
        low = {ExpiryKind.NONE: 0, ExpiryKind.ROLLING_MONTHS: 1, ExpiryKind.YEAR_END: 0}
        if self.n < low[self.kind] or (self.kind == ExpiryKind.NONE and self.n):
            raise ValueError(f"expiry {self.kind} does not take n={self.n}")


def expires_at(earned_at: datetime, policy: ExpiryPolicy, tz: tzinfo) -> datetime | None:
    """The instant (UTC, exclusive) a lot earned at ``earned_at`` expires; None: never."""
    if earned_at.utcoffset() is None:
        raise ValueError("earned_at must be timezone-aware")
    local = earned_at.astimezone(tz)
    if policy.kind == ExpiryKind.ROLLING_MONTHS:
        return add_months(local, policy.n).astimezone(UTC)
    if policy.kind == ExpiryKind.YEAR_END:
        return datetime(local.year + policy.n + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    return None


def expired(lots: Iterable[Lot], now: datetime) -> list[tuple[str, int]]:
    """(lot id, points) for the X entries the expiry job writes at ``now``."""
    due = [
        lot
        for lot in lots
        if lot.points_left > 0 and lot.expires_at is not None and lot.expires_at <= now
    ]
    due.sort(key=lambda lot: (lot.expires_at, lot.id))
    return [(lot.id, lot.points_left) for lot in due]


# --- balance (§3.1) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    category: Category
    points: int  # signed, see the module docstring
    available_at: datetime


@dataclass(frozen=True)
class Balance:
    by_category: dict[Category, int]
    balance: int
    available: int
    pending: int


def balance(entries: Iterable[Entry], now: datetime) -> Balance:
    """Fold the ledger: balance = Σ of every category; pending = Σ entries not yet
    available at ``now``; available = balance − pending."""
    by_category = dict.fromkeys(Category, 0)
    pending = 0
    for entry in entries:
        by_category[Category(entry.category)] += entry.points
        if entry.available_at > now:
            pending += entry.points
    total = sum(by_category.values())
    return Balance(by_category, total, total - pending, pending)


# --- redemption value (§3.4) -----------------------------------------------------------------


def cash_off_value(points: int, points_per_yuan: Decimal | int) -> Decimal:
    """CNY that ``points`` pay at the till; refuses points that are not a whole number of fen."""
    rate = Fraction(points_per_yuan)
    if rate <= 0:
        raise ValueError(f"points_per_yuan must be > 0, got {points_per_yuan}")
    if not isinstance(points, int) or points <= 0:
        raise Invalid("invalid_points", "must be a whole number > 0", field="points")
    fen = points * 100 / rate
    if fen.denominator != 1:
        raise Invalid(
            "points_not_whole_fen",
            "{points} points is not a whole number of fen at {points_per_yuan} points per CNY",
            field="points",
            points=points,
            points_per_yuan=points_per_yuan,
        )
    return (Decimal(fen.numerator) / 100).quantize(CENT)


# --- change account (§4) ---------------------------------------------------------------------


def _check_amount(amount: Decimal) -> None:
    if not (_is_money(amount) and amount > 0):
        raise Invalid("invalid_amount", "must be > 0 with at most 2 decimals", field="amount")


def deposit(balance: Decimal, amount: Decimal, limit: Decimal) -> Decimal:
    """The change balance after storing ``amount``; refused above the class limit."""
    _check_amount(amount)
    if balance + amount > limit:
        raise Conflict(
            "change_account_limit",
            "Deposit of {amount} would exceed the limit of {limit} (balance {balance}).",
            field="amount",
            extra={
                "limit": str(limit),
                "balance": str(balance),
                "max_deposit": str(max(ZERO, limit - balance)),
            },
            amount=amount,
            limit=limit,
            balance=balance,
        )
    return (balance + amount).quantize(CENT)


def spend(balance: Decimal, amount: Decimal) -> Decimal:
    """The change balance after spending ``amount``; never below zero."""
    _check_amount(amount)
    if amount > balance:
        raise Conflict(
            "insufficient_change_balance",
            "Spending {amount} needs {value} more than the balance of {balance}.",
            field="amount",
            extra={"balance": str(balance), "shortfall": str(amount - balance)},
            amount=amount,
            value=amount - balance,
            balance=balance,
        )
    return (balance - amount).quantize(CENT)
