"""Sales, their returns and member spend rows. A sale is claimed with INSERT ... ON CONFLICT
DO NOTHING, so two requests for one receipt can't both record it: the second waits for the
first to commit and then reads the stored row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import MemberSpendRow, SaleReturnRow, SaleRow


@dataclass(frozen=True)
class StoredSale:
    id: int
    store_code: str
    receipt_no: str
    member_id: str
    card_number: str
    occurred_at: datetime
    fingerprint: str
    detail: dict
    returned: dict
    response: dict


@dataclass(frozen=True)
class StoredReturn:
    id: int
    return_no: str
    fingerprint: str
    response: dict


def _sale(row: SaleRow) -> StoredSale:
    return StoredSale(
        row.id,
        row.store_code,
        row.receipt_no,
        str(row.member_id),
        row.card_number,
        row.occurred_at,
        row.fingerprint,
        row.detail,
        row.returned,
        row.response,
    )


class SalesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, tenant_id: str, store_code: str, receipt_no: str, *, lock: bool = False
    ) -> StoredSale | None:
        s = SaleRow
        query = select(s).where(
            s.tenant_id == uuid.UUID(tenant_id),
            s.store_code == store_code,
            s.receipt_no == receipt_no,
        )
        if lock:
            query = query.with_for_update()
        row = await self.session.scalar(query.execution_options(populate_existing=True))
        return _sale(row) if row else None

    async def claim(
        self,
        tenant_id: str,
        store_code: str,
        receipt_no: str,
        member_id: str,
        card_number: str,
        occurred_at: datetime,
        fingerprint: str,
    ) -> int | None:
        """The new sale's id, or None when the receipt is recorded already (by a request that
        committed meanwhile: this one waited for it)."""
        s = SaleRow
        return await self.session.scalar(
            pg_insert(s)
            .values(
                tenant_id=uuid.UUID(tenant_id),
                store_code=store_code,
                receipt_no=receipt_no,
                member_id=uuid.UUID(member_id),
                card_number=card_number,
                occurred_at=occurred_at,
                fingerprint=fingerprint,
                detail={},
                returned={},
                response={},
            )
            .on_conflict_do_nothing(index_elements=[s.tenant_id, s.store_code, s.receipt_no])
            .returning(s.id)
        )

    async def complete(self, sale_id: int, detail: dict, response: dict) -> None:
        await self.session.execute(
            update(SaleRow)
            .where(SaleRow.id == sale_id)
            .values(detail=detail, response=response)
            .execution_options(synchronize_session=False)
        )

    async def set_returned(self, sale_id: int, returned: dict) -> None:
        await self.session.execute(
            update(SaleRow)
            .where(SaleRow.id == sale_id)
            .values(returned=returned)
            .execution_options(synchronize_session=False)
        )

    async def get_return(self, sale_id: int, return_no: str) -> StoredReturn | None:
        r = SaleReturnRow
        row = await self.session.scalar(
            select(r).where(r.sale_id == sale_id, r.return_no == return_no)
        )
        return StoredReturn(row.id, row.return_no, row.fingerprint, row.response) if row else None

    async def add_return(
        self, tenant_id: str, sale_id: int, return_no: str, fingerprint: str
    ) -> int:
        return await self.session.scalar(
            insert(SaleReturnRow)
            .values(
                tenant_id=uuid.UUID(tenant_id),
                sale_id=sale_id,
                return_no=return_no,
                fingerprint=fingerprint,
                detail={},
                response={},
            )
            .returning(SaleReturnRow.id)
        )

    async def complete_return(self, return_id: int, detail: dict, response: dict) -> None:
        await self.session.execute(
            update(SaleReturnRow)
            .where(SaleReturnRow.id == return_id)
            .values(detail=detail, response=response)
            .execution_options(synchronize_session=False)
        )

    async def add_spend(
        self,
        tenant_id: str,
        member_id: str,
        occurred_at: datetime,
        amount: Decimal,
        source: str,
        source_ref: str,
    ) -> None:
        """A signed member_spend row (+ sale, − return): the input of tier upgrades."""
        await self.session.execute(
            insert(MemberSpendRow).values(
                tenant_id=uuid.UUID(tenant_id),
                member_id=uuid.UUID(member_id),
                occurred_at=occurred_at,
                amount=amount,
                source=source,
                source_ref=source_ref,
            )
        )
