"""Members. Phone and birthday are stored only encrypted; the phone also as a keyed hash."""

import uuid
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, updated_at_column


class MemberRefRow(Base):
    """Lookup: an external reference's uniqueness in its tenant, and its member (the
    member's own ``external_ref`` repeats it for display)."""

    __tablename__ = "member_refs"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class MemberRow(Base):
    __tablename__ = "members"
    __table_args__ = (
        # Lets other tables reference (tenant_id, member_id), so a row can't point at
        # another tenant's member.
        UniqueConstraint("tenant_id", "id"),
        # The keyset order of lists; it also serves as the tenant_id index.
        Index("ix_members_tenant_id", "tenant_id", "created_at", "id"),
        Index("ix_members_tenant_id_phone_hash", "tenant_id", "phone_hash"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    external_ref: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(100))
    phone_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    birthday_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    # In clear for the age criteria of member groups (docs/domain §10); the birthday stays sealed.
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    gender: Mapped[str] = mapped_column(String(16), server_default="unknown")
    region: Mapped[str | None] = mapped_column(String(64))
    occupation: Mapped[str | None] = mapped_column(String(64))
    source_channel: Mapped[str | None] = mapped_column(String(32))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    consent_marketing: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    consent_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
