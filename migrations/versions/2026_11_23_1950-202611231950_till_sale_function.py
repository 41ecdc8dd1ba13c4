"""record_till_sale(): the lean sale path's writes in one round trip (retired)

Revision 202612021100 retired the function: every sale is decided once, in app/domain/sales.py,
and written by apply_ledger_plan() (app/models/functions.py). This step is kept, empty, so that
databases stamped with it still upgrade; its downgrade drops the function wherever an older
database still has it.

Revision ID: 202611231950
Revises: 202611231940
Create Date: 2026-11-23 19:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "202611231950"
down_revision: str | None = "202611231940"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS record_till_sale(uuid, text, text, uuid, text, timestamptz, text, text[], bigint[], timestamptz, timestamptz, timestamptz, numeric, timestamptz, text[], numeric[], jsonb, jsonb)"
    )
