from typing import Annotated

from fastapi import APIRouter, Response

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, Limit, Uow, demo_code, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.card_classes import (
    CardClassCreate,
    CardClassRead,
    CardClassUpdate,
)
from app.schemas.common import ChangeRead, Page
from app.services import card_classes

ClassCode = Annotated[str, demo_code("SILVER", "The class the create example makes")]


router = APIRouter(prefix="/card-classes", tags=["card classes"])

ADMIN = scoped(Scope.ADMIN)
ANY = scoped(*Scope)
NOT_FOUND = problems(404, examples={404: ("card_class_not_found", "No card class with code GOLD.")})
INVALID = problems(
    422,
    examples={
        422: (
            "invalid_card_class",
            "Invalid card class. serial_end: must fit in serial_length (8) digits",
        )
    },
)
IN_USE = problems(
    409,
    examples={
        409: (
            "card_class_in_use",
            "Class GOLD has issued cards, so its number format (prefix) can no longer change.",
        )
    },
)


@router.post(
    "",
    status_code=201,
    response_model=CardClassRead,
    summary="Create a card class",
    description="Scope: `admin`. The code is immutable. Sharing group and upgrade class must "
    "already exist in the tenant (else 422 naming the field). Logged in the change log.",
    responses={
        **BODY_ERRORS,
        **INVALID,
        **problems(
            409,
            examples={409: ("card_class_exists", "A card class with this code already exists.")},
        ),
    },
)
async def create_card_class(
    body: CardClassCreate, uow: Uow, who: Principal = ADMIN
) -> CardClassRead:
    created = await card_classes.create_card_class(uow, who, body.code, body.terms())
    return CardClassRead.model_validate(created)


@router.get(
    "",
    response_model=Page[CardClassRead],
    summary="List card classes",
    description="Any scope. Ordered by code; cursor-paginated.",
)
async def list_card_classes(
    uow: Uow, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, who: Principal = ANY
) -> Page[CardClassRead]:
    page = await card_classes.list_card_classes(uow, who, cursor, limit)
    return Page[CardClassRead](
        items=[CardClassRead.model_validate(c) for c in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{code}",
    response_model=CardClassRead,
    summary="Get a card class",
    description="Any scope.",
    responses=NOT_FOUND,
)
async def get_card_class(code: ClassCode, uow: Uow, who: Principal = ANY) -> CardClassRead:
    return CardClassRead.model_validate(await card_classes.get_card_class(uow, who, code))


@router.patch(
    "/{code}",
    response_model=CardClassRead,
    summary="Update a card class",
    description="Scope: `admin`. Any field but the code; absent fields are left unchanged and "
    "the result is validated as a whole. Once the class has issued a card its number format "
    "(prefix, serial_length, serial_start, check_digit_length, suffix) is frozen and "
    "serial_end cannot drop below the last issued serial (409 `card_class_in_use`). "
    "`upgrade_to` may not lead back to this class (422 `upgrade_cycle`). "
    "Each changed field is logged.",
    responses={**BODY_ERRORS, **NOT_FOUND, **IN_USE, **INVALID},
)
async def update_card_class(
    code: ClassCode, body: CardClassUpdate, uow: Uow, who: Principal = ADMIN
) -> CardClassRead:
    updated = await card_classes.update_card_class(uow, who, code, body.changes())
    return CardClassRead.model_validate(updated)


@router.delete(
    "/{code}",
    status_code=204,
    response_class=Response,
    summary="Delete a card class",
    description="Scope: `admin`. Refused (409) once the class has issued a card "
    "(`card_class_in_use`) or while another class upgrades to it (`card_class_referenced`). "
    "Its change log stays readable.",
    responses={
        **NOT_FOUND,
        **problems(
            409,
            examples={
                409: ("card_class_referenced", "Classes SILVER upgrade to GOLD; change them first.")
            },
        ),
    },
)
async def delete_card_class(code: ClassCode, uow: Uow, who: Principal = ADMIN) -> Response:
    await card_classes.delete_card_class(uow, who, code)
    return Response(status_code=204)


@router.get(
    "/{code}/changes",
    response_model=Page[ChangeRead],
    summary="List a card class's change log",
    description="Any scope. One entry per changed field (修改日志): who, when, old and new "
    "value; newest first, cursor-paginated. Still available after the class is deleted.",
    responses=NOT_FOUND,
)
async def list_card_class_changes(
    code: ClassCode,
    uow: Uow,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = ANY,
) -> Page[ChangeRead]:
    page = await card_classes.list_card_class_changes(uow, who, code, cursor, limit)
    return ChangeRead.page(page)
