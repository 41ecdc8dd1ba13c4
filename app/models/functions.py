"""Database functions, declared once here (alembic_utils); migrations create them from these
declarations. A change to a body is a new migration that replaces the entity; the body it
replaces stays declared here, named by the revision that created it, for that revision and for
the new one's downgrade (the part that changed is a fragment of its own, the rest is shared).

``apply_ledger_plan`` is the one write of every change to a member's points, change account,
sales and returns (ARCHITECTURE: read → decide → apply). It holds no business rule: it locks
and compares what the plan relied on (the points account's version, the change account's
balance, the cards' classes, the redemption's status), claims the receipt or return number,
and then writes the rows exactly as given. When a guard does not hold it writes nothing and
answers ``stale`` (or ``claimed`` when the receipt or return number was recorded meanwhile),
and the caller reads and decides again. ``p_member`` is the plan's one member: every row it
writes is that member's (Citus can route the call by it).
"""

import re
from collections.abc import Callable

from alembic_utils.pg_function import PGFunction

APPLIED, STALE, CLAIMED = "applied", "stale", "claimed"

SIGNATURE = "apply_ledger_plan(p_tenant uuid, p_member uuid, p_plan jsonb)"

_BODY = """
RETURNS text
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_points jsonb := p_plan->'points';
    v_change jsonb := p_plan->'change';
    v_now timestamptz := (p_plan->>'now')::timestamptz;
    v_version bigint;
    v_balance numeric;
    v_count integer;
BEGIN
    -- 1. Guards: lock every row the plan relied on, then compare. Nothing is written unless
    --    all of them still hold.
    IF v_points IS NOT NULL THEN
        IF (v_points->>'version')::bigint = 0 THEN  -- read without an account: create it
            INSERT INTO points_accounts (tenant_id, member_id) VALUES (p_tenant, p_member)
            ON CONFLICT (tenant_id, member_id) DO NOTHING;
        END IF;
        SELECT a.version INTO v_version FROM points_accounts AS a
        WHERE a.tenant_id = p_tenant AND a.member_id = p_member FOR UPDATE;
        IF v_version IS DISTINCT FROM (v_points->>'version')::bigint THEN
            RETURN 'stale';
        END IF;
    END IF;
    IF v_change IS NOT NULL THEN
        INSERT INTO change_accounts (tenant_id, member_id) VALUES (p_tenant, p_member)
        ON CONFLICT (tenant_id, member_id) DO NOTHING;
        SELECT a.balance INTO v_balance FROM change_accounts AS a
        WHERE a.tenant_id = p_tenant AND a.member_id = p_member FOR UPDATE;
        IF v_balance IS DISTINCT FROM (v_change->>'balance')::numeric THEN
            RETURN 'stale';
        END IF;
    END IF;
    IF p_plan ? 'tiers' THEN
        -- LOCK_TIERS
        IF v_count <> jsonb_array_length(p_plan->'tiers') THEN
            RETURN 'stale';
        END IF;
    END IF;
    IF p_plan ? 'cancelled_redemption' THEN
        PERFORM 1 FROM points_redemptions AS r
        WHERE r.tenant_id = p_tenant AND r.member_id = p_member
          AND r.id = (p_plan->>'cancelled_redemption')::bigint AND r.status = 'done'
        FOR UPDATE;
        IF NOT FOUND THEN
            RETURN 'stale';
        END IF;
    END IF;

    -- 2. Claims: a receipt or return number recorded meanwhile (the insert waits for a
    --    request still writing it) is answered from what was recorded.
    IF p_plan ? 'sale' THEN
        -- CLAIM_SALE
    END IF;
    IF p_plan ? 'sale_return' THEN
        -- CLAIM_RETURN
        IF NOT FOUND THEN
            RETURN 'claimed';
        END IF;
        UPDATE sales AS s SET returned = p_plan->'sale_return'->'returned'
        WHERE s.tenant_id = p_tenant AND s.member_id = p_member
          AND s.id = (p_plan->'sale_return'->>'sale_id')::bigint;
    END IF;

    -- 3. The rows, as given.
    IF v_points IS NOT NULL THEN
        IF jsonb_array_length(v_points->'lots') > 0 THEN
            INSERT INTO points_lots (id, tenant_id, member_id, category, points_earned,
                                     points_left, earned_at, available_at, expires_at,
                                     source_type, source_id)
            SELECT l.id, p_tenant, p_member, l.category, l.points, l.points_left, l.earned_at,
                   l.available_at, l.expires_at, l.source_type, l.source_id
            FROM jsonb_to_recordset(v_points->'lots') AS l(
                id bigint, category text, points bigint, points_left bigint, earned_at timestamptz,
                available_at timestamptz, expires_at timestamptz, source_type text,
                source_id text);
        END IF;
        IF jsonb_array_length(v_points->'moves') > 0 THEN
            -- MOVE_POINTS
        END IF;
        IF jsonb_array_length(v_points->'entries') > 0 THEN
            INSERT INTO points_entries (tenant_id, member_id, card_number, category, points,
                                        source_type, source_id, lot_id, created_at,
                                        available_at)
            SELECT p_tenant, p_member, e.card_number, e.category, e.points, e.source_type,
                   e.source_id, e.lot_id, v_now, e.available_at
            FROM ROWS FROM (jsonb_to_recordset(v_points->'entries') AS (
                category text, points bigint, available_at timestamptz, lot_id bigint,
                source_type text, source_id text, card_number text)
            ) WITH ORDINALITY AS e(category, points, available_at, lot_id, source_type,
                                   source_id, card_number, n)
            ORDER BY e.n;
        END IF;
        -- ADD_TOTALS
    END IF;
    IF v_change IS NOT NULL THEN
        INSERT INTO change_entries (id, tenant_id, member_id, card_number, amount, kind,
                                    source_type, source_id, reference, created_at)
        SELECT coalesce(c.id, nextval('change_entries_id_seq')), p_tenant, p_member,
               c.card_number, c.amount, c.kind, c.source_type, c.source_id, c.reference,
               c.created_at
        FROM jsonb_to_record(v_change) AS c(
            id bigint, card_number text, amount numeric, kind text, source_type text,
            source_id text, reference text, created_at timestamptz);
        UPDATE change_accounts AS a
        SET balance = a.balance + (v_change->>'amount')::numeric, updated_at = now()
        WHERE a.tenant_id = p_tenant AND a.member_id = p_member;
    END IF;
    IF p_plan ? 'redemption' THEN
        INSERT INTO points_redemptions (id, tenant_id, member_id, card_number, points, purpose,
                                        reference, money, status, created_at)
        SELECT r.id, p_tenant, p_member, r.card_number, r.points, r.purpose, r.reference,
               r.money, 'done', r.created_at
        FROM jsonb_to_record(p_plan->'redemption') AS r(
            id bigint, card_number text, points bigint, purpose text, reference text,
            money numeric, created_at timestamptz);
    END IF;
    IF p_plan ? 'cancelled_redemption' THEN
        UPDATE points_redemptions AS r SET status = 'cancelled', cancelled_at = v_now
        WHERE r.tenant_id = p_tenant AND r.member_id = p_member
          AND r.id = (p_plan->>'cancelled_redemption')::bigint;
    END IF;
    IF p_plan ? 'spend' THEN
        INSERT INTO member_spend (tenant_id, member_id, occurred_at, amount, source, source_ref)
        SELECT p_tenant, p_member, s.occurred_at, s.amount, s.source, s.source_ref
        FROM jsonb_to_recordset(p_plan->'spend') AS s(
            occurred_at timestamptz, amount numeric, source text, source_ref text);
    END IF;
    IF p_plan ? 'tiers' THEN
        -- MOVE_TIERS
        -- TIER_EVENTS
        FROM ROWS FROM (jsonb_to_recordset(p_plan->'card_events') AS (
            number text, from_value text, to_value text, reason text, actor text)
        ) WITH ORDINALITY AS e(number, from_value, to_value, reason, actor, n)
        ORDER BY e.n;
    END IF;
    IF p_plan ? 'audit' THEN
        INSERT INTO audit_log (tenant_id, subject, subject_id, action, field, old_value,
                               new_value, actor)
        SELECT p_tenant, a.subject, a.subject_id, a.action, a.field, a.old, a.new, a.actor
        FROM ROWS FROM (jsonb_to_recordset(p_plan->'audit') AS (
            subject text, subject_id text, action text, field text, old text, new text,
            actor text)
        ) WITH ORDINALITY AS a(subject, subject_id, action, field, old, new, actor, n)
        ORDER BY a.n;
    END IF;
    RETURN 'applied';
END
$$
"""

_SALE = """
        INSERT INTO sales (id, tenant_id, store_code, receipt_no, member_id, card_number,
                           occurred_at, fingerprint, detail, returned, response)
        SELECT s.id, p_tenant, s.store_code, s.receipt_no, p_member, s.card_number,
               s.occurred_at, s.fingerprint, s.detail, '{}', s.response
        FROM jsonb_to_record(p_plan->'sale') AS s(
            id bigint, store_code text, receipt_no text, card_number text,
            occurred_at timestamptz, fingerprint text, detail jsonb, response jsonb)"""

# How a sale claims its receipt: in the receipt's lookup (migration 202612031500), then the
# sale is written on its member's key; before that, on the sale's own unique receipt.
CLAIM_SALE = f"""
        INSERT INTO sale_receipts (tenant_id, store_code, receipt_no, member_id, sale_id)
        SELECT p_tenant, s.store_code, s.receipt_no, p_member, s.id
        FROM jsonb_to_record(p_plan->'sale') AS s(id bigint, store_code text, receipt_no text)
        ON CONFLICT (tenant_id, store_code, receipt_no) DO NOTHING;
        IF NOT FOUND THEN
            RETURN 'claimed';
        END IF;{_SALE};"""  # noqa: S608 (constant SQL, no input)
CLAIM_SALE_202612021100 = (
    _SALE
    + """
        ON CONFLICT (tenant_id, store_code, receipt_no) DO NOTHING;
        IF NOT FOUND THEN
            RETURN 'claimed';
        END IF;"""
)


# How a return claims its number: on the sale's key with its member (migration 202612031300),
# before that on (sale_id, return_no).
CLAIM_RETURN = """
        INSERT INTO sale_returns (id, tenant_id, member_id, sale_id, return_no, fingerprint,
                                  detail, response)
        SELECT r.id, p_tenant, p_member, r.sale_id, r.return_no, r.fingerprint, r.detail,
               r.response
        FROM jsonb_to_record(p_plan->'sale_return') AS r(
            id bigint, sale_id bigint, return_no text, fingerprint text, detail jsonb,
            response jsonb)
        ON CONFLICT (tenant_id, member_id, sale_id, return_no) DO NOTHING;"""
CLAIM_RETURN_202612021100 = """
        INSERT INTO sale_returns (id, tenant_id, sale_id, return_no, fingerprint, detail,
                                  response)
        SELECT r.id, p_tenant, r.sale_id, r.return_no, r.fingerprint, r.detail, r.response
        FROM jsonb_to_record(p_plan->'sale_return') AS r(
            id bigint, sale_id bigint, return_no text, fingerprint text, detail jsonb,
            response jsonb)
        ON CONFLICT (sale_id, return_no) DO NOTHING;"""


# How a tier change's card event is written: with the card's member (migration 202612031400).
TIER_EVENTS = """
        INSERT INTO card_events (tenant_id, member_id, card_number, kind, from_value, to_value,
                                 reason, actor)
        SELECT p_tenant, p_member, e.number, 'tier', e.from_value, e.to_value, e.reason,
               e.actor"""
TIER_EVENTS_202612021100 = """
        INSERT INTO card_events (tenant_id, card_number, kind, from_value, to_value, reason,
                                 actor)
        SELECT p_tenant, e.number, 'tier', e.from_value, e.to_value, e.reason, e.actor"""


# Until migration 202612031500: rows joined from a record set with a column definition list,
# which Citus cannot send to a worker in an UPDATE or a locking SELECT.
LOCK_TIERS_202612021100 = """
        SELECT count(*) INTO v_count FROM (
            SELECT 1 FROM cards AS c
            JOIN jsonb_to_recordset(p_plan->'tiers') AS t(number text, from_class text)
              ON c.number = t.number AND c.class_code = t.from_class
            WHERE c.tenant_id = p_tenant AND c.member_id = p_member
            FOR UPDATE OF c
        ) AS locked;"""
MOVE_POINTS_202612021100 = """
            UPDATE points_lots AS l SET points_left = l.points_left + m.points
            FROM jsonb_to_recordset(v_points->'moves') AS m(id bigint, points bigint)
            WHERE l.id = m.id AND l.tenant_id = p_tenant AND l.member_id = p_member;"""
ADD_TOTALS_202612021100 = """
        UPDATE points_accounts AS acc
        SET a = acc.a + dl.a, b = acc.b + dl.b, c = acc.c + dl.c, d = acc.d + dl.d,
            e = acc.e + dl.e, f = acc.f + dl.f, r = acc.r + dl.r, x = acc.x + dl.x,
            balance = acc.balance + dl.a + dl.b + dl.c + dl.d + dl.e + dl.f + dl.r + dl.x,
            version = acc.version + 1, updated_at = now()
        FROM jsonb_to_record(v_points->'delta') AS dl(
            a bigint, b bigint, c bigint, d bigint, e bigint, f bigint, r bigint, x bigint)
        WHERE acc.tenant_id = p_tenant AND acc.member_id = p_member;"""
MOVE_TIERS_202612021100 = """
        UPDATE cards AS c SET class_code = t.to_class
        FROM jsonb_to_recordset(p_plan->'tiers') AS t(number text, to_class text)
        WHERE c.tenant_id = p_tenant AND c.member_id = p_member AND c.number = t.number;"""

# From migration 202612031500: the plan's values read as jsonb elements (a type Citus can send
# to a worker), not as a record set with a column definition list.
LOCK_TIERS = """
        SELECT count(*) INTO v_count FROM (
            SELECT 1 FROM cards AS c
            JOIN jsonb_array_elements(p_plan->'tiers') AS t
              ON c.number = t->>'number' AND c.class_code = t->>'from_class'
            WHERE c.tenant_id = p_tenant AND c.member_id = p_member
            FOR UPDATE OF c
        ) AS locked;"""
MOVE_POINTS = """
            UPDATE points_lots AS l SET points_left = l.points_left + (m->>'points')::bigint
            FROM jsonb_array_elements(v_points->'moves') AS m
            WHERE l.id = (m->>'id')::bigint AND l.tenant_id = p_tenant
              AND l.member_id = p_member;"""
ADD_TOTALS = """
        UPDATE points_accounts AS acc
        SET a = acc.a + (v_points->'delta'->>'a')::bigint,
            b = acc.b + (v_points->'delta'->>'b')::bigint,
            c = acc.c + (v_points->'delta'->>'c')::bigint,
            d = acc.d + (v_points->'delta'->>'d')::bigint,
            e = acc.e + (v_points->'delta'->>'e')::bigint,
            f = acc.f + (v_points->'delta'->>'f')::bigint,
            r = acc.r + (v_points->'delta'->>'r')::bigint,
            x = acc.x + (v_points->'delta'->>'x')::bigint,
            balance = acc.balance + (v_points->>'added')::bigint,
            version = acc.version + 1, updated_at = now()
        WHERE acc.tenant_id = p_tenant AND acc.member_id = p_member;"""
MOVE_TIERS = """
        UPDATE cards AS c SET class_code = t->>'to_class'
        FROM jsonb_array_elements(p_plan->'tiers') AS t
        WHERE c.tenant_id = p_tenant AND c.member_id = p_member AND c.number = t->>'number';"""


def _literally(text: str) -> Callable[[re.Match[str]], str]:
    """A replacement for re.sub taken as it is (backslashes not read as escapes)."""
    return lambda _: text


# From migration 202612031700: the vouchers a sale redeems or earns and a return voids or
# restores. Each is locked by its holder and code while in the status the plan read.
_VOUCHER_GUARD = """
    IF p_plan ? '{key}' THEN
        SELECT count(*) INTO v_count FROM (
            SELECT 1 FROM vouchers AS v
            JOIN jsonb_array_elements(p_plan->'{key}') AS r
              ON v.member_id = (r->>'holder')::uuid AND v.code = r->>'code'
            WHERE v.tenant_id = p_tenant AND v.status IN ({status}){extra}
            FOR UPDATE OF v
        ) AS locked;
        IF v_count <> jsonb_array_length(p_plan->'{key}') THEN
            RETURN 'stale';
        END IF;
    END IF;"""
LOCK_VOUCHERS = "".join(
    _VOUCHER_GUARD.format(key=key, status=status, extra=extra)
    for key, status, extra in (
        ("vouchers_redeemed", "'issued'", ""),
        ("vouchers_voided", "'issued', 'expired'", ""),
        (
            "vouchers_restored",
            "'redeemed'",
            "\n              AND v.redeemed_sale_id = (r->>'sale_id')::bigint",
        ),
    )
)
WRITE_VOUCHERS = """
    IF p_plan ? 'vouchers_redeemed' THEN
        UPDATE vouchers AS v
        SET status = 'redeemed', redeemed_at = v_now, redeemed_member_id = p_member,
            redeemed_sale_id = (r->>'sale_id')::bigint, redeemed_store = r->>'store_code',
            redeemed_receipt = r->>'receipt_no', redeemed_amount = (r->>'amount')::numeric,
            store_borne = (r->>'store_borne')::numeric,
            supplier_borne = (r->>'supplier_borne')::numeric, updated_at = now()
        FROM jsonb_array_elements(p_plan->'vouchers_redeemed') AS r
        WHERE v.tenant_id = p_tenant AND v.member_id = (r->>'holder')::uuid
          AND v.code = r->>'code';
    END IF;
    IF p_plan ? 'vouchers_voided' THEN
        UPDATE vouchers AS v
        SET status = 'voided', voided_at = v_now, void_reason = r->>'reason', updated_at = now()
        FROM jsonb_array_elements(p_plan->'vouchers_voided') AS r
        WHERE v.tenant_id = p_tenant AND v.member_id = (r->>'holder')::uuid
          AND v.code = r->>'code';
    END IF;
    IF p_plan ? 'vouchers_restored' THEN
        UPDATE vouchers AS v
        SET status = 'issued', redeemed_at = NULL, redeemed_member_id = NULL,
            redeemed_sale_id = NULL, redeemed_store = NULL, redeemed_receipt = NULL,
            redeemed_amount = NULL, store_borne = NULL, supplier_borne = NULL, updated_at = now()
        FROM jsonb_array_elements(p_plan->'vouchers_restored') AS r
        WHERE v.tenant_id = p_tenant AND v.member_id = (r->>'holder')::uuid
          AND v.code = r->>'code';
    END IF;
    IF p_plan ? 'vouchers_issued' THEN
        INSERT INTO voucher_codes (tenant_id, code, member_id)
        SELECT p_tenant, r->>'code', p_member
        FROM jsonb_array_elements(p_plan->'vouchers_issued') AS r;
        INSERT INTO vouchers (tenant_id, member_id, code, template_code, status, valid_from,
                              valid_to, source, source_ref, campaign_code, issued_at)
        SELECT p_tenant, p_member, r->>'code', r->>'template', 'issued',
               (r->>'valid_from')::timestamptz, (r->>'valid_to')::timestamptz, r->>'source',
               r->>'source_ref', r->>'campaign', v_now
        FROM jsonb_array_elements(p_plan->'vouchers_issued') AS r;
    END IF;"""


def _with_vouchers(body: str) -> str:
    """The body with the voucher fragments' places: guards before the claims, writes last."""
    claims = "    -- 2. Claims:"
    done = "    RETURN 'applied';"
    return body.replace(claims, "    -- LOCK_VOUCHERS\n\n" + claims).replace(
        done, "    -- WRITE_VOUCHERS\n" + done
    )


def _apply_ledger_plan(body: str = _BODY, **fragments: str) -> PGFunction:
    definition = body
    for name, text in fragments.items():
        definition = re.sub(f"^ *-- {name}$", _literally(text.strip("\n")), definition, flags=re.M)
    return PGFunction(schema="public", signature=SIGNATURE, definition=definition)


_202612021100 = {
    "LOCK_TIERS": LOCK_TIERS_202612021100,
    "CLAIM_SALE": CLAIM_SALE_202612021100,
    "CLAIM_RETURN": CLAIM_RETURN_202612021100,
    "MOVE_POINTS": MOVE_POINTS_202612021100,
    "ADD_TOTALS": ADD_TOTALS_202612021100,
    "MOVE_TIERS": MOVE_TIERS_202612021100,
    "TIER_EVENTS": TIER_EVENTS_202612021100,
}
# As the migrations that created them: 202612021100, 202612031300, 202612031400,
# 202612031500, then 202612031700 (the current one). The migration that replaces each
# restores it on downgrade.
APPLY_LEDGER_PLAN_202612021100 = _apply_ledger_plan(**_202612021100)
APPLY_LEDGER_PLAN_202612031300 = _apply_ledger_plan(
    **(_202612021100 | {"CLAIM_RETURN": CLAIM_RETURN})
)
APPLY_LEDGER_PLAN_202612031400 = _apply_ledger_plan(
    **(_202612021100 | {"CLAIM_RETURN": CLAIM_RETURN, "TIER_EVENTS": TIER_EVENTS})
)
_202612031500 = {
    "LOCK_TIERS": LOCK_TIERS,
    "CLAIM_SALE": CLAIM_SALE,
    "CLAIM_RETURN": CLAIM_RETURN,
    "MOVE_POINTS": MOVE_POINTS,
    "ADD_TOTALS": ADD_TOTALS,
    "MOVE_TIERS": MOVE_TIERS,
    "TIER_EVENTS": TIER_EVENTS,
}
APPLY_LEDGER_PLAN_202612031500 = _apply_ledger_plan(**_202612031500)
APPLY_LEDGER_PLAN = _apply_ledger_plan(
    _with_vouchers(_BODY),
    **_202612031500,
    LOCK_VOUCHERS=LOCK_VOUCHERS,
    WRITE_VOUCHERS=WRITE_VOUCHERS,
)
