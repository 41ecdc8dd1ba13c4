"""Voucher templates written straight into the database (for tests of what uses them), and
the vouchers a tenant holds."""

from datetime import datetime

from tests.factories.database import sql


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
