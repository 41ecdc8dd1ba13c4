"""vouchers, their templates, campaigns, 返券 rules and rewards (docs/domain §12)

Templates, campaigns, 返券 rules and voucher settings are reference tables; vouchers and
campaign arms are their member's; ``voucher_codes`` holds a code's uniqueness; rewards (their
stock is written on every exchange) are a tenant table.

Revision ID: 202612031700
Revises: 202612031610
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.models.functions import APPLY_LEDGER_PLAN, APPLY_LEDGER_PLAN_202612031500

revision: str = "202612031700"
down_revision: str | None = "202612031610"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voucher_codes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_voucher_codes")),
    )
    op.create_table(
        "campaigns",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("template_code", sa.String(length=32), nullable=False),
        sa.Column("member_group", sa.String(length=32), nullable=False),
        sa.Column("control_share", sa.Numeric(precision=3, scale=2), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("budget", sa.Integer(), nullable=True),
        sa.Column("seed", sa.String(length=32), nullable=False),
        sa.Column("last_issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("budget > 0", name=op.f("ck_campaigns_budget_positive")),
        sa.CheckConstraint(
            "control_share >= 0 AND control_share <= 0.5", name=op.f("ck_campaigns_control_range")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_campaigns_window")),
        sa.CheckConstraint("isfinite(created_at)", name=op.f("ck_campaigns_created_at_finite")),
        sa.CheckConstraint("isfinite(ends_at)", name=op.f("ck_campaigns_ends_at_finite")),
        sa.CheckConstraint(
            "isfinite(last_issued_at)", name=op.f("ck_campaigns_last_issued_at_finite")
        ),
        sa.CheckConstraint("isfinite(starts_at)", name=op.f("ck_campaigns_starts_at_finite")),
        sa.CheckConstraint("isfinite(updated_at)", name=op.f("ck_campaigns_updated_at_finite")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaigns_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "rewards",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("template_code", sa.String(length=32), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("exchanged", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "card_classes", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_rewards_window")),
        sa.CheckConstraint("isfinite(created_at)", name=op.f("ck_rewards_created_at_finite")),
        sa.CheckConstraint("isfinite(ends_at)", name=op.f("ck_rewards_ends_at_finite")),
        sa.CheckConstraint("isfinite(starts_at)", name=op.f("ck_rewards_starts_at_finite")),
        sa.CheckConstraint("isfinite(updated_at)", name=op.f("ck_rewards_updated_at_finite")),
        sa.CheckConstraint("points > 0", name=op.f("ck_rewards_points_positive")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_rewards_stock_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_rewards_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_rewards")),
    )
    op.create_table(
        "voucher_rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("template_code", sa.String(length=32), nullable=False),
        sa.Column("per_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("max_per_receipt", sa.Integer(), nullable=True),
        sa.Column(
            "card_classes", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("stores", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column(
            "include",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "exclude",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_voucher_rules_window")),
        sa.CheckConstraint("isfinite(created_at)", name=op.f("ck_voucher_rules_created_at_finite")),
        sa.CheckConstraint("isfinite(ends_at)", name=op.f("ck_voucher_rules_ends_at_finite")),
        sa.CheckConstraint("isfinite(starts_at)", name=op.f("ck_voucher_rules_starts_at_finite")),
        sa.CheckConstraint("isfinite(updated_at)", name=op.f("ck_voucher_rules_updated_at_finite")),
        sa.CheckConstraint(
            "max_per_receipt > 0", name=op.f("ck_voucher_rules_max_per_receipt_positive")
        ),
        sa.CheckConstraint("per_amount > 0", name=op.f("ck_voucher_rules_per_amount_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_voucher_rules_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_voucher_rules")),
    )
    op.create_table(
        "voucher_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("voucher_on_return", sa.String(length=8), server_default="keep", nullable=False),
        sa.Column("gross_margin", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "voucher_on_return IN ('keep', 'deduct', 'restore')",
            name=op.f("ck_voucher_settings_on_return_values"),
        ),
        sa.CheckConstraint(
            "gross_margin >= 0 AND gross_margin <= 1",
            name=op.f("ck_voucher_settings_gross_margin_range"),
        ),
        sa.CheckConstraint(
            "isfinite(updated_at)", name=op.f("ck_voucher_settings_updated_at_finite")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_voucher_settings_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_voucher_settings")),
    )
    op.create_table(
        "voucher_templates",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("face_value", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("rate", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column("max_discount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("min_spend", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("stores", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column(
            "include",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "exclude",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "card_classes", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("bearer", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("valid_days", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("per_member_limit", sa.Integer(), nullable=True),
        sa.Column("sharing_group", sa.String(length=12), nullable=True),
        sa.Column("store_share", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('amount_off', 'threshold_amount_off', 'percent_off')",
            name=op.f("ck_voucher_templates_kind_values"),
        ),
        sa.CheckConstraint(
            "isfinite(created_at)", name=op.f("ck_voucher_templates_created_at_finite")
        ),
        sa.CheckConstraint(
            "isfinite(updated_at)", name=op.f("ck_voucher_templates_updated_at_finite")
        ),
        sa.CheckConstraint(
            "isfinite(valid_from)", name=op.f("ck_voucher_templates_valid_from_finite")
        ),
        sa.CheckConstraint("isfinite(valid_to)", name=op.f("ck_voucher_templates_valid_to_finite")),
        sa.CheckConstraint(
            "store_share >= 0 AND store_share <= 1",
            name=op.f("ck_voucher_templates_store_share_range"),
        ),
        sa.CheckConstraint("valid_days > 0", name=op.f("ck_voucher_templates_valid_days_positive")),
        sa.CheckConstraint("valid_to > valid_from", name=op.f("ck_voucher_templates_window")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_voucher_templates_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_voucher_templates")),
    )
    op.create_table(
        "campaign_members",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_code", sa.String(length=32), nullable=False),
        sa.Column("arm", sa.String(length=8), nullable=False),
        sa.Column("voucher_code", sa.String(length=16), nullable=True),
        sa.Column(
            "assigned_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "arm IN ('treated', 'control')", name=op.f("ck_campaign_members_arm_values")
        ),
        sa.CheckConstraint(
            "isfinite(assigned_at)", name=op.f("ck_campaign_members_assigned_at_finite")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_campaign_members_tenant_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "member_id", "campaign_code", name=op.f("pk_campaign_members")
        ),
    )
    op.create_index(
        "ix_campaign_members_tenant_campaign",
        "campaign_members",
        ["tenant_id", "campaign_code", "arm"],
        unique=False,
    )
    op.create_table(
        "vouchers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("template_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=True),
        sa.Column("campaign_code", sa.String(length=32), nullable=True),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_member_id", sa.Uuid(), nullable=True),
        sa.Column("redeemed_sale_id", sa.BigInteger(), nullable=True),
        sa.Column("redeemed_store", sa.String(length=12), nullable=True),
        sa.Column("redeemed_receipt", sa.String(length=64), nullable=True),
        sa.Column("redeemed_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("store_borne", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("supplier_borne", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.String(length=200), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status = 'redeemed') = (redeemed_at IS NOT NULL)",
            name=op.f("ck_vouchers_redeemed_stamped"),
        ),
        sa.CheckConstraint(
            "(status = 'voided') = (voided_at IS NOT NULL)", name=op.f("ck_vouchers_voided_stamped")
        ),
        sa.CheckConstraint(
            "source IN ('manual', 'campaign', 'sale', 'reward')",
            name=op.f("ck_vouchers_source_values"),
        ),
        sa.CheckConstraint(
            "status IN ('issued', 'redeemed', 'expired', 'voided')",
            name=op.f("ck_vouchers_status_values"),
        ),
        sa.CheckConstraint("isfinite(issued_at)", name=op.f("ck_vouchers_issued_at_finite")),
        sa.CheckConstraint("isfinite(redeemed_at)", name=op.f("ck_vouchers_redeemed_at_finite")),
        sa.CheckConstraint("isfinite(updated_at)", name=op.f("ck_vouchers_updated_at_finite")),
        sa.CheckConstraint("isfinite(valid_from)", name=op.f("ck_vouchers_valid_from_finite")),
        sa.CheckConstraint("isfinite(valid_to)", name=op.f("ck_vouchers_valid_to_finite")),
        sa.CheckConstraint("isfinite(voided_at)", name=op.f("ck_vouchers_voided_at_finite")),
        sa.CheckConstraint("valid_to > valid_from", name=op.f("ck_vouchers_window")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_vouchers_tenant_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", "code", name=op.f("pk_vouchers")),
    )
    op.create_index(
        "ix_vouchers_issued_valid_to",
        "vouchers",
        ["tenant_id", "valid_to"],
        unique=False,
        postgresql_where=sa.text("status = 'issued'"),
    )
    op.create_index(
        "ix_vouchers_tenant_campaign",
        "vouchers",
        ["tenant_id", "campaign_code"],
        unique=False,
        postgresql_where=sa.text("campaign_code IS NOT NULL"),
    )
    op.create_index(
        "ix_vouchers_tenant_member_issued",
        "vouchers",
        ["tenant_id", "member_id", "issued_at"],
        unique=False,
    )
    op.create_index(
        "ix_vouchers_tenant_template", "vouchers", ["tenant_id", "template_code"], unique=False
    )

    op.replace_entity(APPLY_LEDGER_PLAN)  # redeems, issues, voids and restores vouchers


def downgrade() -> None:
    op.replace_entity(APPLY_LEDGER_PLAN_202612031500)
    op.drop_index("ix_vouchers_tenant_template", table_name="vouchers")
    op.drop_index("ix_vouchers_tenant_member_issued", table_name="vouchers")
    op.drop_index(
        "ix_vouchers_tenant_campaign",
        table_name="vouchers",
        postgresql_where=sa.text("campaign_code IS NOT NULL"),
    )
    op.drop_index(
        "ix_vouchers_issued_valid_to",
        table_name="vouchers",
        postgresql_where=sa.text("status = 'issued'"),
    )
    op.drop_table("vouchers")
    op.drop_index("ix_campaign_members_tenant_campaign", table_name="campaign_members")
    op.drop_table("campaign_members")
    op.drop_table("voucher_templates")
    op.drop_table("voucher_settings")
    op.drop_table("voucher_rules")
    op.drop_table("rewards")
    op.drop_table("campaigns")
    op.drop_table("voucher_codes")
