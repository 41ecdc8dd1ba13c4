"""Multiplier events (B) and warm rules (C) of docs/domain §3.2. Points rules by level live in
``discount_rules`` with ``kind = 'points'`` (app.models.pricing)."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, updated_at_column

Timestamp = DateTime(timezone=True)


class MultiplierEventRow(Base):
    __tablename__ = "points_multiplier_events"
    __table_args__ = (
        CheckConstraint("k >= 1", name="k_range"),
        CheckConstraint("ends_at > starts_at", name="window"),
        Index("ix_points_multiplier_events_tenant_id_id", "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    name: Mapped[str] = mapped_column(String(100))
    k: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    starts_at: Mapped[datetime] = mapped_column(Timestamp)
    ends_at: Mapped[datetime] = mapped_column(Timestamp)
    store_codes: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    card_classes: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    member_groups: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class WarmRuleRow(Base):
    __tablename__ = "points_warm_rules"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("ends_at > starts_at", name="window"),
        Index("ix_points_warm_rules_tenant_id_id", "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    name: Mapped[str] = mapped_column(String(100))
    points: Mapped[int] = mapped_column(Integer)
    condition: Mapped[dict] = mapped_column(JSONB)
    starts_at: Mapped[datetime | None] = mapped_column(Timestamp)
    ends_at: Mapped[datetime | None] = mapped_column(Timestamp)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
