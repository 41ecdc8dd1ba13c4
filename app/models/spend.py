"""Member spend: one signed row per sale (+) or return (−), the input of tier upgrades.

Written in the same transaction as the sale or return that causes it; append-only."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Index, Numeric, PrimaryKeyConstraint, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class MemberSpendRow(Base):
    __tablename__ = "member_spend"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "id", "member_id"),
        Index("ix_member_spend_tenant_member_at", "tenant_id", "member_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    source: Mapped[str] = mapped_column(String(16))  # sale | return
    source_ref: Mapped[str] = mapped_column(String(100))
