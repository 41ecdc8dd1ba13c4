"""finite timestamps: CHECK isfinite(...) on every timestamptz and date column

PostgreSQL takes 'infinity' and '-infinity' for these types; Python can't represent them
(asyncpg fails to decode the row) and no business rule means them, so nothing may store them.

The constraints are added NOT VALID: upgrading checks new writes at once without scanning (or
failing on) the rows already there. ``loyalty repair-timestamps`` repairs existing rows and
then VALIDATEs the constraints.

Each is named ``ck_<table>_<column>_finite`` (the naming convention of app/models/base.py);
app/models/__init__.py gives the models the same ones.

Revision ID: 202612021000
Revises: 202611232300
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "202612021000"
down_revision: str | None = "202611232300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every timestamptz and date column at this revision, by table.
COLUMNS = {
    "analytics_settings": ("updated_at",),
    "api_keys": ("created_at", "revoked_at"),
    "audit_log": ("at",),
    "card_classes": ("created_at", "updated_at"),
    "card_events": ("at",),
    "cards": ("expires_at", "first_failed_at", "issued_at", "locked_until"),
    "change_accounts": ("updated_at",),
    "change_entries": ("created_at",),
    "clv_models": ("calibration_end", "created_at"),
    "complaint_steps": ("at",),
    "complaints": ("closed_at", "recorded_at", "updated_at"),
    "csi_models": ("created_at",),
    "csi_responses": ("answered_at", "created_at"),
    "csi_weightings": ("created_at",),
    "discount_rules": (
        "approved_at",
        "created_at",
        "effective_from",
        "effective_to",
        "updated_at",
        "voided_at",
    ),
    "idempotency_keys": ("created_at",),
    "imported_transactions": ("occurred_at",),
    "job_runs": ("finished_at", "started_at"),
    "member_groups": ("created_at", "generated_as_of", "generated_at", "updated_at"),
    "member_spend": ("occurred_at",),
    "members": ("consent_updated_at", "created_at", "erased_at", "updated_at"),
    "nps_responses": ("answered_at", "created_at"),
    "points_accounts": ("updated_at",),
    "points_entries": ("available_at", "created_at"),
    "points_lots": ("available_at", "earned_at", "expires_at"),
    "points_multiplier_events": ("created_at", "ends_at", "starts_at", "updated_at"),
    "points_redemptions": ("cancelled_at", "created_at"),
    "points_settings": ("updated_at",),
    "points_warm_rules": ("created_at", "ends_at", "starts_at", "updated_at"),
    "pricing_settings": ("updated_at",),
    "rfm_runs": ("as_of", "created_at"),
    "sale_returns": ("created_at",),
    "sales": ("created_at", "occurred_at"),
    "sharing_groups": ("created_at", "updated_at"),
    "stores": ("created_at", "updated_at"),
    "tenants": ("created_at",),
    "transaction_imports": ("finished_at", "started_at"),
}


def upgrade() -> None:
    # One ALTER TABLE per table: one short lock each, no scan (NOT VALID).
    for table, columns in COLUMNS.items():
        op.execute(
            f"ALTER TABLE {table} "
            + ", ".join(
                f"ADD CONSTRAINT ck_{table}_{column}_finite CHECK (isfinite({column})) NOT VALID"
                for column in columns
            )
        )


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        op.execute(
            f"ALTER TABLE {table} "
            + ", ".join(f"DROP CONSTRAINT ck_{table}_{column}_finite" for column in columns)
        )
