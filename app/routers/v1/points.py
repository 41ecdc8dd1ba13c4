"""The points ledger: balances, entries, adjustments, redemptions, purchases, expiry.

Every POST here moves points and runs through ``run_once`` (Idempotency-Key, one
transaction, retried on serialization failures)."""

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, IdPath, Limit, MemberIdPath, Uow, scoped
from app.routers.idempotency import IDEMPOTENCY_ERRORS, IdempotencyKeyHeader, run_once
from app.routers.openapi_docs import BODY_ERRORS, BUSY_NOTE, IDEMPOTENT_NOTE, problems
from app.schemas.common import Page
from app.schemas.points import (
    AdjustmentCreate,
    AdjustmentRead,
    ExpiryRunRead,
    LedgerEntryRead,
    PointsRead,
    PurchaseCreate,
    PurchaseRead,
    RedemptionCreate,
    RedemptionRead,
)
from app.services import points

router = APIRouter(tags=["points"])

READERS = scoped(*Scope)

MEMBER_NOT_FOUND = problems(404, examples={404: ("member_not_found", "No member with id 3f1c….")})
REDEMPTION_NOT_FOUND = problems(404, examples={404: ("redemption_not_found", "No redemption 7.")})
INSUFFICIENT = problems(
    409, examples={409: ("insufficient_points", "60 points needed, 40 available")}
)
SPEND_NOTE = (
    "Points are spent oldest first (FIFO), from points available now; a refusal is 409 "
    "`insufficient_points` with `requested`, `available` and `shortfall`."
)
HOLDER_NOTE = "Give `card_number` (an active card: its holder) or `member_id`."


def _now() -> datetime:
    return datetime.now(UTC)


@router.get(
    "/members/{member_id}/points",
    response_model=PointsRead,
    summary="A member's points: balance, available, pending, per category, next expiry",
    description="Any scope. `balance` = A + B + C + D + E + F + R + X (R and X are stored "
    "negative) = `available` + `pending`. Points whose expiry has passed are expired first "
    f"(a write: {BUSY_NOTE})",
    responses={
        **MEMBER_NOT_FOUND,
        **problems(409, examples={409: ("busy", "The ledger is busy with concurrent changes.")}),
    },
)
async def get_member_points(
    member_id: MemberIdPath, uow: Uow, who: Principal = READERS
) -> PointsRead:
    return PointsRead.of(await points.get_points(uow, who, member_id, _now()))


@router.get(
    "/members/{member_id}/points/entries",
    response_model=Page[LedgerEntryRead],
    summary="A member's points ledger",
    description="Any scope. Newest first; `points` is signed. The ledger is append-only: a "
    "correction or a cancellation is a new entry.",
    responses=MEMBER_NOT_FOUND,
)
async def list_member_points_entries(
    member_id: MemberIdPath,
    uow: Uow,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READERS,
) -> Page[LedgerEntryRead]:
    page = await points.list_entries(uow, who, member_id, cursor, limit)
    return Page[LedgerEntryRead](
        items=[LedgerEntryRead.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/points/adjustments",
    status_code=201,
    response_model=AdjustmentRead,
    summary="Adjust a member's points (D, gift points)",
    description="Scope: `admin`. A positive adjustment adds a D lot (available at once, "
    "expiring per the tenant's policy); a negative one takes D points back. "
    f"{SPEND_NOTE} The reason is required and the adjustment is audited. {IDEMPOTENT_NOTE} "
    f"{BUSY_NOTE}",
    responses={**IDEMPOTENCY_ERRORS, **BODY_ERRORS, **INSUFFICIENT},
)
async def create_points_adjustment(
    body: AdjustmentCreate,
    request: Request,
    uow: Uow,
    idempotency_key: IdempotencyKeyHeader = None,
    who: Principal = scoped(Scope.ADMIN),
) -> Response:
    async def operation(tx):
        done = await points.adjust(
            tx, who, member_id=body.member_id, points=body.points, reason=body.reason, now=_now()
        )
        return 201, AdjustmentRead.model_validate(done).model_dump(mode="json")

    return await run_once(request, uow, who, idempotency_key, operation)


@router.post(
    "/points/redemptions",
    status_code=201,
    response_model=RedemptionRead,
    summary="Redeem points (R): cash off at the till, a gift or a rebate",
    description="Scopes: `admin`, `pos`, `app`. Give `card_number` (an active card: its "
    "holder; otherwise 409 `card_<status>`) or `member_id`. `cash_off` answers the money the "
    "points pay at the tenant's `points_per_yuan` (a number of points that is not a whole "
    f"number of fen is 422 `points_not_whole_fen`). {SPEND_NOTE} {IDEMPOTENT_NOTE} "
    f"{BUSY_NOTE}",
    responses={**IDEMPOTENCY_ERRORS, **BODY_ERRORS, **INSUFFICIENT},
)
async def create_points_redemption(
    body: RedemptionCreate,
    request: Request,
    uow: Uow,
    idempotency_key: IdempotencyKeyHeader = None,
    who: Principal = scoped(Scope.ADMIN, Scope.POS, Scope.APP),
) -> Response:
    async def operation(tx):
        done = await points.redeem(
            tx,
            who,
            card_number=body.card_number,
            member_id=body.member_id,
            points=body.points,
            purpose=body.purpose,
            reference=body.reference,
            now=_now(),
        )
        return 201, RedemptionRead.model_validate(done).model_dump(mode="json")

    return await run_once(request, uow, who, idempotency_key, operation)


@router.get(
    "/points/redemptions/{redemption_id}",
    response_model=RedemptionRead,
    summary="Get a redemption",
    description="Any scope.",
    responses=REDEMPTION_NOT_FOUND,
)
async def get_points_redemption(
    uow: Uow, redemption_id: IdPath, who: Principal = READERS
) -> RedemptionRead:
    return RedemptionRead.model_validate(await points.get_redemption(uow, who, redemption_id))


@router.post(
    "/points/redemptions/{redemption_id}/cancel",
    response_model=RedemptionRead,
    summary="Cancel a redemption: the points go back",
    description="Scopes: `admin`, `pos`. The points return to the lots they were taken from "
    "(positive R entries) with their original expiry; points whose lot expired meanwhile "
    "expire again at once. A second cancel is 409 `redemption_already_cancelled`. "
    f"{IDEMPOTENT_NOTE} {BUSY_NOTE}",
    responses={
        **IDEMPOTENCY_ERRORS,
        **REDEMPTION_NOT_FOUND,
        **problems(
            409,
            examples={409: ("redemption_already_cancelled", "Redemption 7 was already cancelled.")},
        ),
    },
)
async def cancel_points_redemption(
    request: Request,
    uow: Uow,
    redemption_id: IdPath,
    idempotency_key: IdempotencyKeyHeader = None,
    who: Principal = scoped(Scope.ADMIN, Scope.POS),
) -> Response:
    async def operation(tx):
        done = await points.cancel_redemption(tx, who, redemption_id, _now())
        return 200, RedemptionRead.model_validate(done).model_dump(mode="json")

    return await run_once(request, uow, who, idempotency_key, operation)


@router.post(
    "/points/purchases",
    status_code=201,
    response_model=PurchaseRead,
    summary="Sell points to a member (F, purchased points)",
    description="Scopes: `admin`, `pos`. Adds an F lot, available at once; `money` is what the "
    f"till collects: points × the tenant's `point_price`, half up to the fen. {HOLDER_NOTE} "
    f"{IDEMPOTENT_NOTE} {BUSY_NOTE}",
    responses={
        **IDEMPOTENCY_ERRORS,
        **BODY_ERRORS,
        **problems(409, examples={409: ("card_frozen", "The card is frozen.")}),
    },
)
async def create_points_purchase(
    body: PurchaseCreate,
    request: Request,
    uow: Uow,
    idempotency_key: IdempotencyKeyHeader = None,
    who: Principal = scoped(Scope.ADMIN, Scope.POS),
) -> Response:
    async def operation(tx):
        done = await points.purchase(
            tx,
            who,
            card_number=body.card_number,
            member_id=body.member_id,
            points=body.points,
            now=_now(),
        )
        return 201, PurchaseRead.model_validate(done).model_dump(mode="json")

    return await run_once(request, uow, who, idempotency_key, operation)


@router.post(
    "/jobs/expire-points",
    response_model=ExpiryRunRead,
    tags=["jobs"],
    summary="Expire points whose expiry has passed",
    description="Scope: `admin`. Writes an X entry for every lot of the tenant whose expiry "
    "has passed and still holds points, in one set-based transaction; safe to run any time "
    "and concurrently with spending (a member's points are expired lazily too, before they "
    f"are spent or shown). {IDEMPOTENT_NOTE}",
    responses=IDEMPOTENCY_ERRORS,
)
async def expire_points(
    request: Request,
    uow: Uow,
    idempotency_key: IdempotencyKeyHeader = None,
    who: Principal = scoped(Scope.ADMIN),
) -> Response:
    async def operation(tx):
        now = _now()
        run = await points.expire_points(tx, who, now)
        body = ExpiryRunRead(ran_at=now, lots=run.lots, members=run.members, points=run.points)
        return 200, body.model_dump(mode="json")

    return await run_once(request, uow, who, idempotency_key, operation)
