"""The change account's reads. Its movements are read, decided and applied through
app/repositories/ledger.py, each entry with the cached balance it moves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.change_account import ChangeKind
from app.models import ChangeAccountRow, ChangeEntryRow
from app.repositories.paging import newest_first_in_time


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

    async def balance(self, tenant_id: str, member_id: str) -> Decimal | None:
        a = ChangeAccountRow
        return await self.session.scalar(
            select(a.balance).where(
                a.tenant_id == uuid.UUID(tenant_id), a.member_id == uuid.UUID(member_id)
            )
        )

    async def entries(
        self, tenant_id: str, member_id: str, before: tuple[datetime, int] | None, limit: int
    ) -> list[ChangeEntry]:
        """Newest first, up to ``limit + 1`` (for paging)."""
        e = ChangeEntryRow
        query = select(e).where(
            e.tenant_id == uuid.UUID(tenant_id), e.member_id == uuid.UUID(member_id)
        )
        rows = await self.session.scalars(
            newest_first_in_time(query, e.created_at, e.id, before, limit)
        )
        return [_entry(r) for r in rows]
