"""points rules (discount_rules.kind = 'points'), multiplier events, warm rules and the
birthday multiplier setting

Revision ID: 202611231920
Revises: 202611231910
Create Date: 2026-11-23 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "202611231920"
down_revision: str | None = "202611231910"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.add_column(
        "discount_rules",
        sa.Column("kind", sa.String(8), server_default="discount", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_discount_rules_kind_values"), "discount_rules", "kind IN ('discount', 'points')"
    )
    # The rate's range depends on the kind (checked by the domain); the table keeps >= 0.
    op.drop_constraint(
        op.f("ck_discount_rule_entries_rate_range"), "discount_rule_entries", type_="check"
    )
    op.create_check_constraint(
        op.f("ck_discount_rule_entries_rate_not_negative"), "discount_rule_entries", "rate >= 0"
    )

    op.add_column("points_settings", sa.Column("birthday_k", sa.Numeric(6, 4), nullable=True))
    op.add_column("points_settings", sa.Column("birthday_scope", sa.String(8), nullable=True))
    op.create_check_constraint(
        op.f("ck_points_settings_birthday_multiplier_whole"),
        "points_settings",
        "(birthday_k IS NULL) = (birthday_scope IS NULL)",
    )
    op.create_check_constraint(
        op.f("ck_points_settings_birthday_k_range"), "points_settings", "birthday_k >= 1"
    )
    op.create_check_constraint(
        op.f("ck_points_settings_birthday_scope_values"),
        "points_settings",
        "birthday_scope IN ('day', 'month')",
    )

    op.create_table(
        "points_multiplier_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("k", sa.Numeric(6, 4), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("store_codes", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("card_classes", postgresql.ARRAY(sa.String(64)), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        sa.CheckConstraint("k >= 1", name=op.f("ck_points_multiplier_events_k_range")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_points_multiplier_events_window")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_points_multiplier_events_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_multiplier_events")),
    )
    op.create_index(
        "ix_points_multiplier_events_tenant_id_id",
        "points_multiplier_events",
        ["tenant_id", "id"],
    )
    op.create_table(
        "points_warm_rules",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("condition", postgresql.JSONB(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        sa.CheckConstraint("points > 0", name=op.f("ck_points_warm_rules_points_positive")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_points_warm_rules_window")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_points_warm_rules_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_warm_rules")),
    )
    op.create_index("ix_points_warm_rules_tenant_id_id", "points_warm_rules", ["tenant_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_points_warm_rules_tenant_id_id", table_name="points_warm_rules")
    op.drop_table("points_warm_rules")
    op.drop_index("ix_points_multiplier_events_tenant_id_id", table_name="points_multiplier_events")
    op.drop_table("points_multiplier_events")
    for name in ("birthday_scope_values", "birthday_k_range", "birthday_multiplier_whole"):
        op.drop_constraint(op.f(f"ck_points_settings_{name}"), "points_settings", type_="check")
    op.drop_column("points_settings", "birthday_scope")
    op.drop_column("points_settings", "birthday_k")
    # Points documents can't survive the old rate range.
    op.execute("DELETE FROM discount_rules WHERE kind = 'points'")
    op.drop_constraint(
        op.f("ck_discount_rule_entries_rate_not_negative"), "discount_rule_entries", type_="check"
    )
    op.create_check_constraint(
        op.f("ck_discount_rule_entries_rate_range"),
        "discount_rule_entries",
        "rate > 0 AND rate <= 1",
    )
    op.drop_constraint(op.f("ck_discount_rules_kind_values"), "discount_rules", type_="check")
    op.drop_column("discount_rules", "kind")
