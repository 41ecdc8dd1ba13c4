"""Every ledger write is decided once and applied by apply_ledger_plan()

* ``points_accounts.version``: each write reads it and applies only while it is unchanged (the
  write locks the row and compares), so a decision made on a stale read is made again.
* ``apply_ledger_plan()`` writes a plan exactly as given (app/models/functions.py declares it
  as of this revision and as it is now).
* ``sale_settings``: a tenant's limits per line and per receipt (app/domain/sales.py).
* ``record_till_sale()``, the lean sale path's function, is retired: the sale has one path. The
  downgrade restores it as revision 202611232300 left it, for the code before this revision.

Revision ID: 202612021100
Revises: 202612021000
Create Date: 2026-12-02 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.functions import APPLY_LEDGER_PLAN_202612021100 as APPLY_LEDGER_PLAN

revision: str = "202612021100"
down_revision: str | None = "202612021000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETIRED = (
    "record_till_sale(uuid, text, text, uuid, text, timestamptz, text, text[], bigint[], "
    "timestamptz, timestamptz, timestamptz, numeric, timestamptz, text[], numeric[], jsonb, jsonb)"
)


def upgrade() -> None:
    op.add_column(
        "points_accounts",
        sa.Column("version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.create_table(
        "sale_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("max_line_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("max_receipt_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("isfinite(updated_at)", name=op.f("ck_sale_settings_updated_at_finite")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sale_settings_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_sale_settings")),
    )
    op.execute(f"DROP FUNCTION IF EXISTS {RETIRED}")
    op.create_entity(APPLY_LEDGER_PLAN)


def downgrade() -> None:
    op.drop_entity(APPLY_LEDGER_PLAN)
    op.execute(RETIRED_FUNCTION)
    op.drop_table("sale_settings")
    op.drop_column("points_accounts", "version")


# record_till_sale() as revision 202611232300 created it.
RETIRED_FUNCTION = """
CREATE FUNCTION record_till_sale(
    p_tenant uuid, p_store text, p_receipt text, p_member uuid, p_card text,
    p_occurred timestamptz, p_fingerprint text, p_categories text[], p_points bigint[],
    p_available timestamptz, p_expires timestamptz, p_now timestamptz, p_amount numeric,
    p_upgrade_since timestamptz, p_upgrade_classes text[], p_upgrade_spend numeric[],
    p_detail jsonb, p_response jsonb,
    OUT sale_id bigint, OUT balance bigint, OUT pending bigint
)
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_earned bigint := 0;
    v_by_category bigint[] := '{0,0,0,0}';  -- A, B, C, E
    v_due boolean;
    v_spend numeric;
    v_lots jsonb;
BEGIN
    sale_id := nextval('sales_id_seq');
    -- Totals by plain assignments: no query for them.
    FOR i IN 1 .. coalesce(array_length(p_points, 1), 0) LOOP
        v_earned := v_earned + p_points[i];
        v_by_category[array_position('{A,B,C,E}'::text[], p_categories[i])] :=
            v_by_category[array_position('{A,B,C,E}'::text[], p_categories[i])] + p_points[i];
    END LOOP;

    -- Lock the member's account (creating it) and credit the earned points.
    INSERT INTO points_accounts AS acc (tenant_id, member_id, a, b, c, e, balance)
    VALUES (p_tenant, p_member, v_by_category[1], v_by_category[2], v_by_category[3],
            v_by_category[4], v_earned)
    ON CONFLICT (tenant_id, member_id) DO UPDATE
    SET a = acc.a + excluded.a, b = acc.b + excluded.b, c = acc.c + excluded.c,
        e = acc.e + excluded.e, balance = acc.balance + excluded.balance, updated_at = now()
    RETURNING acc.balance INTO balance;

    -- Under the lock, in one statement: whether lots fall due (then the general path expires
    -- them first) and the member's pending points. Both probe ix_points_lots_live_*.
    SELECT EXISTS (SELECT 1 FROM points_lots AS l
                   WHERE l.tenant_id = p_tenant AND l.member_id = p_member
                     AND l.points_left > 0 AND l.expires_at <= p_now),
           (SELECT coalesce(sum(l.points_left), 0) FROM points_lots AS l
            WHERE l.tenant_id = p_tenant AND l.member_id = p_member AND l.points_left > 0
              AND l.available_at > p_now)
    INTO v_due, pending;
    IF v_due THEN
        RAISE EXCEPTION 'the member has lots to expire' USING ERRCODE = 'LY001';
    END IF;
    -- A card of the member may move up: the general path applies the upgrade.
    IF p_upgrade_since IS NOT NULL THEN
        SELECT coalesce(sum(amount), 0) INTO v_spend FROM member_spend
        WHERE tenant_id = p_tenant AND member_id = p_member AND occurred_at > p_upgrade_since;
        IF p_occurred > p_upgrade_since AND p_occurred <= p_now THEN
            v_spend := v_spend + p_amount;
        END IF;
        IF EXISTS (
            SELECT 1 FROM cards AS k
            JOIN unnest(p_upgrade_classes, p_upgrade_spend) AS t(class_code, spend)
              ON t.class_code = k.class_code
            WHERE k.tenant_id = p_tenant AND k.member_id = p_member AND v_spend >= t.spend
        ) THEN
            RAISE EXCEPTION 'a card of the member may move up' USING ERRCODE = 'LY001';
        END IF;
    END IF;
    IF p_available > p_now THEN
        pending := pending + v_earned;
    END IF;

    WITH lot AS (
        INSERT INTO points_lots (tenant_id, member_id, category, points_earned, points_left,
                                 earned_at, available_at, expires_at, source_type, source_id)
        SELECT p_tenant, p_member, u.c, u.p, u.p, p_occurred, p_available, p_expires, 'sale',
               sale_id::text
        FROM unnest(p_categories, p_points) WITH ORDINALITY AS u(c, p, n)
        WHERE u.p > 0
        ORDER BY u.n
        RETURNING id, category, points_earned
    ), entry AS (
        INSERT INTO points_entries (tenant_id, member_id, card_number, category, points,
                                    source_type, source_id, lot_id, created_at, available_at)
        SELECT p_tenant, p_member, p_card, lot.category, lot.points_earned, 'sale',
               sale_id::text, lot.id, p_now, p_available
        FROM lot ORDER BY lot.id
    )
    SELECT coalesce(jsonb_object_agg(lot.category, lot.id), '{}'::jsonb) INTO v_lots FROM lot;

    INSERT INTO member_spend (tenant_id, member_id, occurred_at, amount, source, source_ref)
    VALUES (p_tenant, p_member, p_occurred, p_amount, 'sale', p_store || '/' || p_receipt);

    -- Claim the receipt last, with everything known, so the row is written once. A request
    -- still in flight for the receipt makes this wait for it; then nothing here is kept and
    -- the general path replays what was recorded.
    INSERT INTO sales (id, tenant_id, store_code, receipt_no, member_id, card_number,
                       occurred_at, fingerprint, detail, returned, response)
    VALUES (sale_id, p_tenant, p_store, p_receipt, p_member, p_card, p_occurred, p_fingerprint,
            p_detail || jsonb_build_object('lots', v_lots), '{}',
            p_response || jsonb_build_object(
                'sale_id', sale_id, 'balance', balance, 'available', balance - pending,
                'pending', pending))
    ON CONFLICT (tenant_id, store_code, receipt_no) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the receipt was recorded meanwhile' USING ERRCODE = 'LY001';
    END IF;
END
$$
"""
