"""Request-scoped dependencies: the unit of work, the authenticated principal, the vault."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.crypto import Vault
from app.domain.access import Principal, Scope
from app.domain.pagination import MAX_LIMIT
from app.services.access import authenticate
from app.uow import UnitOfWork

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer lk_…`")


async def get_uow(request: Request) -> UnitOfWork:
    """A unit of work for the request; the use case opens (and closes) its transaction.
    (``async`` so that FastAPI calls it inline, not through its thread pool.)"""
    return UnitOfWork(request.app.state.sessionmaker, request.app.state.reader)


Uow = Annotated[UnitOfWork, Depends(get_uow)]


async def get_vault(request: Request) -> Vault:
    """The keys derived from the server secret, built once in create_app (async: no thread hop)."""
    return request.app.state.vault


VaultDep = Annotated[Vault, Depends(get_vault)]


def scoped(*scopes: Scope):
    """A dependency resolving the caller and requiring one of ``scopes`` (401 / 403)."""
    allowed = frozenset(scopes)

    async def principal(
        uow: Uow,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> Principal:
        header = f"Bearer {credentials.credentials}" if credentials else None
        found = await authenticate(uow, header)
        found.require(allowed)
        return found

    return Depends(principal)


Cursor = Annotated[
    str | None, Query(max_length=512, description="Opaque cursor from a previous page.")
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
