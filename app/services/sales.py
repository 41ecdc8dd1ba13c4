"""Sales and returns from the till (DOMAIN §3.2, §3.3), on the points ledger.

Both writes are *inner* functions: they run in the unit of work ``run_once`` opened (so an
Idempotency-Key, when sent, is committed with the effect) and never commit.

* **A sale** is identified by (store_code, receipt_no) per tenant. The member's account is
  locked, then the receipt claimed with ``INSERT ... ON CONFLICT DO NOTHING`` (the lean
  path's order too): a second request for the receipt waits for the first to commit, then
  reads the stored row. The same
  sale (same fingerprint) gets the first response again (``replayed``, 200); another sale under
  that receipt is 409 ``receipt_conflict``. Points paid (a ``points`` payment of ``amount``
  CNY costs ``amount × points_per_yuan`` points, spent FIFO as R) and the points earned (one
  lot per category, pending for ``pending_days`` after ``occurred_at``) are written in the same
  transaction, so a sale paid partly with points can't half-happen.
* **A return** locks the sale's row, so returns of one sale queue up and each one sees what
  the earlier ones returned. The clawback is ``clawback()`` on the stored sale (never today's
  rules); it is taken from the sale's own lots first (pending included), then FIFO from the
  member's other lots. Points paid on the sale come back first (``refund_of_points_paid``, a
  new R lot available now), then the clawback is checked against the whole balance: short →
  409 ``insufficient_points_for_return`` (``reject``) or F points bought for the shortfall at
  the tenant's point price (``purchase``; the till collects ``money_due``).
* The card at a sale must exist and be active; no verification code is asked: the till
  verified the card when it priced the basket (``POST /v1/checkout/quote``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from app.domain.access import Principal, Scope, hash_api_key
from app.domain.card_classes import CardClass
from app.domain.card_lifecycle import Card, CardStatus, add_months, effective_status
from app.domain.change_account import change_paid, refund_of_change_paid
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.money import CENT, ZERO
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
    expired,
    expires_at,
    refund_of_points_paid,
    returned_after,
    returned_fraction,
    shortfall,
    spend_fifo,
)
from app.domain.points_ledger import PointsSettings
from app.domain.points_rules import needs_birthday
from app.repositories.members import decrypt_birthday
from app.repositories.points import NewEntry
from app.repositories.sales import StoredSale
from app.repositories.till_sales import Fallback, TillSale
from app.services.access import known, presented_key
from app.services.cards import CardKit, checked_number
from app.services.change_account import pay_for_sale, refund_for_return
from app.services.points import book, lock_account, post_expiries, take, tenant_zone
from app.services.points_rules import (
    Applied,
    applied,
    load_points_rules,
    member_birthday,
    member_groups,
)
from app.services.pricing import PricingCache
from app.services.tiers import apply_upgrades
from app.uow import UnitOfWork

SALE = "sale"
SALE_RETURN = "sale_return"
SHORTFALL_MODES = ("reject", "purchase")
# A till's clock may run a little fast; a sale further in the future is a mistake.
MAX_CLOCK_SKEW = timedelta(minutes=5)


GOODS_FIELDS = ("major_category", "mid_category", "minor_category", "counter", "brand")


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
class Recorded:
    """The response body of a sale or return; ``replayed`` when it is the stored first one."""

    status_code: int
    body: dict
    replayed: bool


# --- pure helpers ------------------------------------------------------------------------


def _num(value: Decimal) -> str:
    """A decimal as canonical text (1.50 and 1.5 alike), for fingerprints."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _fingerprint(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def points_rates(
    uow: UnitOfWork,
    kit: CardKit,
    cache: PricingCache | None,
    tenant: str,
    card_class: CardClass,
    member_id: str,
    store_code: str,
    lines: Sequence[TillLine],
    occurred_at: datetime,
    settings: PointsSettings,
) -> Applied:
    """What the sale earns with (DOMAIN §3.2), as of ``occurred_at``: each line's points rate
    (the most specific points rule in effect, 0 excludes, else the class's
    ``default_points_rate``), k (the largest matching multiplier event or the birthday
    multiplier, else 1) and the warm rules met. Rules come from the pricing snapshot (cached
    per process by pricing version); all three are stored with the sale, so returns use
    what applied then."""
    if cache is None:  # callers without the app's cache (scripts): read the rules directly
        rules = await load_points_rules(uow, tenant)
    else:
        version = await uow.pricing.version(tenant)
        rules = (await cache.snapshot(uow, tenant, version)).points
    birthday = await member_birthday(
        uow, kit.vault, tenant, member_id, rules, settings, occurred_at
    )
    return applied(
        rules,
        settings,
        card_class=card_class.code,
        default_rate=card_class.default_points_rate,
        store_code=store_code,
        lines=lines,
        receipt_total=sum((x.final_amount for x in lines), ZERO),
        at=occurred_at,
        birthday=birthday,
        tz=await tenant_zone(uow, tenant) if birthday else UTC,
        groups=await member_groups(uow, tenant, member_id, rules, occurred_at),
    )


def _sale(
    lines: Sequence[TillLine], payments: Sequence[Payment], what: Applied, identity: Decimal
) -> Sale:
    """The domain sale: its lines and payments with what it earns with."""
    return Sale(
        lines=tuple(SaleLine(x.line_no, x.qty, x.final_amount) for x in lines),
        payments=tuple(payments),
        rates=what.rates,
        k=what.k,
        warm_points=what.warm_points,
        identity_multiple=identity,
    )


def _check_payments(lines: Sequence[TillLine], payments: Sequence[Payment]) -> None:
    lines_total = sum((line.final_amount for line in lines), ZERO)
    paid = sum((p.amount for p in payments), ZERO)
    if paid != lines_total:
        raise Invalid(
            "payments_mismatch",
            f"The payments total {paid} but the lines total {lines_total}.",
            field="payments",
            extra={"lines_total": str(lines_total), "payments_total": str(paid)},
        )


def _points_paid(payments: Sequence[Payment], points_per_yuan: int) -> int:
    """Points that the ``points`` payments cost; each must be a whole number of points."""
    total = 0
    for i, payment in enumerate(payments):
        if payment.method is not PaymentMethod.POINTS:
            continue
        points = Fraction(payment.amount) * points_per_yuan
        if points.denominator != 1:
            raise Invalid(
                "points_payment_not_whole",
                f"{payment.amount} CNY is not a whole number of points at {points_per_yuan} "
                "points per CNY.",
                field=f"payments[{i}].amount",
            )
        total += int(points)
    return total


def _sale_of(detail: Mapping) -> Sale:
    """The domain sale as stored at sale time."""
    return Sale(
        lines=tuple(
            SaleLine(int(x["line_no"]), Decimal(x["qty"]), Decimal(x["final_amount"]))
            for x in detail["lines"]
        ),
        payments=tuple(
            Payment(PaymentMethod(x["method"]), Decimal(x["amount"])) for x in detail["payments"]
        ),
        rates={int(no): Decimal(rate) for no, rate in detail["rates"].items()},
        k=Decimal(detail["k"]),
        warm_points=dict(detail["warm_points"]),
        identity_multiple=Decimal(detail["identity_multiple"]),
    )


def _detail(
    till: Sequence[TillLine],
    sale: Sale,
    earned: Mapping[Category, int],
    paid: int,
    lots: dict[str, int],
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
        "payments": [{"method": p.method.value, "amount": str(p.amount)} for p in sale.payments],
        "rates": {str(no): str(rate) for no, rate in sale.rates.items()},
        "k": str(sale.k),
        "identity_multiple": str(sale.identity_multiple),
        "warm_points": dict(sale.warm_points),
        "points_earned": {c.value: earned[c] for c in EARNED_ON_SALE},
        "points_paid": paid,
        "lots": lots,
    }


def _spendable(lot: Lot, now: datetime) -> bool:
    return lot.points_left > 0 and (lot.expires_at is None or now < lot.expires_at)


def clawback_entries(
    lots: Iterable[Lot], own: set[str], back: Mapping[Category, int], now: datetime
) -> list[NewEntry]:
    """Negative entries taking ``back`` (per category) from ``lots``: for each category the
    sale's own lot of that category first, then its other lots, then the member's other lots
    FIFO — pending points included (a clawback may take points still in their window)."""
    left = {lot.id: lot for lot in lots}
    entries: list[NewEntry] = []
    for category, points in back.items():
        if points <= 0:
            continue
        usable = [lot for lot in left.values() if _spendable(lot, now)]
        tiers = (
            [lot for lot in usable if lot.id in own and lot.category == category],
            [lot for lot in usable if lot.id in own and lot.category != category],
            [lot for lot in usable if lot.id not in own],
        )
        for tier in tiers:
            take = min(points, sum(lot.points_left for lot in tier))
            if not take:
                continue
            for lot_id, n in spend_fifo(tier, take, now, include_pending=True):
                lot = left[lot_id]
                left[lot_id] = replace(lot, points_left=lot.points_left - n)
                entries.append(NewEntry(category, -n, lot.available_at, int(lot_id)))
            points -= take
        if points:  # the caller made the balance cover the clawback; never half-applied
            raise Conflict("insufficient_points", f"{points} {category} points not covered.")
    return entries


def _money(value: Fraction) -> Decimal:
    """An exact amount of fen as Decimal."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(CENT)


def _replay(found_fingerprint: str, fingerprint: str, response: dict, conflict: Conflict):
    if found_fingerprint != fingerprint:
        raise conflict
    return Recorded(200, response, replayed=True)


# --- sales -------------------------------------------------------------------------------


def _sale_fingerprint(
    store_code: str,
    receipt_no: str,
    card_number: str,
    occurred_at: datetime,
    lines: Sequence[TillLine],
    payments: Sequence[Payment],
) -> str:
    return _fingerprint(
        {
            "store_code": store_code,
            "receipt_no": receipt_no,
            "card_number": card_number,
            "occurred_at": occurred_at.astimezone(UTC).isoformat(),
            "lines": [
                {
                    "line_no": x.line_no,
                    "sku": x.sku,
                    "major_category": x.major_category,
                    "mid_category": x.mid_category,
                    "minor_category": x.minor_category,
                    "counter": x.counter,
                    "brand": x.brand,
                    "qty": _num(x.qty),
                    "final_amount": _num(x.final_amount),
                }
                for x in lines
            ],
            "payments": [{"method": p.method.value, "amount": _num(p.amount)} for p in payments],
        }
    )


def _receipt_conflict(store_code: str, receipt_no: str, sale_id: int) -> Conflict:
    return Conflict(
        "receipt_conflict",
        f"Receipt {receipt_no} of store {store_code} was recorded with other content.",
        field="receipt_no",
        extra={"sale_id": sale_id},
    )


def _no_store(store_code: str) -> Invalid:
    return Invalid("store_not_found", f"No store with code {store_code}.", field="store_code")


def _conflict_with(found: StoredSale) -> Conflict:
    return _receipt_conflict(found.store_code, found.receipt_no, found.id)


def _usable(card: Card | None, number: str, now: datetime) -> Card:
    """The sale's card: it must exist and be active now."""
    if card is None:
        raise Invalid("card_not_found", f"No card {number}.", field="card_number")
    status = effective_status(card, now)
    if status is not CardStatus.ACTIVE:
        raise Conflict(
            f"card_{status.value}",
            f"The card is {status.value}.",
            extra={"card_status": status.value},
        )
    return card


def _check_sale(
    lines: Sequence[TillLine], payments: Sequence[Payment], occurred_at: datetime, now: datetime
) -> None:
    _check_payments(lines, payments)
    if occurred_at > now + MAX_CLOCK_SKEW:
        raise Invalid("occurred_in_future", "occurred_at is in the future.", field="occurred_at")


def _sale_body(
    sale_id: int,
    store_code: str,
    receipt_no: str,
    member: str,
    number: str,
    earned: Mapping[Category, int],
    paid: int,
    balance: int,
    pending: int,
    tier_change: dict | None,
) -> dict:
    return {
        "sale_id": sale_id,
        "store_code": store_code,
        "receipt_no": receipt_no,
        "member_id": member,
        "card_number": number,
        "points_earned": {c.value: earned[c] for c in EARNED_ON_SALE},
        "points_earned_total": sum(earned.values()),
        "points_spent": paid,
        "balance": balance,
        "available": balance - pending,
        "pending": pending,
        "tier_change": tier_change,
    }


async def _expire_due(uow: UnitOfWork, tenant: str, member: str, now: datetime) -> None:
    """Write off the member's due lots, reading only those (a sale needs no other lot)."""
    await post_expiries(uow, tenant, member, await uow.points.due_lots(tenant, member, now), now)


async def _settle_expiries(
    uow: UnitOfWork, tenant: str, member: str, now: datetime
) -> tuple[list[Lot], int]:
    """Expire the member's due lots; (the lots still holding points, points expired)."""
    lots = await uow.points.open_lots(tenant, member)
    due = dict(expired(lots, now))
    await post_expiries(uow, tenant, member, lots, now)
    return [lot for lot in lots if lot.id not in due], sum(due.values())


async def record_sale(
    uow: UnitOfWork,
    kit: CardKit,
    who: Principal,
    *,
    store_code: str,
    receipt_no: str,
    card_number: str,
    occurred_at: datetime,
    lines: Sequence[TillLine],
    payments: Sequence[Payment],
    now: datetime,
    cache: PricingCache | None = None,
) -> Recorded:
    """Record a sale: earn A, B, C, E, spend the points paid, add a member_spend row and
    move the card up a tier if the spend qualifies. Inner: the caller commits."""
    tenant = who.tenant_id
    fingerprint = _sale_fingerprint(
        store_code, receipt_no, card_number, occurred_at, lines, payments
    )
    found = await uow.sales.get(tenant, store_code, receipt_no)
    if found is not None:
        return _replay(found.fingerprint, fingerprint, found.response, _conflict_with(found))
    _check_sale(lines, payments, occurred_at, now)
    number = await checked_number(uow, kit, who, card_number, None)
    card = _usable(await uow.cards.get(tenant, number), number, now)
    if await uow.stores.get(tenant, store_code) is None:
        raise _no_store(store_code)
    card_class = await uow.card_classes.get(tenant, card.card_class)
    settings = await uow.points.settings(tenant)
    what = await points_rates(
        uow,
        kit,
        cache,
        tenant,
        card_class,
        card.member_id,
        store_code,
        lines,
        occurred_at,
        settings,
    )
    sale = _sale(lines, payments, what, card_class.identity_points_multiple)
    earned = sale.earning().points  # refuses bad lines and amounts, naming the field
    paid = _points_paid(payments, settings.points_per_yuan)

    member = card.member_id
    # The account first, then the receipt: the lean path's order (record_till_sale()), so a
    # receipt sent through both paths at once waits instead of deadlocking.
    await lock_account(uow, tenant, member)
    sale_id = await uow.sales.claim(
        tenant, store_code, receipt_no, member, number, occurred_at, fingerprint
    )
    if sale_id is None:  # recorded meanwhile by a request this one waited for
        found = await uow.sales.get(tenant, store_code, receipt_no)
        return _replay(found.fingerprint, fingerprint, found.response, _conflict_with(found))
    source = str(sale_id)
    await _expire_due(uow, tenant, member, now)
    if paid:
        taken = await take(uow, tenant, member, paid, Category.R, now)
        await book(uow, tenant, member, taken, SALE, source, now, number)
    if change := change_paid(payments):  # 409 insufficient_change_balance: nothing recorded
        await pay_for_sale(uow, tenant, member, number, card_class, change, SALE, source, now)

    available_at = occurred_at + timedelta(days=settings.pending_days)
    expiry = expires_at(occurred_at, settings.expiry, await tenant_zone(uow, tenant))
    lot_ids: dict[str, int] = {}
    entries = []
    for category in EARNED_ON_SALE:
        if earned[category] > 0:
            lot = await uow.points.add_lot(
                tenant,
                member,
                category,
                earned[category],
                occurred_at,
                available_at,
                expiry,
                SALE,
                source,
            )
            lot_ids[category.value] = lot
            entries.append(NewEntry(category, earned[category], available_at, lot))
    await uow.points.append(tenant, member, entries, SALE, source, now, number)
    await uow.points.apply(tenant, member, {c: earned[c] for c in EARNED_ON_SALE})
    await _expire_due(uow, tenant, member, now)  # an old offline sale's lots may be due
    balance, pending = await uow.points.holdings(tenant, member, now)

    total = sum((x.final_amount for x in lines), ZERO)
    await uow.sales.add_spend(
        tenant, member, occurred_at, total, SALE, f"{store_code}/{receipt_no}"
    )
    changes = await apply_upgrades(uow, tenant, who.key_name, now, member)
    tier_change = next(
        ({"from": c.from_class, "to": c.to_class} for c in changes if c.card_number == number),
        None,
    )
    body = _sale_body(
        sale_id, store_code, receipt_no, member, number, earned, paid, balance, pending, tier_change
    )
    await uow.sales.complete(sale_id, _detail(lines, sale, earned, paid, lot_ids), body)
    return Recorded(201, body, replayed=False)


# Payments that move nothing of the member's: a sale paid only so can take the lean path.
MONEY_PAYMENTS = frozenset({PaymentMethod.CASH, PaymentMethod.BANK_CARD, PaymentMethod.COUPON})


async def record_sale_fast(
    uow: UnitOfWork,
    kit: CardKit,
    authorization: str | None,
    allowed: frozenset[Scope],
    *,
    store_code: str,
    receipt_no: str,
    card_number: str,
    occurred_at: datetime,
    lines: Sequence[TillLine],
    payments: Sequence[Payment],
    now: datetime,
    cache: PricingCache,
) -> Recorded | None:
    """The common sale — paid in money, earning points — on the lean path
    (repositories/till_sales.py): the same checks, earning and stored rows as ``record_sale``
    in one read (which also authenticates the caller's key, ``allowed`` its scopes) and one
    call of a database function, on one pooled connection. None (nothing written) when the
    general path must record it:
    points or change-account payments, lots of the member falling due, a 12-month spend that
    may upgrade a card, the receipt claimed meanwhile, or contention."""
    secret = presented_key(authorization)
    if any(p.method not in MONEY_PAYMENTS for p in payments):
        return None
    async with uow.till_sales.session() as db:
        async with uow:
            context = await db.context(hash_api_key(secret), store_code, receipt_no, card_number)
            who = known(context.principal)
            who.require(allowed)
            number = await checked_number(uow, kit, who, card_number, None)
            fingerprint = _sale_fingerprint(
                store_code, receipt_no, card_number, occurred_at, lines, payments
            )
            if context.sale_id is not None:
                conflict = _receipt_conflict(store_code, receipt_no, context.sale_id)
                return _replay(
                    context.sale_fingerprint, fingerprint, context.sale_response, conflict
                )
            _check_sale(lines, payments, occurred_at, now)
            card = _usable(context.card, number, now)
            if not context.store_exists:
                raise _no_store(store_code)
            snapshot = await cache.snapshot(uow, who.tenant_id, context.pricing_version)
        settings = snapshot.points_settings
        zone = ZoneInfo(context.time_zone)
        total = sum((x.final_amount for x in lines), ZERO)
        birthday = None
        if needs_birthday(snapshot.points.warm, settings.birthday_multiplier, occurred_at):
            birthday = decrypt_birthday(
                kit.vault, who.tenant_id, card.member_id, context.birthday_ciphertext
            )
        default_rate, identity_multiple = snapshot.earning[card.card_class]
        what = applied(
            snapshot.points,
            settings,
            card_class=card.card_class,
            default_rate=default_rate,
            store_code=store_code,
            lines=lines,
            receipt_total=total,
            at=occurred_at,
            birthday=birthday,
            tz=zone,
            groups=context.member_groups,
        )
        sale = _sale(lines, payments, what, identity_multiple)
        earned = sale.earning().points
        expiry = expires_at(occurred_at, settings.expiry, zone)
        if expiry is not None and expiry <= now:  # an old offline sale: its lots expire at once
            return None
        till = TillSale(
            tenant_id=who.tenant_id,
            store_code=store_code,
            receipt_no=receipt_no,
            member_id=card.member_id,
            card_number=number,
            occurred_at=occurred_at,
            fingerprint=fingerprint,
            earned={c.value: earned[c] for c in EARNED_ON_SALE},
            available_at=occurred_at + timedelta(days=settings.pending_days),
            expires_at=expiry,
            amount=total,
            now=now,
            upgrade_since=add_months(now, -12) if snapshot.upgrades else None,
            upgrade_thresholds=snapshot.upgrades,
        )
        # The database sets sale_id, balance, available and pending in the stored response.
        response = _sale_body(
            0, store_code, receipt_no, card.member_id, number, earned, 0, 0, 0, None
        )
        try:
            held = await db.write(till, _detail(lines, sale, earned, 0, {}), response)
        except Fallback:
            return None
    body = {
        **response,
        "sale_id": held.sale_id,
        "balance": held.balance,
        "available": held.balance - held.pending,
        "pending": held.pending,
    }
    return Recorded(201, body, replayed=False)


# --- returns -----------------------------------------------------------------------------


async def _add_lot(
    uow: UnitOfWork,
    tenant: str,
    member: str,
    category: Category,
    points: int,
    now: datetime,
    expiry: datetime | None,
    source: str,
    card_number: str,
) -> Lot:
    """A lot available now, with its entry and the account's totals."""
    lot = await uow.points.add_lot(
        tenant, member, category, points, now, now, expiry, SALE_RETURN, source
    )
    await uow.points.append(
        tenant,
        member,
        [NewEntry(category, points, now, lot)],
        SALE_RETURN,
        source,
        now,
        card_number,
    )
    await uow.points.apply(tenant, member, {category: points})
    return Lot(str(lot), category, points, now, now, expiry)


async def record_return(
    uow: UnitOfWork,
    who: Principal,
    *,
    store_code: str,
    receipt_no: str,
    return_no: str,
    lines: Sequence[ReturnLine],
    shortfall_mode: str,
    now: datetime,
) -> Recorded:
    """Return goods of a recorded sale: refund the points paid pro rata, claw back what the
    returned goods earned, buying F points for a shortfall if asked to. Inner."""
    if shortfall_mode not in SHORTFALL_MODES:
        raise Invalid("invalid_shortfall", "reject or purchase", field="shortfall")
    tenant = who.tenant_id
    # The shortfall mode is how to settle, not what is returned: not part of the identity.
    fingerprint = _fingerprint(
        {
            "store_code": store_code,
            "receipt_no": receipt_no,
            "return_no": return_no,
            "lines": [{"line_no": x.line_no, "qty": _num(x.qty)} for x in lines],
        }
    )
    found = await uow.sales.get(tenant, store_code, receipt_no, lock=True)
    if found is None:
        raise NotFound("sale_not_found", f"No sale {receipt_no} at store {store_code}.")
    previous = await uow.sales.get_return(found.id, return_no)
    if previous is not None:
        conflict = Conflict(
            "return_conflict",
            f"Return {return_no} of this sale was recorded with other lines.",
            field="return_no",
            extra={"return_id": previous.id},
        )
        return _replay(previous.fingerprint, fingerprint, previous.response, conflict)

    sale = _sale_of(found.detail)
    before = {int(no): Decimal(qty) for no, qty in found.returned.items()}
    back = clawback(sale, before, lines)  # 422 return_exceeds_sale names the line
    after = returned_after(sale, before, lines)
    share_before, share_after = returned_fraction(sale, before), returned_fraction(sale, after)
    refund = refund_of_points_paid(found.detail["points_paid"], share_before, share_after)
    total = sum((x.final_amount for x in sale.lines), ZERO)
    amount = _money(Fraction(total) * (share_after - share_before))

    member, card = found.member_id, found.card_number
    return_id = await uow.sales.add_return(tenant, found.id, return_no, fingerprint)
    source = str(return_id)
    await lock_account(uow, tenant, member)
    lots, _ = await _settle_expiries(uow, tenant, member, now)
    settings = await uow.points.settings(tenant)
    expiry = expires_at(now, settings.expiry, await tenant_zone(uow, tenant))
    if refund:
        lots.append(
            await _add_lot(uow, tenant, member, Category.R, refund, now, expiry, source, card)
        )
    # The change-account part of the payments comes back pro rata, like the points paid.
    change_back = refund_of_change_paid(change_paid(sale.payments), share_before, share_after)
    if change_back:
        await refund_for_return(uow, tenant, member, card, change_back, SALE_RETURN, source, now)
    clawed = sum(back.values())
    missing, price = shortfall(sum(lot.points_left for lot in lots), clawed, settings.point_price)
    if missing and shortfall_mode == "reject":
        raise Conflict(
            "insufficient_points_for_return",
            f"The return claws back {clawed} points; the balance is short by {missing} "
            f"points, which cost {price} CNY. Send shortfall=purchase to sell them.",
            extra={"shortfall": missing, "price": str(price), "clawback": clawed},
        )
    if missing:
        lots.append(
            await _add_lot(uow, tenant, member, Category.F, missing, now, expiry, source, card)
        )
    own = {str(lot) for lot in found.detail["lots"].values()}
    entries = clawback_entries(lots, own, back, now)
    balance = await book(uow, tenant, member, entries, SALE_RETURN, source, now, card)

    if amount:
        ref = f"{store_code}/{receipt_no}#{return_id}"
        await uow.sales.add_spend(tenant, member, now, -amount, "return", ref)
    await uow.sales.set_returned(found.id, {str(no): str(q) for no, q in after.items() if q})
    body = {
        "return_id": return_id,
        "return_no": return_no,
        "sale_id": found.id,
        "points_clawed_back": {c.value: back[c] for c in EARNED_ON_SALE},
        "points_purchased": missing,
        "money_due": str(price if missing else ZERO),
        "points_refunded": refund,
        "balance": balance,
    }
    detail = {
        "lines": [{"line_no": x.line_no, "qty": str(x.qty)} for x in lines],
        "amount": str(amount),
        "clawback": {c.value: back[c] for c in EARNED_ON_SALE},
        "points_refunded": refund,
        "points_purchased": missing,
        "money_due": body["money_due"],
    }
    await uow.sales.complete_return(return_id, detail, body)
    return Recorded(201, body, replayed=False)
