"""Sales from the till and their returns (docs/domain §3.2, §3.3).

A sale is identified by (store_code, receipt_no) per tenant; the row keeps what a return
needs to recompute the points (lines, payments, rates, k, identity multiple, warm points, the
points earned and paid, the lots it created) plus the request's fingerprint and the response
given, so the same sale sent again is answered with the first result. ``returned`` is the
cumulative returned quantity per line, updated by each return (under its member's account
version, like every ledger write).
"""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Numeric,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, updated_at_column


class SaleRow(Base):
    __tablename__ = "sales"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "id", "member_id"),
        # The receipt's uniqueness is sale_receipts'; this finds a replay on the member's
        # shard (and serves the member's sales).
        UniqueConstraint("tenant_id", "member_id", "store_code", "receipt_no"),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity())
    # No key to tenants of its own: (tenant_id, member_id) → members enforces the tenant, and
    # a sale need not lock the tenant's one row (migration 202611232100).
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    store_code: Mapped[str] = mapped_column(String(12))
    receipt_no: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    card_number: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fingerprint: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSONB)
    returned: Mapped[dict] = mapped_column(JSONB)  # line_no → cumulative qty returned
    response: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()


class SaleReceiptRow(Base):
    """Lookup: a receipt's uniqueness in its tenant, claimed by the sale that records it
    (apply_ledger_plan), and where that sale is."""

    __tablename__ = "sale_receipts"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    store_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    sale_id: Mapped[int] = mapped_column(BigInteger)


class SaleReturnRow(Base):
    __tablename__ = "sale_returns"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "id", "member_id"),
        UniqueConstraint("tenant_id", "member_id", "sale_id", "return_no"),
        ForeignKeyConstraint(
            ["tenant_id", "member_id", "sale_id"],
            ["sales.tenant_id", "sales.member_id", "sales.id"],
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity())
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the sale's
    sale_id: Mapped[int] = mapped_column(BigInteger)
    return_no: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSONB)  # lines returned, clawback, refund, purchase
    response: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()


class SaleSettingsRow(Base):
    """A tenant without a row uses the defaults of app.domain.sales.SaleLimits."""

    __tablename__ = "sale_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    max_line_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    max_receipt_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    updated_at: Mapped[datetime] = updated_at_column()
