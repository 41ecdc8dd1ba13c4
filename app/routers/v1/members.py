from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, Limit, MemberIdPath, Uow, VaultDep, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.common import Page
from app.schemas.members import PHONE_RULE, MemberCreate, MemberRead, MemberUpdate
from app.services import members

router = APIRouter(prefix="/members", tags=["members"])

CREATE = scoped(Scope.ADMIN, Scope.APP, Scope.POS, Scope.PARTNER)
READ = scoped(Scope.ADMIN, Scope.APP, Scope.POS, Scope.PARTNER, Scope.ANALYTICS)
CHANGE = scoped(Scope.ADMIN, Scope.APP, Scope.PARTNER)
ERASE = scoped(Scope.ADMIN)

PII_RULE = (
    "Phone and birthday are shown in full only to `admin` and `app` keys; other scopes get "
    "the phone masked (`138****5678`) and a null birthday."
)
NOT_FOUND = problems(
    404,
    examples={404: ("member_not_found", "No member with id 3f1c7a52-5b8e-4c1e-9a57-2d4f0b6e8c21.")},
)
EXISTS = problems(
    409, examples={409: ("member_exists", "A member with this external_ref already exists.")}
)
ERASED = problems(
    409, examples={409: ("member_erased", "This member's personal data has been erased.")}
)
INVALID_PHONE = problems(
    422, examples={422: ("invalid_phone", "A phone is a mainland mobile or an E.164 number.")}
)
# problems() gives every 422 example a `name` field error; this one is about the phone.
INVALID_PHONE[422]["content"]["application/problem+json"]["example"]["errors"] = [
    {"field": "phone", "message": "A phone is a mainland mobile or an E.164 number."}
]


@router.post(
    "",
    status_code=201,
    response_model=MemberRead,
    summary="Create a member",
    description="Scopes: `admin`, `app`, `pos`, `partner`. Phone and birthday are encrypted "
    f"at rest. {PII_RULE} A marketing consent sent here is stamped with the time.",
    responses={**BODY_ERRORS, **EXISTS, **INVALID_PHONE},
)
async def create_member(
    body: MemberCreate, uow: Uow, vault: VaultDep, who: Principal = CREATE
) -> MemberRead:
    member = await members.create_member(uow, vault, who, body.fields())
    return MemberRead.model_validate(member)


@router.get(
    "",
    response_model=Page[MemberRead],
    summary="List or find members",
    description="Scopes: `admin`, `app`, `pos`, `partner`, `analytics`. Oldest first (by "
    "creation time, then id); cursor-paginated. Lists always mask the phone and omit the "
    "birthday, whatever the scope. `phone` finds members by a keyed hash of the normalised "
    "number, so any formatting of the same number matches.",
    responses=INVALID_PHONE,
)
async def list_members(
    uow: Uow,
    vault: VaultDep,
    phone: Annotated[str | None, Query(min_length=1, max_length=32, description=PHONE_RULE)] = None,
    external_ref: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Exact match.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READ,
) -> Page[MemberRead]:
    page = await members.list_members(
        uow, vault, who, phone=phone, external_ref=external_ref, cursor=cursor, limit=limit
    )
    return Page[MemberRead](
        items=[MemberRead.model_validate(m) for m in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{member_id}",
    response_model=MemberRead,
    summary="Get a member",
    description=f"Scopes: `admin`, `app`, `pos`, `partner`, `analytics`. {PII_RULE} "
    "An erased member is still found, with its personal fields null and `erased_at` set.",
    responses=NOT_FOUND,
)
async def get_member(
    member_id: MemberIdPath, uow: Uow, vault: VaultDep, who: Principal = READ
) -> MemberRead:
    return MemberRead.model_validate(await members.get_member(uow, vault, who, member_id))


@router.patch(
    "/{member_id}",
    response_model=MemberRead,
    summary="Update a member's profile",
    description=f"Scopes: `admin`, `app`, `partner`. Absent fields are left unchanged. "
    f"{PII_RULE} The consent time is stamped when its value changes. An erased member "
    "can't be changed (409 `member_erased`); an external_ref in use is 409 `member_exists`.",
    responses={**BODY_ERRORS, **NOT_FOUND, **ERASED, **INVALID_PHONE},
)
async def update_member(
    member_id: MemberIdPath, body: MemberUpdate, uow: Uow, vault: VaultDep, who: Principal = CHANGE
) -> MemberRead:
    member = await members.update_member(uow, vault, who, member_id, body.fields())
    return MemberRead.model_validate(member)


@router.delete(
    "/{member_id}",
    status_code=204,
    response_class=Response,
    summary="Erase a member's personal data",
    description="Scope: `admin`. Erasure on the member's request: name, phone, birthday, "
    "gender, region, occupation, tags and external_ref are blanked and marketing consent "
    "withdrawn; the member's id stays (the points ledger refers to it) and `erased_at` is "
    "set. Erasing again changes nothing and also answers 204.",
    responses=NOT_FOUND,
)
async def delete_member(
    member_id: MemberIdPath, uow: Uow, vault: VaultDep, who: Principal = ERASE
) -> None:
    await members.erase_member(uow, vault, who, member_id)
