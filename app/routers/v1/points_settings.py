from fastapi import APIRouter

from app.domain.access import Principal, Scope
from app.routers.deps import Uow, scoped
from app.routers.openapi_docs import BODY_ERRORS
from app.schemas.points import PointsSettingsRead, PointsSettingsUpdate
from app.schemas.sales import SaleLimitsRead, SaleLimitsUpdate
from app.services import points, sales

router = APIRouter(prefix="/settings", tags=["settings"])


@router.get(
    "/points",
    response_model=PointsSettingsRead,
    summary="Get the points settings",
    description="Scopes: `admin`, `pos`, `app`, `partner`, `analytics`. A tenant that never "
    "set them has no expiry, no pending days, a point price of 0.01 CNY and a cash-off rate "
    "of 100 points per CNY.",
)
async def get_points_settings(uow: Uow, who: Principal = scoped(*Scope)) -> PointsSettingsRead:
    return PointsSettingsRead.of(await points.get_settings(uow, who))


@router.put(
    "/points",
    response_model=PointsSettingsRead,
    summary="Set the points settings",
    description="Scope: `admin`. Replaces them all (absent fields take their defaults) and is "
    "audited. `expiry`: `{kind: none}`, `{kind: rolling_months, n ≥ 1}` or `{kind: year_end, "
    "n ≥ 0}`; a new policy applies to points earned from then on. `pending_days` delays points "
    "earned on sales (the return window). `birthday_multiplier` `{k, scope: day|month}` or "
    "null: k on the member's birthday (422 `invalid_birthday_multiplier` out of range); "
    "sales and quotes use the new value at once.",
    responses=BODY_ERRORS,
)
async def put_points_settings(
    body: PointsSettingsUpdate, uow: Uow, who: Principal = scoped(Scope.ADMIN)
) -> PointsSettingsRead:
    settings = await points.put_settings(
        uow,
        who,
        expiry_kind=body.expiry.kind,
        expiry_n=body.expiry.n,
        pending_days=body.pending_days,
        point_price=body.point_price,
        points_per_yuan=body.points_per_yuan,
        birthday_multiplier=None
        if (birthday := body.birthday_multiplier) is None
        else (birthday.k, birthday.scope),
    )
    return PointsSettingsRead.of(settings)


@router.get(
    "/sales",
    response_model=SaleLimitsRead,
    summary="Get the sale limits",
    description="Scopes: `admin`, `pos`, `app`, `partner`, `analytics`. The largest final "
    "amount a sale may have per line and per receipt, so that a typo at the till cannot mint "
    "millions of points. A tenant that never set them has 1000000.00 CNY per line and "
    "5000000.00 CNY per receipt.",
)
async def get_sale_limits(uow: Uow, who: Principal = scoped(*Scope)) -> SaleLimitsRead:
    limits = await sales.get_limits(uow, who)
    return SaleLimitsRead(
        max_line_amount=limits.max_line_amount, max_receipt_amount=limits.max_receipt_amount
    )


@router.put(
    "/sales",
    response_model=SaleLimitsRead,
    summary="Set the sale limits",
    description="Scope: `admin`. Replaces both (audited); sales use them from the next request "
    "on. Each is > 0 and ≤ 1000000000.00 CNY with 2 decimals (422 `invalid_sale_limits` naming "
    "the field).",
    responses=BODY_ERRORS,
)
async def put_sale_limits(
    body: SaleLimitsUpdate, uow: Uow, who: Principal = scoped(Scope.ADMIN)
) -> SaleLimitsRead:
    limits = await sales.put_limits(
        uow,
        who,
        max_line_amount=body.max_line_amount,
        max_receipt_amount=body.max_receipt_amount,
    )
    return SaleLimitsRead(
        max_line_amount=limits.max_line_amount, max_receipt_amount=limits.max_receipt_amount
    )
