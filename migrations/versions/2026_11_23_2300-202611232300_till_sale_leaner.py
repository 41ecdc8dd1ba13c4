"""record_till_sale() v3 (retired)

This revision rewrote the lean sale path's function, retired since: revision 202612021100
drops it (and its downgrade restores this version, which the code before it calls). Kept,
empty, so that databases stamped with it still upgrade.

Revision ID: 202611232300
Revises: 202611232100
Create Date: 2026-11-23 23:00:00
"""

from collections.abc import Sequence

revision: str = "202611232300"
down_revision: str | None = "202611232100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
