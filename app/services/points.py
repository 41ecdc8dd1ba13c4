"""The points ledger (DOMAIN §3): adjustments, redemptions, purchases, expiry and balances.

Writes that move points are *inner* functions: they run inside a unit of work the caller has
opened and do not commit, so the idempotency wrapper (app/routers/idempotency.py) commits
the effect together with its key. Each one first locks the member's account row: every
change to a member's lots, entries and account happens under that lock, so concurrent
spends of one member queue up and none can overdraw. A refusal is raised before anything
but consistent bookkeeping (due expiries) was written.

Expiry is lazy as well as batched: before a member's points are spent or shown, that
member's due lots are expired (X entries), so available + pending = balance always holds.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain.access import Principal
from app.domain.audit import FieldChange, as_text
from app.domain.card_lifecycle import CardStatus, effective_status
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.money import round2
from app.domain.pagination import Page, id_cursor, id_page
from app.domain.points import Category, ExpiryKind, Lot, cash_off_value, expired, expires_at
from app.domain.points import spend_fifo as fifo
from app.domain.points_ledger import NextExpiry, PointsSettings, next_expiry, points_settings
from app.domain.points_rules import BirthdayScope
from app.domain.points_rules import birthday_multiplier as make_birthday_multiplier
from app.repositories.points import Account, EntryRecord, ExpiryRun, NewEntry, Redemption
from app.uow import UnitOfWork

ADJUSTMENT = "adjustment"
REDEMPTION = "redemption"
REDEMPTION_CANCEL = "redemption_cancel"
PURCHASE = "purchase"
EXPIRY = "expiry"
PURPOSES = ("cash_off", "gift", "rebate")
MAX_REASON = 200


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
class Points:
    member_id: str
    balance: int
    available: int
    pending: int
    by_category: dict[Category, int]
    next_expiry: NextExpiry | None


# --- building blocks (inside an open unit of work) ---------------------------------------


def _check_points(points: int) -> None:
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise Invalid("invalid_points", "must be a whole number > 0", field="points")


async def tenant_zone(uow: UnitOfWork, tenant_id: str) -> ZoneInfo:
    tenant = await uow.tenants.get(tenant_id)
    return ZoneInfo(tenant.time_zone)


async def lock_account(uow: UnitOfWork, tenant_id: str, member_id: str) -> Account:
    account = await uow.points.lock_account(tenant_id, member_id)
    if account is None:
        raise Invalid("member_not_found", f"No member with id {member_id}.", field="member_id")
    return account


async def _holder(
    uow: UnitOfWork, who: Principal, card_number: str | None, member_id: str | None, now: datetime
) -> tuple[str, str | None]:
    """(member id, card number) of whoever the request names; a card must be active."""
    if card_number is None:
        if member_id is None:
            raise Invalid(
                "card_or_member_required", "Give card_number or member_id.", field="card_number"
            )
        return member_id, None
    card = await uow.cards.get(who.tenant_id, card_number)
    if card is None:
        raise Invalid("card_not_found", f"No card {card_number}.", field="card_number")
    if member_id is not None and member_id != card.member_id:
        raise Invalid(
            "card_member_mismatch", "The card belongs to another member.", field="member_id"
        )
    status = effective_status(card, now)
    if status is not CardStatus.ACTIVE:
        raise Conflict(
            f"card_{status.value}",
            f"The card is {status.value}.",
            extra={"card_status": status.value},
        )
    return card.member_id, card.number


async def post_expiries(
    uow: UnitOfWork, tenant_id: str, member_id: str, lots: list[Lot], now: datetime
) -> None:
    """X entries for the member's due lots (the account must be locked)."""
    due = expired(lots, now)
    if not due:
        return
    by_id = {lot.id: lot for lot in lots}
    entries = [
        NewEntry(Category.X, -points, by_id[lot].available_at, int(lot), source_id=lot)
        for lot, points in due
    ]
    await book(uow, tenant_id, member_id, entries, EXPIRY, "", now)


async def take(
    uow: UnitOfWork,
    tenant_id: str,
    member_id: str,
    points: int,
    category: Category,
    now: datetime,
    include_pending: bool = False,
) -> list[NewEntry]:
    """Post the member's due expiries, then choose the lots to spend ``points`` from (FIFO):
    one negative ``category`` entry per lot, carrying the lot's available_at. Writes nothing
    else, so a refusal (409 insufficient_points) leaves a consistent ledger."""
    lots = await uow.points.open_lots(tenant_id, member_id)
    await post_expiries(uow, tenant_id, member_id, lots, now)
    by_id = {lot.id: lot for lot in lots}
    return [
        NewEntry(category, -taken, by_id[lot].available_at, int(lot))
        for lot, taken in fifo(lots, points, now, include_pending)
    ]


async def book(
    uow: UnitOfWork,
    tenant_id: str,
    member_id: str,
    entries: list[NewEntry],
    source_type: str,
    source_id: str,
    now: datetime,
    card_number: str | None = None,
) -> int:
    """Write entries that move points of existing lots: the entries, the lots and the
    account's totals; the new balance."""
    lots: dict[int, int] = defaultdict(int)
    delta: dict[Category, int] = defaultdict(int)
    for e in entries:
        lots[e.lot_id] += e.points
        delta[e.category] += e.points
    await uow.points.move_lots(lots)
    await uow.points.append(tenant_id, member_id, entries, source_type, source_id, now, card_number)
    return await uow.points.apply(tenant_id, member_id, delta)


async def _earn(
    uow: UnitOfWork,
    tenant_id: str,
    member_id: str,
    category: Category,
    points: int,
    source_type: str,
    source_id: str,
    now: datetime,
    card_number: str | None = None,
) -> int:
    """A new lot, available now, expiring per the tenant's policy; the new balance."""
    settings = await uow.points.settings(tenant_id)
    expiry = expires_at(now, settings.expiry, await tenant_zone(uow, tenant_id))
    lot = await uow.points.add_lot(
        tenant_id, member_id, category, points, now, now, expiry, source_type, source_id
    )
    entry = NewEntry(category, points, now, lot)
    await uow.points.append(tenant_id, member_id, [entry], source_type, source_id, now, card_number)
    return await uow.points.apply(tenant_id, member_id, {category: points})


# --- writes (inner: the caller's unit of work is open; nothing here commits) --------------


async def adjust(
    uow: UnitOfWork, who: Principal, *, member_id: str, points: int, reason: str, now: datetime
) -> Adjustment:
    """A D adjustment (赠予积分 document): + earns a D lot, − spends FIFO as D. Audited."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise Invalid("invalid_points", "must be a whole number ≠ 0", field="points")
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= MAX_REASON:
        raise Invalid(
            "reason_required", f"give a reason, 1..{MAX_REASON} characters", field="reason"
        )
    tenant = who.tenant_id
    await lock_account(uow, tenant, member_id)
    adjustment_id = uuid.uuid4().hex
    if points > 0:
        balance = await _earn(
            uow, tenant, member_id, Category.D, points, ADJUSTMENT, adjustment_id, now
        )
    else:
        taken = await take(uow, tenant, member_id, -points, Category.D, now)
        balance = await book(uow, tenant, member_id, taken, ADJUSTMENT, adjustment_id, now)
    await uow.audit.write(
        tenant,
        "points_adjustment",
        adjustment_id,
        "create",
        who.key_name,
        [
            FieldChange("member_id", None, member_id),
            FieldChange("points", None, str(points)),
            FieldChange("reason", None, reason),
        ],
    )
    return Adjustment(adjustment_id, member_id, points, reason, balance, now)


async def redeem(
    uow: UnitOfWork,
    who: Principal,
    *,
    card_number: str | None,
    member_id: str | None,
    points: int,
    purpose: str,
    reference: str | None,
    now: datetime,
) -> Redemption:
    """Spend points (R) for a purpose; ``cash_off`` states the money at the tenant's rate."""
    _check_points(points)
    if purpose not in PURPOSES:
        raise Invalid("invalid_purpose", f"one of {', '.join(PURPOSES)}", field="purpose")
    tenant = who.tenant_id
    member_id, card_number = await _holder(uow, who, card_number, member_id, now)
    await lock_account(uow, tenant, member_id)
    money = None
    if purpose == "cash_off":
        money = cash_off_value(points, (await uow.points.settings(tenant)).points_per_yuan)
    taken = await take(uow, tenant, member_id, points, Category.R, now)
    redemption = await uow.points.add_redemption(
        tenant, member_id, card_number, points, purpose, reference, money, now
    )
    await book(uow, tenant, member_id, taken, REDEMPTION, str(redemption.id), now, card_number)
    return redemption


async def cancel_redemption(
    uow: UnitOfWork, who: Principal, redemption_id: int, now: datetime
) -> Redemption:
    """Give the points back to the lots they came from (positive R entries). Points whose
    lot has expired meanwhile expire again at once (X), as they would have."""
    tenant = who.tenant_id
    found = await uow.points.get_redemption(tenant, redemption_id)
    if found is None:
        raise NotFound("redemption_not_found", f"No redemption {redemption_id}.")
    await lock_account(uow, tenant, found.member_id)
    found = await uow.points.get_redemption(tenant, redemption_id, lock=True)
    if found.status == "cancelled":
        raise Conflict(
            "redemption_already_cancelled",
            f"Redemption {redemption_id} was already cancelled.",
            extra={"cancelled_at": found.cancelled_at.isoformat()},
        )
    spent = await uow.points.entries_of(tenant, REDEMPTION, str(redemption_id))
    back = [NewEntry(Category.R, -e.points, e.available_at, e.lot_id) for e in spent]
    await book(
        uow,
        tenant,
        found.member_id,
        back,
        REDEMPTION_CANCEL,
        str(redemption_id),
        now,
        found.card_number,
    )
    cancelled = await uow.points.cancel_redemption(tenant, redemption_id, now)
    lots = await uow.points.open_lots(tenant, found.member_id)
    await post_expiries(uow, tenant, found.member_id, lots, now)
    return cancelled


async def purchase(
    uow: UnitOfWork,
    who: Principal,
    *,
    card_number: str | None,
    member_id: str | None,
    points: int,
    now: datetime,
) -> Purchase:
    """Points bought with money (F) at the tenant's point price; the till collects ``money``."""
    _check_points(points)
    tenant = who.tenant_id
    member_id, card_number = await _holder(uow, who, card_number, member_id, now)
    await lock_account(uow, tenant, member_id)
    price = (await uow.points.settings(tenant)).point_price
    money = round2(Decimal(points) * price)
    purchase_id = uuid.uuid4().hex
    balance = await _earn(
        uow, tenant, member_id, Category.F, points, PURCHASE, purchase_id, now, card_number
    )
    return Purchase(purchase_id, member_id, card_number, points, money, balance, now)


async def expire_points(uow: UnitOfWork, who: Principal, now: datetime) -> ExpiryRun:
    """The expiry job for the whole tenant, set-based (see PointsRepository.expire_due)."""
    return await uow.points.expire_due(who.tenant_id, now)


# --- reads (own unit of work) -------------------------------------------------------------


async def _existing_member(uow: UnitOfWork, who: Principal, member_id: str) -> None:
    if not await uow.points.member_exists(who.tenant_id, member_id):
        raise NotFound("member_not_found", f"No member with id {member_id}.")


async def get_points(uow: UnitOfWork, who: Principal, member_id: str, now: datetime) -> Points:
    tenant = who.tenant_id
    async with uow:
        await _existing_member(uow, who, member_id)
        if expired(await uow.points.open_lots(tenant, member_id), now):
            await lock_account(uow, tenant, member_id)
            lots = await uow.points.open_lots(tenant, member_id)
            await post_expiries(uow, tenant, member_id, lots, now)
        await uow.commit()  # ends this transaction, with the expiries if any
        await uow.points.read_snapshot()  # the account and the lots as of one instant
        account = await uow.points.account(tenant, member_id)
        lots = await uow.points.open_lots(tenant, member_id)
        tz = await tenant_zone(uow, tenant)
    balance = account.balance if account else 0
    pending = sum(lot.points_left for lot in lots if lot.available_at > now)
    return Points(
        member_id,
        balance,
        balance - pending,
        pending,
        account.by_category if account else dict.fromkeys(Category, 0),
        next_expiry(lots, now, tz),
    )


async def list_entries(
    uow: UnitOfWork, who: Principal, member_id: str, cursor: str | None, limit: int
) -> Page[EntryRecord]:
    before = id_cursor(cursor)
    async with uow:
        await _existing_member(uow, who, member_id)
        rows = await uow.points.entries(who.tenant_id, member_id, before, limit)
    return id_page(rows, limit)


async def get_redemption(uow: UnitOfWork, who: Principal, redemption_id: int) -> Redemption:
    async with uow:
        found = await uow.points.get_redemption(who.tenant_id, redemption_id)
    if found is None:
        raise NotFound("redemption_not_found", f"No redemption {redemption_id}.")
    return found


async def get_settings(uow: UnitOfWork, who: Principal) -> PointsSettings:
    async with uow:
        return await uow.points.settings(who.tenant_id)


def _settings_fields(s: PointsSettings) -> dict[str, str | None]:
    return {
        "expiry_kind": s.expiry.kind.value,
        "expiry_n": as_text(s.expiry.n) if s.expiry.kind != ExpiryKind.NONE else None,
        "pending_days": as_text(s.pending_days),
        "point_price": as_text(s.point_price),
        "points_per_yuan": as_text(s.points_per_yuan),
        "birthday_multiplier": None
        if (b := s.birthday_multiplier) is None
        else f"{as_text(b.k)} {b.scope.value}",
    }


async def put_settings(
    uow: UnitOfWork,
    who: Principal,
    *,
    expiry_kind: ExpiryKind,
    expiry_n: int | None,
    pending_days: int,
    point_price: Decimal,
    points_per_yuan: int,
    birthday_multiplier: tuple[Decimal, BirthdayScope] | None = None,
) -> PointsSettings:
    """Replace the settings (audited). A new expiry policy applies to lots earned from now
    on; existing lots keep the expiry they were given."""
    birthday = birthday_multiplier and make_birthday_multiplier(*birthday_multiplier)
    new = points_settings(
        expiry_kind, expiry_n, pending_days, point_price, points_per_yuan, birthday
    )
    async with uow:
        old = await uow.points.settings(who.tenant_id)
        await uow.points.put_settings(who.tenant_id, new)
        before, after = _settings_fields(old), _settings_fields(new)
        await uow.audit.write(
            who.tenant_id,
            "points_settings",
            who.tenant_id,
            "update",
            who.key_name,
            [FieldChange(k, before[k], after[k]) for k in after if before[k] != after[k]],
        )
        # The birthday multiplier feeds quotes' points preview from the pricing snapshot.
        await uow.pricing.bump_pricing_version(who.tenant_id)
        await uow.commit()
    return new
