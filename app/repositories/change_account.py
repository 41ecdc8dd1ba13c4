"""The change account's persistence. Every entry is written while the member's account row is
locked (``lock_account``) and moves the cached balance in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.change_account import ChangeKind
from app.models import ChangeAccountRow, ChangeEntryRow, MemberRow
from app.repositories.paging import newest_first


@dataclass(frozen=True)
class ChangeEntry:
    id: int
    member_id: str
    card_number: str | None
    amount: Decimal  # signed
    kind: ChangeKind
    source_type: str
    source_id: str
    reference: str | None
    created_at: datetime


def _entry(row: ChangeEntryRow) -> ChangeEntry:
    return ChangeEntry(
        row.id,
        str(row.member_id),
        row.card_number,
        row.amount,
        ChangeKind(row.kind),
        row.source_type,
        row.source_id,
        row.reference,
        row.created_at,
    )


class ChangeAccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_account(self, tenant_id: str, member_id: str) -> Decimal | None:
        """The member's balance, the account created if missing and locked until commit;
        None if the tenant has no such member."""
        tid, mid = uuid.UUID(tenant_id), uuid.UUID(member_id)
        a = ChangeAccountRow
        await self.session.execute(
            pg_insert(a)
            .from_select(
                ["tenant_id", "member_id"],
                select(MemberRow.tenant_id, MemberRow.id).where(
                    MemberRow.tenant_id == tid, MemberRow.id == mid
                ),
            )
            .on_conflict_do_nothing(index_elements=[a.tenant_id, a.member_id])
        )
        return await self.session.scalar(
            select(a.balance).where(a.tenant_id == tid, a.member_id == mid).with_for_update()
        )

    async def balance(self, tenant_id: str, member_id: str) -> Decimal | None:
        a = ChangeAccountRow
        return await self.session.scalar(
            select(a.balance).where(
                a.tenant_id == uuid.UUID(tenant_id), a.member_id == uuid.UUID(member_id)
            )
        )

    async def book(
        self,
        tenant_id: str,
        member_id: str,
        card_number: str | None,
        amount: Decimal,
        kind: ChangeKind,
        source_type: str,
        source_id: str,
        reference: str | None,
        now: datetime,
    ) -> tuple[int, Decimal]:
        """Append one entry (``amount`` signed) and move the balance by it; (entry id, new
        balance). The account must be locked."""
        tid, mid = uuid.UUID(tenant_id), uuid.UUID(member_id)
        entry_id = await self.session.scalar(
            insert(ChangeEntryRow)
            .values(
                tenant_id=tid,
                member_id=mid,
                card_number=card_number,
                amount=amount,
                kind=kind.value,
                source_type=source_type,
                source_id=source_id,
                reference=reference,
                created_at=now,
            )
            .returning(ChangeEntryRow.id)
        )
        a = ChangeAccountRow
        balance = await self.session.scalar(
            update(a)
            .where(a.tenant_id == tid, a.member_id == mid)
            .values(balance=a.balance + amount, updated_at=func.now())
            .returning(a.balance)
            .execution_options(synchronize_session=False)
        )
        return entry_id, balance

    async def entries(
        self, tenant_id: str, member_id: str, before: int | None, limit: int
    ) -> list[ChangeEntry]:
        """Newest first, up to ``limit + 1`` (for paging)."""
        e = ChangeEntryRow
        query = select(e).where(
            e.tenant_id == uuid.UUID(tenant_id), e.member_id == uuid.UUID(member_id)
        )
        rows = await self.session.scalars(newest_first(query, e.id, before, limit))
        return [_entry(r) for r in rows]
