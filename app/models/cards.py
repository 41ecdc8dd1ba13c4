"""Issued cards and their event history (status and tier changes)."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column


class CardRow(Base):
    __tablename__ = "cards"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "class_code"], ["card_classes.tenant_id", "card_classes.code"]
        ),
        ForeignKeyConstraint(["tenant_id", "store_code"], ["stores.tenant_id", "stores.code"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        # Keyed with the member (co-located on Citus); it also serves the member's cards. The
        # number's own uniqueness is card_numbers'; a serial's, the class's counter
        # (CardRepository.allocate_serial).
        PrimaryKeyConstraint("tenant_id", "member_id", "number"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    number: Mapped[str] = mapped_column(String(40))
    class_code: Mapped[str] = mapped_column(String(12))
    store_code: Mapped[str] = mapped_column(String(12))
    serial: Mapped[int] = mapped_column(BigInteger)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(16))
    verification_hash: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replaced_by: Mapped[str | None] = mapped_column(String(40))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CardNumberRow(Base):
    """Lookup: a card number's uniqueness in its tenant, and its member. A number never
    changes hands, so the row never changes (workers cache it: app/repositories/reads.py)."""

    __tablename__ = "card_numbers"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class CardEventRow(Base):
    """Append-only: issue, every status change and every tier change, with its reason."""

    __tablename__ = "card_events"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "id", "member_id"),
        ForeignKeyConstraint(
            ["tenant_id", "member_id", "card_number"],
            ["cards.tenant_id", "cards.member_id", "cards.number"],
        ),
        Index("ix_card_events_tenant_card", "tenant_id", "member_id", "card_number", "at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the card's
    card_number: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))  # issued | status | tier
    from_value: Mapped[str | None] = mapped_column(String(40))
    to_value: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = created_at_column()
