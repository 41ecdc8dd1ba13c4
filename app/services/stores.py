from __future__ import annotations

from app.domain.access import Principal
from app.domain.errors import NotFound
from app.domain.pagination import Page, decode_cursor, page_of
from app.domain.stores import Store, check_time_zone
from app.uow import UnitOfWork


def _missing(code: str) -> NotFound:
    return NotFound("store_not_found", "No store with code {code_name}.", code_name=code)


async def create_store(
    uow: UnitOfWork, principal: Principal, code: str, name: str, time_zone: str | None
) -> Store:
    async with uow:
        if time_zone is None:
            tenant = await uow.tenants.get(principal.tenant_id)
            time_zone = tenant.time_zone
        store = await uow.stores.add(principal.tenant_id, code, name, check_time_zone(time_zone))
        await uow.commit()
    return store


async def get_store(uow: UnitOfWork, principal: Principal, code: str) -> Store:
    async with uow:
        store = await uow.stores.get(principal.tenant_id, code)
    if store is None:
        raise _missing(code)
    return store


async def update_store(uow: UnitOfWork, principal: Principal, code: str, changes: dict) -> Store:
    if "time_zone" in changes:
        check_time_zone(changes["time_zone"])
    async with uow:
        store = await uow.stores.update(principal.tenant_id, code, changes)
        if store is None:
            raise _missing(code)
        await uow.commit()
    return store


async def list_stores(
    uow: UnitOfWork, principal: Principal, cursor: str | None, limit: int
) -> Page[Store]:
    after = decode_cursor(cursor, 1)
    async with uow:
        rows = await uow.stores.list(principal.tenant_id, after[0] if after else None, limit)
    return page_of(rows, limit, lambda s: [s.code])
