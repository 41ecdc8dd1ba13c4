"""The points ledger (docs/domain §3): accounts, lots, entries, redemptions and settings.

``points_entries`` is append-only: nothing ever updates or deletes an entry (a correction is
a new entry). ``points_accounts`` caches the per-category sums of the entries and
``points_lots`` the points still held per lot; both are written in the same transaction as
the entries, under the account's row lock, and the tests compare all three after every test.
"""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, updated_at_column

CATEGORY_COLUMNS = ("a", "b", "c", "d", "e", "f", "r", "x")

_MEMBER_FK = (["tenant_id", "member_id"], ["members.tenant_id", "members.id"])


def _total() -> Mapped[int]:
    return mapped_column(BigInteger, server_default=text("0"), default=0)


class PointsAccountRow(Base):
    """One per member: the balance and per-category totals of the member's entries."""

    __tablename__ = "points_accounts"
    __table_args__ = (
        ForeignKeyConstraint(*_MEMBER_FK),
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("balance = a + b + c + d + e + f + r + x", name="balance_is_sum"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    balance: Mapped[int] = _total()
    a: Mapped[int] = _total()
    b: Mapped[int] = _total()
    c: Mapped[int] = _total()
    d: Mapped[int] = _total()
    e: Mapped[int] = _total()
    f: Mapped[int] = _total()
    r: Mapped[int] = _total()
    x: Mapped[int] = _total()
    # Every write bumps it; a write decided on an older read is decided again.
    version: Mapped[int] = _total()
    updated_at: Mapped[datetime] = updated_at_column()


class PointsLotRow(Base):
    """Points earned together; spent oldest first and expired as a whole."""

    __tablename__ = "points_lots"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "id", "member_id"),
        ForeignKeyConstraint(*_MEMBER_FK),
        CheckConstraint(
            "points_left >= 0 AND points_left <= points_earned", name="points_left_range"
        ),
        # R lots hold points paid on a sale and refunded by its return.
        CheckConstraint("category IN ('A', 'B', 'C', 'D', 'E', 'F', 'R')", name="category_values"),
        Index("ix_points_lots_tenant_member", "tenant_id", "member_id", "earned_at"),
        # Probes of the live lots: any falling due, the points still pending.
        Index(
            "ix_points_lots_live_expiry",
            "tenant_id",
            "member_id",
            "expires_at",
            postgresql_where=text("points_left > 0 AND expires_at IS NOT NULL"),
        ),
        Index(
            "ix_points_lots_live_available",
            "tenant_id",
            "member_id",
            "available_at",
            postgresql_where=text("points_left > 0"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity())
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    category: Mapped[str] = mapped_column(String(1))
    points_earned: Mapped[int] = mapped_column(BigInteger)
    points_left: Mapped[int] = mapped_column(BigInteger)
    earned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(64))


class PointsEntryRow(Base):
    """The ledger. Append-only: never updated, never deleted."""

    __tablename__ = "points_entries"
    __table_args__ = (
        # The order a member's entries are listed in (newest first by time, then id).
        PrimaryKeyConstraint("tenant_id", "member_id", "created_at", "id"),
        ForeignKeyConstraint(
            ["tenant_id", "member_id", "lot_id"],
            ["points_lots.tenant_id", "points_lots.member_id", "points_lots.id"],
        ),
        ForeignKeyConstraint(*_MEMBER_FK),
        CheckConstraint(
            "category IN ('A', 'B', 'C', 'D', 'E', 'F', 'R', 'X')", name="category_values"
        ),
        CheckConstraint("points <> 0", name="points_not_zero"),
        Index("ix_points_entries_tenant_source", "tenant_id", "source_type", "source_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity())
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    card_number: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(1))
    points: Mapped[int] = mapped_column(BigInteger)
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(64))
    lot_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PointsRedemptionRow(Base):
    __tablename__ = "points_redemptions"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "id", "member_id"),
        ForeignKeyConstraint(*_MEMBER_FK),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("purpose IN ('cash_off', 'gift', 'rebate')", name="purpose_values"),
        CheckConstraint("status IN ('done', 'cancelled')", name="status_values"),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_stamped"
        ),
        Index("ix_points_redemptions_tenant_member", "tenant_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity())
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    card_number: Mapped[str | None] = mapped_column(String(40))
    points: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(100))
    money: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = created_at_column()
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PointsSettingsRow(Base):
    """A tenant without a row uses the defaults of app.domain.points_ledger.PointsSettings."""

    __tablename__ = "points_settings"
    __table_args__ = (
        CheckConstraint(
            "expiry_kind IN ('none', 'rolling_months', 'year_end')", name="expiry_kind_values"
        ),
        CheckConstraint("pending_days >= 0", name="pending_days_not_negative"),
        CheckConstraint("point_price >= 0", name="point_price_not_negative"),
        CheckConstraint("points_per_yuan > 0", name="points_per_yuan_positive"),
        # The birthday multiplier: both set or neither.
        CheckConstraint(
            "(birthday_k IS NULL) = (birthday_scope IS NULL)", name="birthday_multiplier_whole"
        ),
        CheckConstraint("birthday_k >= 1", name="birthday_k_range"),
        CheckConstraint("birthday_scope IN ('day', 'month')", name="birthday_scope_values"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    expiry_kind: Mapped[str] = mapped_column(String(16), server_default="none")
    expiry_n: Mapped[int | None] = mapped_column(Integer)
    pending_days: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    point_price: Mapped[Decimal] = mapped_column(Numeric(12, 4), server_default=text("0.01"))
    points_per_yuan: Mapped[int] = mapped_column(Integer, server_default=text("100"))
    birthday_k: Mapped[Decimal | None] = mapped_column(Numeric(6, 4))
    birthday_scope: Mapped[str | None] = mapped_column(String(8))
    updated_at: Mapped[datetime] = updated_at_column()
