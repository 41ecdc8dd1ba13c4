import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column


class AuditRow(Base):
    """Append-only change log of every audited object. No foreign key to the subject: the log
    outlives a deleted card class."""

    __tablename__ = "audit_log"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "id"),
        Index("ix_audit_log_tenant_subject", "tenant_id", "subject", "subject_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity())
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    subject: Mapped[str] = mapped_column(String(32))  # card_class | discount_rule | ...
    subject_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = created_at_column()
