"""The demo tenant `make run` serves: a few stores and an admin key."""

from __future__ import annotations

from app.domain.access import Scope
from app.services.access import ensure_demo_tenant, issue_key
from app.uow import UnitOfWork

DEMO_STORES = [
    ("S01", "Nanjing Road flagship", "Asia/Shanghai"),
    ("S02", "Xujiahui mall counter", "Asia/Shanghai"),
    ("B01", "Beijing Wangfujing", "Asia/Shanghai"),
]


async def seed(uow: UnitOfWork, remembered_key: str | None) -> str:
    """Idempotent. Returns an active admin key of the demo tenant: ``remembered_key`` if it
    still works, else a new one."""
    tenant, _ = await ensure_demo_tenant(uow)
    async with uow:
        for code, name, zone in DEMO_STORES:
            if await uow.stores.get(tenant.id, code) is None:
                await uow.stores.add(tenant.id, code, name, zone)
        principal = (
            await uow.api_keys.principal_for_secret(remembered_key) if remembered_key else None
        )
        if principal is not None and principal.tenant_id == tenant.id:
            key = remembered_key
        else:
            key = (await issue_key(uow, tenant.id, "demo", (Scope.ADMIN,))).secret
        await uow.commit()
    return key
