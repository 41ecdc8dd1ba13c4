"""Satisfaction-index models (docs/domain §9): the model, its tree of nodes with the weights set
per parent, the audit of every weighting, and the questionnaire responses with their
answers (one row per answered item)."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column

_MODEL_FK = (["tenant_id", "model_code"], ["csi_models.tenant_id", "csi_models.code"])


class CsiModelRow(Base):
    __tablename__ = "csi_models"
    __table_args__ = (
        CheckConstraint("scale_points IN (5, 7)", name="scale_points"),
        CheckConstraint(
            "quadrant_threshold >= 0 AND quadrant_threshold < 100", name="threshold_range"
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scale_points: Mapped[int] = mapped_column(SmallInteger)
    satisfaction_node: Mapped[str | None] = mapped_column(String(32))
    loyalty_node: Mapped[str | None] = mapped_column(String(32))
    quadrant_threshold: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    created_at: Mapped[datetime] = created_at_column()


class CsiNodeRow(Base):
    __tablename__ = "csi_nodes"
    __table_args__ = (
        ForeignKeyConstraint(*_MODEL_FK),
        CheckConstraint("level IN (2, 3, 4)", name="level_values"),
        CheckConstraint("weight IS NULL OR (weight >= 0 AND weight <= 1)", name="weight_range"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    model_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(String(32))
    level: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    weight: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))


class CsiWeightingRow(Base):
    """Append-only: the inputs and the result of every weighting of a parent node."""

    __tablename__ = "csi_weightings"
    __table_args__ = (
        ForeignKeyConstraint(*_MODEL_FK),
        Index("ix_csi_weightings_tenant_model_node", "tenant_id", "model_code", "node_code", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    model_code: Mapped[str] = mapped_column(String(32))
    node_code: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(16))
    inputs: Mapped[dict] = mapped_column(JSONB)
    result: Mapped[dict] = mapped_column(JSONB)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()


class CsiResponseRow(Base):
    __tablename__ = "csi_responses"
    __table_args__ = (
        ForeignKeyConstraint(*_MODEL_FK),
        PrimaryKeyConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "store_code"], ["stores.tenant_id", "stores.code"]),
        UniqueConstraint(
            "tenant_id",
            "model_code",
            "respondent_ref",
            "answered_at",
            name="uq_csi_responses_natural_key",
        ),
        Index("ix_csi_responses_tenant_model_answered", "tenant_id", "model_code", "answered_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity())
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    model_code: Mapped[str] = mapped_column(String(32))
    respondent_ref: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    store_code: Mapped[str | None] = mapped_column(String(12))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()


class CsiAnswerRow(Base):
    __tablename__ = "csi_answers"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 7", name="score_range"),
        PrimaryKeyConstraint("tenant_id", "response_id", "item_code"),
        ForeignKeyConstraint(
            ["tenant_id", "response_id"],
            ["csi_responses.tenant_id", "csi_responses.id"],
            ondelete="CASCADE",
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    response_id: Mapped[int] = mapped_column(BigInteger)
    item_code: Mapped[str] = mapped_column(String(32))
    score: Mapped[int] = mapped_column(SmallInteger)
