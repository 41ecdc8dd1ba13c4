"""keys for Citus (2): sales and their returns keyed by member

- ``sales`` are keyed ``(tenant_id, id, member_id)``;
- ``sale_returns`` carry their sale's member (filled from the sale) and are keyed
  ``(tenant_id, id, member_id)``; a return number is unique per sale with its member, and a
  return references its sale with its member;
- ``apply_ledger_plan()`` writes a return's member and claims its number on the new key
  (app/models/functions.py declares both bodies; the downgrade restores the earlier one).

The receipt number's uniqueness moves to a lookup table in a later revision.

Revision ID: 202612031300
Revises: 202612031200
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.functions import APPLY_LEDGER_PLAN_202612021100
from app.models.functions import APPLY_LEDGER_PLAN_202612031300 as APPLY_LEDGER_PLAN

revision: str = "202612031300"
down_revision: str | None = "202612031200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_UNIQUE = ("uq_sale_returns_sale_id_return_no", ["sale_id", "return_no"])
NEW_UNIQUE = (
    "uq_sale_returns_tenant_id_member_id_sale_id_return_no",
    ["tenant_id", "member_id", "sale_id", "return_no"],
)
OLD_FK = ("fk_sale_returns_sale_id_sales", ["sale_id"], ["id"])
NEW_FK = (
    "fk_sale_returns_tenant_id_member_id_sale_id_sales",
    ["tenant_id", "member_id", "sale_id"],
    ["tenant_id", "member_id", "id"],
)


def _keys(pk: list[str], unique: tuple, fk: tuple) -> None:
    for table in ("sales", "sale_returns"):
        op.create_primary_key(f"pk_{table}", table, pk)
    op.create_unique_constraint(unique[0], "sale_returns", unique[1])
    op.create_foreign_key(fk[0], "sale_returns", "sales", fk[1], fk[2])


def _drop_keys(unique: str, fk: str) -> None:
    op.drop_constraint(fk, "sale_returns", type_="foreignkey")
    op.drop_constraint(unique, "sale_returns", type_="unique")
    for table in ("sale_returns", "sales"):
        op.drop_constraint(f"pk_{table}", table, type_="primary")


def upgrade() -> None:
    op.add_column("sale_returns", sa.Column("member_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE sale_returns AS r SET member_id = s.member_id FROM sales AS s WHERE s.id = r.sale_id"
    )
    op.alter_column("sale_returns", "member_id", nullable=False)
    _drop_keys(OLD_UNIQUE[0], OLD_FK[0])
    _keys(["tenant_id", "id", "member_id"], NEW_UNIQUE, NEW_FK)
    op.replace_entity(APPLY_LEDGER_PLAN)


def downgrade() -> None:
    op.replace_entity(APPLY_LEDGER_PLAN_202612021100)
    _drop_keys(NEW_UNIQUE[0], NEW_FK[0])
    _keys(["id"], OLD_UNIQUE, OLD_FK)
    op.drop_column("sale_returns", "member_id")
