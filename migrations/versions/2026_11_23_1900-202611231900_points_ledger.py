"""points ledger: accounts, lots, append-only entries, redemptions, settings

Revision ID: 202611231900
Revises: 202611231850
Create Date: 2026-11-23 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "202611231900"
down_revision: str | None = "202611231850"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATEGORIES = ("a", "b", "c", "d", "e", "f", "r", "x")


def _member_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "member_id"],
        ["members.tenant_id", "members.id"],
        name=op.f(f"fk_{table}_tenant_id_member_id_members"),
    )


def _now(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "points_accounts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        *[
            sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False)
            for name in ("balance", *CATEGORIES)
        ],
        _now("updated_at"),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_points_accounts_balance_not_negative")),
        sa.CheckConstraint(
            "balance = a + b + c + d + e + f + r + x",
            name=op.f("ck_points_accounts_balance_is_sum"),
        ),
        _member_fk("points_accounts"),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", name=op.f("pk_points_accounts")),
    )
    op.create_table(
        "points_lots",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(1), nullable=False),
        sa.Column("points_earned", sa.BigInteger(), nullable=False),
        sa.Column("points_left", sa.BigInteger(), nullable=False),
        sa.Column("earned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "points_left >= 0 AND points_left <= points_earned",
            name=op.f("ck_points_lots_points_left_range"),
        ),
        sa.CheckConstraint(
            "category IN ('A', 'B', 'C', 'D', 'E', 'F', 'R')",
            name=op.f("ck_points_lots_category_values"),
        ),
        _member_fk("points_lots"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_lots")),
    )
    op.create_index(
        "ix_points_lots_tenant_member", "points_lots", ["tenant_id", "member_id", "earned_at"]
    )
    # Append-only: nothing ever updates or deletes an entry; a correction is a new entry.
    op.create_table(
        "points_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("card_number", sa.String(40), nullable=True),
        sa.Column("category", sa.String(1), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("lot_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category IN ('A', 'B', 'C', 'D', 'E', 'F', 'R', 'X')",
            name=op.f("ck_points_entries_category_values"),
        ),
        sa.CheckConstraint("points <> 0", name=op.f("ck_points_entries_points_not_zero")),
        _member_fk("points_entries"),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["points_lots.id"], name=op.f("fk_points_entries_lot_id_points_lots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entries")),
    )
    op.create_index(
        "ix_points_entries_tenant_member", "points_entries", ["tenant_id", "member_id", "id"]
    )
    op.create_index(
        "ix_points_entries_tenant_source",
        "points_entries",
        ["tenant_id", "source_type", "source_id"],
    )
    op.create_table(
        "points_redemptions",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("card_number", sa.String(40), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(100), nullable=True),
        sa.Column("money", sa.Numeric(14, 2), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _now("created_at"),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("points > 0", name=op.f("ck_points_redemptions_points_positive")),
        sa.CheckConstraint(
            "purpose IN ('cash_off', 'gift', 'rebate')",
            name=op.f("ck_points_redemptions_purpose_values"),
        ),
        sa.CheckConstraint(
            "status IN ('done', 'cancelled')", name=op.f("ck_points_redemptions_status_values")
        ),
        sa.CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)",
            name=op.f("ck_points_redemptions_cancelled_stamped"),
        ),
        _member_fk("points_redemptions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_redemptions")),
    )
    op.create_index(
        "ix_points_redemptions_tenant_member", "points_redemptions", ["tenant_id", "member_id"]
    )
    op.create_table(
        "points_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("expiry_kind", sa.String(16), server_default="none", nullable=False),
        sa.Column("expiry_n", sa.Integer(), nullable=True),
        sa.Column("pending_days", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("point_price", sa.Numeric(12, 4), server_default=sa.text("0.01"), nullable=False),
        sa.Column("points_per_yuan", sa.Integer(), server_default=sa.text("100"), nullable=False),
        _now("updated_at"),
        sa.CheckConstraint(
            "expiry_kind IN ('none', 'rolling_months', 'year_end')",
            name=op.f("ck_points_settings_expiry_kind_values"),
        ),
        sa.CheckConstraint(
            "pending_days >= 0", name=op.f("ck_points_settings_pending_days_not_negative")
        ),
        sa.CheckConstraint(
            "point_price >= 0", name=op.f("ck_points_settings_point_price_not_negative")
        ),
        sa.CheckConstraint(
            "points_per_yuan > 0", name=op.f("ck_points_settings_points_per_yuan_positive")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_points_settings_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_points_settings")),
    )


def downgrade() -> None:
    op.drop_table("points_settings")
    op.drop_index("ix_points_redemptions_tenant_member", table_name="points_redemptions")
    op.drop_table("points_redemptions")
    op.drop_index("ix_points_entries_tenant_source", table_name="points_entries")
    op.drop_index("ix_points_entries_tenant_member", table_name="points_entries")
    op.drop_table("points_entries")
    op.drop_index("ix_points_lots_tenant_member", table_name="points_lots")
    op.drop_table("points_lots")
    op.drop_table("points_accounts")
