"""sales from the till and their returns; refund lots of points paid (R)

Revision ID: 202611231910
Revises: 202611231900
Create Date: 2026-11-23 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "202611231910"
down_revision: str | None = "202611231900"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "sales",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("store_code", sa.String(12), nullable=False),
        sa.Column("receipt_no", sa.String(64), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("card_number", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("detail", postgresql.JSONB(), nullable=False),
        sa.Column("returned", postgresql.JSONB(), nullable=False),
        sa.Column("response", postgresql.JSONB(), nullable=False),
        _now("created_at"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sales_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_sales_tenant_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales")),
        sa.UniqueConstraint(
            "tenant_id",
            "store_code",
            "receipt_no",
            name=op.f("uq_sales_tenant_id_store_code_receipt_no"),
        ),
    )
    op.create_index("ix_sales_tenant_member", "sales", ["tenant_id", "member_id"])
    op.create_table(
        "sale_returns",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("sale_id", sa.BigInteger(), nullable=False),
        sa.Column("return_no", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("detail", postgresql.JSONB(), nullable=False),
        sa.Column("response", postgresql.JSONB(), nullable=False),
        _now("created_at"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sale_returns_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_sale_returns_sale_id_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_returns")),
        sa.UniqueConstraint("sale_id", "return_no", name=op.f("uq_sale_returns_sale_id_return_no")),
    )


def downgrade() -> None:
    op.drop_table("sale_returns")
    op.drop_index("ix_sales_tenant_member", table_name="sales")
    op.drop_table("sales")
