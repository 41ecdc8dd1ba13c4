"""purchases of zero: ``member_transactions`` keeps receipts whose net amount is 0

An imported receipt of 0 is a purchase for the analyses (RFM frequency, BG/NBD repeat
counting): the view dropped them, and with them every customer whose only receipt it was
(8 of the CDNOW sample's 2,357). An API sale whose lines come to 0 counts too; one returned in
full still does not (app/models/views.py).

Revision ID: 202612031600
Revises: 202612031500
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

from alembic import op

from app.models.views import MEMBER_TRANSACTIONS, MEMBER_TRANSACTIONS_202612031500

revision: str = "202612031600"
down_revision: str | None = "202612031500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(MEMBER_TRANSACTIONS)


def downgrade() -> None:
    op.execute(MEMBER_TRANSACTIONS_202612031500)
