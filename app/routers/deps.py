"""Request-scoped dependencies: the unit of work, the authenticated principal, the vault."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.crypto import Vault
from app.domain.access import Principal, Scope
from app.domain.pagination import MAX_LIMIT
from app.services.access import authenticate
from app.services.demo import DEMO_CARD_NUMBER, DEMO_MEMBER_ID
from app.uow import UnitOfWork

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer lk_…`")


async def get_uow(request: Request) -> UnitOfWork:
    """A unit of work for the request; the use case opens (and closes) its transaction.
    (``async`` so that FastAPI calls it inline, not through its thread pool.)"""
    return UnitOfWork(request.app.state.sessionmaker, request.app.state.reader)


Uow = Annotated[UnitOfWork, Depends(get_uow)]


async def get_uow_factory(request: Request) -> Callable[[], UnitOfWork]:
    """New units of work for work that outlives the request (a background import)."""
    state = request.app.state
    return lambda: UnitOfWork(state.sessionmaker, state.reader)


UowFactory = Annotated[Callable[[], UnitOfWork], Depends(get_uow_factory)]


async def get_vault(request: Request) -> Vault:
    """The keys derived from the server secret, built once in create_app (async: no thread hop)."""
    return request.app.state.vault


VaultDep = Annotated[Vault, Depends(get_vault)]

# /docs pre-fills path parameters with their first example: the demo tenant's (`make run`).
CardNumber = Annotated[
    str,
    Path(
        description="The card number.",
        openapi_examples={"demo": {"summary": "The demo member's card", "value": DEMO_CARD_NUMBER}},
    ),
]

MemberIdPath = Annotated[
    str,
    Path(
        description="The member's id.",
        openapi_examples={"demo": {"summary": "The demo member", "value": DEMO_MEMBER_ID}},
    ),
]


def demo_code(value: str, summary: str) -> Any:
    """A code in a path, pre-filled with one the demo tenant has (or its create example makes)."""
    return Path(openapi_examples={"demo": {"summary": summary, "value": value}})


# The id of a row in a path, as a response gave it ("42"). Any string is taken: one that is
# not an id of ours (not digits, 0, beyond BIGINT) names nothing, so the resource answers its
# own 404 (e.g. `complaint_not_found`), as for an id that was never issued.
IdPath = Annotated[
    str,
    Path(
        description="The id, as the API gave it (an opaque string). One that names nothing of "
        "yours, well formed or not, is the resource's 404.",
        examples=["42"],
    ),
]


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


NUL_MESSAGE = "must not contain the NUL character (U+0000)"


async def no_nul_parameters(request: Request) -> None:
    """Path and query parameters are refused with a NUL, as strings in bodies are
    (app.schemas.common.Strict): PostgreSQL can't take it in text, and the 422 names the
    parameter."""
    given = [("path", k, v) for k, v in request.path_params.items()]
    given += [("query", k, v) for k, v in request.query_params.multi_items()]
    errors = [
        {"type": "string_nul", "loc": (where, name), "msg": NUL_MESSAGE, "input": value}
        for where, name, value in given
        if "\x00" in name or (isinstance(value, str) and "\x00" in value)
    ]
    if errors:
        raise RequestValidationError(errors)


Cursor = Annotated[
    str | None, Query(max_length=512, description="Opaque cursor from a previous page.")
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
