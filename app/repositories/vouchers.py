"""Vouchers: issuing them (each code claimed in ``voucher_codes`` first, then written on its
holder's shard) and the tenant's templates as the domain sees them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.vouchers import Kind, NewVoucher, Scope, Status, Template, VoucherRule
from app.models import VoucherCodeRow, VoucherRow, VoucherRuleRow, VoucherTemplateRow
from app.repositories.tenancy import as_uuid


def template_of(row: VoucherTemplateRow) -> Template:
    return Template(
        code=row.code,
        name=row.name,
        kind=Kind(row.kind),
        face_value=row.face_value,
        rate=row.rate,
        max_discount=row.max_discount,
        min_spend=row.min_spend,
        stores=frozenset(row.stores),
        scope=Scope.of(row.include, row.exclude),
        card_classes=frozenset(row.card_classes),
        bearer=row.bearer,
        valid_days=row.valid_days,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        per_member_limit=row.per_member_limit,
        sharing_group=row.sharing_group,
        store_share=row.store_share,
    )


class VoucherRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def templates(self, tenant_id: str) -> list[Template]:
        rows = await self.session.scalars(
            select(VoucherTemplateRow)
            .where(VoucherTemplateRow.tenant_id == as_uuid(tenant_id))
            .order_by(VoucherTemplateRow.code)
        )
        return [template_of(row) for row in rows]

    async def rules(self, tenant_id: str) -> list[VoucherRule]:
        """The tenant's active 返券 rules."""
        rows = await self.session.scalars(
            select(VoucherRuleRow)
            .where(VoucherRuleRow.tenant_id == as_uuid(tenant_id), VoucherRuleRow.active)
            .order_by(VoucherRuleRow.code)
        )
        return [
            VoucherRule(
                code=row.code,
                template=row.template_code,
                per_amount=row.per_amount,
                max_per_receipt=row.max_per_receipt,
                card_classes=frozenset(row.card_classes),
                stores=frozenset(row.stores),
                scope=Scope.of(row.include, row.exclude),
                starts_at=row.starts_at,
                ends_at=row.ends_at,
            )
            for row in rows
        ]

    async def issue(self, tenant_id: str, vouchers: Sequence[NewVoucher]) -> None:
        """Write ``vouchers`` (status issued). A code drawn twice is a 409 by its key, never a
        second voucher."""
        if not vouchers:
            return
        tenant = as_uuid(tenant_id)
        await self.session.execute(
            insert(VoucherCodeRow),
            [
                {"tenant_id": tenant, "code": v.code, "member_id": uuid.UUID(v.holder)}
                for v in vouchers
            ],
        )
        await self.session.execute(
            insert(VoucherRow),
            [
                {
                    "tenant_id": tenant,
                    "member_id": uuid.UUID(v.holder),
                    "code": v.code,
                    "template_code": v.template,
                    "status": Status.ISSUED.value,
                    "valid_from": v.valid_from,
                    "valid_to": v.valid_to,
                    "source": v.source.value,
                    "source_ref": v.source_ref,
                    "campaign_code": v.campaign,
                }
                for v in vouchers
            ],
        )
