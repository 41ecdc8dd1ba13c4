"""keys for Citus (3): card events carry their card's member

- ``cards`` get the unique key ``(tenant_id, member_id, number)``: the card with its member,
  which card events reference (it replaces the index on the member's cards);
- ``card_events`` carry their card's member (filled from the card), are keyed
  ``(tenant_id, id, member_id)`` and reference their card with its member;
- ``apply_ledger_plan()`` writes a tier change's event with the member.

Revision ID: 202612031400
Revises: 202612031300
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.functions import APPLY_LEDGER_PLAN_202612031300
from app.models.functions import APPLY_LEDGER_PLAN_202612031400 as APPLY_LEDGER_PLAN

revision: str = "202612031400"
down_revision: str | None = "202612031300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CARD_KEY = ("uq_cards_tenant_id_member_id_number", ["tenant_id", "member_id", "number"])
OLD_FK = ("fk_card_events_tenant_id_card_number_cards", ["tenant_id", "card_number"])
NEW_FK = (
    "fk_card_events_tenant_id_member_id_card_number_cards",
    ["tenant_id", "member_id", "card_number"],
)


def upgrade() -> None:
    op.create_unique_constraint(CARD_KEY[0], "cards", CARD_KEY[1])
    op.drop_index("ix_cards_tenant_member", table_name="cards")
    op.add_column("card_events", sa.Column("member_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE card_events AS e SET member_id = c.member_id FROM cards AS c "
        "WHERE c.tenant_id = e.tenant_id AND c.number = e.card_number"
    )
    op.alter_column("card_events", "member_id", nullable=False)
    op.drop_constraint(OLD_FK[0], "card_events", type_="foreignkey")
    op.drop_constraint("pk_card_events", "card_events", type_="primary")
    op.create_primary_key("pk_card_events", "card_events", ["tenant_id", "id", "member_id"])
    op.create_foreign_key(NEW_FK[0], "card_events", "cards", NEW_FK[1], CARD_KEY[1])
    op.replace_entity(APPLY_LEDGER_PLAN)


def downgrade() -> None:
    op.replace_entity(APPLY_LEDGER_PLAN_202612031300)
    op.drop_constraint(NEW_FK[0], "card_events", type_="foreignkey")
    op.drop_constraint("pk_card_events", "card_events", type_="primary")
    op.create_primary_key("pk_card_events", "card_events", ["id"])
    op.create_foreign_key(OLD_FK[0], "card_events", "cards", OLD_FK[1], ["tenant_id", "number"])
    op.drop_column("card_events", "member_id")
    op.create_index("ix_cards_tenant_member", "cards", ["tenant_id", "member_id"])
    op.drop_constraint(CARD_KEY[0], "cards", type_="unique")
