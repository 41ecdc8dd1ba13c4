"""change account (零钞转存): per-member balance and its append-only ledger

Revision ID: 202611231930
Revises: 202611231920
Create Date: 2026-11-23 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "202611231930"
down_revision: str | None = "202611231920"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _member_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "member_id"],
        ["members.tenant_id", "members.id"],
        name=op.f(f"fk_{table}_tenant_id_member_id_members"),
    )


def upgrade() -> None:
    op.create_table(
        "change_accounts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("balance", sa.Numeric(14, 2), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_change_accounts_balance_not_negative")),
        _member_fk("change_accounts"),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", name=op.f("pk_change_accounts")),
    )
    # Append-only: nothing ever updates or deletes an entry; a correction is a new entry.
    op.create_table(
        "change_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("card_number", sa.String(40), nullable=True),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('deposit', 'spend', 'sale_payment', 'sale_refund')",
            name=op.f("ck_change_entries_kind_values"),
        ),
        sa.CheckConstraint(
            "(kind IN ('deposit', 'sale_refund')) = (amount > 0) AND amount <> 0",
            name=op.f("ck_change_entries_amount_sign"),
        ),
        _member_fk("change_entries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_entries")),
    )
    op.create_index(
        "ix_change_entries_tenant_member", "change_entries", ["tenant_id", "member_id", "id"]
    )
    op.create_index(
        "ix_change_entries_tenant_source",
        "change_entries",
        ["tenant_id", "source_type", "source_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_change_entries_tenant_source", table_name="change_entries")
    op.drop_index("ix_change_entries_tenant_member", table_name="change_entries")
    op.drop_table("change_entries")
    op.drop_table("change_accounts")
