"""Tenants, API keys and authentication."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.access import (
    ApiKey,
    Principal,
    Scope,
    Tenant,
    display_prefix,
    hash_api_key,
    new_api_key,
    parse_scopes,
)
from app.domain.errors import NotFound, Unauthenticated
from app.domain.pagination import Page, decode_cursor, page_of
from app.domain.stores import DEFAULT_TIME_ZONE, check_time_zone
from app.uow import UnitOfWork

DEMO_TENANT = "demo"


@dataclass(frozen=True)
class IssuedKey:
    """A newly created key: the only moment its secret is known to anyone."""

    key: ApiKey
    secret: str


def presented_key(authorization: str | None) -> str:
    """The secret of an ``Authorization: Bearer <key>`` header."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "missing_credentials", "Send an API key as 'Authorization: Bearer <key>'."
        )
    return token.strip()


def known(principal: Principal | None) -> Principal:
    """The principal an active key resolved to; unknown and revoked keys are refused alike."""
    if principal is None:
        raise Unauthenticated("invalid_credentials", "The API key is unknown or revoked.")
    return principal


async def authenticate(uow: UnitOfWork, authorization: str | None) -> Principal:
    return known(await uow.reads.principal(presented_key(authorization)))


async def issue_key(
    uow: UnitOfWork, tenant_id: str, name: str, scopes: tuple[Scope, ...], secret: str | None = None
) -> IssuedKey:
    """Store a key (a new random one unless ``secret`` is given) inside an open unit of work."""
    secret = secret or new_api_key()
    key = await uow.api_keys.add(
        tenant_id, name, hash_api_key(secret), display_prefix(secret), scopes
    )
    return IssuedKey(key, secret)


async def create_tenant(
    uow: UnitOfWork, name: str, time_zone: str = DEFAULT_TIME_ZONE
) -> tuple[Tenant, IssuedKey]:
    """A new tenant with one admin key."""
    async with uow:
        tenant = await uow.tenants.add(name, check_time_zone(time_zone))
        issued = await issue_key(uow, tenant.id, "admin", (Scope.ADMIN,), None)
        await uow.commit()
    return tenant, issued


async def create_key(uow: UnitOfWork, tenant_ref: str, name: str, scopes: list[str]) -> IssuedKey:
    """A new key for the tenant with this id or, failing that, this name (``demo``)."""
    parsed = parse_scopes(scopes)
    async with uow:
        tenant = await uow.tenants.get(tenant_ref) or await uow.tenants.get_by_name(tenant_ref)
        if tenant is None:
            raise NotFound(
                "tenant_not_found",
                "No tenant with id or name {tenant}.",
                field="tenant",
                tenant=tenant_ref,
            )
        issued = await issue_key(uow, tenant.id, name, parsed, None)
        await uow.commit()
    return issued


async def list_keys(
    uow: UnitOfWork, principal: Principal, cursor: str | None, limit: int
) -> Page[ApiKey]:
    after = decode_cursor(cursor, 1)
    async with uow:
        rows = await uow.api_keys.list(principal.tenant_id, after[0] if after else None, limit)
    return page_of(rows, limit, lambda k: [k.id])


async def revoke_key(uow: UnitOfWork, principal: Principal, key_id: str) -> ApiKey:
    async with uow:
        key = await uow.api_keys.revoke(principal.tenant_id, key_id)
        if key is None:
            raise NotFound("api_key_not_found", "No API key with id {key_id}.", key_id=key_id)
        await uow.commit()
    return key


async def ensure_demo_tenant(uow: UnitOfWork, admin_key: str | None = None) -> tuple[Tenant, bool]:
    """Idempotently make sure tenant 'demo' exists and, if given, that ``admin_key`` is one of
    its active admin keys. Returns the tenant and whether the key had to be created."""
    async with uow:
        tenant = await uow.tenants.get_or_create(DEMO_TENANT, DEFAULT_TIME_ZONE)
        created = bool(admin_key) and await uow.api_keys.add_if_absent(
            tenant.id,
            "bootstrap",
            hash_api_key(admin_key),
            display_prefix(admin_key),
            (Scope.ADMIN,),
        )
        await uow.commit()
    return tenant, created
