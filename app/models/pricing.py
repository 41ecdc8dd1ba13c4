"""Discount rule documents (折扣规则单) with their entries and change log, the tenant's
pricing settings and the pricing version that tells every worker to reload its rules."""

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
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, updated_at_column

Timestamp = DateTime(timezone=True)


class DiscountRuleRow(Base):
    __tablename__ = "discount_rules"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'approved', 'voided')", name="status_values"),
        CheckConstraint("kind IN ('discount', 'points')", name="kind_values"),
        CheckConstraint(
            "level IN ('major_category', 'mid_category', 'minor_category', 'counter', 'brand', "
            "'product')",
            name="level_values",
        ),
        # An approved document always has its approval time and start; a voided one its end.
        CheckConstraint(
            "status <> 'approved' OR (approved_at IS NOT NULL AND effective_from IS NOT NULL)",
            name="approved_stamped",
        ),
        CheckConstraint("(status = 'voided') = (voided_at IS NOT NULL)", name="voided_stamped"),
        CheckConstraint("effective_to > effective_from", name="window"),
        # Lists read a tenant's documents newest first.
        Index("ix_discount_rules_tenant_id_id", "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    # "discount" (折扣规则单) or "points" (积分规则): one life cycle, one table.
    kind: Mapped[str] = mapped_column(String(8), server_default="discount")
    level: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8))
    effective_from: Mapped[datetime | None] = mapped_column(Timestamp)
    effective_to: Mapped[datetime | None] = mapped_column(Timestamp)
    note: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(Timestamp)
    voided_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class DiscountRuleEntryRow(Base):
    """One (target, card class) → rate line of a document. No foreign key to card_classes:
    it would forbid deleting a class named by an old document; the service checks instead.
    The rate's range depends on the document's kind (a discount in (0, 1], points per CNY in
    [0, 100)): the domain checks it, the table only that it is not negative."""

    __tablename__ = "discount_rule_entries"
    __table_args__ = (
        CheckConstraint("rate >= 0", name="rate_not_negative"),
        Index("ix_discount_rule_entries_tenant_id_rule_id", "tenant_id", "rule_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("discount_rules.id", ondelete="CASCADE"))
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    target: Mapped[str] = mapped_column(String(64))
    card_class: Mapped[str] = mapped_column(String(12))
    rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    stackable: Mapped[bool] = mapped_column(Boolean)


class PricingSettingsRow(Base):
    """A tenant without a row prices in the default mode."""

    __tablename__ = "pricing_settings"
    __table_args__ = (
        CheckConstraint("stacking_mode IN ('threshold', 'multiply')", name="stacking_mode_values"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    stacking_mode: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = updated_at_column()


class PricingVersionRow(Base):
    """Bumped in the transaction of every change that alters prices, so each worker's cached
    rules are rebuilt on its next quote (a tenant without a row is at version 0)."""

    __tablename__ = "pricing_versions"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
