from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.access import ApiKey, Scope, Tenant
from app.domain.errors import Invalid
from app.domain.stores import Store
from app.models import ApiKeyRow, StoreRow, TenantRow


def _tenant(row: TenantRow) -> Tenant:
    return Tenant(str(row.id), row.name, row.time_zone, row.created_at)


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=str(row.id),
        tenant_id=str(row.tenant_id),
        name=row.name,
        scopes=tuple(Scope(s) for s in row.scopes),
        display_prefix=row.display_prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _store(row: StoreRow) -> Store:
    return Store(
        str(row.tenant_id), row.code, row.name, row.time_zone, row.created_at, row.updated_at
    )


def as_uuid(value: str) -> uuid.UUID | None:
    """Ids are opaque strings to clients; a malformed one simply matches nothing."""
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


class TenantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, name: str, time_zone: str) -> Tenant:
        row = TenantRow(id=uuid.uuid4(), name=name, time_zone=time_zone)
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row)
        return _tenant(row)

    async def get_or_create(self, name: str, time_zone: str) -> Tenant:
        """Race-safe: concurrent callers (e.g. several workers starting) get the same tenant."""
        await self.session.execute(
            insert(TenantRow)
            .values(id=uuid.uuid4(), name=name, time_zone=time_zone)
            .on_conflict_do_nothing(index_elements=[TenantRow.name])
        )
        tenant = await self.get_by_name(name)
        assert tenant is not None  # inserted, or there already
        return tenant

    async def existing(self, tenant_id: str) -> Tenant:
        """A tenant known to exist, e.g. an authenticated principal's."""
        return _tenant(await self.session.get_one(TenantRow, uuid.UUID(tenant_id)))

    async def get(self, tenant_id: str) -> Tenant | None:
        tid = as_uuid(tenant_id)
        row = await self.session.get(TenantRow, tid) if tid else None
        return _tenant(row) if row else None

    async def get_by_name(self, name: str) -> Tenant | None:
        row = await self.session.scalar(select(TenantRow).where(TenantRow.name == name))
        return _tenant(row) if row else None


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, tenant_id: str, name: str, key_hash: str, prefix: str, scopes: tuple[Scope, ...]
    ) -> ApiKey:
        row = ApiKeyRow(
            id=uuid.uuid4(),
            tenant_id=uuid.UUID(tenant_id),
            name=name,
            key_hash=key_hash,
            display_prefix=prefix,
            scopes=[s.value for s in scopes],
        )
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row)
        return _key(row)

    async def add_if_absent(
        self, tenant_id: str, name: str, key_hash: str, prefix: str, scopes: tuple[Scope, ...]
    ) -> bool:
        """Insert unless a key with this hash exists; True if inserted. Race-safe."""
        inserted = await self.session.scalar(
            insert(ApiKeyRow)
            .values(
                id=uuid.uuid4(),
                tenant_id=uuid.UUID(tenant_id),
                name=name,
                key_hash=key_hash,
                display_prefix=prefix,
                scopes=[s.value for s in scopes],
            )
            .on_conflict_do_nothing(index_elements=[ApiKeyRow.key_hash])
            .returning(ApiKeyRow.id)
        )
        return inserted is not None

    async def list(self, tenant_id: str, after: str | None, limit: int) -> list[ApiKey]:
        query = select(ApiKeyRow).where(ApiKeyRow.tenant_id == uuid.UUID(tenant_id))
        if after is not None:
            after_id = as_uuid(after)
            if after_id is None:
                raise Invalid(
                    "invalid_cursor", "The cursor is not one this API issued.", field="cursor"
                )
            query = query.where(ApiKeyRow.id > after_id)
        rows = await self.session.scalars(query.order_by(ApiKeyRow.id).limit(limit + 1))
        return [_key(r) for r in rows]

    async def revoke(self, tenant_id: str, key_id: str) -> ApiKey | None:
        kid = as_uuid(key_id)
        if kid is None:
            return None
        row = await self.session.scalar(
            update(ApiKeyRow)
            .where(ApiKeyRow.tenant_id == uuid.UUID(tenant_id), ApiKeyRow.id == kid)
            .values(revoked_at=func.coalesce(ApiKeyRow.revoked_at, func.now()))
            .returning(ApiKeyRow)
        )
        return _key(row) if row else None


class StoreRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, tenant_id: str, code: str, name: str, time_zone: str) -> Store:
        row = StoreRow(tenant_id=uuid.UUID(tenant_id), code=code, name=name, time_zone=time_zone)
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row)
        return _store(row)

    async def _row(self, tenant_id: str, code: str) -> StoreRow | None:
        return await self.session.get(StoreRow, (uuid.UUID(tenant_id), code))

    async def get(self, tenant_id: str, code: str) -> Store | None:
        row = await self._row(tenant_id, code)
        return _store(row) if row else None

    async def update(self, tenant_id: str, code: str, changes: dict) -> Store | None:
        row = await self._row(tenant_id, code)
        if row is None:
            return None
        for field, value in changes.items():
            setattr(row, field, value)
        await self.session.flush()
        await self.session.refresh(row)
        return _store(row)

    async def list(self, tenant_id: str, after: str | None, limit: int) -> list[Store]:
        query = select(StoreRow).where(StoreRow.tenant_id == uuid.UUID(tenant_id))
        if after is not None:
            query = query.where(StoreRow.code > after)
        rows = await self.session.scalars(query.order_by(StoreRow.code).limit(limit + 1))
        return [_store(r) for r in rows]
