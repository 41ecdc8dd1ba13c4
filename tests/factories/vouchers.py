"""Voucher templates and vouchers through the API, and what only time or a till would do to
a voucher (pass its validity, redeem it), written straight to the database; templates
written straight to the database too, for tests of what uses them."""

from __future__ import annotations

import uuid
from datetime import datetime

from tests.factories.database import sql

AMOUNT_OFF = {"name": "18 off", "kind": "amount_off", "face_value": "18.00", "valid_days": 30}


def template(code: str, **fields) -> dict:
    return {"code": code, **AMOUNT_OFF, **fields}


async def create_template(client, tenant, code: str, **fields) -> dict:
    r = await client.post(
        "/v1/voucher-templates", json=template(code, **fields), headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    return r.json()


async def new_member(client, tenant, name: str = "王芳") -> str:
    r = await client.post("/v1/members", json={"name": name}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def issue_voucher(client, tenant, template_code: str, member_id: str, **fields) -> dict:
    body = {"template": template_code, "member_id": member_id, **fields}
    r = await client.post("/v1/vouchers", json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def backdate(database_url: str, tenant_id: str, code: str, days: int) -> None:
    """Move the voucher's window ``days`` into the past (as if issued then)."""
    await sql(
        database_url,
        "UPDATE vouchers SET valid_from = valid_from - make_interval(days => :d), "
        "valid_to = valid_to - make_interval(days => :d), "
        "issued_at = issued_at - make_interval(days => :d) WHERE tenant_id = :t AND code = :c",
        d=days,
        t=uuid.UUID(tenant_id),
        c=code,
    )


async def mark_redeemed(database_url: str, tenant_id: str, code: str) -> None:
    """What a sale paying with the voucher writes (the till is another module's)."""
    await sql(
        database_url,
        "UPDATE vouchers SET status = 'redeemed', redeemed_at = now(), redeemed_store = 'S01', "
        "redeemed_receipt = 'R-1', redeemed_amount = 18.00, redeemed_sale_id = 7, "
        "redeemed_member_id = member_id WHERE tenant_id = :t AND code = :c",
        t=uuid.UUID(tenant_id),
        c=code,
    )


async def insert_template(
    database_url: str,
    tenant_id: str,
    code: str = "CNY18",
    *,
    face_value: str = "18.00",
    valid_days: int | None = 30,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
) -> str:
    """An amount-off template, valid ``valid_days`` from issue (else from..to)."""
    await sql(
        database_url,
        "INSERT INTO voucher_templates (tenant_id, code, name, kind, face_value, valid_days, "
        "valid_from, valid_to) VALUES (:t, :code, :code, 'amount_off', CAST(:face AS numeric), "
        ":days, :valid_from, :valid_to)",
        t=tenant_id,
        code=code,
        face=face_value,
        days=valid_days,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    return code


async def vouchers_of(database_url: str, tenant_id: str) -> list:
    """(member id, code, template, status, source, source_ref) of every voucher of the tenant."""
    return await sql(
        database_url,
        "SELECT member_id::text, code, template_code, status, source, source_ref FROM vouchers "
        "WHERE tenant_id = :t ORDER BY member_id, code",
        t=tenant_id,
    )
