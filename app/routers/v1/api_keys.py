from fastapi import APIRouter

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, Limit, Uow, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.access import ApiKeyCreate, ApiKeyIssued, ApiKeyRead
from app.schemas.common import Page
from app.services import access

router = APIRouter(prefix="/api-keys", tags=["api keys"])

ADMIN = scoped(Scope.ADMIN)


@router.post(
    "",
    status_code=201,
    response_model=ApiKeyIssued,
    summary="Create an API key",
    description="Scope: `admin`. The secret is returned once and stored only as a hash.",
    responses=BODY_ERRORS,
)
async def create_api_key(body: ApiKeyCreate, uow: Uow, who: Principal = ADMIN) -> ApiKeyIssued:
    issued = await access.create_key(uow, who.tenant_id, body.name, [s.value for s in body.scopes])
    return ApiKeyIssued.model_validate({**issued.key.__dict__, "key": issued.secret})


@router.get(
    "",
    response_model=Page[ApiKeyRead],
    summary="List API keys",
    description="Scope: `admin`. Secrets are never shown again; revoked keys are included.",
)
async def list_api_keys(
    uow: Uow, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, who: Principal = ADMIN
) -> Page[ApiKeyRead]:
    page = await access.list_keys(uow, who, cursor, limit)
    return Page[ApiKeyRead](
        items=[ApiKeyRead.model_validate(k) for k in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/{key_id}/revoke",
    response_model=ApiKeyRead,
    summary="Revoke an API key",
    description="Scope: `admin`. Takes effect on the next request; revoking twice is harmless.",
    responses=problems(404, examples={404: ("api_key_not_found", "No API key with id 42.")}),
)
async def revoke_api_key(key_id: str, uow: Uow, who: Principal = ADMIN) -> ApiKeyRead:
    return ApiKeyRead.model_validate(await access.revoke_key(uow, who, key_id))
