"""Voucher templates and vouchers for till tests, written straight to the database (the
checkout reads templates from its pricing snapshot, so the version is bumped as the API does)."""

import json
from datetime import UTC, datetime, timedelta

from app.domain.voucher_codes import new_code
from tests.factories.database import sql


async def template(url: str, tenant_id: str, code: str = "V18", **fields) -> str:
    row = {
        "name": code,
        "kind": "amount_off",
        "face_value": "18.00",
        "rate": None,
        "max_discount": None,
        "min_spend": None,
        "stores": [],
        "include": {},
        "exclude": {},
        "card_classes": [],
        "bearer": False,
        "valid_days": 30,
        "per_member_limit": None,
        "sharing_group": None,
        "store_share": None,
        **fields,
    }
    await sql(
        url,
        """
        WITH t AS (
          INSERT INTO voucher_templates (tenant_id, code, name, kind, face_value, rate,
            max_discount, min_spend, stores, include, exclude, card_classes, bearer, valid_days,
            per_member_limit, sharing_group, store_share)
          VALUES (:tenant, :code, :name, :kind, CAST(:face_value AS numeric),
            CAST(:rate AS numeric), CAST(:max_discount AS numeric), CAST(:min_spend AS numeric),
            :stores, CAST(:include AS jsonb), CAST(:exclude AS jsonb), :card_classes, :bearer,
            :valid_days, :per_member_limit, :sharing_group, CAST(:store_share AS numeric))
          RETURNING tenant_id)
        INSERT INTO pricing_versions (tenant_id, version) SELECT tenant_id, 1 FROM t
        ON CONFLICT (tenant_id) DO UPDATE SET version = pricing_versions.version + 1
        """,
        tenant=tenant_id,
        code=code,
        **{**row, "include": json.dumps(row["include"]), "exclude": json.dumps(row["exclude"])},
    )
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


async def rule(url: str, tenant_id: str, code: str = "R200", **fields) -> None:
    row = {
        "name": code,
        "template_code": "V20",
        "per_amount": "200.00",
        "max_per_receipt": None,
        **fields,
    }
    await sql(
        url,
        """
        WITH r AS (
          INSERT INTO voucher_rules (tenant_id, code, name, template_code, per_amount,
                                     max_per_receipt)
          VALUES (:tenant, :code, :name, :template_code, CAST(:per_amount AS numeric),
                  :max_per_receipt)
          RETURNING tenant_id)
        INSERT INTO pricing_versions (tenant_id, version) SELECT tenant_id, 1 FROM r
        ON CONFLICT (tenant_id) DO UPDATE SET version = pricing_versions.version + 1
        """,
        tenant=tenant_id,
        code=code,
        **row,
    )
