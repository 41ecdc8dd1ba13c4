from typing import Annotated

from fastapi import APIRouter

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, Limit, Uow, demo_code, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.card_classes import SharingGroupCreate, SharingGroupRead, SharingGroupUpdate
from app.schemas.common import Page
from app.services import card_classes

GroupCode = Annotated[str, demo_code("STD", "The demo sharing group")]


router = APIRouter(prefix="/sharing-groups", tags=["sharing groups"])

ADMIN = scoped(Scope.ADMIN)
ANY = scoped(*Scope)
NOT_FOUND = problems(
    404, examples={404: ("sharing_group_not_found", "No sharing group with code STD.")}
)
INVALID = problems(
    422,
    examples={
        422: (
            "invalid_sharing_group",
            "Invalid sharing group. overrides[1]: duplicate brand OLAY",
        )
    },
)


@router.post(
    "",
    status_code=201,
    response_model=SharingGroupRead,
    summary="Create a sharing group",
    description="Scope: `admin`. How the member discount's cost is split between the store "
    "and the supplier (折扣分担): `store_share` by default, overridden per counter or brand "
    "(a brand override beats a counter override).",
    responses={
        **BODY_ERRORS,
        **INVALID,
        **problems(
            409,
            examples={
                409: ("sharing_group_exists", "A sharing group with this code already exists.")
            },
        ),
    },
)
async def create_sharing_group(
    body: SharingGroupCreate, uow: Uow, who: Principal = ADMIN
) -> SharingGroupRead:
    group = await card_classes.create_sharing_group(
        uow,
        who,
        body.code,
        body.name,
        body.store_share,
        tuple(o.domain() for o in body.overrides),
    )
    return SharingGroupRead.model_validate(group)


@router.get(
    "",
    response_model=Page[SharingGroupRead],
    summary="List sharing groups",
    description="Any scope. Ordered by code; cursor-paginated.",
)
async def list_sharing_groups(
    uow: Uow, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, who: Principal = ANY
) -> Page[SharingGroupRead]:
    page = await card_classes.list_sharing_groups(uow, who, cursor, limit)
    return Page[SharingGroupRead](
        items=[SharingGroupRead.model_validate(g) for g in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/{code}",
    response_model=SharingGroupRead,
    summary="Get a sharing group",
    description="Any scope.",
    responses=NOT_FOUND,
)
async def get_sharing_group(code: GroupCode, uow: Uow, who: Principal = ANY) -> SharingGroupRead:
    return SharingGroupRead.model_validate(await card_classes.get_sharing_group(uow, who, code))


@router.patch(
    "/{code}",
    response_model=SharingGroupRead,
    summary="Update a sharing group",
    description="Scope: `admin`. Absent fields are left unchanged; `overrides`, when sent, "
    "replaces the whole list.",
    responses={**BODY_ERRORS, **NOT_FOUND, **INVALID},
)
async def update_sharing_group(
    code: GroupCode, body: SharingGroupUpdate, uow: Uow, who: Principal = ADMIN
) -> SharingGroupRead:
    group = await card_classes.update_sharing_group(uow, who, code, body.changes())
    return SharingGroupRead.model_validate(group)
