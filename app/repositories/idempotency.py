from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.idempotency import IdempotencyKeyRow

# How long a request waits for another one holding the same key (normally a few ms) before
# it is told to retry: long enough that racing duplicates get the replay, not a 409.
CLAIM_WAIT = "5s"


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status_code: int
    body: str


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, tenant_id: str, api_key_id: str, key: str, fingerprint: str
    ) -> StoredResponse | None:
        """Take the key for this transaction (None), or return what an earlier request with it
        answered. A request holding the key in a transaction not yet committed makes this one
        wait up to CLAIM_WAIT, then fail with lock_timeout (translated to a 409)."""
        ids = {"tenant_id": uuid.UUID(tenant_id), "api_key_id": uuid.UUID(api_key_id), "key": key}
        await self.session.execute(text(f"SET LOCAL lock_timeout = '{CLAIM_WAIT}'"))
        taken = await self.session.scalar(
            insert(IdempotencyKeyRow)
            .values(**ids, fingerprint=fingerprint, status_code=0, response="")
            .on_conflict_do_nothing()
            .returning(IdempotencyKeyRow.key)
        )
        await self.session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
        if taken is not None:
            return None
        # The insert conflicted: the row is there.
        found = await self.session.execute(select(IdempotencyKeyRow).filter_by(**ids))
        row = found.scalar_one()
        return StoredResponse(row.fingerprint, row.status_code, row.response)

    async def complete(
        self, tenant_id: str, api_key_id: str, key: str, status_code: int, body: str
    ) -> None:
        await self.session.execute(
            update(IdempotencyKeyRow)
            .filter_by(tenant_id=uuid.UUID(tenant_id), api_key_id=uuid.UUID(api_key_id), key=key)
            .values(status_code=status_code, response=body)
        )

    async def purge(self, tenant_id: str, before: datetime) -> int:
        """Forget the tenant's keys stored before ``before``; how many."""
        done = await self.session.execute(
            delete(IdempotencyKeyRow).where(
                IdempotencyKeyRow.tenant_id == uuid.UUID(tenant_id),
                IdempotencyKeyRow.created_at < before,
            )
        )
        return cast("CursorResult[Any]", done).rowcount
