"""Member groups (docs/domain §10, 会员卡群组): saved criteria and their generated member lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, Limit, Uow, demo_code, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.common import STORED, Page
from app.schemas.member_groups import (
    GroupCriteria,
    GroupMemberRead,
    MemberGroupCreate,
    MemberGroupRead,
    MemberGroupUpdate,
)
from app.services import member_groups

GroupCode = Annotated[str, demo_code("VIP-BEAUTY", "The group the create example makes")]


router = APIRouter(prefix="/member-groups", tags=["member groups"])

WHO = scoped(Scope.ANALYTICS, Scope.ADMIN)
NOT_FOUND = problems(404, examples={404: ("member_group_not_found", "No member group VIP.")})
CRITERIA_ERRORS = problems(
    422,
    examples={
        422: (
            "invalid_criteria",
            "The criteria are invalid: criteria.consumption.to is on or after from.",
        )
    },
)
CRITERIA = (
    "Criteria (all optional, all given must hold, any value of a list): `attributes` "
    "(`genders`, `age` {min, max} reached this year, `regions`, `card_classes` with an active "
    "card, `tags` any of, `rfm_segments` in the latest RFM run); `consumption` from..to "
    "(tenant days, inclusive) with `amount` {min, max} of net spend, `count` {min, max} of "
    "purchases (min defaults to 1; `{max: 0}` = did not buy), `categories` and `brands` bought "
    "(lines of sales recorded through the API); `ranking` {by: amount|count, top: N} keeps the "
    "top N buyers. Erased members are never in a group. Bad criteria: 422 `invalid_criteria` "
    "naming each field."
)


def _now() -> datetime:
    return datetime.now(UTC)


def _read(group) -> MemberGroupRead:
    return MemberGroupRead(
        code=group.code,
        name=group.name,
        criteria=GroupCriteria.model_validate(group.criteria.as_json(), context=STORED),
        status=group.status.value,
        member_count=group.member_count,
        generated_at=group.generated_at,
        generated_as_of=group.generated_as_of,
        created_at=group.created_at,
        updated_at=group.updated_at,
    )


def _criteria(criteria: GroupCriteria) -> dict:
    return criteria.model_dump(by_alias=True)


@router.post(
    "",
    status_code=201,
    response_model=MemberGroupRead,
    summary="Create a member group",
    description=f"Scopes: `analytics`, `admin`. A saved query, `new` until generated. {CRITERIA} "
    "The code is immutable and unique (409 `member_group_exists`; malformed: 422 "
    "`invalid_group_code`).",
    responses={
        **BODY_ERRORS,
        **CRITERIA_ERRORS,
        **problems(
            409, examples={409: ("member_group_exists", "A member group VIP exists already.")}
        ),
    },
)
async def create_member_group(
    body: MemberGroupCreate, uow: Uow, who: Principal = WHO
) -> MemberGroupRead:
    group = await member_groups.create_group(
        uow, who, body.code, body.name, _criteria(body.criteria)
    )
    return _read(group)


@router.get(
    "",
    response_model=Page[MemberGroupRead],
    summary="List member groups",
    description="Scopes: `analytics`, `admin`. By code, in cursor pages.",
)
async def list_member_groups(
    uow: Uow, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, who: Principal = WHO
) -> Page[MemberGroupRead]:
    page = await member_groups.list_groups(uow, who, cursor, limit)
    return Page[MemberGroupRead](items=[_read(g) for g in page.items], next_cursor=page.next_cursor)


@router.get(
    "/{code}",
    response_model=MemberGroupRead,
    summary="Get a member group",
    description="Scopes: `analytics`, `admin`. Its criteria, status and last generation.",
    responses=NOT_FOUND,
)
async def get_member_group(code: GroupCode, uow: Uow, who: Principal = WHO) -> MemberGroupRead:
    return _read(await member_groups.get_group(uow, who, code))


@router.patch(
    "/{code}",
    response_model=MemberGroupRead,
    summary="Rename a member group or change its criteria",
    description="Scopes: `analytics`, `admin`. Audited. New criteria make a generated group "
    "`stale`: its list stays (dated) until generated again. The code cannot change (422 "
    f"`code_immutable`). {CRITERIA}",
    responses={**BODY_ERRORS, **NOT_FOUND, **CRITERIA_ERRORS},
)
async def update_member_group(
    code: GroupCode, body: MemberGroupUpdate, uow: Uow, who: Principal = WHO
) -> MemberGroupRead:
    group = await member_groups.update_group(
        uow,
        who,
        code,
        new_code=body.code,
        name=body.name,
        criteria=_criteria(body.criteria) if body.criteria is not None else None,
    )
    return _read(group)


@router.post(
    "/{code}/generate",
    response_model=MemberGroupRead,
    summary="Generate a member group's list now",
    description="Scopes: `analytics`, `admin`. Replaces the list with the members meeting the "
    "criteria today (one set-based statement, one transaction: readers see the old list or "
    "the new one) and stamps it; the group becomes `generated`. Criteria naming RFM segments "
    "need an RFM run first (409 `rfm_not_run`).",
    responses={
        **NOT_FOUND,
        **problems(409, examples={409: ("rfm_not_run", "RFM has not been run yet.")}),
    },
)
async def generate_member_group(code: GroupCode, uow: Uow, who: Principal = WHO) -> MemberGroupRead:
    return _read(await member_groups.generate(uow, who, code, _now()))


@router.get(
    "/{code}/members",
    response_model=Page[GroupMemberRead],
    summary="The members of a member group's list",
    description="Scopes: `analytics`, `admin`. The last generated list (check the group's "
    "`status` for staleness), by member id, in cursor pages; empty before the first "
    "generation.",
    responses=NOT_FOUND,
)
async def list_member_group_members(
    code: GroupCode,
    uow: Uow,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = WHO,
) -> Page[GroupMemberRead]:
    page = await member_groups.list_members(uow, who, code, cursor, limit)
    return Page[GroupMemberRead](
        items=[GroupMemberRead(member_id=m.member_id, member_ref=m.member_ref) for m in page.items],
        next_cursor=page.next_cursor,
    )
