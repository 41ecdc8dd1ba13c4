from fastapi import APIRouter

from app.domain.access import Principal, Scope
from app.routers.deps import Uow, scoped
from app.routers.openapi_docs import BODY_ERRORS
from app.schemas.points import PointsSettingsRead, PointsSettingsUpdate
from app.services import points

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
        birthday_multiplier=body.birthday_multiplier
        and (body.birthday_multiplier.k, body.birthday_multiplier.scope),
    )
    return PointsSettingsRead.of(settings)
