from fastapi import APIRouter

from app.domain.access import Principal, Scope
from app.routers.deps import Uow, scoped
from app.routers.openapi_docs import BODY_ERRORS
from app.schemas.pricing_settings import PricingSettingsRead, PricingSettingsUpdate
from app.services import pricing_settings

router = APIRouter(prefix="/settings", tags=["settings"])


@router.get(
    "/pricing",
    response_model=PricingSettingsRead,
    summary="Get the pricing settings",
    description="Scopes: `admin`, `pos`, `app`, `partner`, `analytics`. A tenant that never "
    "set them prices in `threshold` mode.",
)
async def get_pricing_settings(uow: Uow, who: Principal = scoped(*Scope)) -> PricingSettingsRead:
    mode = await pricing_settings.get_pricing_settings(uow, who)
    return PricingSettingsRead(stacking_mode=mode)


@router.put(
    "/pricing",
    response_model=PricingSettingsRead,
    summary="Set the pricing settings",
    description="Scope: `admin`. Takes effect for every worker from its next quote.",
    responses=BODY_ERRORS,
)
async def put_pricing_settings(
    body: PricingSettingsUpdate, uow: Uow, who: Principal = scoped(Scope.ADMIN)
) -> PricingSettingsRead:
    mode = await pricing_settings.put_pricing_settings(uow, who, body.stacking_mode)
    return PricingSettingsRead(stacking_mode=mode)
