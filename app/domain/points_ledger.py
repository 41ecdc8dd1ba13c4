"""What the points service needs on top of app.domain.points: the tenant's settings, the
next expiry shown to a member, and the ledger invariant the tests check after every test.
Pure: no I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal

from app.domain.errors import Invalid, Message
from app.domain.money import decimal_places
from app.domain.points import Category, Entry, ExpiryKind, ExpiryPolicy, Lot, balance
from app.domain.points_rules import BirthdayMultiplier

DEFAULT_POINT_PRICE = Decimal("0.01")
DEFAULT_POINTS_PER_YUAN = 100
MAX_PENDING_DAYS = 366


@dataclass(frozen=True)
class PointsSettings:
    expiry: ExpiryPolicy = field(default_factory=ExpiryPolicy)
    pending_days: int = 0  # for points earned on sales (the return window)
    point_price: Decimal = DEFAULT_POINT_PRICE  # CNY per purchased point
    points_per_yuan: int = DEFAULT_POINTS_PER_YUAN  # cash-off rate
    birthday_multiplier: BirthdayMultiplier | None = None  # k on the member's birthday (§3.2)


# CNY per purchased point: the most points one request buys (10⁹) then cost under 10¹² CNY,
# which money columns (NUMERIC(14,2)) hold.
MAX_POINT_PRICE = Decimal(1000)


def points_settings(
    kind: ExpiryKind,
    n: int | None,
    pending_days: int,
    point_price: Decimal,
    points_per_yuan: int,
    birthday_multiplier: BirthdayMultiplier | None = None,
) -> PointsSettings:
    """Settings as a client sent them; anything out of range is a 422 naming the field."""
    n = n or 0
    try:
        policy = ExpiryPolicy(kind, n)
    except ValueError:
        need = {ExpiryKind.ROLLING_MONTHS: "≥ 1", ExpiryKind.YEAR_END: "≥ 0"}.get(kind)
        message = (
            Message("{kind} needs n {need}", kind=kind.value, need=need)
            if need
            else "none takes no n"
        )
        raise Invalid("invalid_expiry", message, field="expiry.n") from None
    if not 0 <= pending_days <= MAX_PENDING_DAYS:
        raise Invalid(
            "invalid_pending_days",
            "must be 0..{max_pending_days}",
            field="pending_days",
            max_pending_days=MAX_PENDING_DAYS,
        )
    if not (
        point_price.is_finite()
        and 0 <= point_price < MAX_POINT_PRICE
        and decimal_places(point_price) <= 4
    ):
        message = Message(
            "must be in [0, {max_point_price}), 4 decimals", max_point_price=MAX_POINT_PRICE
        )
        raise Invalid("invalid_point_price", message, field="point_price")
    if points_per_yuan <= 0:
        raise Invalid("invalid_points_per_yuan", "must be > 0", field="points_per_yuan")
    return PointsSettings(policy, pending_days, point_price, points_per_yuan, birthday_multiplier)


@dataclass(frozen=True)
class NextExpiry:
    date: date  # the local day on which the points expire
    expires_at: datetime  # the earliest instant among them (exclusive: usable before)
    points: int


def next_expiry(lots: Iterable[Lot], now: datetime, tz: tzinfo) -> NextExpiry | None:
    """The points that expire first: every lot still holding points whose expiry falls on
    the earliest local day after ``now``."""
    due = [
        lot
        for lot in lots
        if lot.points_left > 0 and lot.expires_at is not None and lot.expires_at > now
    ]
    if not due:
        return None
    first = min(lot.expires_at for lot in due)
    day = first.astimezone(tz).date()
    points = sum(lot.points_left for lot in due if lot.expires_at.astimezone(tz).date() == day)
    return NextExpiry(day, first, points)


@dataclass(frozen=True)
class LotEntry(Entry):
    lot_id: str | None = None


def ledger_problems(
    totals: Mapping[Category, int],
    cached_balance: int,
    entries: Iterable[LotEntry],
    lots: Iterable[Lot],
    now: datetime,
) -> list[str]:
    """What is wrong with one member's ledger (empty when consistent):
    the account's totals equal the sums of the entries per category and its balance their sum;
    the lots hold exactly the balance, and each lot holds the sum of the entries naming it;
    pending counted from the entries equals pending counted from the lots, and
    available + pending = balance with both ≥ 0."""
    entries, lots = list(entries), list(lots)
    problems = []
    folded = balance(entries, now)
    for category in Category:
        if totals.get(category, 0) != folded.by_category[category]:
            problems.append(
                f"{category}: account {totals.get(category, 0)} ≠ entries "
                f"{folded.by_category[category]}"
            )
    if cached_balance != sum(totals.values()):
        problems.append(f"balance {cached_balance} ≠ Σ totals {sum(totals.values())}")
    in_lots = sum(lot.points_left for lot in lots)
    if in_lots != folded.balance:
        problems.append(f"lots hold {in_lots} ≠ balance {folded.balance}")
    per_lot: dict[str, int] = defaultdict(int)
    for entry in entries:
        if entry.lot_id is not None:
            per_lot[entry.lot_id] += entry.points
    for lot in lots:
        if lot.points_left < 0:
            problems.append(f"lot {lot.id} holds {lot.points_left}")
        if per_lot.get(lot.id, 0) != lot.points_left:
            problems.append(f"lot {lot.id} holds {lot.points_left} ≠ its entries {per_lot[lot.id]}")
    pending_lots = sum(lot.points_left for lot in lots if lot.available_at > now)
    if pending_lots != folded.pending:
        problems.append(f"pending: lots {pending_lots} ≠ entries {folded.pending}")
    if folded.pending < 0 or folded.available < 0:
        problems.append(f"available {folded.available}, pending {folded.pending}")
    if folded.available + folded.pending != folded.balance:
        problems.append("available + pending ≠ balance")
    return problems
