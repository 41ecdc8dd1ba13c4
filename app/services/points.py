"""The points ledger (docs/domain §3): adjustments, redemptions, purchases, expiry and balances.

Every write is read → decide → apply (app/services/ledger.py): one read of the member's points,
a plan decided in app/domain/points_writes.py, one guarded write. Writes are *inner*: they run
in the unit of work the caller opened (``run_once``, so an Idempotency-Key commits with the
effect) and do not commit. Expiry is lazy as well as batched: a write, or a balance shown,
first expires the member's due lots (X entries), so available + pending = balance always holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain.access import Principal
from app.domain.audit import FieldChange, as_text
from app.domain.errors import NotFound
from app.domain.ids import parse_id
from app.domain.pagination import Page, time_id_cursor, time_id_page
from app.domain.points import ExpiryKind
from app.domain.points_ledger import PointsSettings, points_settings
from app.domain.points_rules import BirthdayScope
from app.domain.points_rules import birthday_multiplier as make_birthday_multiplier
from app.domain.points_writes import (
    Adjustment,
    MemberPoints,
    Points,
    Purchase,
    Redemption,
    RedemptionPoints,
    decide_adjustment,
    decide_cancellation,
    decide_points,
    decide_purchase,
    decide_redemption,
)
from app.repositories.ledger import LedgerStore, MemberRead
from app.repositories.points import EntryRecord, ExpiryRun
from app.services.ledger import decide_and_apply
from app.uow import UnitOfWork


async def tenant_zone(uow: UnitOfWork, tenant_id: str) -> ZoneInfo:
    tenant = await uow.tenants.existing(tenant_id)
    return ZoneInfo(tenant.time_zone)


def _member_points(who: Principal, found: MemberRead) -> MemberPoints:
    return MemberPoints(
        tenant_id=who.tenant_id,
        time_zone=ZoneInfo(found.time_zone),
        settings=found.settings,
        member_id=found.member_id,
        card=found.card,
        holdings=found.holdings,
        lot_id=found.lot_id,
        redemption_id=found.redemption_id,
    )


def member_reader(
    store: LedgerStore,
    who: Principal,
    member_id: str | None,
    card_number: str | None,
    now: datetime,
    **options: bool,
) -> Callable[[], Awaitable[MemberPoints]]:
    """The read of a write naming a member or a card (``options``: what else to read)."""

    async def read() -> MemberPoints:
        found = await store.member(who.tenant_id, member_id, card_number, now, **options)
        return _member_points(who, found)

    return read


# --- writes (inner: the caller's unit of work is open; nothing here commits) --------------


async def adjust(
    uow: UnitOfWork, who: Principal, *, member_id: str, points: int, reason: str, now: datetime
) -> Adjustment:
    """A D adjustment (赠予积分 document): + earns a D lot, − spends FIFO as D. Audited."""
    adjustment_id = uuid.uuid4().hex
    async with uow.ledger() as store:
        return await decide_and_apply(
            store,
            member_reader(store, who, member_id, None, now, with_lots=points < 0),
            lambda context: decide_adjustment(
                context,
                member_id=member_id,
                points=points,
                reason=reason,
                actor=who.key_name,
                adjustment_id=adjustment_id,
                now=now,
            ),
        )


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
    async with uow.ledger() as store:
        return await decide_and_apply(
            store,
            member_reader(
                store, who, member_id, card_number, now, with_lots=True, with_redemption=True
            ),
            lambda context: decide_redemption(
                context,
                card_number=card_number,
                member_id=member_id,
                points=points,
                purpose=purpose,
                reference=reference,
                now=now,
            ),
        )


async def cancel_redemption(
    uow: UnitOfWork, who: Principal, redemption_id: str, now: datetime
) -> Redemption:
    """Give the points back to the lots they came from (positive R entries). Points whose
    lot has expired meanwhile expire again at once (X), as they would have."""
    key = parse_id(redemption_id)
    if key is None:
        raise _no_redemption(redemption_id)
    async with uow.ledger() as store:

        async def read() -> RedemptionPoints:
            found = await store.redemption(who.tenant_id, key, now)
            return RedemptionPoints(
                tenant_id=who.tenant_id,
                redemption=Redemption(**found.found) if found.found else None,
                spent=found.spent,
                spent_lots=found.spent_lots,
                holdings=found.holdings,
            )

        return await decide_and_apply(
            store, read, lambda context: decide_cancellation(context, key, now)
        )


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
    purchase_id = uuid.uuid4().hex
    async with uow.ledger() as store:
        return await decide_and_apply(
            store,
            member_reader(store, who, member_id, card_number, now, with_lots=False),
            lambda context: decide_purchase(
                context,
                card_number=card_number,
                member_id=member_id,
                points=points,
                purchase_id=purchase_id,
                now=now,
            ),
        )


async def expire_points(uow: UnitOfWork, who: Principal, now: datetime) -> ExpiryRun:
    """The expiry job for the whole tenant, set-based (see PointsRepository.expire_due)."""
    return await uow.points.expire_due(who.tenant_id, now)


# --- reads (own unit of work) -------------------------------------------------------------


async def _existing_member(uow: UnitOfWork, who: Principal, member_id: str) -> None:
    if not await uow.points.member_exists(who.tenant_id, member_id):
        raise NotFound("member_not_found", "No member with id {member_id}.", member_id=member_id)


async def get_points(uow: UnitOfWork, who: Principal, member_id: str, now: datetime) -> Points:
    """The member's points as of one read; due lots are expired first (then it is a write)."""
    async with uow, uow.ledger() as store:
        return await decide_and_apply(
            store,
            member_reader(store, who, member_id, None, now, with_lots=True),
            lambda context: decide_points(context, member_id, now),
        )


async def list_entries(
    uow: UnitOfWork, who: Principal, member_id: str, cursor: str | None, limit: int
) -> Page[EntryRecord]:
    before = time_id_cursor(cursor)
    async with uow:
        await _existing_member(uow, who, member_id)
        rows = await uow.points.entries(who.tenant_id, member_id, before, limit)
    return time_id_page(rows, limit, lambda entry: entry.created_at)


async def get_redemption(uow: UnitOfWork, who: Principal, redemption_id: str) -> Redemption:
    key = parse_id(redemption_id)
    async with uow:
        found = None if key is None else await uow.points.get_redemption(who.tenant_id, key)
    if found is None:
        raise _no_redemption(redemption_id)
    return found


def _no_redemption(redemption_id: str) -> NotFound:
    return NotFound(
        "redemption_not_found", "No redemption {redemption_id}.", redemption_id=redemption_id
    )


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
