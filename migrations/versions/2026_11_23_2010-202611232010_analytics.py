"""customer analytics: imported history, the member-transaction view, RFM settings, runs and
scores, lifecycle settings, member groups, stored CLV models; members' birth year

Revision ID: 202611232010
Revises: 202611232000
Create Date: 2026-11-23 20:10:00

The bulk tables (imported_transactions, rfm_scores, member_group_members, clv_model_members)
carry no foreign keys: they are written only by set-based statements that join their parents
in the same transaction, and a per-row RI check would cost more than the whole load. Members
are never deleted (an erasure keeps the row), so member ids stay valid.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.models.views import MEMBER_TRANSACTIONS_202611232010

revision: str = "202611232010"
down_revision: str | None = "202611232000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
    )


def upgrade() -> None:
    # Age criteria of member groups need the birth year in clear (the birthday stays sealed).
    op.add_column("members", sa.Column("birth_year", sa.SmallInteger(), nullable=True))

    op.create_table(
        "transaction_imports",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("on_error", sa.String(8), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("imported", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("members_created", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        _now("finished_at"),
        _tenant_fk("transaction_imports"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_imports")),
    )
    op.create_index("ix_transaction_imports_tenant_id", "transaction_imports", ["tenant_id", "id"])
    op.create_table(
        "imported_transactions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("dedup_key", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("receipt_no", sa.String(64), nullable=True),
        sa.Column("store_code", sa.String(12), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=False),
        # One index: deduplication and every per-member read.
        sa.PrimaryKeyConstraint(
            "tenant_id", "member_id", "dedup_key", name=op.f("pk_imported_transactions")
        ),
    )
    op.execute(MEMBER_TRANSACTIONS_202611232010)

    op.create_table(
        "analytics_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("rfm", postgresql.JSONB(), nullable=True),
        sa.Column("lifecycle", postgresql.JSONB(), nullable=True),
        _now("updated_at"),
        _tenant_fk("analytics_settings"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_analytics_settings")),
    )
    op.create_table(
        "rfm_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("config", postgresql.JSONB(), nullable=False),
        sa.Column("members_scored", sa.Integer(), nullable=False),
        sa.Column("segments", postgresql.JSONB(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        _now("created_at"),
        _tenant_fk("rfm_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rfm_runs")),
    )
    op.create_index("ix_rfm_runs_tenant_id", "rfm_runs", ["tenant_id", "id"])
    op.create_table(
        "rfm_scores",
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Numeric(14, 2), nullable=False),
        sa.Column("r", sa.SmallInteger(), nullable=False),
        sa.Column("f", sa.SmallInteger(), nullable=False),
        sa.Column("m", sa.SmallInteger(), nullable=False),
        sa.Column("segment", sa.String(24), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "member_id", name=op.f("pk_rfm_scores")),
    )
    op.create_index("ix_rfm_scores_tenant_member", "rfm_scores", ["tenant_id", "member_id"])

    op.create_table(
        "member_groups",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("criteria", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("generated_as_of", sa.Date(), nullable=True),
        _now("created_at"),
        _now("updated_at"),
        _tenant_fk("member_groups"),
        sa.CheckConstraint(
            "status IN ('new', 'generated', 'stale')", name=op.f("ck_member_groups_status_values")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_member_groups")),
    )
    op.create_table(
        "member_group_members",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("group_code", sa.String(32), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "group_code", "member_id", name=op.f("pk_member_group_members")
        ),
    )
    op.create_index(
        "ix_member_group_members_tenant_member", "member_group_members", ["tenant_id", "member_id"]
    )

    op.create_table(
        "clv_models",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("time_unit", sa.String(8), nullable=False),
        sa.Column("calibration_end", sa.Date(), nullable=False),
        sa.Column("annual_discount_rate", sa.Numeric(8, 6), nullable=False),
        sa.Column("horizon_periods", sa.Integer(), nullable=False),
        sa.Column("gross_margin", sa.Numeric(5, 4), nullable=False),
        sa.Column("value_thresholds", postgresql.JSONB(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("fit", postgresql.JSONB(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        _now("created_at"),
        _tenant_fk("clv_models"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clv_models")),
    )
    op.create_index("ix_clv_models_tenant_id", "clv_models", ["tenant_id", "id"])
    op.create_table(
        "clv_model_members",
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("recency", sa.Float(), nullable=False),
        sa.Column("t", sa.Float(), nullable=False),
        sa.Column("monetary", sa.Numeric(14, 2), nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=False),
        sa.Column("expected_purchases", sa.Float(), nullable=False),
        sa.Column("expected_average_value", sa.Numeric(16, 2), nullable=False),
        sa.Column("historical", sa.Numeric(16, 2), nullable=False),
        sa.Column("current_value", sa.Numeric(16, 2), nullable=False),
        sa.Column("potential", sa.Numeric(16, 2), nullable=False),
        sa.Column("total", sa.Numeric(16, 2), nullable=False),
        sa.Column("quadrant", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "member_id", name=op.f("pk_clv_model_members")),
    )


def downgrade() -> None:
    op.drop_table("clv_model_members")
    op.drop_index("ix_clv_models_tenant_id", table_name="clv_models")
    op.drop_table("clv_models")
    op.drop_index("ix_member_group_members_tenant_member", table_name="member_group_members")
    op.drop_table("member_group_members")
    op.drop_table("member_groups")
    op.drop_index("ix_rfm_scores_tenant_member", table_name="rfm_scores")
    op.drop_table("rfm_scores")
    op.drop_index("ix_rfm_runs_tenant_id", table_name="rfm_runs")
    op.drop_table("rfm_runs")
    op.drop_table("analytics_settings")
    op.execute("DROP VIEW member_transactions")
    op.drop_table("imported_transactions")
    op.drop_index("ix_transaction_imports_tenant_id", table_name="transaction_imports")
    op.drop_table("transaction_imports")
    op.drop_column("members", "birth_year")
