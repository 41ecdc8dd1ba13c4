import uuid
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column


class IdempotencyKeyRow(Base):
    """The response to a request sent with an Idempotency-Key, committed in the same
    transaction as the request's effect, so a replay can never disagree with the ledger."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    api_key_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    # The JSON exactly as sent, so a replay is byte-for-byte the first answer.
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
