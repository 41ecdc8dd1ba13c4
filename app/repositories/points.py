"""The points ledger's persistence. Every change to a member's lots, entries and account is
made while the member's account row is locked (``lock_account``), so lots read under the
lock stay as read until commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    DateTime,
    String,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.points import Category, ExpiryKind, ExpiryPolicy, Lot
from app.domain.points_ledger import PointsSettings
from app.domain.points_rules import BirthdayMultiplier, BirthdayScope
from app.models import (
    MemberRow,
    PointsAccountRow,
    PointsEntryRow,
    PointsLotRow,
    PointsRedemptionRow,
    PointsSettingsRow,
)
from app.repositories.paging import newest_first
from app.repositories.tenancy import as_uuid


@dataclass(frozen=True)
class Account:
    member_id: str
    balance: int
    by_category: dict[Category, int]


@dataclass(frozen=True)
class NewEntry:
    category: Category
    points: int  # signed
    available_at: datetime
    lot_id: int | None = None
    source_id: str | None = None  # overrides the batch's source id (expiry: the lot)


@dataclass(frozen=True)
class EntryRecord:
    id: int
    category: Category
    points: int
    source_type: str
    source_id: str
    card_number: str | None
    lot_id: int | None
    created_at: datetime
    available_at: datetime


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
class ExpiryRun:
    lots: int
    members: int
    points: int


EMPTY_TOTALS = dict.fromkeys(Category, 0)


def _account(row: PointsAccountRow) -> Account:
    return Account(
        str(row.member_id),
        row.balance,
        {c: getattr(row, c.value.lower()) for c in Category},
    )


def _lot(row: PointsLotRow) -> Lot:
    return Lot(
        id=str(row.id),
        category=Category(row.category),
        points_left=row.points_left,
        earned_at=row.earned_at,
        available_at=row.available_at,
        expires_at=row.expires_at,
    )


def _redemption(row: PointsRedemptionRow) -> Redemption:
    return Redemption(
        row.id,
        str(row.member_id),
        row.card_number,
        row.points,
        row.purpose,
        row.reference,
        row.money,
        row.status,
        row.created_at,
        row.cancelled_at,
    )


def _entry(row: PointsEntryRow) -> EntryRecord:
    return EntryRecord(
        row.id,
        Category(row.category),
        row.points,
        row.source_type,
        row.source_id,
        row.card_number,
        row.lot_id,
        row.created_at,
        row.available_at,
    )


class PointsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- accounts ------------------------------------------------------------------------

    async def member_exists(self, tenant_id: str, member_id: str) -> bool:
        mid = as_uuid(member_id)
        if mid is None:
            return False
        found = await self.session.scalar(
            select(literal(1)).where(
                MemberRow.tenant_id == uuid.UUID(tenant_id), MemberRow.id == mid
            )
        )
        return found is not None

    async def lock_account(self, tenant_id: str, member_id: str) -> Account | None:
        """The member's account, created if missing, locked until commit; None if the tenant
        has no such member."""
        mid = as_uuid(member_id)
        if mid is None:
            return None
        tid = uuid.UUID(tenant_id)
        a = PointsAccountRow
        await self.session.execute(
            pg_insert(a)
            .from_select(
                ["tenant_id", "member_id"],
                select(MemberRow.tenant_id, MemberRow.id).where(
                    MemberRow.tenant_id == tid, MemberRow.id == mid
                ),
            )
            .on_conflict_do_nothing(index_elements=[a.tenant_id, a.member_id])
        )
        row = await self.session.scalar(
            select(a)
            .where(a.tenant_id == tid, a.member_id == mid)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return _account(row) if row else None

    async def account(self, tenant_id: str, member_id: str) -> Account | None:
        row = await self.session.get(PointsAccountRow, (uuid.UUID(tenant_id), uuid.UUID(member_id)))
        return _account(row) if row else None

    async def apply(self, tenant_id: str, member_id: str, delta: dict[Category, int]) -> int:
        """Add per-category deltas to the account in one UPDATE; the new balance."""
        a = PointsAccountRow
        values = {c.value.lower(): getattr(a, c.value.lower()) + n for c, n in delta.items() if n}
        return await self.session.scalar(
            update(a)
            .where(a.tenant_id == uuid.UUID(tenant_id), a.member_id == uuid.UUID(member_id))
            .values(balance=a.balance + sum(delta.values()), updated_at=func.now(), **values)
            .returning(a.balance)
            .execution_options(synchronize_session=False)
        )

    async def read_snapshot(self) -> None:
        """Make the rest of this (new) transaction read one consistent snapshot."""
        await self.session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))

    # --- lots ----------------------------------------------------------------------------

    async def open_lots(self, tenant_id: str, member_id: str) -> list[Lot]:
        """The member's lots still holding points, oldest first."""
        lot = PointsLotRow
        rows = await self.session.scalars(
            select(lot)
            .where(
                lot.tenant_id == uuid.UUID(tenant_id),
                lot.member_id == uuid.UUID(member_id),
                lot.points_left > 0,
            )
            .order_by(lot.earned_at, lot.id)
            .execution_options(populate_existing=True)
        )
        return [_lot(r) for r in rows]

    async def due_lots(self, tenant_id: str, member_id: str, now: datetime) -> list[Lot]:
        """The member's lots whose points have expired but not been written off yet."""
        lot = PointsLotRow
        rows = await self.session.scalars(
            select(lot)
            .where(
                lot.tenant_id == uuid.UUID(tenant_id),
                lot.member_id == uuid.UUID(member_id),
                lot.points_left > 0,
                lot.expires_at <= now,
            )
            .order_by(lot.earned_at, lot.id)
            .execution_options(populate_existing=True)
        )
        return [_lot(r) for r in rows]

    async def holdings(self, tenant_id: str, member_id: str, now: datetime) -> tuple[int, int]:
        """(points held in lots, of which pending): summed in the database, so a member with
        thousands of lots costs one row, not thousands."""
        lot = PointsLotRow
        held, pending = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(lot.points_left), 0),
                    func.coalesce(func.sum(lot.points_left).filter(lot.available_at > now), 0),
                ).where(
                    lot.tenant_id == uuid.UUID(tenant_id),
                    lot.member_id == uuid.UUID(member_id),
                    lot.points_left > 0,
                )
            )
        ).one()
        return int(held), int(pending)

    async def add_lot(
        self,
        tenant_id: str,
        member_id: str,
        category: Category,
        points: int,
        earned_at: datetime,
        available_at: datetime,
        expires_at: datetime | None,
        source_type: str,
        source_id: str,
    ) -> int:
        return await self.session.scalar(
            insert(PointsLotRow)
            .values(
                tenant_id=uuid.UUID(tenant_id),
                member_id=uuid.UUID(member_id),
                category=category.value,
                points_earned=points,
                points_left=points,
                earned_at=earned_at,
                available_at=available_at,
                expires_at=expires_at,
                source_type=source_type,
                source_id=source_id,
            )
            .returning(PointsLotRow.id)
        )

    async def move_lots(self, changes: dict[int, int]) -> None:
        """Add a signed number of points to each lot (lot id → delta)."""
        if not changes:
            return
        lots = PointsLotRow.__table__
        await self.session.execute(
            update(lots)
            .where(lots.c.id == bindparam("lot"))
            .values(points_left=lots.c.points_left + bindparam("delta")),
            [{"lot": lot, "delta": delta} for lot, delta in changes.items()],
        )

    # --- entries -------------------------------------------------------------------------

    async def append(
        self,
        tenant_id: str,
        member_id: str,
        entries: list[NewEntry],
        source_type: str,
        source_id: str,
        created_at: datetime,
        card_number: str | None = None,
    ) -> None:
        """Append to the ledger. Entries are never updated or deleted."""
        if not entries:
            return
        await self.session.execute(
            insert(PointsEntryRow.__table__),
            [
                {
                    "tenant_id": uuid.UUID(tenant_id),
                    "member_id": uuid.UUID(member_id),
                    "card_number": card_number,
                    "category": e.category.value,
                    "points": e.points,
                    "source_type": source_type,
                    "source_id": e.source_id or source_id,
                    "lot_id": e.lot_id,
                    "created_at": created_at,
                    "available_at": e.available_at,
                }
                for e in entries
            ],
        )

    async def entries(
        self, tenant_id: str, member_id: str, before: int | None, limit: int
    ) -> list[EntryRecord]:
        e = PointsEntryRow
        query = select(e).where(
            e.tenant_id == uuid.UUID(tenant_id), e.member_id == uuid.UUID(member_id)
        )
        rows = await self.session.scalars(newest_first(query, e.id, before, limit))
        return [_entry(r) for r in rows]

    async def entries_of(
        self, tenant_id: str, source_type: str, source_id: str
    ) -> list[EntryRecord]:
        e = PointsEntryRow
        rows = await self.session.scalars(
            select(e)
            .where(
                e.tenant_id == uuid.UUID(tenant_id),
                e.source_type == source_type,
                e.source_id == source_id,
            )
            .order_by(e.id)
        )
        return [_entry(r) for r in rows]

    # --- redemptions ---------------------------------------------------------------------

    async def add_redemption(
        self,
        tenant_id: str,
        member_id: str,
        card_number: str | None,
        points: int,
        purpose: str,
        reference: str | None,
        money: Decimal | None,
        created_at: datetime,
    ) -> Redemption:
        row = PointsRedemptionRow(
            tenant_id=uuid.UUID(tenant_id),
            member_id=uuid.UUID(member_id),
            card_number=card_number,
            points=points,
            purpose=purpose,
            reference=reference,
            money=money,
            status="done",
            created_at=created_at,
        )
        self.session.add(row)
        await self.session.flush()
        return _redemption(row)

    async def get_redemption(
        self, tenant_id: str, redemption_id: int, *, lock: bool = False
    ) -> Redemption | None:
        r = PointsRedemptionRow
        query = select(r).where(r.tenant_id == uuid.UUID(tenant_id), r.id == redemption_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        row = await self.session.scalar(query)
        return _redemption(row) if row else None

    async def cancel_redemption(
        self, tenant_id: str, redemption_id: int, at: datetime
    ) -> Redemption:
        r = PointsRedemptionRow
        row = await self.session.scalar(
            update(r)
            .where(r.tenant_id == uuid.UUID(tenant_id), r.id == redemption_id)
            .values(status="cancelled", cancelled_at=at)
            .returning(r)
            .execution_options(populate_existing=True)
        )
        return _redemption(row)

    # --- settings ------------------------------------------------------------------------

    async def settings(self, tenant_id: str) -> PointsSettings:
        row = await self.session.get(PointsSettingsRow, uuid.UUID(tenant_id))
        if row is None:
            return PointsSettings()
        return PointsSettings(
            ExpiryPolicy(ExpiryKind(row.expiry_kind), row.expiry_n or 0),
            row.pending_days,
            row.point_price.normalize(),
            row.points_per_yuan,
            None
            if row.birthday_k is None
            else BirthdayMultiplier(row.birthday_k.normalize(), BirthdayScope(row.birthday_scope)),
        )

    async def put_settings(self, tenant_id: str, settings: PointsSettings) -> None:
        s = PointsSettingsRow
        values = {
            "expiry_kind": settings.expiry.kind.value,
            "expiry_n": settings.expiry.n if settings.expiry.kind != ExpiryKind.NONE else None,
            "pending_days": settings.pending_days,
            "point_price": settings.point_price,
            "points_per_yuan": settings.points_per_yuan,
            "birthday_k": birthday.k if (birthday := settings.birthday_multiplier) else None,
            "birthday_scope": birthday.scope.value if birthday else None,
        }
        await self.session.execute(
            pg_insert(s)
            .values(tenant_id=uuid.UUID(tenant_id), **values)
            .on_conflict_do_update(
                index_elements=[s.tenant_id], set_={**values, "updated_at": func.now()}
            )
        )

    # --- the expiry job ------------------------------------------------------------------

    async def expire_due(self, tenant_id: str, now: datetime) -> ExpiryRun:
        """Expire every due lot of the tenant, set-based: lock the accounts of the members
        concerned (in member order, so two runs can't deadlock), then one INSERT of the X
        entries, one UPDATE of the accounts and one UPDATE of the lots, each limited to the
        locked members. Under READ COMMITTED each statement after the lock sees their lots
        as committed, and nothing else can change them until this transaction ends."""
        tid = uuid.UUID(tenant_id)
        a, lot = PointsAccountRow, PointsLotRow
        due_now = (lot.tenant_id == tid, lot.expires_at <= now, lot.points_left > 0)
        members = list(
            await self.session.scalars(
                select(a.member_id)
                .where(a.tenant_id == tid, a.member_id.in_(select(lot.member_id).where(*due_now)))
                .order_by(a.member_id)
                .with_for_update()
            )
        )
        if not members:
            return ExpiryRun(0, 0, 0)
        due = (*due_now, lot.member_id.in_(members))
        lots, points = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(lot.points_left), 0)).where(*due)
            )
        ).one()
        await self.session.execute(
            insert(PointsEntryRow).from_select(
                [
                    "tenant_id",
                    "member_id",
                    "category",
                    "points",
                    "source_type",
                    "source_id",
                    "lot_id",
                    "created_at",
                    "available_at",
                ],
                select(
                    lot.tenant_id,
                    lot.member_id,
                    literal(Category.X.value),
                    -lot.points_left,
                    literal("expiry"),
                    cast(lot.id, String),
                    lot.id,
                    literal(now, DateTime(timezone=True)),
                    lot.available_at,
                ).where(*due),
            )
        )
        per_member = (
            select(lot.member_id, func.sum(lot.points_left).label("points"))
            .where(*due)
            .group_by(lot.member_id)
            .subquery()
        )
        await self.session.execute(
            update(a)
            .where(a.tenant_id == tid, a.member_id == per_member.c.member_id)
            .values(
                x=a.x - per_member.c.points,
                balance=a.balance - per_member.c.points,
                updated_at=func.now(),
            )
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(lot)
            .where(*due)
            .values(points_left=0)
            .execution_options(synchronize_session=False)
        )
        return ExpiryRun(lots, len(members), points)
