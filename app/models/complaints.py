"""Complaints (docs/domain §11): the complaint with its current status and the outcome of each
step, and the append-only log of steps (who, when, with what data)."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, updated_at_column

Timestamp = DateTime(timezone=True)


class ComplaintRow(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint(
            "status IN ('recorded', 'nature_judged', 'department_assigned', 'cause_analysed', "
            "'solution_proposed', 'approved', 'implemented', 'closed')",
            name="status_values",
        ),
        CheckConstraint(
            "compensation_points IS NULL OR compensation_points >= 0",
            name="compensation_not_negative",
        ),
        CheckConstraint(
            "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction_range"
        ),
        PrimaryKeyConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "store_code"], ["stores.tenant_id", "stores.code"]),
        Index("ix_complaints_tenant_recorded", "tenant_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity())
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id"))
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    store_code: Mapped[str | None] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24))
    justified: Mapped[bool | None] = mapped_column(Boolean)
    severity: Mapped[str | None] = mapped_column(String(8))
    department: Mapped[str | None] = mapped_column(String(100))
    cause: Mapped[str | None] = mapped_column(Text)
    solution: Mapped[str | None] = mapped_column(Text)
    compensation_points: Mapped[int | None] = mapped_column(Integer)
    adjustment_id: Mapped[str | None] = mapped_column(String(32))
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(Timestamp)
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = updated_at_column()


class ComplaintStepRow(Base):
    """Append-only: never updated, never deleted."""

    __tablename__ = "complaint_steps"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "id"),
        ForeignKeyConstraint(
            ["tenant_id", "complaint_id"], ["complaints.tenant_id", "complaints.id"]
        ),
        Index("ix_complaint_steps_complaint", "complaint_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity())
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("tenants.id"))
    complaint_id: Mapped[int] = mapped_column(BigInteger)
    step: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict] = mapped_column(JSONB)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(Timestamp)
