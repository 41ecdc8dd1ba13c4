"""Vouchers: issuing them (each code claimed in ``voucher_codes`` first, then written on its
holder's shard), reading, voiding and expiring them, and the tenant's templates.

Every statement on ``vouchers`` names the holder: a code is looked up in ``voucher_codes``
first (tenant, code → member), as a card number is in ``card_numbers``."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import delete, exists, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.voucher_states import Redemption, VoucherRecord
from app.domain.voucher_templates import References, TemplateRecord, api_values
from app.domain.vouchers import Kind, NewVoucher, Scope, Source, Status, Template, VoucherRule
from app.models import (
    CardClassRow,
    CardNumberRow,
    MemberRow,
    SharingGroupRow,
    StoreRow,
    VoucherCodeRow,
    VoucherRow,
    VoucherRuleRow,
    VoucherTemplateRow,
)
from app.repositories.tenancy import as_uuid

T = TypeVar("T", bound=Template)


def template_of(row: VoucherTemplateRow) -> Template:
    return _template(Template, row)


def _template(cls: type[T], row: VoucherTemplateRow, **extra) -> T:
    return cls(
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
        **extra,
    )


def _record(row: VoucherTemplateRow) -> TemplateRecord:
    return _template(TemplateRecord, row, created_at=row.created_at, updated_at=row.updated_at)


def _voucher(row: VoucherRow, bearer: bool | None) -> VoucherRecord:
    redemption = None
    if row.redeemed_at is not None:
        redemption = Redemption(
            store_code=row.redeemed_store,
            receipt_no=row.redeemed_receipt,
            amount=row.redeemed_amount,
            redeemed_at=row.redeemed_at,
            sale_id=row.redeemed_sale_id,
        )
    return VoucherRecord(
        code=row.code,
        template=row.template_code,
        stored_status=Status(row.status),
        member_id=str(row.member_id),
        bearer=bool(bearer),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        source=Source(row.source),
        reference=row.source_ref,
        campaign=row.campaign_code,
        issued_at=row.issued_at,
        redemption=redemption,
        voided_at=row.voided_at,
        void_reason=row.void_reason,
    )


def _with_bearer():
    """Vouchers with their template's ``bearer`` (a template with vouchers is never deleted)."""
    t = VoucherTemplateRow
    return select(VoucherRow, t.bearer).outerjoin(
        t, (t.tenant_id == VoucherRow.tenant_id) & (t.code == VoucherRow.template_code)
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

    # --- templates -------------------------------------------------------------------------

    async def template(
        self, tenant_id: str, code: str, *, lock: str | None = None
    ) -> TemplateRecord | None:
        """``lock``: "update" (a change or delete) or "share" (an issue: a delete waits for
        it and then sees its voucher)."""
        query = select(VoucherTemplateRow).where(
            VoucherTemplateRow.tenant_id == as_uuid(tenant_id), VoucherTemplateRow.code == code
        )
        if lock == "update":
            query = query.with_for_update()
        elif lock == "share":
            query = query.with_for_update(read=True)
        row = await self.session.scalar(query)
        return _record(row) if row else None

    async def list_templates(
        self, tenant_id: str, after: str | None, limit: int
    ) -> builtins.list[TemplateRecord]:
        query = select(VoucherTemplateRow).where(VoucherTemplateRow.tenant_id == as_uuid(tenant_id))
        if after is not None:
            query = query.where(VoucherTemplateRow.code > after)
        rows = await self.session.scalars(query.order_by(VoucherTemplateRow.code).limit(limit + 1))
        return [_record(row) for row in rows]

    async def add_template(self, tenant_id: str, template: Template) -> TemplateRecord:
        row = VoucherTemplateRow(
            tenant_id=as_uuid(tenant_id), code=template.code, **api_values(template)
        )
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row)
        return _record(row)

    async def update_template(self, tenant_id: str, template: Template) -> TemplateRecord:
        t = VoucherTemplateRow
        row = await self.session.scalar(
            update(t)
            .where(t.tenant_id == as_uuid(tenant_id), t.code == template.code)
            .values(**api_values(template), updated_at=func.now())
            .returning(t)
            .execution_options(populate_existing=True)
        )
        assert row is not None  # locked by the caller
        return _record(row)

    async def delete_template(self, tenant_id: str, code: str) -> None:
        t = VoucherTemplateRow
        await self.session.execute(
            delete(t).where(t.tenant_id == as_uuid(tenant_id), t.code == code)
        )

    async def template_in_use(self, tenant_id: str, code: str) -> bool:
        """Whether any voucher of the template was ever issued (index by tenant, template)."""
        v = VoucherRow
        return bool(
            await self.session.scalar(
                select(exists().where(v.tenant_id == as_uuid(tenant_id), v.template_code == code))
            )
        )

    async def references(self, tenant_id: str, template: Template) -> References:
        """Which of the stores, card classes and sharing group ``template`` names exist."""
        tenant = as_uuid(tenant_id)

        async def known(model, codes: builtins.list[str]) -> frozenset[str]:
            if not codes:
                return frozenset()
            rows = await self.session.scalars(
                select(model.code).where(model.tenant_id == tenant, model.code.in_(codes))
            )
            return frozenset(rows)

        group = [template.sharing_group] if template.sharing_group else []
        return References(
            stores=await known(StoreRow, sorted(template.stores)),
            card_classes=await known(CardClassRow, sorted(template.card_classes)),
            sharing_groups=await known(SharingGroupRow, group),
        )

    # --- holders -----------------------------------------------------------------------------

    async def card_holder(self, tenant_id: str, card_number: str) -> str | None:
        member = await self.session.scalar(
            select(CardNumberRow.member_id).where(
                CardNumberRow.tenant_id == as_uuid(tenant_id), CardNumberRow.number == card_number
            )
        )
        return str(member) if member else None

    async def member_erased(
        self, tenant_id: str, member_id: str, *, lock: bool = False
    ) -> bool | None:
        """None when there is no such member, else whether it was erased. ``lock`` holds the
        member (FOR NO KEY UPDATE: rows referencing it may still be written) so that two
        issues to one member count each other's vouchers."""
        member = as_uuid(member_id)
        if member is None:
            return None
        query = select(MemberRow.erased_at).where(
            MemberRow.tenant_id == as_uuid(tenant_id), MemberRow.id == member
        )
        if lock:
            query = query.with_for_update(key_share=True)
        found = (await self.session.execute(query)).first()
        return None if found is None else found.erased_at is not None

    async def held(self, tenant_id: str, member_id: str, template: str) -> int:
        """The member's vouchers of ``template``, voided ones aside."""
        v = VoucherRow
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    v.tenant_id == as_uuid(tenant_id),
                    v.member_id == uuid.UUID(member_id),
                    v.template_code == template,
                    v.status != Status.VOIDED.value,
                )
            )
            or 0
        )

    # --- vouchers ----------------------------------------------------------------------------

    async def _holder(self, tenant: uuid.UUID | None, code: str) -> uuid.UUID | None:
        return await self.session.scalar(
            select(VoucherCodeRow.member_id).where(
                VoucherCodeRow.tenant_id == tenant, VoucherCodeRow.code == code
            )
        )

    async def get(self, tenant_id: str, code: str) -> VoucherRecord | None:
        """The voucher ``code`` (already canonical) of the tenant, or None."""
        tenant = as_uuid(tenant_id)
        member = await self._holder(tenant, code)
        if member is None:
            return None
        v = VoucherRow
        found = (
            await self.session.execute(
                _with_bearer().where(v.tenant_id == tenant, v.member_id == member, v.code == code)
            )
        ).first()
        return _voucher(*found) if found else None

    async def list_for_member(
        self,
        tenant_id: str,
        member_id: str,
        status: Status | None,
        now: datetime,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> builtins.list[VoucherRecord]:
        """Newest first by (issued_at, code); ``status`` as shown (issued past its validity
        is expired)."""
        v = VoucherRow
        query = _with_bearer().where(
            v.tenant_id == as_uuid(tenant_id), v.member_id == uuid.UUID(member_id)
        )
        if status is Status.ISSUED:
            query = query.where(v.status == Status.ISSUED.value, v.valid_to > now)
        elif status is Status.EXPIRED:
            query = query.where(
                (v.status == Status.EXPIRED.value)
                | ((v.status == Status.ISSUED.value) & (v.valid_to <= now))
            )
        elif status is not None:
            query = query.where(v.status == status.value)
        if before is not None:
            query = query.where(tuple_(v.issued_at, v.code) < before)
        query = query.order_by(v.issued_at.desc(), v.code.desc()).limit(limit + 1)
        return [_voucher(*row) for row in (await self.session.execute(query)).all()]

    async def void(
        self, tenant_id: str, code: str, reason: str, now: datetime
    ) -> VoucherRecord | None:
        """issued (and still valid) → voided, guarded by the status so that a void racing a
        redemption can't both win; None when nothing was voided."""
        tenant = as_uuid(tenant_id)
        member = await self._holder(tenant, code)
        if member is None:
            return None
        v = VoucherRow
        done = await self.session.scalar(
            update(v)
            .where(
                v.tenant_id == tenant,
                v.member_id == member,
                v.code == code,
                v.status == Status.ISSUED.value,
                v.valid_to > now,
            )
            .values(status=Status.VOIDED.value, voided_at=now, void_reason=reason, updated_at=now)
            .returning(v.code)
        )
        return await self.get(tenant_id, code) if done else None

    async def expire_due(self, tenant_id: str, now: datetime) -> int:
        """The daily job, set-based: every issued voucher of the tenant past its validity."""
        v = VoucherRow
        result = await self.session.execute(
            update(v)
            .where(
                v.tenant_id == as_uuid(tenant_id),
                v.status == Status.ISSUED.value,
                v.valid_to <= now,
            )
            .values(status=Status.EXPIRED.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount  # type: ignore[attr-defined]
