"""voice of the customer: NPS responses, satisfaction-index models, responses and weightings,
complaints and their eight steps

Revision ID: 202611232000
Revises: 202611231955
Create Date: 2026-11-23 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "202611232000"
down_revision: str | None = "202611231955"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
    )


def _member_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "member_id"],
        ["members.tenant_id", "members.id"],
        name=op.f(f"fk_{table}_tenant_id_member_id_members"),
    )


def _store_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "store_code"],
        ["stores.tenant_id", "stores.code"],
        name=op.f(f"fk_{table}_tenant_id_store_code_stores"),
    )


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "model_code"],
        ["csi_models.tenant_id", "csi_models.code"],
        name=op.f(f"fk_{table}_tenant_id_model_code_csi_models"),
    )


def upgrade() -> None:
    # --- NPS (docs/domain §8) -----------------------------------------------------------------
    op.create_table(
        "nps_responses",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("store_code", sa.String(12), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("response_ref", sa.String(64), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        _now("created_at"),
        sa.CheckConstraint("score BETWEEN 0 AND 10", name=op.f("ck_nps_responses_score_range")),
        _tenant_fk("nps_responses"),
        _member_fk("nps_responses"),
        _store_fk("nps_responses"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nps_responses")),
        sa.UniqueConstraint(
            "tenant_id", "response_ref", name=op.f("uq_nps_responses_tenant_id_response_ref")
        ),
    )
    op.create_index(
        "ix_nps_responses_tenant_answered", "nps_responses", ["tenant_id", "answered_at"]
    )

    # --- satisfaction index (docs/domain §9) ----------------------------------------------------
    op.create_table(
        "csi_models",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("scale_points", sa.SmallInteger(), nullable=False),
        sa.Column("satisfaction_node", sa.String(32), nullable=True),
        sa.Column("loyalty_node", sa.String(32), nullable=True),
        sa.Column("quadrant_threshold", sa.Numeric(5, 2), nullable=False),
        _now("created_at"),
        sa.CheckConstraint("scale_points IN (5, 7)", name=op.f("ck_csi_models_scale_points")),
        sa.CheckConstraint(
            "quadrant_threshold >= 0 AND quadrant_threshold < 100",
            name=op.f("ck_csi_models_threshold_range"),
        ),
        _tenant_fk("csi_models"),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_csi_models")),
    )
    op.create_table(
        "csi_nodes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("model_code", sa.String(32), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("parent_code", sa.String(32), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Numeric(5, 4), nullable=True),
        sa.CheckConstraint("level IN (2, 3, 4)", name=op.f("ck_csi_nodes_level_values")),
        sa.CheckConstraint(
            "weight IS NULL OR (weight >= 0 AND weight <= 1)",
            name=op.f("ck_csi_nodes_weight_range"),
        ),
        _model_fk("csi_nodes"),
        sa.PrimaryKeyConstraint("tenant_id", "model_code", "code", name=op.f("pk_csi_nodes")),
    )
    # Append-only audit of every weighting: the inputs as sent and the result.
    op.create_table(
        "csi_weightings",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("model_code", sa.String(32), nullable=False),
        sa.Column("node_code", sa.String(32), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("inputs", postgresql.JSONB(), nullable=False),
        sa.Column("result", postgresql.JSONB(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        _now("created_at"),
        _model_fk("csi_weightings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csi_weightings")),
    )
    op.create_index(
        "ix_csi_weightings_tenant_model_node",
        "csi_weightings",
        ["tenant_id", "model_code", "node_code", "id"],
    )
    op.create_table(
        "csi_responses",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("model_code", sa.String(32), nullable=False),
        sa.Column("respondent_ref", sa.String(64), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("store_code", sa.String(12), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        _now("created_at"),
        _model_fk("csi_responses"),
        _member_fk("csi_responses"),
        _store_fk("csi_responses"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csi_responses")),
        sa.UniqueConstraint(
            "tenant_id",
            "model_code",
            "respondent_ref",
            "answered_at",
            name=op.f("uq_csi_responses_natural_key"),
        ),
    )
    op.create_index(
        "ix_csi_responses_tenant_model_answered",
        "csi_responses",
        ["tenant_id", "model_code", "answered_at"],
    )
    op.create_table(
        "csi_answers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("response_id", sa.BigInteger(), nullable=False),
        sa.Column("item_code", sa.String(32), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 7", name=op.f("ck_csi_answers_score_range")),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["csi_responses.id"],
            name=op.f("fk_csi_answers_response_id_csi_responses"),
            ondelete="CASCADE",
        ),
        _tenant_fk("csi_answers"),
        sa.PrimaryKeyConstraint("response_id", "item_code", name=op.f("pk_csi_answers")),
    )

    # --- complaints (docs/domain §11) -----------------------------------------------------------
    op.create_table(
        "complaints",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("store_code", sa.String(12), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("justified", sa.Boolean(), nullable=True),
        sa.Column("severity", sa.String(8), nullable=True),
        sa.Column("department", sa.String(100), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("solution", sa.Text(), nullable=True),
        sa.Column("compensation_points", sa.Integer(), nullable=True),
        sa.Column("adjustment_id", sa.String(32), nullable=True),
        sa.Column("satisfaction", sa.SmallInteger(), nullable=True),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        _now("updated_at"),
        sa.CheckConstraint(
            "status IN ('recorded', 'nature_judged', 'department_assigned', 'cause_analysed', "
            "'solution_proposed', 'approved', 'implemented', 'closed')",
            name=op.f("ck_complaints_status_values"),
        ),
        sa.CheckConstraint(
            "compensation_points IS NULL OR compensation_points >= 0",
            name=op.f("ck_complaints_compensation_not_negative"),
        ),
        sa.CheckConstraint(
            "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5",
            name=op.f("ck_complaints_satisfaction_range"),
        ),
        _tenant_fk("complaints"),
        _member_fk("complaints"),
        _store_fk("complaints"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    op.create_index("ix_complaints_tenant_id_id", "complaints", ["tenant_id", "id"])
    op.create_index("ix_complaints_tenant_recorded", "complaints", ["tenant_id", "recorded_at"])
    # Append-only: who did which step when, with the step's data.
    op.create_table(
        "complaint_steps",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("complaint_id", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _tenant_fk("complaint_steps"),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_steps_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_steps")),
    )
    op.create_index("ix_complaint_steps_complaint", "complaint_steps", ["complaint_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_complaint_steps_complaint", table_name="complaint_steps")
    op.drop_table("complaint_steps")
    op.drop_index("ix_complaints_tenant_recorded", table_name="complaints")
    op.drop_index("ix_complaints_tenant_id_id", table_name="complaints")
    op.drop_table("complaints")
    op.drop_table("csi_answers")
    op.drop_index("ix_csi_responses_tenant_model_answered", table_name="csi_responses")
    op.drop_table("csi_responses")
    op.drop_index("ix_csi_weightings_tenant_model_node", table_name="csi_weightings")
    op.drop_table("csi_weightings")
    op.drop_table("csi_nodes")
    op.drop_table("csi_models")
    op.drop_index("ix_nps_responses_tenant_answered", table_name="nps_responses")
    op.drop_table("nps_responses")
