"""Sales no longer lock their tenant's row; live lots are probed by index

* ``sales.tenant_id`` loses its foreign key to ``tenants``: every sale took a share lock on
  the tenant's one row, so concurrent sales of a tenant queued on multixacts. The tenant is
  still enforced: ``(tenant_id, member_id)`` references ``members``, whose tenant references
  ``tenants``, and members are never deleted.
* Two partial indexes find a member's lots falling due and the points still pending without
  a pass over all of the member's lots, which grows with every sale.

This revision also rewrote record_till_sale(), retired since (revision 202612021100).

Revision ID: 202611232100
Revises: 202611232010
Create Date: 2026-11-23 21:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "202611232100"
down_revision: str | None = "202611232010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("fk_sales_tenant_id_tenants", "sales", type_="foreignkey")
    op.create_index(
        "ix_points_lots_live_expiry",
        "points_lots",
        ["tenant_id", "member_id", "expires_at"],
        postgresql_where="points_left > 0 AND expires_at IS NOT NULL",
    )
    op.create_index(
        "ix_points_lots_live_available",
        "points_lots",
        ["tenant_id", "member_id", "available_at"],
        postgresql_where="points_left > 0",
    )


def downgrade() -> None:
    op.drop_index("ix_points_lots_live_available", table_name="points_lots")
    op.drop_index("ix_points_lots_live_expiry", table_name="points_lots")
    op.create_foreign_key("fk_sales_tenant_id_tenants", "sales", "tenants", ["tenant_id"], ["id"])
