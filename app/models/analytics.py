"""Customer analytics (issue 6): imported history, RFM, member groups, stored CLV models.

The bulk tables (imported_transactions, rfm_scores, member_group_members, clv_model_members)
have no foreign keys: only set-based statements that join their parents in the same
transaction write them (see the migration). ``member_transactions`` is a view (sales through
the API net of their returns, plus imported history): what every analysis reads.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, updated_at_column


class TransactionImportRow(Base):
    __tablename__ = "transaction_imports"
    __table_args__ = (Index("ix_transaction_imports_tenant_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    format: Mapped[str] = mapped_column(String(8))
    on_error: Mapped[str] = mapped_column(String(8))
    rows: Mapped[int] = mapped_column(BigInteger)
    imported: Mapped[int] = mapped_column(BigInteger)
    duplicates: Mapped[int] = mapped_column(BigInteger)
    rejected: Mapped[int] = mapped_column(BigInteger)
    members_created: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = created_at_column()


class ImportJobRow(Base):
    """A history import run as a job (``POST /v1/imports/transactions``): its progress, written
    by the process that runs it about once a second, a cancel request any process may set, and
    at the end its report (succeeded, in the import's own transaction) or its problem."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'cancelled')", name="status_known"
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(8))
    on_error: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(100))
    bytes_total: Mapped[int | None] = mapped_column(BigInteger)  # Content-Length, if sent
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    imported: Mapped[int | None] = mapped_column(BigInteger)  # known once loaded
    duplicates: Mapped[int | None] = mapped_column(BigInteger)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    import_id: Mapped[int | None] = mapped_column(BigInteger)  # transaction_imports.id
    report: Mapped[dict | None] = mapped_column(JSONB)
    problem: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportedTransactionRow(Base):
    """History loaded by ``POST /v1/imports/transactions``: one row per receipt. It feeds the
    analytics and never the points ledger. ``dedup_key`` is a 64-bit hash of (store, receipt)
    or, with no receipt number, of the row's time, amount and store, unique per member: the
    same file imported twice adds nothing."""

    __tablename__ = "imported_transactions"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    dedup_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    receipt_no: Mapped[str | None] = mapped_column(String(64))
    store_code: Mapped[str | None] = mapped_column(String(12))
    import_id: Mapped[int] = mapped_column(BigInteger)


class AnalyticsSettingsRow(Base):
    """A tenant's RFM and lifecycle settings, each ``{config (API spelling), updated_at}``;
    null = the defaults."""

    __tablename__ = "analytics_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    rfm: Mapped[dict | None] = mapped_column(JSONB)
    lifecycle: Mapped[dict | None] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = updated_at_column()


class RfmRunRow(Base):
    __tablename__ = "rfm_runs"
    __table_args__ = (Index("ix_rfm_runs_tenant_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    as_of: Mapped[date] = mapped_column(Date)
    trigger: Mapped[str] = mapped_column(String(16))  # api | schedule
    config: Mapped[dict] = mapped_column(JSONB)
    members_scored: Mapped[int] = mapped_column(Integer)
    segments: Mapped[dict] = mapped_column(JSONB)
    duration_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()


class RfmScoreRow(Base):
    __tablename__ = "rfm_scores"
    __table_args__ = (Index("ix_rfm_scores_tenant_member", "tenant_id", "member_id"),)

    run_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    recency_days: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer)
    monetary: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    r: Mapped[int] = mapped_column(SmallInteger)
    f: Mapped[int] = mapped_column(SmallInteger)
    m: Mapped[int] = mapped_column(SmallInteger)
    segment: Mapped[str] = mapped_column(String(24))


class MemberGroupRow(Base):
    __tablename__ = "member_groups"
    __table_args__ = (
        CheckConstraint("status IN ('new', 'generated', 'stale')", name="status_values"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    criteria: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16))
    member_count: Mapped[int | None] = mapped_column(Integer)
    generated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    generated_as_of: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class MemberGroupMemberRow(Base):
    __tablename__ = "member_group_members"
    __table_args__ = (Index("ix_member_group_members_tenant_member", "tenant_id", "member_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    group_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class ClvModelRow(Base):
    """A BG/NBD + Gamma-Gamma fit on the tenant's purchases up to ``calibration_end``."""

    __tablename__ = "clv_models"
    __table_args__ = (Index("ix_clv_models_tenant_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    time_unit: Mapped[str] = mapped_column(String(8))
    calibration_end: Mapped[date] = mapped_column(Date)
    annual_discount_rate: Mapped[Decimal] = mapped_column(Numeric(8, 6))
    horizon_periods: Mapped[int] = mapped_column(Integer)
    gross_margin: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    value_thresholds: Mapped[dict] = mapped_column(JSONB)  # the cuts used
    customers: Mapped[int] = mapped_column(Integer)
    fit: Mapped[dict] = mapped_column(JSONB)  # {"bgnbd": {...}, "gamma_gamma": {...}}
    duration_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()


class ClvModelMemberRow(Base):
    """Per member of a model: the calibration summary and the model's predictions."""

    __tablename__ = "clv_model_members"

    model_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    frequency: Mapped[int] = mapped_column(Integer)
    recency: Mapped[float] = mapped_column(Float)
    t: Mapped[float] = mapped_column(Float)
    monetary: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    p_alive: Mapped[float] = mapped_column(Float)
    expected_purchases: Mapped[float] = mapped_column(Float)
    expected_average_value: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    historical: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    current_value: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    potential: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    total: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    quadrant: Mapped[str] = mapped_column(String(8))
