"""Vouchers for till tests: templates and 返券 rules through the API; vouchers with any window
and the state a till leaves them in, straight in the database."""

from datetime import UTC, datetime, timedelta

from app.domain.voucher_codes import new_code
from tests.factories.database import sql


async def template(client, tenant, code: str = "V18", **fields) -> str:
    """A template through the API: 18.00 off, valid 30 days from issue, unless ``fields``."""
    body = {"code": code, "name": code, "kind": "amount_off", "valid_days": 30, **fields}
    if body["kind"] != "percent_off":
        body.setdefault("face_value", "18.00")
    r = await client.post("/v1/voucher-templates", json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    return code


async def voucher(
    url: str,
    tenant_id: str,
    member_id: str,
    template_code: str = "V18",
    *,
    days: float = 30,
    starts_in_days: float = -1,
    campaign: str | None = None,
) -> str:
    code = new_code()
    now = datetime.now(UTC)
    await sql(
        url,
        """
        WITH c AS (
          INSERT INTO voucher_codes (tenant_id, code, member_id) VALUES (:tenant, :code, :member)
          RETURNING code)
        INSERT INTO vouchers (tenant_id, member_id, code, template_code, status, valid_from,
                              valid_to, source, campaign_code)
        SELECT :tenant, :member, c.code, :template, 'issued', :valid_from, :valid_to,
               :source, :campaign
        FROM c
        """,
        tenant=tenant_id,
        member=member_id,
        code=code,
        template=template_code,
        valid_from=now + timedelta(days=starts_in_days),
        valid_to=now + timedelta(days=days),
        source="campaign" if campaign else "manual",
        campaign=campaign,
    )
    return code


async def voucher_row(url: str, tenant_id: str, code: str) -> dict:
    rows = await sql(
        url,
        "SELECT status, redeemed_amount, store_borne, supplier_borne, redeemed_receipt, "
        "void_reason FROM vouchers WHERE tenant_id = :t AND code = :c",
        t=tenant_id,
        c=code,
    )
    return dict(rows[0]._mapping)


async def set_voucher_on_return(url: str, tenant_id: str, mode: str) -> None:
    await sql(
        url,
        "INSERT INTO voucher_settings (tenant_id, voucher_on_return) VALUES (:t, :m) "
        "ON CONFLICT (tenant_id) DO UPDATE SET voucher_on_return = :m",
        t=tenant_id,
        m=mode,
    )


async def rule(client, tenant, code: str = "R200", **fields) -> None:
    """A 返券 rule through the API: a V20 voucher per full 200.00, unless ``fields``."""
    body = {"code": code, "name": code, "template": "V20", "per_amount": "200.00", **fields}
    r = await client.post("/v1/voucher-rules", json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
