"""Card classes, sharing groups and the class change log."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    Numeric,
    String,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, updated_at_column

Rate = Numeric(12, 4)
Money = Numeric(14, 2)


class SharingGroupRow(Base):
    __tablename__ = "sharing_groups"
    __table_args__ = (CheckConstraint("store_share BETWEEN 0 AND 1", name="store_share_range"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    store_share: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    # [{"level": "counter" | "brand", "code": ..., "store_share": "0.5"}]; shares as strings
    # so they stay exact decimals.
    overrides: Mapped[list[dict]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class CardClassRow(Base):
    __tablename__ = "card_classes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "sharing_group"], ["sharing_groups.tenant_id", "sharing_groups.code"]
        ),
        ForeignKeyConstraint(
            ["tenant_id", "upgrade_to"], ["card_classes.tenant_id", "card_classes.code"]
        ),
        CheckConstraint("0 <= serial_start AND serial_start <= serial_end", name="serial_range"),
        # Serials are allocated by bumping next_serial; serial_end + 1 means exhausted.
        CheckConstraint("next_serial >= serial_start", name="next_serial_from_start"),
        CheckConstraint("next_serial <= serial_end + 1", name="next_serial_within_end"),
        CheckConstraint("serial_length BETWEEN 1 AND 12", name="serial_length_range"),
        CheckConstraint("check_digit_length IN (0, 1, 2)", name="check_digit_length_values"),
        CheckConstraint("usage IN ('member', 'temporary', 'coupon')", name="usage_values"),
        CheckConstraint("verification IN ('none', 'code')", name="verification_values"),
        CheckConstraint(
            "(upgrade_to IS NULL) = (upgrade_spend_12m IS NULL)", name="upgrade_together"
        ),
        CheckConstraint("upgrade_to <> code", name="upgrade_not_self"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    # Named by cards and by the change log: immutable, part of the key.
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    usage: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(6))
    serial_length: Mapped[int] = mapped_column(Integer)
    serial_start: Mapped[int] = mapped_column(BigInteger)
    serial_end: Mapped[int] = mapped_column(BigInteger)
    check_digit_length: Mapped[int] = mapped_column(Integer)
    suffix: Mapped[str] = mapped_column(String(4))
    validity_months: Mapped[int | None] = mapped_column(Integer)
    verification: Mapped[str] = mapped_column(String(8))
    default_points_rate: Mapped[Decimal] = mapped_column(Rate)
    identity_points_multiple: Mapped[Decimal] = mapped_column(Rate)
    default_discount_rate: Mapped[Decimal] = mapped_column(Rate)
    sharing_group: Mapped[str | None] = mapped_column(String(12))
    receipt_open_threshold: Mapped[Decimal | None] = mapped_column(Money)
    stack_threshold_rate: Mapped[Decimal] = mapped_column(Rate)
    stack_rate: Mapped[Decimal] = mapped_column(Rate)
    change_account_enabled: Mapped[bool] = mapped_column(Boolean)
    change_account_limit: Mapped[Decimal] = mapped_column(Money)
    upgrade_to: Mapped[str | None] = mapped_column(String(12))
    upgrade_spend_12m: Mapped[Decimal | None] = mapped_column(Money)
    next_serial: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
