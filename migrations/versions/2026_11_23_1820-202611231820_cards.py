"""cards and card events

Revision ID: 202611231820
Revises: 202611231810
Create Date: 2026-11-23 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "202611231820"
down_revision: str | None = "202611231810"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cards",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("class_code", sa.String(12), nullable=False),
        sa.Column("store_code", sa.String(12), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("verification_hash", sa.Text(), nullable=True),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_by", sa.String(40), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "class_code"],
            ["card_classes.tenant_id", "card_classes.code"],
            name=op.f("fk_cards_tenant_id_class_code_card_classes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "store_code"],
            ["stores.tenant_id", "stores.code"],
            name=op.f("fk_cards_tenant_id_store_code_stores"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_cards_tenant_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "number", name=op.f("pk_cards")),
        sa.UniqueConstraint(
            "tenant_id", "class_code", "serial", name=op.f("uq_cards_tenant_id_class_code_serial")
        ),
    )
    op.create_index("ix_cards_tenant_member", "cards", ["tenant_id", "member_id"])
    op.create_table(
        "card_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("card_number", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_value", sa.String(40), nullable=True),
        sa.Column("to_value", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "card_number"],
            ["cards.tenant_id", "cards.number"],
            name=op.f("fk_card_events_tenant_id_card_number_cards"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_events")),
    )
    op.create_index("ix_card_events_tenant_card", "card_events", ["tenant_id", "card_number", "id"])


def downgrade() -> None:
    op.drop_index("ix_card_events_tenant_card", table_name="card_events")
    op.drop_table("card_events")
    op.drop_index("ix_cards_tenant_member", table_name="cards")
    op.drop_table("cards")
