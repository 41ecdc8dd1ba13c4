"""The points ledger's writes other than sales (docs/domain §3.1, §3.4), decided once. Pure.

Each takes what one read saw (``MemberPoints``, ``RedemptionPoints``) and decides a
``LedgerPlan`` and its answer, or refuses. Every write first expires the member's due lots
(lazy expiry: points are never spent or shown while they should have expired), so available
+ pending = balance always holds.

Decisions where the business rules are silent (each is tested):

* A positive adjustment (D) is a lot available at once, expiring per the tenant's policy; a
  negative one spends D oldest first. Both are audited (who, points, reason).
* A redemption spends R oldest first; ``cash_off`` states the money at the tenant's rate and
  refuses points that are not a whole number of fen.
* Cancelling a redemption gives the points back to the lots they came from; points whose lot
  has expired meanwhile expire again at once (X), as they would have.
* Purchased points (F) are a lot available at once, at the tenant's point price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from app.domain.audit import FieldChange
from app.domain.card_lifecycle import Card, require_active
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.ledger import (
    AuditRow,
    Decided,
    Holdings,
    LedgerPlan,
    MemberLedger,
    NewLot,
    RedemptionRow,
)
from app.domain.money import round2
from app.domain.points import Category, Lot, cash_off_value, expires_at
from app.domain.points_ledger import NextExpiry, PointsSettings, next_expiry

ADJUSTMENT = "adjustment"
REDEMPTION = "redemption"
REDEMPTION_CANCEL = "redemption_cancel"
PURCHASE = "purchase"
PURPOSES = ("cash_off", "gift", "rebate")
MAX_REASON = 200


@dataclass(frozen=True)
class MemberPoints:
    """A member's points as read for a write, with what the request named."""

    tenant_id: str
    time_zone: tzinfo
    settings: PointsSettings
    member_id: str | None  # the member named, or the card's; None: the tenant has none
    card: Card | None  # when a card number was given: None if it is not found
    holdings: Holdings
    lot_id: int | None  # allocated by the read, for a lot the write may add
    redemption_id: int | None = None  # allocated by the read, for a redemption


@dataclass(frozen=True)
class Adjustment:
    id: str
    member_id: str
    points: int
    reason: str
    balance: int
    created_at: datetime


@dataclass(frozen=True)
class Purchase:
    id: str
    member_id: str
    card_number: str | None
    points: int
    money: Decimal
    balance: int
    created_at: datetime


@dataclass(frozen=True)
class Redemption:
    id: int
    member_id: str
    card_number: str | None
    points: int
    purpose: str
    reference: str | None
    money: Decimal | None
    status: str
    created_at: datetime
    cancelled_at: datetime | None


@dataclass(frozen=True)
class Points:
    member_id: str
    balance: int
    available: int
    pending: int
    by_category: dict[Category, int]
    next_expiry: NextExpiry | None


def check_points(points: int) -> None:
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise Invalid("invalid_points", "must be a whole number > 0", field="points")


def holder(
    context: MemberPoints, card_number: str | None, member_id: str | None, now: datetime
) -> tuple[str, str | None]:
    """(member id, card number) of whoever the request names; a card must be active."""
    if card_number is None:
        if member_id is None:
            raise Invalid(
                "card_or_member_required", "Give card_number or member_id.", field="card_number"
            )
        if context.member_id is None:
            raise Invalid(
                "member_not_found",
                "No member with id {member_id}.",
                field="member_id",
                member_id=member_id,
            )
        return context.member_id, None
    card = context.card
    if card is None:
        raise Invalid(
            "card_not_found", "No card {card_number}.", field="card_number", card_number=card_number
        )
    if member_id is not None and member_id != card.member_id:
        raise Invalid(
            "card_member_mismatch", "The card belongs to another member.", field="member_id"
        )
    require_active(card, now)
    return card.member_id, card.number


def _new_lot(
    context: MemberPoints, category: Category, points: int, source: str, source_id: str, now
) -> NewLot:
    """A lot available now, expiring per the tenant's policy."""
    expiry = expires_at(now, context.settings.expiry, context.time_zone)
    return NewLot(context.lot_id, category, points, now, now, expiry, source, source_id)


def decide_adjustment(
    context: MemberPoints,
    *,
    member_id: str,
    points: int,
    reason: str,
    actor: str,
    adjustment_id: str,
    now: datetime,
) -> Decided[Adjustment]:
    """A D adjustment (赠予积分 document): + earns a D lot, − spends FIFO as D. Audited."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise Invalid("invalid_points", "must be a whole number ≠ 0", field="points")
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= MAX_REASON:
        raise Invalid(
            "reason_required",
            "give a reason, 1..{max_reason} characters",
            field="reason",
            max_reason=MAX_REASON,
        )
    member, _ = holder(context, None, member_id, now)
    ledger = MemberLedger(context.holdings, now)
    ledger.expire()
    if points > 0:
        ledger.earn(_new_lot(context, Category.D, points, ADJUSTMENT, adjustment_id, now), None)
    else:
        ledger.spend(-points, Category.D, ADJUSTMENT, adjustment_id, None)
    plan = ledger.plan()
    audit = tuple(
        AuditRow("points_adjustment", adjustment_id, "create", c.field, c.old, c.new, actor)
        for c in (
            FieldChange("member_id", None, member),
            FieldChange("points", None, str(points)),
            FieldChange("reason", None, reason),
        )
    )
    return Decided(
        LedgerPlan(context.tenant_id, member, now, points=plan, audit=audit),
        Adjustment(adjustment_id, member, points, reason, plan.balance, now),
    )


def decide_redemption(
    context: MemberPoints,
    *,
    card_number: str | None,
    member_id: str | None,
    points: int,
    purpose: str,
    reference: str | None,
    now: datetime,
) -> Decided[Redemption]:
    """Spend points (R) for a purpose; ``cash_off`` states the money at the tenant's rate."""
    check_points(points)
    if purpose not in PURPOSES:
        raise Invalid(
            "invalid_purpose", "one of {value}", field="purpose", value=", ".join(PURPOSES)
        )
    member, card = holder(context, card_number, member_id, now)
    money = None
    if purpose == "cash_off":
        money = cash_off_value(points, context.settings.points_per_yuan)
    redemption_id = context.redemption_id
    ledger = MemberLedger(context.holdings, now)
    ledger.expire()
    ledger.spend(points, Category.R, REDEMPTION, str(redemption_id), card)
    row = RedemptionRow(redemption_id, card, points, purpose, reference, money, now)
    return Decided(
        LedgerPlan(context.tenant_id, member, now, points=ledger.plan(), redemption=row),
        Redemption(
            redemption_id, member, card, points, purpose, reference, money, "done", now, None
        ),
    )


@dataclass(frozen=True)
class RedemptionPoints:
    """A redemption as read for its cancellation, with its member's points."""

    tenant_id: str
    redemption: Redemption | None
    spent: tuple[tuple[int, int], ...]  # (lot id, points) of its entries, as written
    spent_lots: tuple[Lot, ...]  # those lots as they are now
    holdings: Holdings


def decide_cancellation(
    context: RedemptionPoints, redemption_id: int, now: datetime
) -> Decided[Redemption]:
    """Give the points back to the lots they came from (positive R entries), then expire
    whatever of them has expired meanwhile."""
    found = context.redemption
    if found is None:
        raise NotFound(
            "redemption_not_found", "No redemption {redemption_id}.", redemption_id=redemption_id
        )
    if found.status == "cancelled":
        raise Conflict(
            "redemption_already_cancelled",
            "Redemption {redemption_id} was already cancelled.",
            extra={"cancelled_at": found.cancelled_at.isoformat()},
            redemption_id=redemption_id,
        )
    lots = {lot.id: lot for lot in context.spent_lots}
    ledger = MemberLedger(context.holdings, now)
    for lot_id, points in context.spent:
        ledger.move(
            lots[str(lot_id)],
            Category.R,
            -points,
            REDEMPTION_CANCEL,
            str(redemption_id),
            found.card_number,
        )
    ledger.expire()
    plan = LedgerPlan(
        context.tenant_id,
        found.member_id,
        now,
        points=ledger.plan(),
        cancelled_redemption=found.id,
    )
    cancelled = Redemption(**{**found.__dict__, "status": "cancelled", "cancelled_at": now})
    return Decided(plan, cancelled)


def decide_purchase(
    context: MemberPoints,
    *,
    card_number: str | None,
    member_id: str | None,
    points: int,
    purchase_id: str,
    now: datetime,
) -> Decided[Purchase]:
    """Points bought with money (F) at the tenant's point price; the till collects ``money``."""
    check_points(points)
    member, card = holder(context, card_number, member_id, now)
    money = round2(Decimal(points) * context.settings.point_price)
    ledger = MemberLedger(context.holdings, now)
    ledger.expire()
    ledger.earn(_new_lot(context, Category.F, points, PURCHASE, purchase_id, now), card)
    plan = ledger.plan()
    return Decided(
        LedgerPlan(context.tenant_id, member, now, points=plan),
        Purchase(purchase_id, member, card, points, money, plan.balance, now),
    )


def decide_points(context: MemberPoints, member_id: str, now: datetime) -> Decided[Points] | Points:
    """A member's points as shown: due lots are expired first (a write only if any are)."""
    if context.member_id is None:
        raise NotFound("member_not_found", "No member with id {member_id}.", member_id=member_id)
    ledger = MemberLedger(context.holdings, now)
    expired = ledger.expire()
    plan = ledger.plan()
    totals = {c: context.holdings.totals.get(c, 0) + plan.delta.get(c, 0) for c in Category}
    points = Points(
        context.member_id,
        plan.balance,
        plan.available,
        plan.pending,
        totals,
        next_expiry(ledger.lots(), now, context.time_zone),
    )
    if not expired:
        return points
    return Decided(LedgerPlan(context.tenant_id, context.member_id, now, points=plan), points)
