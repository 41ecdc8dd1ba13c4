"""Sales and returns from the till (docs/domain §3.2, §3.3), decided once. Pure.

A sale or a return is read (``SaleContext``, ``ReturnContext``: everything the decision needs,
as of one read), decided here into a ``LedgerPlan`` (every row to write, the stored detail and
the response body) or a refusal, and applied by the database as given. The same decision
serves every caller: the till's lane, the documented endpoint, a sale with an
Idempotency-Key and the replay of a receipt recorded before.

Decisions where the business rules are silent (each is tested):

* **Identity.** A sale is (store_code, receipt_no) per tenant; the same content again (same
  fingerprint: every field, decimals compared by value) replays the first response (200); other
  content under that receipt is 409 ``receipt_conflict``. A return is return_no within its sale.
* **Clock.** ``occurred_at`` may be up to ``MAX_CLOCK_SKEW`` ahead of the server (a till's clock
  runs a little fast); such a sale is a sale of now for everything that looks at time: it counts
  towards the 12-month tier spend at once.
* **Limits.** A line's or the receipt's final amount above the tenant's ``SaleLimits`` is 422
  (``line_amount_over_limit`` / ``receipt_amount_over_limit``): a typo at the till can't mint
  millions of points.
* **Points paid** (a ``points`` payment of ``amount`` CNY) cost ``amount × points_per_yuan``
  points, spent FIFO as R; a fraction of a point is 422 ``points_payment_not_whole``.
* **Earned** points: one lot per category, pending until ``occurred_at + pending_days``,
  expiring per the tenant's policy; lots already expired (an old offline sale) expire at once.
* **Tiers**: the member's 12-month spend after the sale moves every card of the member as far
  up its chain as the spend carries it (one card event per step).
* **Returns** claw back ``clawback()`` of the stored sale (never today's rules), from the sale's
  own lots first (pending included), then the member's other lots oldest first. Points paid
  come back first (a new R lot), then the change-account payment pro rata; a short balance is
  409 ``insufficient_points_for_return`` (``reject``) or bought as F points (``purchase``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction

from app.domain.card_classes import CardClass, SharingGroup, Usage
from app.domain.card_lifecycle import Card, CardStatus, add_months, require_active
from app.domain.change_account import ChangeKind, change_paid, refund_of_change_paid, signed
from app.domain.errors import N_, Conflict, FieldError, Invalid, NotFound, refuse_any
from app.domain.ledger import (
    ChangeMovement,
    Decided,
    Holdings,
    LedgerPlan,
    MemberLedger,
    NewLot,
    Recorded,
    ReturnRow,
    SaleRow,
    SpendRow,
    TierMove,
)
from app.domain.money import CENT, ZERO, decimal_places
from app.domain.points import (
    EARNED_ON_SALE,
    Category,
    Lot,
    Payment,
    PaymentMethod,
    ReturnLine,
    Sale,
    SaleLine,
    clawback,
    expires_at,
    refund_of_points_paid,
    returned_after,
    returned_fraction,
    shares_left,
    shortfall,
    spend_fifo,
)
from app.domain.points import spend as spend_change
from app.domain.points_ledger import PointsSettings
from app.domain.points_rules import Applied, PointsRules, applied
from app.domain.sale_vouchers import return_vouchers, sale_vouchers, shares_of
from app.domain.tiers import UpgradeRule, upgrade_steps
from app.domain.voucher_codes import new_code
from app.domain.voucher_till import Redeemer
from app.domain.vouchers import OnReturn, Template, Voucher, VoucherRule

SALE = "sale"
SALE_RETURN = "sale_return"
SHORTFALL_MODES = ("reject", "purchase")
# A till's clock may run a little fast; a sale further in the future is a mistake.
MAX_CLOCK_SKEW = timedelta(minutes=5)
GOODS_FIELDS = ("major_category", "mid_category", "minor_category", "counter", "brand")
# Ids a sale's read allocates for the lots it may add (A, B, C, E) and a return's (R, F).
SALE_LOTS = len(EARNED_ON_SALE)
RETURN_LOTS = 2


# --- the tenant's limits -----------------------------------------------------------------------

DEFAULT_MAX_LINE_AMOUNT = Decimal("1000000.00")
DEFAULT_MAX_RECEIPT_AMOUNT = Decimal("5000000.00")
MAX_LIMIT = Decimal("1000000000.00")  # what a limit itself may be set to


@dataclass(frozen=True)
class SaleLimits:
    """The largest final amount a line and a receipt may have (CNY)."""

    max_line_amount: Decimal = DEFAULT_MAX_LINE_AMOUNT
    max_receipt_amount: Decimal = DEFAULT_MAX_RECEIPT_AMOUNT


def sale_limits(max_line_amount: Decimal, max_receipt_amount: Decimal) -> SaleLimits:
    """Limits as a client sent them; a 422 naming every field out of range."""
    refuse_any(
        [
            FieldError(
                name,
                "{name} must be > 0 and ≤ {max_limit} CNY, with 2 decimals.",
                name=name,
                max_limit=MAX_LIMIT,
            )
            for name, value in (
                ("max_line_amount", max_line_amount),
                ("max_receipt_amount", max_receipt_amount),
            )
            if not (value.is_finite() and ZERO < value <= MAX_LIMIT and decimal_places(value) <= 2)
        ],
        "invalid_sale_limits",
        N_("The sale limits"),
    )
    return SaleLimits(max_line_amount.quantize(CENT), max_receipt_amount.quantize(CENT))


# --- the request ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TillLine:
    line_no: int
    sku: str
    qty: Decimal
    final_amount: Decimal
    major_category: str | None = None
    mid_category: str | None = None
    minor_category: str | None = None
    counter: str | None = None
    brand: str | None = None


@dataclass(frozen=True)
class SaleRequest:
    store_code: str
    receipt_no: str
    card_number: str
    occurred_at: datetime
    lines: tuple[TillLine, ...]
    payments: tuple[Payment, ...]

    @property
    def total(self) -> Decimal:
        return sum((x.final_amount for x in self.lines), ZERO)


@dataclass(frozen=True)
class ReturnRequest:
    store_code: str
    receipt_no: str
    return_no: str
    lines: tuple[ReturnLine, ...]
    shortfall_mode: str = "reject"


# --- what the decisions read ------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """A sale or return recorded before under the same natural key."""

    id: int
    fingerprint: str
    response: dict


@dataclass(frozen=True)
class MemberCard:
    """A card of the member whose class may move up."""

    number: str
    class_code: str
    status: CardStatus
    expires_at: datetime | None


@dataclass(frozen=True)
class SaleTerms:
    """The tenant's configuration a sale is decided with (its pricing snapshot)."""

    rules: PointsRules
    settings: PointsSettings
    classes: Mapping[str, CardClass]
    limits: SaleLimits
    templates: Mapping[str, Template] = field(default_factory=dict)  # voucher templates
    voucher_rules: tuple[VoucherRule, ...] = ()  # 返券
    sharing_groups: Mapping[str, SharingGroup] = field(default_factory=dict)

    @property
    def upgrades(self) -> dict[str, UpgradeRule]:
        return {
            c.code: UpgradeRule(c.upgrade_to, c.upgrade_spend_12m)
            for c in self.classes.values()
            if c.upgrade_to is not None and c.upgrade_spend_12m is not None
        }


@dataclass(frozen=True)
class SaleContext:
    tenant_id: str
    actor: str  # the API key's name, for card events
    time_zone: tzinfo
    store_exists: bool
    recorded: Stored | None  # the receipt's sale, when recorded already
    card: Card | None
    birthday: date | None  # when something in effect looks at it
    groups: frozenset[str]  # the member's groups
    holdings: Holdings  # with every lot when the sale is paid with points
    change_balance: Decimal | None  # read when the sale is paid from the change account
    spend_12m: Decimal  # the member's spend over 12 months to now (when a card may move up)
    member_cards: tuple[MemberCard, ...]  # the member's cards whose class may move up
    sale_id: int  # allocated by the read
    lot_ids: tuple[int, ...]  # SALE_LOTS allocated by the read
    change_entry_id: int | None
    vouchers: Mapping[str, Voucher] = field(default_factory=dict)  # the payments', by code
    draw_code: Callable[[], str] = new_code  # for the vouchers the sale earns


@dataclass(frozen=True)
class StoredSale:
    id: int
    store_code: str
    receipt_no: str
    member_id: str
    card_number: str
    detail: dict
    returned: dict  # line_no → cumulative qty returned


@dataclass(frozen=True)
class ReturnContext:
    tenant_id: str
    time_zone: tzinfo
    sale: StoredSale | None
    recorded: Stored | None  # the return, when recorded already
    holdings: Holdings  # of the sale's member, with every lot
    change_balance: Decimal | None  # read when the sale was paid from the change account
    return_id: int
    lot_ids: tuple[int, ...]  # RETURN_LOTS allocated by the read
    on_return: OnReturn = OnReturn.KEEP  # the tenant's voucher_on_return
    earned: Mapping[str, Voucher] = field(default_factory=dict)  # the sale's 返券, by code


# --- pure helpers -------------------------------------------------------------------------


def canonical_number(value: Decimal) -> str:
    """A decimal as canonical text (1.50 and 1.5 alike), for fingerprints."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def fingerprint(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def sale_fingerprint(sale: SaleRequest) -> str:
    return fingerprint(
        {
            "store_code": sale.store_code,
            "receipt_no": sale.receipt_no,
            "card_number": sale.card_number,
            "occurred_at": sale.occurred_at.astimezone(UTC).isoformat(),
            "lines": [
                {
                    "line_no": x.line_no,
                    "sku": x.sku,
                    "major_category": x.major_category,
                    "mid_category": x.mid_category,
                    "minor_category": x.minor_category,
                    "counter": x.counter,
                    "brand": x.brand,
                    "qty": canonical_number(x.qty),
                    "final_amount": canonical_number(x.final_amount),
                }
                for x in sale.lines
            ],
            "payments": [_payment(p, canonical_number(p.amount)) for p in sale.payments],
        }
    )


def _payment(payment: Payment, amount: str) -> dict:
    out = {"method": payment.method.value, "amount": amount}
    if payment.voucher_code is not None:
        out["voucher_code"] = payment.voucher_code
    return out


def return_fingerprint(request: ReturnRequest) -> str:
    # The shortfall mode is how to settle, not what is returned: not part of the identity.
    return fingerprint(
        {
            "store_code": request.store_code,
            "receipt_no": request.receipt_no,
            "return_no": request.return_no,
            "lines": [
                {"line_no": x.line_no, "qty": canonical_number(x.qty)} for x in request.lines
            ],
        }
    )


def replay(found: Stored, fingerprint_: str, conflict: Conflict) -> Recorded:
    """The first response again for the same content; ``conflict`` for other content."""
    if found.fingerprint != fingerprint_:
        raise conflict
    return Recorded(200, found.response, replayed=True)


def check_payments(lines: Sequence[TillLine], payments: Sequence[Payment]) -> None:
    lines_total = sum((line.final_amount for line in lines), ZERO)
    paid = sum((p.amount for p in payments), ZERO)
    if paid != lines_total:
        raise Invalid(
            "payments_mismatch",
            "The payments total {paid} but the lines total {lines_total}.",
            field="payments",
            extra={"lines_total": str(lines_total), "payments_total": str(paid)},
            paid=paid,
            lines_total=lines_total,
        )


def check_limits(lines: Sequence[TillLine], limits: SaleLimits) -> None:
    for i, line in enumerate(lines):
        if line.final_amount > limits.max_line_amount:
            raise Invalid(
                "line_amount_over_limit",
                "A line of {final_amount} CNY is over the tenant's limit of {max_line_amount}"
                " CNY per line.",
                field=f"lines[{i}].final_amount",
                extra={"limit": str(limits.max_line_amount)},
                final_amount=line.final_amount,
                max_line_amount=limits.max_line_amount,
            )
    total = sum((line.final_amount for line in lines), ZERO)
    if total > limits.max_receipt_amount:
        raise Invalid(
            "receipt_amount_over_limit",
            "A receipt of {total} CNY is over the tenant's limit of {max_receipt_amount} CNY "
            "per receipt.",
            field="lines",
            extra={"limit": str(limits.max_receipt_amount)},
            total=total,
            max_receipt_amount=limits.max_receipt_amount,
        )


def points_paid(payments: Sequence[Payment], points_per_yuan: int) -> int:
    """Points that the ``points`` payments cost; each must be a whole number of points."""
    total = 0
    for i, payment in enumerate(payments):
        if payment.method is not PaymentMethod.POINTS:
            continue
        points = Fraction(payment.amount) * points_per_yuan
        if points.denominator != 1:
            raise Invalid(
                "points_payment_not_whole",
                "{amount} CNY is not a whole number of points at {points_per_yuan} points per CNY.",
                field=f"payments[{i}].amount",
                amount=payment.amount,
                points_per_yuan=points_per_yuan,
            )
        total += int(points)
    return total


def sale_of(detail: Mapping) -> Sale:
    """The domain sale as stored at sale time."""
    return Sale(
        lines=tuple(
            SaleLine(int(x["line_no"]), Decimal(x["qty"]), Decimal(x["final_amount"]))
            for x in detail["lines"]
        ),
        payments=tuple(
            Payment(PaymentMethod(x["method"]), Decimal(x["amount"]), x.get("voucher_code"))
            for x in detail["payments"]
        ),
        rates={int(no): Decimal(rate) for no, rate in detail["rates"].items()},
        k=Decimal(detail["k"]),
        warm_points=dict(detail["warm_points"]),
        identity_multiple=Decimal(detail["identity_multiple"]),
        voucher_shares=shares_of(detail),
    )


def sale_detail(
    till: Sequence[TillLine],
    sale: Sale,
    earned: Mapping[Category, int],
    paid: int,
    lots: Mapping[str, int],
) -> dict:
    """What is stored with a sale: returns recompute from it, and member groups select by
    the lines' categories and brands."""
    return {
        "lines": [
            {
                "line_no": x.line_no,
                "qty": str(x.qty),
                "final_amount": str(x.final_amount),
                "sku": x.sku,
                **{name: value for name in GOODS_FIELDS if (value := getattr(x, name)) is not None},
            }
            for x in till
        ],
        "payments": [_payment(p, str(p.amount)) for p in sale.payments],
        "rates": {str(no): str(rate) for no, rate in sale.rates.items()},
        "k": str(sale.k),
        "identity_multiple": str(sale.identity_multiple),
        "warm_points": dict(sale.warm_points),
        "points_earned": {c.value: earned[c] for c in EARNED_ON_SALE},
        "points_paid": paid,
        "lots": dict(lots),
    }


def _spendable(lot: Lot, now: datetime) -> bool:
    return lot.points_left > 0 and (lot.expires_at is None or now < lot.expires_at)


def claw_back(
    ledger: MemberLedger,
    own: set[str],
    back: Mapping[Category, int],
    source_id: str,
    card_number: str,
) -> None:
    """Negative entries taking ``back`` (per category): for each category the sale's own lot
    of that category first, then its other lots, then the member's other lots FIFO, pending
    points included (a clawback may take points still in their window)."""
    for category, points in back.items():
        if points <= 0:
            continue
        usable = [lot for lot in ledger.lots() if _spendable(lot, ledger.now)]
        tiers = (
            [lot for lot in usable if lot.id in own and lot.category == category],
            [lot for lot in usable if lot.id in own and lot.category != category],
            [lot for lot in usable if lot.id not in own],
        )
        for tier in tiers:
            take = min(points, sum(lot.points_left for lot in tier))
            if not take:
                continue
            for lot_id, n in spend_fifo(tier, take, ledger.now, include_pending=True):
                lot = next(x for x in tier if x.id == lot_id)
                ledger.move(lot, category, -n, SALE_RETURN, source_id, card_number)
            points -= take
        if points:  # the decision made the balance cover the clawback; never half-applied
            raise Conflict(
                "insufficient_points",
                "{points} {category} points not covered.",
                points=points,
                category=category,
            )


def _money(value: Fraction) -> Decimal:
    """An exact amount of fen as Decimal."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(CENT)


def _receipt_conflict(store_code: str, receipt_no: str, sale_id: int) -> Conflict:
    return Conflict(
        "receipt_conflict",
        "Receipt {receipt_no} of store {store_code} was recorded with other content.",
        field="receipt_no",
        extra={"sale_id": str(sale_id)},
        receipt_no=receipt_no,
        store_code=store_code,
    )


def usable_card(card: Card | None, number: str, now: datetime) -> Card:
    """The sale's card: it must exist and be active now."""
    if card is None:
        raise Invalid("card_not_found", "No card {number}.", field="card_number", number=number)
    return require_active(card, now)


def sale_body(
    sale_id: int,
    request: SaleRequest,
    member: str,
    earned: Mapping[Category, int],
    paid: int,
    balance: int,
    pending: int,
    tier_change: dict | None,
) -> dict:
    return {
        "sale_id": sale_id,
        "store_code": request.store_code,
        "receipt_no": request.receipt_no,
        "member_id": member,
        "card_number": request.card_number,
        "points_earned": {c.value: earned[c] for c in EARNED_ON_SALE},
        "points_earned_total": sum(earned.values()),
        "points_spent": paid,
        "balance": balance,
        "available": balance - pending,
        "pending": pending,
        "tier_change": tier_change,
    }


def tier_moves(
    cards: Iterable[MemberCard],
    spend: Decimal,
    upgrades: Mapping[str, UpgradeRule],
    now: datetime,
    actor: str,
) -> list[TierMove]:
    """Every card of the member that the spend moves up (active or frozen, not expired)."""
    moves = []
    for card in sorted(cards, key=lambda c: c.number):
        if card.status not in (CardStatus.ACTIVE, CardStatus.FROZEN):
            continue
        if card.expires_at is not None and card.expires_at <= now:
            continue
        steps = upgrade_steps(card.class_code, spend, dict(upgrades))
        if steps:
            moves.append(
                TierMove(
                    card.number,
                    card.class_code,
                    steps[-1].to_class,
                    tuple(step.reason(spend) for step in steps),
                    tuple((step.from_class, step.to_class) for step in steps),
                    actor,
                )
            )
    return moves


# --- a sale ---------------------------------------------------------------------------------


def decide_sale(
    context: SaleContext, request: SaleRequest, terms: SaleTerms, now: datetime
) -> Decided | Recorded:
    """The sale's plan and 201 body, the first response again (200), or a refusal."""
    print_ = sale_fingerprint(request)
    if context.recorded is not None:
        conflict = _receipt_conflict(request.store_code, request.receipt_no, context.recorded.id)
        return replay(context.recorded, print_, conflict)
    check_payments(request.lines, request.payments)
    if request.occurred_at > now + MAX_CLOCK_SKEW:
        raise Invalid("occurred_in_future", "occurred_at is in the future.", field="occurred_at")
    check_limits(request.lines, terms.limits)
    card = usable_card(context.card, request.card_number, now)
    if not context.store_exists:
        raise Invalid(
            "store_not_found",
            "No store with code {store_code}.",
            field="store_code",
            store_code=request.store_code,
        )
    klass = terms.classes[card.card_class]
    settings = terms.settings
    vouchers = sale_vouchers(
        payments=request.payments,
        lines=request.lines,
        amounts={x.line_no: x.final_amount for x in request.lines},
        found=context.vouchers,
        templates=terms.templates,
        rules=terms.voucher_rules,
        groups=terms.sharing_groups,
        who=Redeemer(request.store_code, card.card_class, card.member_id),
        card_class=card.card_class,
        sale_id=context.sale_id,
        receipt_no=request.receipt_no,
        occurred_at=request.occurred_at,
        now=now,
        draw_code=context.draw_code,
    )
    what: Applied = applied(
        terms.rules,
        settings,
        card_class=card.card_class,
        default_rate=klass.default_points_rate,
        store_code=request.store_code,
        lines=request.lines,
        receipt_total=request.total,
        at=request.occurred_at,
        birthday=context.birthday,
        tz=context.time_zone,
        groups=context.groups,
    )
    if klass.usage is Usage.COUPON:  # 普通顾客返券卡: holds and earns vouchers, no points
        what = Applied(dict.fromkeys(what.rates, ZERO), Decimal(1), {})
    sale = Sale(
        lines=tuple(SaleLine(x.line_no, x.qty, x.final_amount) for x in request.lines),
        payments=request.payments,
        rates=what.rates,
        k=what.k,
        warm_points=what.warm_points,
        identity_multiple=ZERO if klass.usage is Usage.COUPON else klass.identity_points_multiple,
        voucher_shares=vouchers.shares,
    )
    earned = sale.earning().points  # refuses bad lines and amounts, naming the field
    paid = points_paid(request.payments, settings.points_per_yuan)

    member, number, source = card.member_id, card.number, str(context.sale_id)
    ledger = MemberLedger(context.holdings, now)
    ledger.expire()
    if paid:  # 409 insufficient_points: nothing of the sale is recorded
        ledger.spend(paid, Category.R, SALE, source, number)
    change = None
    if paid_from_change := change_paid(request.payments):
        change = _change_payment(context, klass, paid_from_change, number, source, now)
    available_at = request.occurred_at + timedelta(days=settings.pending_days)
    expiry = expires_at(request.occurred_at, settings.expiry, context.time_zone)
    lots: dict[str, int] = {}
    for lot_id, category in zip(context.lot_ids, EARNED_ON_SALE, strict=True):
        if earned[category] > 0:
            lot = NewLot(
                lot_id,
                category,
                earned[category],
                request.occurred_at,
                available_at,
                expiry,
                SALE,
                source,
            )
            ledger.earn(lot, number)
            lots[category.value] = lot_id
    ledger.expire()  # an old offline sale's lots may be due already
    points = ledger.plan()

    since = add_months(now, -12)
    spend = context.spend_12m + (request.total if request.occurred_at > since else ZERO)
    moves = tier_moves(context.member_cards, spend, terms.upgrades, now, context.actor)
    tier_change = next(
        ({"from": m.from_class, "to": m.to_class} for m in moves if m.number == number), None
    )
    body = (
        sale_body(
            context.sale_id,
            request,
            member,
            earned,
            paid,
            points.balance,
            points.pending,
            tier_change,
        )
        | vouchers.answer
    )
    row = SaleRow(
        id=context.sale_id,
        store_code=request.store_code,
        receipt_no=request.receipt_no,
        member_id=member,
        card_number=number,
        occurred_at=request.occurred_at,
        fingerprint=print_,
        detail=sale_detail(request.lines, sale, earned, paid, lots) | vouchers.detail,
        response=body,
    )
    plan = LedgerPlan(
        tenant_id=context.tenant_id,
        member_id=member,
        now=now,
        points=points,
        change=change,
        sale=row,
        spend=(
            SpendRow(
                request.occurred_at,
                request.total,
                SALE,
                f"{request.store_code}/{request.receipt_no}",
            ),
        ),
        tiers=tuple(moves),
        vouchers_redeemed=vouchers.redeemed,
        vouchers_issued=vouchers.issued,
    )
    return Decided(plan, Recorded(201, body, replayed=False))


def _change_payment(
    context: SaleContext,
    klass: CardClass,
    amount: Decimal,
    number: str,
    source: str,
    now: datetime,
) -> ChangeMovement:
    """A sale's ``change_account`` payment: 409 when the account can't pay it."""
    balance = context.change_balance if context.change_balance is not None else ZERO
    if not klass.change_account_enabled and balance <= ZERO:
        raise Conflict(
            "change_account_disabled",
            "Card class {code_name} does not offer a change account.",
            extra={"card_class": klass.code},
            code_name=klass.code,
        )
    spend_change(balance, amount)  # 409 insufficient_change_balance
    return _change(
        ChangeKind.SALE_PAYMENT, balance, amount, context.change_entry_id, number, SALE, source, now
    )


def _change(
    kind: ChangeKind,
    balance: Decimal,
    amount: Decimal,
    entry_id: int | None,
    number: str,
    source_type: str,
    source_id: str,
    now: datetime,
) -> ChangeMovement:
    """A sale's or a return's movement of the change account, applied only while the
    balance is ``balance``, the one read."""
    return ChangeMovement(
        balance=balance,
        entry_id=entry_id,
        card_number=number,
        amount=signed(kind, amount),
        kind=kind,
        source_type=source_type,
        source_id=source_id,
        reference=None,
        created_at=now,
    )


# --- a return -------------------------------------------------------------------------------


def decide_return(
    context: ReturnContext, request: ReturnRequest, settings: PointsSettings, now: datetime
) -> Decided | Recorded:
    """The return's plan and 201 body, the first response again (200), or a refusal."""
    if request.shortfall_mode not in SHORTFALL_MODES:
        raise Invalid("invalid_shortfall", "reject or purchase", field="shortfall")
    print_ = return_fingerprint(request)
    stored = context.sale
    if stored is None:
        raise NotFound(
            "sale_not_found",
            "No sale {receipt_no} at store {store_code}.",
            receipt_no=request.receipt_no,
            store_code=request.store_code,
        )
    if context.recorded is not None:
        conflict = Conflict(
            "return_conflict",
            "Return {return_no} of this sale was recorded with other lines.",
            field="return_no",
            extra={"return_id": str(context.recorded.id)},
            return_no=request.return_no,
        )
        return replay(context.recorded, print_, conflict)

    sale = sale_of(stored.detail)
    before = {int(no): Decimal(qty) for no, qty in stored.returned.items()}
    back = clawback(sale, before, request.lines)  # 422 return_exceeds_sale names the line
    after = returned_after(sale, before, request.lines)
    share_before, share_after = returned_fraction(sale, before), returned_fraction(sale, after)
    refund = refund_of_points_paid(stored.detail["points_paid"], share_before, share_after)
    total = sum((x.final_amount for x in sale.lines), ZERO)
    amount = _money(Fraction(total) * (share_after - share_before))

    card, source = stored.card_number, str(context.return_id)
    ledger = MemberLedger(context.holdings, now)
    ledger.expire()
    expiry = expires_at(now, settings.expiry, context.time_zone)
    refund_lot, bought_lot = context.lot_ids
    if refund:
        lot = NewLot(refund_lot, Category.R, refund, now, now, expiry, SALE_RETURN, source)
        ledger.earn(lot, card)
    change = None
    # The change-account part of the payments comes back pro rata, like the points paid.
    change_back = refund_of_change_paid(change_paid(sale.payments), share_before, share_after)
    if change_back:
        balance = context.change_balance if context.change_balance is not None else ZERO
        change = _change(
            ChangeKind.SALE_REFUND, balance, change_back, None, card, SALE_RETURN, source, now
        )
    clawed = sum(back.values())
    missing, price = shortfall(ledger.held(), clawed, settings.point_price)
    if missing and request.shortfall_mode == "reject":
        raise Conflict(
            "insufficient_points_for_return",
            "The return claws back {clawed} points; the balance is short by {missing} points,"
            " which cost {price} CNY. Send shortfall=purchase to sell them.",
            extra={"shortfall": missing, "price": str(price), "clawback": clawed},
            clawed=clawed,
            missing=missing,
            price=price,
        )
    if missing:
        lot = NewLot(bought_lot, Category.F, missing, now, now, expiry, SALE_RETURN, source)
        ledger.earn(lot, card)
    claw_back(ledger, {str(lot) for lot in stored.detail["lots"].values()}, back, source, card)
    points = ledger.plan()

    lines = [_till_line(x) for x in stored.detail["lines"]]
    vouchers = return_vouchers(
        detail=stored.detail,
        lines=lines,
        amounts={x.line_no: x.final_amount for x in lines},
        left_before=shares_left(sale, before),
        left_after=shares_left(sale, after),
        earned=context.earned,
        member_id=stored.member_id,
        on_return=context.on_return,
        sale_id=stored.id,
        return_no=request.return_no,
        now=now,
    )
    body = {
        "return_id": context.return_id,
        "return_no": request.return_no,
        "sale_id": stored.id,
        "points_clawed_back": {c.value: back[c] for c in EARNED_ON_SALE},
        "points_purchased": missing,
        "money_due": str(price if missing else ZERO),
        "points_refunded": refund,
        "balance": points.balance,
        "returned_amount": str(amount),
        **vouchers.answer(),
    }
    detail = {
        "lines": [{"line_no": x.line_no, "qty": str(x.qty)} for x in request.lines],
        "amount": str(amount),
        "clawback": {c.value: back[c] for c in EARNED_ON_SALE},
        "points_refunded": refund,
        "points_purchased": missing,
        "money_due": body["money_due"],
        "voucher_deduction": str(vouchers.deduction),
    }
    spend: tuple[SpendRow, ...] = ()
    if amount:
        ref = f"{request.store_code}/{request.receipt_no}#{context.return_id}"
        spend = (SpendRow(now, -amount, "return", ref),)
    plan = LedgerPlan(
        tenant_id=context.tenant_id,
        member_id=stored.member_id,
        now=now,
        points=points,
        change=change,
        sale_return=ReturnRow(
            id=context.return_id,
            sale_id=stored.id,
            return_no=request.return_no,
            fingerprint=print_,
            detail=detail,
            response=body,
            returned={str(no): str(q) for no, q in after.items() if q},
        ),
        spend=spend,
        vouchers_voided=vouchers.voided,
        vouchers_restored=vouchers.restored,
    )
    return Decided(plan, Recorded(201, body, replayed=False))


def _till_line(stored: Mapping) -> TillLine:
    """A line as the sale stored it (its goods, for the scope of its vouchers)."""
    return TillLine(
        int(stored["line_no"]),
        stored["sku"],
        Decimal(stored["qty"]),
        Decimal(stored["final_amount"]),
        **{name: stored.get(name) for name in GOODS_FIELDS},
    )
