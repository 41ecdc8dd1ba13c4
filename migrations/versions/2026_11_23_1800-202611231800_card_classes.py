"""card classes, sharing groups and the audit log

Revision ID: 202611231800
Revises: 202611231700
Create Date: 2026-11-23 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "202611231800"
down_revision: str | None = "202611231700"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "sharing_groups",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("store_share", sa.Numeric(5, 4), nullable=False),
        sa.Column("overrides", postgresql.JSONB(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "store_share BETWEEN 0 AND 1", name=op.f("ck_sharing_groups_store_share_range")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sharing_groups_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_sharing_groups")),
    )
    op.create_table(
        "card_classes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("usage", sa.String(16), nullable=False),
        sa.Column("prefix", sa.String(6), nullable=False),
        sa.Column("serial_length", sa.Integer(), nullable=False),
        sa.Column("serial_start", sa.BigInteger(), nullable=False),
        sa.Column("serial_end", sa.BigInteger(), nullable=False),
        sa.Column("check_digit_length", sa.Integer(), nullable=False),
        sa.Column("suffix", sa.String(4), nullable=False),
        sa.Column("validity_months", sa.Integer(), nullable=True),
        sa.Column("verification", sa.String(8), nullable=False),
        sa.Column("default_points_rate", sa.Numeric(12, 4), nullable=False),
        sa.Column("identity_points_multiple", sa.Numeric(12, 4), nullable=False),
        sa.Column("default_discount_rate", sa.Numeric(12, 4), nullable=False),
        sa.Column("sharing_group", sa.String(12), nullable=True),
        sa.Column("receipt_open_threshold", sa.Numeric(14, 2), nullable=True),
        sa.Column("stack_threshold_rate", sa.Numeric(12, 4), nullable=False),
        sa.Column("stack_rate", sa.Numeric(12, 4), nullable=False),
        sa.Column("change_account_enabled", sa.Boolean(), nullable=False),
        sa.Column("change_account_limit", sa.Numeric(14, 2), nullable=False),
        sa.Column("upgrade_to", sa.String(12), nullable=True),
        sa.Column("upgrade_spend_12m", sa.Numeric(14, 2), nullable=True),
        sa.Column("next_serial", sa.BigInteger(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "0 <= serial_start AND serial_start <= serial_end",
            name=op.f("ck_card_classes_serial_range"),
        ),
        sa.CheckConstraint(
            "next_serial >= serial_start", name=op.f("ck_card_classes_next_serial_from_start")
        ),
        sa.CheckConstraint(
            "next_serial <= serial_end + 1", name=op.f("ck_card_classes_next_serial_within_end")
        ),
        sa.CheckConstraint(
            "serial_length BETWEEN 1 AND 12", name=op.f("ck_card_classes_serial_length_range")
        ),
        sa.CheckConstraint(
            "check_digit_length IN (0, 1, 2)",
            name=op.f("ck_card_classes_check_digit_length_values"),
        ),
        sa.CheckConstraint(
            "usage IN ('member', 'temporary', 'coupon')", name=op.f("ck_card_classes_usage_values")
        ),
        sa.CheckConstraint(
            "verification IN ('none', 'code')", name=op.f("ck_card_classes_verification_values")
        ),
        sa.CheckConstraint(
            "(upgrade_to IS NULL) = (upgrade_spend_12m IS NULL)",
            name=op.f("ck_card_classes_upgrade_together"),
        ),
        sa.CheckConstraint("upgrade_to <> code", name=op.f("ck_card_classes_upgrade_not_self")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_card_classes_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "sharing_group"],
            ["sharing_groups.tenant_id", "sharing_groups.code"],
            name=op.f("fk_card_classes_tenant_id_sharing_group_sharing_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "upgrade_to"],
            ["card_classes.tenant_id", "card_classes.code"],
            name=op.f("fk_card_classes_tenant_id_upgrade_to_card_classes"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_card_classes")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audit_log_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        "ix_audit_log_tenant_subject", "audit_log", ["tenant_id", "subject", "subject_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_tenant_subject", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("card_classes")
    op.drop_table("sharing_groups")
