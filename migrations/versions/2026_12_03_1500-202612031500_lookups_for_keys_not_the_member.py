"""keys for Citus (4): the keys that are not the member get lookup tables

- ``card_numbers (tenant_id, number) → member_id``: a card number's uniqueness; ``cards`` are
  keyed ``(tenant_id, member_id, number)`` and lose the unique serial per class (the class's
  counter allocates serials under a row lock, so none is issued twice);
- ``member_refs (tenant_id, external_ref) → member_id``: an external reference's uniqueness;
- ``sale_receipts (tenant_id, store_code, receipt_no) → member_id, sale_id``: a receipt's
  uniqueness, claimed by the sale that records it; ``sales`` are unique by receipt per member;
- ``apply_ledger_plan()`` claims a sale's receipt in ``sale_receipts``, and its UPDATEs and
  locking SELECT read the plan's values as jsonb elements, not as a record set with a column
  definition list (which Citus cannot send to a worker);
- ``member_transactions`` joins a sale's returns by the sale's key with its member (Citus
  refuses the correlated subquery it had; on one node the returns' key, since migration
  202612031300, no longer starts with the sale);
- a member's ledgers (points and change entries, card events) are paged newest first by
  (time, id), not by id alone: on Citus their ids come from the sequence of the node that
  holds the member. The entries are keyed in that order, ``(tenant_id, member_id,
  created_at, id)``, which replaces their index by member; card events' index follows;
- the ledger's reads return rows of named types (``lot_row``, ``card_row``, ``spent_row``):
  Citus reads a worker's answer as text, and cannot read an anonymous record from it.

Each lookup is filled from its table.

Revision ID: 202612031500
Revises: 202612031400
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.functions import APPLY_LEDGER_PLAN_202612031400, APPLY_LEDGER_PLAN_202612031500
from app.models.views import MEMBER_TRANSACTIONS_202611232010, MEMBER_TRANSACTIONS_202612031500

revision: str = "202612031500"
down_revision: str | None = "202612031400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_FK = (
    "fk_card_events_tenant_id_member_id_card_number_cards",
    ["tenant_id", "member_id", "card_number"],
)
CARD_KEY = ["tenant_id", "member_id", "number"]
ROW_TYPES = {  # as app/repositories/ledger.py reads them
    "lot_row": "id bigint, category text, points_left bigint, earned_at timestamptz, "
    "available_at timestamptz, expires_at timestamptz",
    "card_row": "number text, class_code text, status text, expires_at timestamptz",
    "spent_row": "lot_id bigint, points bigint",
}
# The entries' primary key becomes the order they are listed in, which replaces an index.
ENTRY_TABLES = ("points_entries", "change_entries")
ENTRY_KEY = ["tenant_id", "member_id", "created_at", "id"]
LEDGER_INDEXES = [  # name, table, old columns, new columns
    (
        "ix_card_events_tenant_card",
        "card_events",
        ["tenant_id", "card_number", "id"],
        ["tenant_id", "member_id", "card_number", "at", "id"],
    ),
]
SALE_RECEIPT = ("uq_sales_tenant_id_member_id_store_code_receipt_no", "tenant_id", "member_id")


def upgrade() -> None:
    op.create_table(
        "card_numbers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "number", name="pk_card_numbers"),
    )
    op.execute(
        "INSERT INTO card_numbers (tenant_id, number, member_id) "
        "SELECT tenant_id, number, member_id FROM cards"
    )
    op.drop_constraint(EVENT_FK[0], "card_events", type_="foreignkey")
    op.drop_constraint("uq_cards_tenant_id_member_id_number", "cards", type_="unique")
    op.drop_constraint("uq_cards_tenant_id_class_code_serial", "cards", type_="unique")
    op.drop_constraint("pk_cards", "cards", type_="primary")
    op.create_primary_key("pk_cards", "cards", CARD_KEY)
    op.create_foreign_key(EVENT_FK[0], "card_events", "cards", EVENT_FK[1], CARD_KEY)

    op.create_table(
        "member_refs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("external_ref", sa.String(64), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "external_ref", name="pk_member_refs"),
    )
    op.execute(
        "INSERT INTO member_refs (tenant_id, external_ref, member_id) "
        "SELECT tenant_id, external_ref, id FROM members WHERE external_ref IS NOT NULL"
    )
    op.drop_constraint("uq_members_tenant_id_external_ref", "members", type_="unique")

    op.create_table(
        "sale_receipts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("store_code", sa.String(12), nullable=False),
        sa.Column("receipt_no", sa.String(64), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("sale_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "store_code", "receipt_no", name="pk_sale_receipts"),
    )
    op.execute(
        "INSERT INTO sale_receipts (tenant_id, store_code, receipt_no, member_id, sale_id) "
        "SELECT tenant_id, store_code, receipt_no, member_id, id FROM sales"
    )
    op.drop_constraint("uq_sales_tenant_id_store_code_receipt_no", "sales", type_="unique")
    op.drop_index("ix_sales_tenant_member", table_name="sales")
    op.create_unique_constraint(
        SALE_RECEIPT[0], "sales", ["tenant_id", "member_id", "store_code", "receipt_no"]
    )
    op.replace_entity(APPLY_LEDGER_PLAN_202612031500)
    op.execute(MEMBER_TRANSACTIONS_202612031500)
    for name, fields in ROW_TYPES.items():
        op.execute(f"CREATE TYPE {name} AS ({fields})")
    for name, table, _old, new in LEDGER_INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, new)
    for table in ENTRY_TABLES:
        op.drop_index(f"ix_{table}_tenant_member", table_name=table)
        op.drop_constraint(f"pk_{table}", table, type_="primary")
        op.create_primary_key(f"pk_{table}", table, ENTRY_KEY)


def downgrade() -> None:
    for table in ENTRY_TABLES:
        op.drop_constraint(f"pk_{table}", table, type_="primary")
        op.create_primary_key(f"pk_{table}", table, ["tenant_id", "id", "member_id"])
        op.create_index(f"ix_{table}_tenant_member", table, ["tenant_id", "member_id", "id"])
    for name, table, old, _new in LEDGER_INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, old)
    for name in ROW_TYPES:
        op.execute(f"DROP TYPE {name}")
    op.execute(MEMBER_TRANSACTIONS_202611232010)
    op.replace_entity(APPLY_LEDGER_PLAN_202612031400)
    op.drop_constraint(SALE_RECEIPT[0], "sales", type_="unique")
    op.create_index("ix_sales_tenant_member", "sales", ["tenant_id", "member_id"])
    op.create_unique_constraint(
        "uq_sales_tenant_id_store_code_receipt_no",
        "sales",
        ["tenant_id", "store_code", "receipt_no"],
    )
    op.drop_table("sale_receipts")

    op.create_unique_constraint(
        "uq_members_tenant_id_external_ref", "members", ["tenant_id", "external_ref"]
    )
    op.drop_table("member_refs")

    op.drop_constraint(EVENT_FK[0], "card_events", type_="foreignkey")
    op.drop_constraint("pk_cards", "cards", type_="primary")
    op.create_primary_key("pk_cards", "cards", ["tenant_id", "number"])
    op.create_unique_constraint(
        "uq_cards_tenant_id_class_code_serial", "cards", ["tenant_id", "class_code", "serial"]
    )
    op.create_unique_constraint("uq_cards_tenant_id_member_id_number", "cards", CARD_KEY)
    op.create_foreign_key(EVENT_FK[0], "card_events", "cards", EVENT_FK[1], CARD_KEY)
    op.drop_table("card_numbers")
