"""The change account (零钞转存, docs/domain §4): one balance per member and its ledger.

``change_entries`` is append-only: nothing ever updates or deletes an entry. The account row
caches the sum of the member's entries; it is written in the same transaction as the entry,
under the account's row lock, and a CHECK keeps it ≥ 0. The account belongs to the member, so
a replacement card carries the balance (as with points)."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, updated_at_column

_MEMBER_FK = (["tenant_id", "member_id"], ["members.tenant_id", "members.id"])


class ChangeAccountRow(Base):
    __tablename__ = "change_accounts"
    __table_args__ = (
        ForeignKeyConstraint(*_MEMBER_FK),
        CheckConstraint("balance >= 0", name="balance_not_negative"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    balance: Mapped[Decimal] = mapped_column(
        Numeric(14, 2), server_default=text("0"), default=Decimal("0.00")
    )
    updated_at: Mapped[datetime] = updated_at_column()


class ChangeEntryRow(Base):
    """The ledger. Append-only: never updated, never deleted."""

    __tablename__ = "change_entries"
    __table_args__ = (
        # The order a member's entries are listed in (newest first by time, then id).
        PrimaryKeyConstraint("tenant_id", "member_id", "created_at", "id"),
        ForeignKeyConstraint(*_MEMBER_FK),
        CheckConstraint(
            "kind IN ('deposit', 'spend', 'sale_payment', 'sale_refund')", name="kind_values"
        ),
        CheckConstraint(
            "(kind IN ('deposit', 'sale_refund')) = (amount > 0) AND amount <> 0",
            name="amount_sign",
        ),
        Index("ix_change_entries_tenant_source", "tenant_id", "source_type", "source_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity())
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    card_number: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    kind: Mapped[str] = mapped_column(String(16))
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
