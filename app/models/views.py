"""The views, declared once here; migrations create them from these declarations. A view
that changes keeps its old definition here, named by the revision that created it, for that
revision and for the downgrade of the one that replaced it.

``member_transactions``: sales through the API, net of their returns, and imported history,
what every analysis reads. Each row is a purchase (RFM F, BG/NBD repeat counting) at its net
amount, 0 included: an imported receipt of 0 is a purchase (the CDNOW sample has eight), and
so is an API sale whose lines come to 0. An API sale returned in full (its returns leave
nothing) is no purchase: the visit was undone, and the history import, which takes net
amounts only, is told to leave such receipts out too.
"""

MEMBER_TRANSACTIONS_202611232010 = """
CREATE OR REPLACE VIEW member_transactions AS
SELECT s.tenant_id, s.member_id, s.occurred_at, n.amount, 'sale'::text AS source,
       s.store_code, s.receipt_no, s.id AS sale_id
FROM sales AS s
CROSS JOIN LATERAL (
    SELECT coalesce((SELECT sum((l.value ->> 'final_amount')::numeric)
                     FROM jsonb_array_elements(s.detail -> 'lines') AS l), 0)
         - coalesce((SELECT sum((r.detail ->> 'amount')::numeric)
                     FROM sale_returns AS r WHERE r.sale_id = s.id), 0) AS amount
) AS n
WHERE jsonb_typeof(s.detail -> 'lines') = 'array' AND n.amount > 0
UNION ALL
SELECT i.tenant_id, i.member_id, i.occurred_at, i.amount, 'import'::text AS source,
       i.store_code, i.receipt_no, NULL::bigint AS sale_id
FROM imported_transactions AS i
WHERE i.amount > 0
"""

# The same rows. A sale's returns are joined by the sale's whole key, the member included:
# Citus runs a join of co-located tables on their distribution column on each shard, and
# refuses a correlated subquery under a FROM-less one.
MEMBER_TRANSACTIONS_202612031500 = """
CREATE OR REPLACE VIEW member_transactions AS
SELECT s.tenant_id, s.member_id, s.occurred_at,
       coalesce(sold.amount, 0) - coalesce(back.amount, 0) AS amount, 'sale'::text AS source,
       s.store_code, s.receipt_no, s.id AS sale_id
FROM sales AS s
CROSS JOIN LATERAL (
    SELECT sum((l.value ->> 'final_amount')::numeric) AS amount
    FROM jsonb_array_elements(s.detail -> 'lines') AS l
) AS sold
LEFT JOIN (
    SELECT r.tenant_id, r.member_id, r.sale_id, sum((r.detail ->> 'amount')::numeric) AS amount
    FROM sale_returns AS r GROUP BY r.tenant_id, r.member_id, r.sale_id
) AS back ON back.tenant_id = s.tenant_id AND back.member_id = s.member_id
         AND back.sale_id = s.id
WHERE jsonb_typeof(s.detail -> 'lines') = 'array'
  AND coalesce(sold.amount, 0) - coalesce(back.amount, 0) > 0
UNION ALL
SELECT i.tenant_id, i.member_id, i.occurred_at, i.amount, 'import'::text AS source,
       i.store_code, i.receipt_no, NULL::bigint AS sale_id
FROM imported_transactions AS i
WHERE i.amount > 0
"""

# Purchases of 0 count (above): imported rows all, sales unless their returns took all back.
MEMBER_TRANSACTIONS = """
CREATE OR REPLACE VIEW member_transactions AS
SELECT s.tenant_id, s.member_id, s.occurred_at,
       coalesce(sold.amount, 0) - coalesce(back.amount, 0) AS amount, 'sale'::text AS source,
       s.store_code, s.receipt_no, s.id AS sale_id
FROM sales AS s
CROSS JOIN LATERAL (
    SELECT sum((l.value ->> 'final_amount')::numeric) AS amount
    FROM jsonb_array_elements(s.detail -> 'lines') AS l
) AS sold
LEFT JOIN (
    SELECT r.tenant_id, r.member_id, r.sale_id, sum((r.detail ->> 'amount')::numeric) AS amount
    FROM sale_returns AS r GROUP BY r.tenant_id, r.member_id, r.sale_id
) AS back ON back.tenant_id = s.tenant_id AND back.member_id = s.member_id
         AND back.sale_id = s.id
WHERE jsonb_typeof(s.detail -> 'lines') = 'array'
  AND (back.amount IS NULL OR coalesce(sold.amount, 0) - back.amount > 0)
UNION ALL
SELECT i.tenant_id, i.member_id, i.occurred_at, i.amount, 'import'::text AS source,
       i.store_code, i.receipt_no, NULL::bigint AS sale_id
FROM imported_transactions AS i
"""
