"""返券 rules (voucher_rules), and which templates, classes and stores some terms name exist
(shared with the rewards catalogue)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.voucher_rules import StoredVoucherRule, VoucherRuleTerms
from app.domain.voucher_terms import References
from app.models import CardClassRow, StoreRow, VoucherRuleRow, VoucherTemplateRow


async def references(
    session: AsyncSession,
    tenant_id: str,
    *,
    templates: Collection[str] = (),
    card_classes: Collection[str] = (),
    stores: Collection[str] = (),
) -> References:
    """Those of the codes given that exist in the tenant (one query)."""
    tenant = uuid.UUID(tenant_id)
    found = select(VoucherTemplateRow.code.label("code"), literal("t").label("kind")).where(
        VoucherTemplateRow.tenant_id == tenant, VoucherTemplateRow.code.in_(list(templates))
    )
    classes = select(CardClassRow.code, literal("c")).where(
        CardClassRow.tenant_id == tenant, CardClassRow.code.in_(list(card_classes))
    )
    shops = select(StoreRow.code, literal("s")).where(
        StoreRow.tenant_id == tenant, StoreRow.code.in_(list(stores))
    )
    rows = (await session.execute(found.union_all(classes, shops))).all()
    by_kind: dict[str, set[str]] = {"t": set(), "c": set(), "s": set()}
    for code, kind in rows:
        by_kind[kind].add(code)
    return References(frozenset(by_kind["t"]), frozenset(by_kind["c"]), frozenset(by_kind["s"]))


def _rule(row: VoucherRuleRow) -> StoredVoucherRule:
    return StoredVoucherRule(
        code=row.code,
        name=row.name,
        template=row.template_code,
        per_amount=row.per_amount,
        max_per_receipt=row.max_per_receipt,
        card_classes=tuple(row.card_classes),
        stores=tuple(row.stores),
        include={k: tuple(v) for k, v in row.include.items()},
        exclude={k: tuple(v) for k, v in row.exclude.items()},
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _values(terms: VoucherRuleTerms) -> dict:
    """The columns of ``terms`` (lists sorted and without repeats)."""
    return {
        "name": terms.name,
        "template_code": terms.template,
        "per_amount": terms.per_amount,
        "max_per_receipt": terms.max_per_receipt,
        "card_classes": sorted(set(terms.card_classes)),
        "stores": sorted(set(terms.stores)),
        "include": {k: sorted(set(v)) for k, v in terms.include.items() if v},
        "exclude": {k: sorted(set(v)) for k, v in terms.exclude.items() if v},
        "starts_at": terms.starts_at,
        "ends_at": terms.ends_at,
        "active": terms.active,
    }


class VoucherRuleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def references(self, tenant_id: str, **codes: Collection[str]) -> References:
        return await references(self.session, tenant_id, **codes)

    async def add(self, tenant_id: str, terms: VoucherRuleTerms) -> StoredVoucherRule | None:
        """The rule created; None when the code is taken."""
        row = await self.session.scalar(
            insert(VoucherRuleRow)
            .values(tenant_id=uuid.UUID(tenant_id), code=terms.code, **_values(terms))
            .on_conflict_do_nothing()
            .returning(VoucherRuleRow)
        )
        return _rule(row) if row is not None else None

    async def get(
        self, tenant_id: str, code: str, *, lock: bool = False
    ) -> StoredVoucherRule | None:
        query = select(VoucherRuleRow).where(
            VoucherRuleRow.tenant_id == uuid.UUID(tenant_id), VoucherRuleRow.code == code
        )
        row = await self.session.scalar(query.with_for_update() if lock else query)
        return _rule(row) if row is not None else None

    async def list(
        self, tenant_id: str, after: str | None, limit: int, active: bool | None
    ) -> list[StoredVoucherRule]:
        r = VoucherRuleRow
        query = select(r).where(r.tenant_id == uuid.UUID(tenant_id))
        if after is not None:
            query = query.where(r.code > after)
        if active is not None:
            query = query.where(r.active == active)
        rows = await self.session.scalars(query.order_by(r.code).limit(limit + 1))
        return [_rule(row) for row in rows]

    async def save(self, tenant_id: str, terms: VoucherRuleTerms) -> StoredVoucherRule:
        r = VoucherRuleRow
        row = await self.session.scalar(
            update(r)
            .where(r.tenant_id == uuid.UUID(tenant_id), r.code == terms.code)
            .values(**_values(terms), updated_at=func.now())
            .returning(r)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        assert row is not None  # locked by the caller
        return _rule(row)

    async def delete(self, tenant_id: str, code: str) -> None:
        r = VoucherRuleRow
        await self.session.execute(
            delete(r).where(r.tenant_id == uuid.UUID(tenant_id), r.code == code)
        )
