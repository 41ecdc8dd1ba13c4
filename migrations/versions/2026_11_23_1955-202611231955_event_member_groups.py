"""multiplier events may target member groups

Revision ID: 202611231955
Revises: 202611231950
Create Date: 2026-11-23 19:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "202611231955"
down_revision: str | None = "202611231950"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "points_multiplier_events",
        sa.Column(
            "member_groups",
            postgresql.ARRAY(sa.String(64)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("points_multiplier_events", "member_groups")
