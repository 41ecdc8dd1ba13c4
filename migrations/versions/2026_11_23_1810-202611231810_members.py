"""members, with encrypted phone and birthday

Revision ID: 202611231810
Revises: 202611231800
Create Date: 2026-11-23 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "202611231810"
down_revision: str | None = "202611231800"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("external_ref", sa.String(64), nullable=True),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("phone_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("phone_hash", sa.String(64), nullable=True),
        sa.Column("birthday_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("gender", sa.String(16), server_default="unknown", nullable=False),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("occupation", sa.String(64), nullable=True),
        sa.Column("source_channel", sa.String(32), nullable=True),
        sa.Column(
            "tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column(
            "consent_marketing", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("consent_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_members_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_members_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id", "external_ref", name=op.f("uq_members_tenant_id_external_ref")
        ),
    )
    op.create_index(op.f("ix_members_tenant_id"), "members", ["tenant_id", "created_at", "id"])
    op.create_index(op.f("ix_members_tenant_id_phone_hash"), "members", ["tenant_id", "phone_hash"])


def downgrade() -> None:
    op.drop_index(op.f("ix_members_tenant_id_phone_hash"), table_name="members")
    op.drop_index(op.f("ix_members_tenant_id"), table_name="members")
    op.drop_table("members")
