"""The rewards catalogue (积分商城, docs/domain §12): offers of a voucher for points, and
exchanges."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, Limit, Uow, demo_code, scoped
from app.routers.idempotency import IDEMPOTENCY_ERRORS, IdempotencyKeyHeader, run_once
from app.routers.openapi_docs import BODY_ERRORS, BUSY_NOTE, IDEMPOTENT_NOTE, problems
from app.schemas.common import ChangeRead, Page
from app.schemas.enums import QueryFlag
from app.schemas.rewards import (
    RewardCreate,
    RewardExchangeCreate,
    RewardExchangeRead,
    RewardRead,
    RewardUpdate,
)
from app.services import rewards

router = APIRouter(prefix="/rewards", tags=["rewards"])

ADMIN = scoped(Scope.ADMIN)
READ = scoped(*Scope)
EXCHANGERS = scoped(Scope.ADMIN, Scope.POS, Scope.APP)

RewardCode = Annotated[str, demo_code("CUP-18", "The reward the create example makes")]
ActiveFilter = Annotated[
    QueryFlag | None, Query(description="Only active (`true`) or withdrawn (`false`) rewards.")
]

NOT_FOUND = problems(404, examples={404: ("reward_not_found", "No reward CUP-18.")})
INVALID = problems(
    422,
    examples={
        422: (
            "invalid_reward",
            "The reward is invalid: template: no voucher template CNY18; points: a whole "
            "number from 1 to 2147483647",
        )
    },
)
INVALID[422]["content"]["application/problem+json"]["example"]["errors"] = [
    {"field": "template", "message": "no voucher template CNY18"},
    {"field": "points", "message": "a whole number from 1 to 2147483647"},
]
VALIDATION = (
    "Bad terms are one 422 `invalid_reward` naming every field: the code, the name, `points` "
    "> 0, `stock` ≥ 0, `ends_at` after `starts_at`, and a template or card class the tenant "
    "doesn't have."
)


def _now() -> datetime:
    return datetime.now(UTC)


def _flag(value: str | None) -> bool | None:
    return None if value is None else value == "true"


@router.post(
    "",
    status_code=201,
    response_model=RewardRead,
    summary="Offer a reward: a voucher for points (积分商城)",
    description=f"Scope: `admin`. {VALIDATION} A code in use is 409 `reward_exists`. "
    "Logged in the change log.",
    responses={
        **BODY_ERRORS,
        **INVALID,
        **problems(409, examples={409: ("reward_exists", "A reward CUP-18 exists already.")}),
    },
)
async def create_reward(body: RewardCreate, uow: Uow, who: Principal = ADMIN) -> RewardRead:
    return RewardRead.of(await rewards.create_reward(uow, who, body.terms()))


@router.get(
    "",
    response_model=Page[RewardRead],
    summary="List rewards",
    description="Any scope. By code, in cursor pages; `active` filters.",
)
async def list_rewards(
    uow: Uow,
    active: ActiveFilter = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READ,
) -> Page[RewardRead]:
    page = await rewards.list_rewards(uow, who, _flag(active), cursor, limit)
    return Page[RewardRead](
        items=[RewardRead.of(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{code}",
    response_model=RewardRead,
    summary="Get a reward",
    description="Any scope. With its stock left and the exchanges made.",
    responses=NOT_FOUND,
)
async def get_reward(code: RewardCode, uow: Uow, who: Principal = READ) -> RewardRead:
    return RewardRead.of(await rewards.get_reward(uow, who, code))


@router.patch(
    "/{code}",
    response_model=RewardRead,
    summary="Change a reward",
    description="Scope: `admin`. Any terms but the code; absent fields stay as they are and "
    f"the result is checked whole. {VALIDATION} A new `stock` replaces what is left; "
    "`active: false` withdraws the offer. Each changed term is logged.",
    responses={**BODY_ERRORS, **NOT_FOUND, **INVALID},
)
async def update_reward(
    code: RewardCode, body: RewardUpdate, uow: Uow, who: Principal = ADMIN
) -> RewardRead:
    return RewardRead.of(await rewards.update_reward(uow, who, code, body.changes()))


EXCHANGE_REFUSALS = problems(
    409,
    examples={409: ("reward_out_of_stock", "Reward CUP-18 is out of stock.")},
)


@router.post(
    "/{code}/exchanges",
    status_code=201,
    response_model=RewardExchangeRead,
    summary="Exchange points for a reward's voucher",
    description="Scopes: `admin`, `pos`, `app`. Give `card_number` (an active card: its "
    "holder, and its class must be eligible) or `member_id` (one of the member's active cards "
    "must be of an eligible class, when the reward names classes). In one transaction: the "
    "reward's points are spent (a redemption: R, purpose `gift`, `reference` the voucher's "
    "code), a voucher of its template is issued to the member (source `reward`) and one is "
    "taken from the stock — all of it or nothing. The answer carries the voucher's `code`, "
    "the points spent and the balance after. Refusals: 404 `reward_not_found`; 409 "
    "`reward_inactive`, `reward_not_in_window`, `reward_out_of_stock` (never oversold, however "
    "many race for the last one), `reward_class_not_eligible`, `reward_template_missing`, "
    "`reward_template_expired` (the template's fixed window is over), `insufficient_points` "
    "(with `requested`, `available`, `shortfall`), `card_<status>`; 422 "
    f"`card_or_member_required`, `member_not_found`, `card_not_found`. {IDEMPOTENT_NOTE} "
    f"{BUSY_NOTE}",
    responses={**IDEMPOTENCY_ERRORS, **BODY_ERRORS, **NOT_FOUND, **EXCHANGE_REFUSALS},
)
async def create_reward_exchange(
    code: RewardCode,
    body: RewardExchangeCreate,
    request: Request,
    uow: Uow,
    idempotency_key: IdempotencyKeyHeader = None,
    who: Principal = EXCHANGERS,
) -> Response:
    async def operation(tx):
        done = await rewards.exchange(
            tx, who, code, member_id=body.member_id, card_number=body.card_number, now=_now()
        )
        return 201, RewardExchangeRead.of(done).model_dump(mode="json")

    return await run_once(request, uow, who, idempotency_key, operation)


@router.get(
    "/{code}/changes",
    response_model=Page[ChangeRead],
    summary="List a reward's change log",
    description="Any scope. One entry per changed term (修改日志): who, when, old and new value "
    "(lists as compact JSON); newest first, cursor-paginated. Exchanges are not changes: "
    "they count in `exchanged`.",
    responses=NOT_FOUND,
)
async def list_reward_changes(
    code: RewardCode,
    uow: Uow,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READ,
) -> Page[ChangeRead]:
    return ChangeRead.page(await rewards.list_reward_changes(uow, who, code, cursor, limit))
