from typing import Annotated

from fastapi import APIRouter

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, Limit, Uow, demo_code, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.common import Page
from app.schemas.stores import StoreCreate, StoreRead, StoreUpdate
from app.services import stores

StoreCode = Annotated[str, demo_code("S01", "A demo store")]


router = APIRouter(prefix="/stores", tags=["stores"])

ADMIN = scoped(Scope.ADMIN)
ANY = scoped(*Scope)
NOT_FOUND = problems(404, examples={404: ("store_not_found", "No store with code S09.")})


@router.post(
    "",
    status_code=201,
    response_model=StoreRead,
    summary="Create a store",
    description="Scope: `admin`. The code is immutable: it is printed inside card numbers.",
    responses={
        **BODY_ERRORS,
        **problems(409, examples={409: ("store_exists", "A store with this code already exists.")}),
    },
)
async def create_store(body: StoreCreate, uow: Uow, who: Principal = ADMIN) -> StoreRead:
    store = await stores.create_store(uow, who, body.code, body.name, body.time_zone)
    return StoreRead.model_validate(store)


@router.get(
    "",
    response_model=Page[StoreRead],
    summary="List stores",
    description="Any scope. Ordered by code; cursor-paginated.",
)
async def list_stores(
    uow: Uow, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, who: Principal = ANY
) -> Page[StoreRead]:
    page = await stores.list_stores(uow, who, cursor, limit)
    return Page[StoreRead](
        items=[StoreRead.model_validate(s) for s in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{code}",
    response_model=StoreRead,
    summary="Get a store",
    description="Any scope.",
    responses=NOT_FOUND,
)
async def get_store(code: StoreCode, uow: Uow, who: Principal = ANY) -> StoreRead:
    return StoreRead.model_validate(await stores.get_store(uow, who, code))


@router.patch(
    "/{code}",
    response_model=StoreRead,
    summary="Update a store's name or time zone",
    description="Scope: `admin`. Absent fields are left unchanged.",
    responses={**BODY_ERRORS, **NOT_FOUND},
)
async def update_store(
    code: StoreCode, body: StoreUpdate, uow: Uow, who: Principal = ADMIN
) -> StoreRead:
    return StoreRead.model_validate(await stores.update_store(uow, who, code, body.changes()))
