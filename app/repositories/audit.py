from __future__ import annotations

import uuid

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import Change, FieldChange
from app.models.audit import AuditRow
from app.repositories.paging import newest_first


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def write(
        self,
        tenant_id: str,
        subject: str,
        subject_id: str,
        action: str,
        actor: str,
        changes: list[FieldChange],
    ) -> None:
        if not changes:
            return
        await self.session.execute(
            insert(AuditRow),
            [
                {
                    "tenant_id": uuid.UUID(tenant_id),
                    "subject": subject,
                    "subject_id": subject_id,
                    "action": action,
                    "field": c.field,
                    "old_value": c.old,
                    "new_value": c.new,
                    "actor": actor,
                }
                for c in changes
            ],
        )

    async def read(
        self, tenant_id: str, subject: str, subject_id: str, before: int | None, limit: int
    ) -> list[Change]:
        """The log of one object, newest first, from the entry after ``before``."""
        a = AuditRow
        query = select(a).where(
            a.tenant_id == uuid.UUID(tenant_id), a.subject == subject, a.subject_id == subject_id
        )
        rows = await self.session.scalars(newest_first(query, a.id, before, limit))
        return [
            Change(r.id, r.action, r.field, r.old_value, r.new_value, r.actor, r.at) for r in rows
        ]
