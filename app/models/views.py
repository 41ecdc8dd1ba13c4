"""The views, declared once here; migrations create them from these declarations. A view
that changes keeps its old definition here, named by the revision that created it, for that
revision and for the downgrade of the one that replaced it.

``member_transactions``: sales through the API, net of their returns, and imported history,
what every analysis reads. A receipt whose net amount is not positive (fully returned, or a
zero receipt) is no purchase.
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
  AND coalesce(sold.amount, 0) - coalesce(back.amount, 0) > 0
UNION ALL
SELECT i.tenant_id, i.member_id, i.occurred_at, i.amount, 'import'::text AS source,
       i.store_code, i.receipt_no, NULL::bigint AS sale_id
FROM imported_transactions AS i
WHERE i.amount > 0
"""
