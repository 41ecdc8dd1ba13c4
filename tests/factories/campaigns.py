"""Campaign setup too big or too early for the API: bulk members in a generated group, and
redemptions written as the till writes them (after a real sale through POST /v1/sales)."""

from __future__ import annotations

from tests.factories.database import sql


async def bulk_group(url: str, tenant_id: str, code: str, n: int) -> None:
    """``n`` bare members and a generated group ``code`` of exactly them."""
    await sql(
        url,
        "WITH m AS (INSERT INTO members (id, tenant_id, name)"
        " SELECT gen_random_uuid(), CAST(:tenant AS uuid), 'bulk ' || i"
        " FROM generate_series(1, :n) AS i RETURNING id)"
        " INSERT INTO member_group_members (tenant_id, group_code, member_id)"
        " SELECT CAST(:tenant AS uuid), :code, m.id FROM m",
        tenant=tenant_id,
        code=code,
        n=n,
    )
    await sql(
        url,
        "INSERT INTO member_groups (tenant_id, code, name, criteria, status, member_count,"
        " generated_at, generated_as_of)"
        " VALUES (CAST(:tenant AS uuid), :code, 'bulk', '{}', 'generated', :n, now(),"
        " current_date)",
        tenant=tenant_id,
        code=code,
        n=n,
    )


async def redeem(
    url: str,
    tenant_id: str,
    code: str,
    receipt: str,
    amount: str = "18.00",
    store_borne: str | None = None,
    store_code: str = "S01",
) -> None:
    """Mark voucher ``code`` redeemed by the sale of ``receipt`` at ``store_code`` (made
    through POST /v1/sales), as the till will: status, the sale, its store and receipt, the
    amount and who bears it."""
    await sql(
        url,
        "UPDATE vouchers AS v SET status = 'redeemed', redeemed_at = s.occurred_at,"
        " redeemed_member_id = s.member_id, redeemed_sale_id = s.id,"
        " redeemed_store = s.store_code, redeemed_receipt = s.receipt_no,"
        " redeemed_amount = CAST(:amount AS numeric),"
        " store_borne = CAST(:store AS numeric),"
        " supplier_borne = CAST(:amount AS numeric) - CAST(:store AS numeric)"
        " FROM sales AS s"
        " WHERE v.tenant_id = CAST(:tenant AS uuid) AND v.code = :code"
        " AND s.tenant_id = v.tenant_id AND s.store_code = :store_code"
        " AND s.receipt_no = :receipt",
        tenant=tenant_id,
        code=code,
        amount=amount,
        store=store_borne if store_borne is not None else amount,
        store_code=store_code,
        receipt=receipt,
    )
