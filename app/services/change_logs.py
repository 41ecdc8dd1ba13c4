"""Reading a change log (修改日志) of something that logs its own creation."""

from __future__ import annotations

from app.domain.access import Principal
from app.domain.audit import Change
from app.domain.errors import NotFound
from app.domain.pagination import Page, id_cursor, id_page
from app.uow import UnitOfWork


async def logged_changes(
    uow: UnitOfWork,
    who: Principal,
    subject: str,
    code: str,
    cursor: str | None,
    limit: int,
    missing: NotFound,
) -> Page[Change]:
    """Newest first; still readable after the thing is deleted. Every one logs its creation,
    so an empty first page means it never existed (``missing``)."""
    before = id_cursor(cursor)
    async with uow:
        rows = await uow.audit.read(who.tenant_id, subject, code, before, limit)
    if not rows and before is None:
        raise missing
    return id_page(rows, limit)
