"""Discount rule documents and what the checkout prices with: the rule entries in effect,
the stacking mode and the pricing version."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.discount_rules import (
    DiscountRule,
    RuleKind,
    RuleLine,
    RuleStatus,
    RuleSummary,
    RuleTerms,
)
from app.domain.pricing import Level, PointsRuleEntry, RuleEntry, StackingMode
from app.models import (
    CardClassRow,
    DiscountRuleEntryRow,
    DiscountRuleRow,
    PricingSettingsRow,
    PricingVersionRow,
)
from app.repositories.paging import newest_first

R, E = DiscountRuleRow, DiscountRuleEntryRow


def _plain(value: Decimal) -> Decimal:
    """Drop the column's trailing zeros: a rate set as "0.9" reads back as "0.9", not "0.9000"."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent  # a letter for NaN, which is kept as it is
    return normal.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else normal


def _header(row: DiscountRuleRow) -> dict:
    return {
        "id": row.id,
        "tenant_id": str(row.tenant_id),
        "kind": RuleKind(row.kind),
        "status": RuleStatus(row.status),
        "level": Level(row.level),
        "effective_from": row.effective_from,
        "effective_to": row.effective_to,
        "note": row.note,
        "approved_at": row.approved_at,
        "voided_at": row.voided_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


class DiscountRuleRepository:
    """Rule documents of both kinds (discount and points): every read names the kind, so a
    document of one kind is never found as the other."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def now(self) -> datetime:
        """The database clock (the transaction's start), so every worker stamps alike."""
        return (await self.session.execute(select(func.now()))).scalar_one()

    async def existing_classes(self, tenant_id: str, codes: set[str]) -> set[str]:
        """Those of ``codes`` that are card classes of the tenant."""
        rows = await self.session.scalars(
            select(CardClassRow.code).where(
                CardClassRow.tenant_id == uuid.UUID(tenant_id), CardClassRow.code.in_(codes)
            )
        )
        return set(rows)

    async def add(
        self, tenant_id: str, terms: RuleTerms, kind: RuleKind = RuleKind.DISCOUNT
    ) -> DiscountRule:
        row = DiscountRuleRow(
            tenant_id=uuid.UUID(tenant_id),
            kind=kind.value,
            level=terms.level.value,
            status=RuleStatus.DRAFT.value,
            effective_from=terms.effective_from,
            effective_to=terms.effective_to,
            note=terms.note,
        )
        self.session.add(row)
        await self.session.flush()
        await self._insert_entries(row, terms.entries)
        return await self._read(row)

    async def _insert_entries(self, row: DiscountRuleRow, entries: tuple[RuleLine, ...]) -> None:
        await self.session.execute(
            insert(E),
            [
                {
                    "rule_id": row.id,
                    "tenant_id": row.tenant_id,
                    "target": e.target,
                    "card_class": e.card_class,
                    "rate": e.rate,
                    "stackable": e.stackable,
                }
                for e in entries
            ],
        )

    async def _read(self, row: DiscountRuleRow) -> DiscountRule:
        await self.session.refresh(row)
        lines = await self.session.execute(
            select(E.target, E.card_class, E.rate, E.stackable)
            .where(E.tenant_id == row.tenant_id, E.rule_id == row.id)
            .order_by(E.id)
        )
        entries = tuple(RuleLine(t, c, _plain(r), s) for t, c, r, s in lines)
        return DiscountRule(**_header(row), entry_count=len(entries), entries=entries)

    async def _row(
        self, tenant_id: str, rule_id: int, lock: bool, kind: RuleKind
    ) -> DiscountRuleRow | None:
        query = select(R).where(
            R.tenant_id == uuid.UUID(tenant_id), R.id == rule_id, R.kind == kind.value
        )
        if lock:
            # populate_existing: a locked read must see the row as it is now, not as cached.
            query = query.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def get(
        self,
        tenant_id: str,
        rule_id: int,
        *,
        lock: bool = False,
        kind: RuleKind = RuleKind.DISCOUNT,
    ) -> DiscountRule | None:
        """``lock``: hold the document until commit, so concurrent transitions queue."""
        row = await self._row(tenant_id, rule_id, lock, kind)
        return await self._read(row) if row else None

    async def exists(
        self, tenant_id: str, rule_id: int, kind: RuleKind = RuleKind.DISCOUNT
    ) -> bool:
        return await self._row(tenant_id, rule_id, False, kind) is not None

    async def list(
        self,
        tenant_id: str,
        *,
        status: RuleStatus | None,
        level: Level | None,
        card_class: str | None,
        target: str | None,
        before: int | None,
        limit: int,
        kind: RuleKind = RuleKind.DISCOUNT,
    ) -> list[RuleSummary]:
        """Newest first, from the document after ``before``; entries only counted."""
        same_rule = (E.tenant_id == R.tenant_id, E.rule_id == R.id)
        count = select(func.count()).where(*same_rule).correlate(R).scalar_subquery()
        query = select(R, count).where(R.tenant_id == uuid.UUID(tenant_id), R.kind == kind.value)
        if status is not None:
            query = query.where(R.status == status.value)
        if level is not None:
            query = query.where(R.level == level.value)
        if card_class is not None or target is not None:
            # One entry must match both filters when both are given.
            matching = select(E.id).where(*same_rule)
            if card_class is not None:
                matching = matching.where(E.card_class == card_class)
            if target is not None:
                matching = matching.where(E.target == target)
            query = query.where(matching.correlate(R).exists())
        rows = await self.session.execute(newest_first(query, R.id, before, limit))
        return [RuleSummary(**_header(row), entry_count=n) for row, n in rows]

    async def save(self, rule: DiscountRule, *, entries: bool = False) -> DiscountRule:
        """Write ``rule``'s state (and, with ``entries``, replace its entries wholesale)."""
        row = await self._row(rule.tenant_id, rule.id, False, rule.kind)
        assert row is not None  # the caller read it, locked, in this unit of work
        row.level = rule.level.value
        row.status = rule.status.value
        row.effective_from = rule.effective_from
        row.effective_to = rule.effective_to
        row.note = rule.note
        row.approved_at = rule.approved_at
        row.voided_at = rule.voided_at
        row.updated_at = func.now()  # also when only the entries changed
        await self.session.flush()
        if entries:
            await self.session.execute(
                delete(E).where(E.tenant_id == row.tenant_id, E.rule_id == row.id)
            )
            await self._insert_entries(row, rule.entries)
        return await self._read(row)


class PricingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def version(self, tenant_id: str) -> int:
        """The tenant's pricing version; 0 until something that changes prices happened."""
        found = await self.session.scalar(
            select(PricingVersionRow.version).where(
                PricingVersionRow.tenant_id == uuid.UUID(tenant_id)
            )
        )
        return found or 0

    async def bump_pricing_version(self, tenant_id: str) -> None:
        """Call in the transaction of any change that alters prices: it commits with it, so
        every worker sees the new version exactly when it can see the change."""
        v = PricingVersionRow
        await self.session.execute(
            pg_insert(v)
            .values(tenant_id=uuid.UUID(tenant_id), version=1)
            .on_conflict_do_update(index_elements=[v.tenant_id], set_={"version": v.version + 1})
        )

    async def settings(self, tenant_id: str) -> StackingMode:
        """The stacking mode (会员控制参数 E3); ``threshold`` until one is set."""
        found = await self.session.scalar(
            select(PricingSettingsRow.stacking_mode).where(
                PricingSettingsRow.tenant_id == uuid.UUID(tenant_id)
            )
        )
        return StackingMode(found) if found else StackingMode.THRESHOLD

    async def put_settings(self, tenant_id: str, stacking_mode: StackingMode) -> None:
        s = PricingSettingsRow
        await self.session.execute(
            pg_insert(s)
            .values(tenant_id=uuid.UUID(tenant_id), stacking_mode=stacking_mode.value)
            .on_conflict_do_update(
                index_elements=[s.tenant_id],
                set_={"stacking_mode": stacking_mode.value, "updated_at": func.now()},
            )
        )

    async def rule_entries(
        self, tenant_id: str, kind: RuleKind = RuleKind.DISCOUNT
    ) -> list[RuleEntry]:
        """Every entry of every document that was approved, voided ones included (they
        applied until voided): ``effective_to`` is the earlier of the window's end and the
        voiding. Drafts and documents voided as drafts never applied and are left out."""
        rows = await self.session.execute(
            select(
                R.id,
                R.level,
                E.target,
                E.card_class,
                E.rate,
                E.stackable,
                R.approved_at,
                R.effective_from,
                # LEAST ignores NULLs: no end and no voiding stays open-ended.
                func.least(R.effective_to, R.voided_at),
            )
            .join(E, (E.tenant_id == R.tenant_id) & (E.rule_id == R.id))
            .where(
                R.tenant_id == uuid.UUID(tenant_id),
                R.kind == kind.value,
                R.approved_at.is_not(None),
            )
            .order_by(R.approved_at, R.id, E.id)
        )
        entry = RuleEntry if kind is RuleKind.DISCOUNT else PointsRuleEntry
        return [
            entry(
                rule_id=str(rule_id),
                level=Level(level),
                target=target,
                card_class=card_class,
                rate=_plain(rate),
                stackable=stackable,
                approved_at=approved_at,
                effective_from=effective_from,
                effective_to=effective_to,
            )
            for (
                rule_id,
                level,
                target,
                card_class,
                rate,
                stackable,
                approved_at,
                effective_from,
                effective_to,
            ) in rows
        ]
