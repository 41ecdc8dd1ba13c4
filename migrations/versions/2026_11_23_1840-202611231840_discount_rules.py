"""discount rule documents, their change log, pricing settings and pricing versions

Revision ID: 202611231840
Revises: 202611231830
Create Date: 2026-11-23 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "202611231840"
down_revision: str | None = "202611231830"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discount_rules",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'voided')",
            name=op.f("ck_discount_rules_status_values"),
        ),
        sa.CheckConstraint(
            "level IN ('major_category', 'mid_category', 'minor_category', 'counter', 'brand', "
            "'product')",
            name=op.f("ck_discount_rules_level_values"),
        ),
        sa.CheckConstraint(
            "status <> 'approved' OR (approved_at IS NOT NULL AND effective_from IS NOT NULL)",
            name=op.f("ck_discount_rules_approved_stamped"),
        ),
        sa.CheckConstraint(
            "(status = 'voided') = (voided_at IS NOT NULL)",
            name=op.f("ck_discount_rules_voided_stamped"),
        ),
        sa.CheckConstraint("effective_to > effective_from", name=op.f("ck_discount_rules_window")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_discount_rules_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_rules")),
    )
    op.create_index(op.f("ix_discount_rules_tenant_id_id"), "discount_rules", ["tenant_id", "id"])
    op.create_table(
        "discount_rule_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("rule_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("card_class", sa.String(12), nullable=False),
        sa.Column("rate", sa.Numeric(6, 4), nullable=False),
        sa.Column("stackable", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "rate > 0 AND rate <= 1", name=op.f("ck_discount_rule_entries_rate_range")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["discount_rules.id"],
            name=op.f("fk_discount_rule_entries_rule_id_discount_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_rule_entries")),
    )
    op.create_index(
        op.f("ix_discount_rule_entries_tenant_id_rule_id"),
        "discount_rule_entries",
        ["tenant_id", "rule_id"],
    )
    op.create_table(
        "pricing_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("stacking_mode", sa.String(16), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "stacking_mode IN ('threshold', 'multiply')",
            name=op.f("ck_pricing_settings_stacking_mode_values"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_pricing_settings_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_pricing_settings")),
    )
    op.create_table(
        "pricing_versions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_pricing_versions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_pricing_versions")),
    )


def downgrade() -> None:
    op.drop_table("pricing_versions")
    op.drop_table("pricing_settings")
    op.drop_index(
        op.f("ix_discount_rule_entries_tenant_id_rule_id"), table_name="discount_rule_entries"
    )
    op.drop_table("discount_rule_entries")
    op.drop_index(op.f("ix_discount_rules_tenant_id_id"), table_name="discount_rules")
    op.drop_table("discount_rules")
