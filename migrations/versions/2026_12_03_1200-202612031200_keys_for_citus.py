"""keys for Citus (1): tenant logs keyed by tenant, ledger rows keyed by member

Citus distributes a table by one column, and every primary key, unique constraint and foreign
key of a distributed table must include it (app/models/distribution.py):
- the tenant's logs (audit, complaints and their steps, NPS and CSI responses and answers)
  are keyed ``(tenant_id, id)``; their member is a plain column, no longer a foreign key
  (the services check it exists before they write);
- the member's ledger rows (points lots, entries and redemptions, change-account entries,
  member spend) are keyed ``(tenant_id, id, member_id)``: ``id`` second, so that a lookup by
  tenant and id still uses the key's index; an entry references its lot with its member.

Rows are kept as they are: the new keys hold for every existing row.

Revision ID: 202612031200
Revises: 202612021100
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "202612031200"
down_revision: str | None = "202612021100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table → (old primary key, new primary key)
KEYS = {
    "audit_log": (("id",), ("tenant_id", "id")),
    "complaints": (("id",), ("tenant_id", "id")),
    "complaint_steps": (("id",), ("tenant_id", "id")),
    "nps_responses": (("id",), ("tenant_id", "id")),
    "csi_responses": (("id",), ("tenant_id", "id")),
    "csi_answers": (("response_id", "item_code"), ("tenant_id", "response_id", "item_code")),
    "points_lots": (("id",), ("tenant_id", "id", "member_id")),
    "points_entries": (("id",), ("tenant_id", "id", "member_id")),
    "points_redemptions": (("id",), ("tenant_id", "id", "member_id")),
    "change_entries": (("id",), ("tenant_id", "id", "member_id")),
    "member_spend": (("id",), ("tenant_id", "id", "member_id")),
}

# (table, name, columns, referenced table, referenced columns, on delete) before → after
MEMBER_FKS = [
    ("complaints", "fk_complaints_tenant_id_member_id_members"),
    ("nps_responses", "fk_nps_responses_tenant_id_member_id_members"),
    ("csi_responses", "fk_csi_responses_tenant_id_member_id_members"),
]
OLD_FKS = [
    (
        "complaint_steps",
        "fk_complaint_steps_complaint_id_complaints",
        ["complaint_id"],
        "complaints",
        ["id"],
        None,
    ),
    (
        "csi_answers",
        "fk_csi_answers_response_id_csi_responses",
        ["response_id"],
        "csi_responses",
        ["id"],
        "CASCADE",
    ),
    (
        "points_entries",
        "fk_points_entries_lot_id_points_lots",
        ["lot_id"],
        "points_lots",
        ["id"],
        None,
    ),
]
NEW_FKS = [
    (
        "complaint_steps",
        "fk_complaint_steps_tenant_id_complaint_id_complaints",
        ["tenant_id", "complaint_id"],
        "complaints",
        ["tenant_id", "id"],
        None,
    ),
    (
        "csi_answers",
        "fk_csi_answers_tenant_id_response_id_csi_responses",
        ["tenant_id", "response_id"],
        "csi_responses",
        ["tenant_id", "id"],
        "CASCADE",
    ),
    (
        "points_entries",
        "fk_points_entries_tenant_id_member_id_lot_id_points_lots",
        ["tenant_id", "member_id", "lot_id"],
        "points_lots",
        ["tenant_id", "member_id", "id"],
        None,
    ),
]


def _rekey(keys: dict[str, tuple[str, ...]]) -> None:
    for table, columns in keys.items():
        op.drop_constraint(f"pk_{table}", table, type_="primary")
        op.create_primary_key(f"pk_{table}", table, list(columns))


def _foreign_keys(fks) -> None:
    for table, name, columns, referenced, referenced_columns, on_delete in fks:
        op.create_foreign_key(
            name, table, referenced, columns, referenced_columns, ondelete=on_delete
        )


def upgrade() -> None:
    op.drop_index("ix_complaints_tenant_id_id", table_name="complaints")  # the key now
    for table, name, *_ in OLD_FKS:
        op.drop_constraint(name, table, type_="foreignkey")
    for table, name in MEMBER_FKS:
        op.drop_constraint(name, table, type_="foreignkey")
    _rekey({table: new for table, (_, new) in KEYS.items()})
    _foreign_keys(NEW_FKS)


def downgrade() -> None:
    for table, name, *_ in NEW_FKS:
        op.drop_constraint(name, table, type_="foreignkey")
    _rekey({table: old for table, (old, _) in KEYS.items()})
    _foreign_keys(OLD_FKS)
    for table, name in MEMBER_FKS:
        op.create_foreign_key(
            name, table, "members", ["tenant_id", "member_id"], ["tenant_id", "id"]
        )
    op.create_index("ix_complaints_tenant_id_id", "complaints", ["tenant_id", "id"])
