"""The points ledger's reads (entries, redemptions, settings) and the tenant-wide expiry job.
A member's own writes are read, decided and applied through app/repositories/ledger.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    DateTime,
    String,
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

from app.domain.points import Category, ExpiryKind, ExpiryPolicy
from app.domain.points_ledger import PointsSettings
from app.domain.points_rules import BirthdayMultiplier, BirthdayScope
from app.domain.points_writes import Redemption
from app.models import (
    MemberRow,
    PointsAccountRow,
    PointsEntryRow,
    PointsLotRow,
    PointsRedemptionRow,
    PointsSettingsRow,
)
from app.repositories.paging import newest_first_in_time
from app.repositories.tenancy import as_uuid


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
class ExpiryRun:
    lots: int
    members: int
    points: int


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


def settings_of(
    expiry_kind: str | None,
    expiry_n: int | None,
    pending_days: int | None,
    point_price: Decimal | None,
    points_per_yuan: int | None,
    birthday_k: Decimal | None,
    birthday_scope: str | None,
) -> PointsSettings:
    """A tenant's settings from its row's columns (all None: it has none, the defaults)."""
    if expiry_kind is None:
        return PointsSettings()
    # The row exists: its NOT NULL columns have values.
    assert pending_days is not None and point_price is not None and points_per_yuan is not None
    birthday = None
    if birthday_k is not None:
        assert birthday_scope is not None  # CHECK birthday_multiplier_whole
        birthday = BirthdayMultiplier(birthday_k.normalize(), BirthdayScope(birthday_scope))
    return PointsSettings(
        ExpiryPolicy(ExpiryKind(expiry_kind), expiry_n or 0),
        pending_days,
        point_price.normalize(),
        points_per_yuan,
        birthday,
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

    async def read_snapshot(self) -> None:
        """Make the rest of this (new) transaction read one consistent snapshot."""
        await self.session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))

    # --- entries -------------------------------------------------------------------------

    async def entries(
        self, tenant_id: str, member_id: str, before: tuple[datetime, int] | None, limit: int
    ) -> list[EntryRecord]:
        e = PointsEntryRow
        query = select(e).where(
            e.tenant_id == uuid.UUID(tenant_id), e.member_id == uuid.UUID(member_id)
        )
        rows = await self.session.scalars(
            newest_first_in_time(query, e.created_at, e.id, before, limit)
        )
        return [_entry(r) for r in rows]

    # --- redemptions ---------------------------------------------------------------------

    async def get_redemption(self, tenant_id: str, redemption_id: int) -> Redemption | None:
        r = PointsRedemptionRow
        query = select(r).where(r.tenant_id == uuid.UUID(tenant_id), r.id == redemption_id)
        row = await self.session.scalar(query)
        return _redemption(row) if row else None

    # --- settings ------------------------------------------------------------------------

    async def settings(self, tenant_id: str) -> PointsSettings:
        row = await self.session.get(PointsSettingsRow, uuid.UUID(tenant_id))
        if row is None:
            return PointsSettings()
        return settings_of(
            row.expiry_kind,
            row.expiry_n,
            row.pending_days,
            row.point_price,
            row.points_per_yuan,
            row.birthday_k,
            row.birthday_scope,
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
                version=a.version + 1,  # a write decided before this one is decided again
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
