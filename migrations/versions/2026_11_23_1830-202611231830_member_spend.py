"""member spend (input of tier upgrades)

Revision ID: 202611231830
Revises: 202611231820
Create Date: 2026-11-23 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "202611231830"
down_revision: str | None = "202611231820"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_spend",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_ref", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_spend")),
    )
    op.create_index(
        "ix_member_spend_tenant_member_at",
        "member_spend",
        ["tenant_id", "member_id", "occurred_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_member_spend_tenant_member_at", table_name="member_spend")
    op.drop_table("member_spend")
