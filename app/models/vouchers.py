"""Vouchers (代金券), their templates, campaigns, 返券 rules and the rewards catalogue
(docs/domain §12).

A template is the tenant's configuration (a reference table). A voucher is its holder's
(keyed by member, co-located with the member's sales); ``voucher_codes`` holds a code's
uniqueness in its tenant and says whose it is, as ``card_numbers`` does for cards. A campaign
stores each group member's arm (treated or control) with the member, so the assignment is
stable and a re-run issues only to who has none. A reward's stock is counted down in its own
row (a tenant table: it is written on every exchange).
"""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, updated_at_column

Timestamp = DateTime(timezone=True)
CODE = String(32)
VOUCHER_CODE = String(16)


class VoucherTemplateRow(Base):
    __tablename__ = "voucher_templates"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('amount_off', 'threshold_amount_off', 'percent_off')", name="kind_values"
        ),
        CheckConstraint("valid_to > valid_from", name="window"),
        CheckConstraint("valid_days > 0", name="valid_days_positive"),
        CheckConstraint("store_share >= 0 AND store_share <= 1", name="store_share_range"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    code: Mapped[str] = mapped_column(CODE, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(24))
    face_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    max_discount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    min_spend: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # Scope: stores (empty = all), include/exclude {level: [codes]}, card classes (empty = any).
    stores: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    include: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'"))
    exclude: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'"))
    card_classes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    bearer: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    valid_days: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[datetime | None] = mapped_column(Timestamp)
    valid_to: Mapped[datetime | None] = mapped_column(Timestamp)
    per_member_limit: Mapped[int | None] = mapped_column(Integer)
    # Who bears the discount: store_share when set, else the sharing group, else the store.
    sharing_group: Mapped[str | None] = mapped_column(String(12))
    store_share: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class VoucherCodeRow(Base):
    """Lookup: a voucher code's uniqueness in its tenant, and its holder."""

    __tablename__ = "voucher_codes"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    code: Mapped[str] = mapped_column(VOUCHER_CODE, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class VoucherRow(Base):
    __tablename__ = "vouchers"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "member_id", "code"),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        CheckConstraint(
            "status IN ('issued', 'redeemed', 'expired', 'voided')", name="status_values"
        ),
        CheckConstraint("source IN ('manual', 'campaign', 'sale', 'reward')", name="source_values"),
        CheckConstraint("valid_to > valid_from", name="window"),
        CheckConstraint(
            "(status = 'redeemed') = (redeemed_at IS NOT NULL)", name="redeemed_stamped"
        ),
        CheckConstraint("(status = 'voided') = (voided_at IS NOT NULL)", name="voided_stamped"),
        # The member's vouchers, newest first; a template's and a campaign's vouchers.
        Index("ix_vouchers_tenant_member_issued", "tenant_id", "member_id", "issued_at"),
        Index("ix_vouchers_tenant_template", "tenant_id", "template_code"),
        Index(
            "ix_vouchers_tenant_campaign",
            "tenant_id",
            "campaign_code",
            postgresql_where=text("campaign_code IS NOT NULL"),
        ),
        Index(
            "ix_vouchers_issued_valid_to",
            "tenant_id",
            "valid_to",
            postgresql_where=text("status = 'issued'"),
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the holder
    code: Mapped[str] = mapped_column(VOUCHER_CODE)
    template_code: Mapped[str] = mapped_column(CODE)
    status: Mapped[str] = mapped_column(String(12))
    valid_from: Mapped[datetime] = mapped_column(Timestamp)
    valid_to: Mapped[datetime] = mapped_column(Timestamp)
    # manual (POST /v1/vouchers), campaign, sale (返券), reward (积分商城)
    source: Mapped[str] = mapped_column(String(12))
    source_ref: Mapped[str | None] = mapped_column(String(64))
    campaign_code: Mapped[str | None] = mapped_column(CODE)
    issued_at: Mapped[datetime] = mapped_column(Timestamp, server_default=text("now()"))
    # The redemption: the sale that paid with it (on the redeeming member's shard).
    redeemed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    redeemed_member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    redeemed_sale_id: Mapped[int | None] = mapped_column(BigInteger)
    redeemed_store: Mapped[str | None] = mapped_column(String(12))
    redeemed_receipt: Mapped[str | None] = mapped_column(String(64))
    redeemed_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    store_borne: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    supplier_borne: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    voided_at: Mapped[datetime | None] = mapped_column(Timestamp)
    void_reason: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = updated_at_column()


class CampaignRow(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("control_share >= 0 AND control_share <= 0.5", name="control_range"),
        CheckConstraint("ends_at > starts_at", name="window"),
        CheckConstraint("budget > 0", name="budget_positive"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    code: Mapped[str] = mapped_column(CODE, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    template_code: Mapped[str] = mapped_column(CODE)
    member_group: Mapped[str] = mapped_column(CODE)
    control_share: Mapped[Decimal] = mapped_column(Numeric(3, 2))
    starts_at: Mapped[datetime] = mapped_column(Timestamp)
    ends_at: Mapped[datetime] = mapped_column(Timestamp)
    budget: Mapped[int | None] = mapped_column(Integer)
    # The control draw's seed: a member's arm is a function of (seed, member), stored at issue.
    seed: Mapped[str] = mapped_column(String(32))
    last_issued_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class CampaignMemberRow(Base):
    """A group member's arm in a campaign, fixed when first drawn; the voucher it got."""

    __tablename__ = "campaign_members"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "member_id", "campaign_code"),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        CheckConstraint("arm IN ('treated', 'control')", name="arm_values"),
        Index("ix_campaign_members_tenant_campaign", "tenant_id", "campaign_code", "arm"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    campaign_code: Mapped[str] = mapped_column(CODE)
    arm: Mapped[str] = mapped_column(String(8))
    voucher_code: Mapped[str | None] = mapped_column(VOUCHER_CODE)
    assigned_at: Mapped[datetime] = mapped_column(Timestamp, server_default=text("now()"))


class VoucherRuleRow(Base):
    """返券: a sale earns vouchers of ``template_code``, one per full ``per_amount`` of
    eligible amount, at most ``max_per_receipt``."""

    __tablename__ = "voucher_rules"
    __table_args__ = (
        CheckConstraint("per_amount > 0", name="per_amount_positive"),
        CheckConstraint("max_per_receipt > 0", name="max_per_receipt_positive"),
        CheckConstraint("ends_at > starts_at", name="window"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    code: Mapped[str] = mapped_column(CODE, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    template_code: Mapped[str] = mapped_column(CODE)
    per_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    max_per_receipt: Mapped[int | None] = mapped_column(Integer)
    card_classes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    stores: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    include: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'"))
    exclude: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'"))
    starts_at: Mapped[datetime | None] = mapped_column(Timestamp)
    ends_at: Mapped[datetime | None] = mapped_column(Timestamp)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class RewardRow(Base):
    """积分商城: a template offered for ``points``; ``stock`` null = unlimited."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("ends_at > starts_at", name="window"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    code: Mapped[str] = mapped_column(CODE, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    template_code: Mapped[str] = mapped_column(CODE)
    points: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int | None] = mapped_column(Integer)
    exchanged: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    card_classes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    starts_at: Mapped[datetime | None] = mapped_column(Timestamp)
    ends_at: Mapped[datetime | None] = mapped_column(Timestamp)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class VoucherSettingsRow(Base):
    """A tenant's voucher settings; no row = the defaults (keep; no gross margin)."""

    __tablename__ = "voucher_settings"
    __table_args__ = (
        CheckConstraint(
            "voucher_on_return IN ('keep', 'deduct', 'restore')", name="on_return_values"
        ),
        CheckConstraint("gross_margin >= 0 AND gross_margin <= 1", name="gross_margin_range"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    voucher_on_return: Mapped[str] = mapped_column(String(8), server_default="keep")
    # For a campaign's incremental return: (incremental revenue × margin − cost) / cost.
    gross_margin: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    updated_at: Mapped[datetime] = updated_at_column()
