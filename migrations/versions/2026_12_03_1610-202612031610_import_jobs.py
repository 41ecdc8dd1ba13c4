"""import jobs: the history import runs as a job with progress, cancel and a report

``import_jobs`` (a tenant table, keyed by tenant and id): one row per ``POST
/v1/imports/transactions``, written by the process that runs the import.

Revision ID: 202612031610
Revises: 202612031600
Create Date: 2026-12-03 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "202612031610"
down_revision: str | None = "202612031600"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    big = sa.BigInteger()
    op.create_table(
        "import_jobs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", big, sa.Identity(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("on_error", sa.String(8), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("bytes_total", big, nullable=True),
        sa.Column("bytes_read", big, nullable=False),
        sa.Column("rows_read", big, nullable=False),
        sa.Column("rejected", big, nullable=False),
        sa.Column("imported", big, nullable=True),
        sa.Column("duplicates", big, nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("import_id", big, nullable=True),
        sa.Column("report", postgresql.JSONB(), nullable=True),
        sa.Column("problem", postgresql.JSONB(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'cancelled')",
            name=op.f("ck_import_jobs_status_known"),
        ),
        *(
            sa.CheckConstraint(f"isfinite({column})", name=op.f(f"ck_import_jobs_{column}_finite"))
            for column in ("created_at", "updated_at", "finished_at")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_import_jobs_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_import_jobs")),
    )


def downgrade() -> None:
    op.drop_table("import_jobs")
