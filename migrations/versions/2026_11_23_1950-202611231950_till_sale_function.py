"""record_till_sale(): the lean sale path's writes in one round trip

The common sale (paid in money, earning points) is recorded by one call of this function
(app/repositories/till_sales.py), in autocommit: one statement, so all or nothing. Each
statement inside takes a fresh snapshot (READ COMMITTED, VOLATILE), so what is read after
the account row is locked is current. When the general path must record the sale instead
(lots of the member are due to expire, or a card of the member may move up a tier) it raises
SQLSTATE 'LY001' and nothing is written. Returns no row when the receipt is recorded already.

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

FUNCTION = """
CREATE FUNCTION record_till_sale(
    p_tenant uuid, p_store text, p_receipt text, p_member uuid, p_card text,
    p_occurred timestamptz, p_fingerprint text, p_categories text[], p_points bigint[],
    p_available timestamptz, p_expires timestamptz, p_now timestamptz, p_amount numeric,
    p_upgrade_since timestamptz, p_upgrade_classes text[], p_upgrade_spend numeric[],
    p_detail jsonb, p_response jsonb
) RETURNS TABLE (sale_id bigint, balance bigint, pending bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_sale bigint;
    v_balance bigint;
    v_pending bigint;
    v_due boolean;
    v_spend numeric;
    v_lots jsonb;
    v_earned bigint := coalesce((SELECT sum(p) FROM unnest(p_points) AS p), 0);
BEGIN
    INSERT INTO sales (tenant_id, store_code, receipt_no, member_id, card_number, occurred_at,
                       fingerprint, detail, returned, response)
    VALUES (p_tenant, p_store, p_receipt, p_member, p_card, p_occurred, p_fingerprint,
            '{}', '{}', '{}')
    ON CONFLICT (tenant_id, store_code, receipt_no) DO NOTHING
    RETURNING id INTO v_sale;
    IF v_sale IS NULL THEN
        RETURN;  -- recorded already (by a request this one waited for)
    END IF;

    -- Lock the member's account (creating it) and credit the earned points.
    INSERT INTO points_accounts AS acc (tenant_id, member_id, a, b, c, e, balance)
    SELECT p_tenant, p_member,
           coalesce(sum(u.p) FILTER (WHERE u.c = 'A'), 0),
           coalesce(sum(u.p) FILTER (WHERE u.c = 'B'), 0),
           coalesce(sum(u.p) FILTER (WHERE u.c = 'C'), 0),
           coalesce(sum(u.p) FILTER (WHERE u.c = 'E'), 0),
           v_earned
    FROM unnest(p_categories, p_points) AS u(c, p)
    ON CONFLICT (tenant_id, member_id) DO UPDATE
    SET a = acc.a + excluded.a, b = acc.b + excluded.b, c = acc.c + excluded.c,
        e = acc.e + excluded.e, balance = acc.balance + excluded.balance, updated_at = now()
    RETURNING acc.balance INTO v_balance;

    -- Under the lock: what would need the general path, and the member's pending points.
    SELECT coalesce(bool_or(l.expires_at <= p_now), false),
           coalesce(sum(l.points_left) FILTER (WHERE l.available_at > p_now), 0)
    INTO v_due, v_pending
    FROM points_lots AS l
    WHERE l.tenant_id = p_tenant AND l.member_id = p_member AND l.points_left > 0;
    IF v_due THEN
        RAISE EXCEPTION 'the member has lots to expire' USING ERRCODE = 'LY001';
    END IF;
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
        v_pending := v_pending + v_earned;
    END IF;

    WITH lot AS (
        INSERT INTO points_lots (tenant_id, member_id, category, points_earned, points_left,
                                 earned_at, available_at, expires_at, source_type, source_id)
        SELECT p_tenant, p_member, u.c, u.p, u.p, p_occurred, p_available, p_expires, 'sale',
               v_sale::text
        FROM unnest(p_categories, p_points) WITH ORDINALITY AS u(c, p, n)
        WHERE u.p > 0
        ORDER BY u.n
        RETURNING id, category, points_earned
    ), entry AS (
        INSERT INTO points_entries (tenant_id, member_id, card_number, category, points,
                                    source_type, source_id, lot_id, created_at, available_at)
        SELECT p_tenant, p_member, p_card, lot.category, lot.points_earned, 'sale',
               v_sale::text, lot.id, p_now, p_available
        FROM lot ORDER BY lot.id
    )
    SELECT coalesce(jsonb_object_agg(lot.category, lot.id), '{}'::jsonb) INTO v_lots FROM lot;

    INSERT INTO member_spend (tenant_id, member_id, occurred_at, amount, source, source_ref)
    VALUES (p_tenant, p_member, p_occurred, p_amount, 'sale', p_store || '/' || p_receipt);

    UPDATE sales
    SET detail = p_detail || jsonb_build_object('lots', v_lots),
        response = p_response || jsonb_build_object(
            'sale_id', v_sale, 'balance', v_balance, 'available', v_balance - v_pending,
            'pending', v_pending)
    WHERE id = v_sale;

    RETURN QUERY SELECT v_sale, v_balance, v_pending;
END
$$
"""


def upgrade() -> None:
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION record_till_sale(uuid, text, text, uuid, text, timestamptz, text, "
        "text[], bigint[], timestamptz, timestamptz, timestamptz, numeric, timestamptz, "
        "text[], numeric[], jsonb, jsonb)"
    )
