from fastapi import APIRouter, Depends

from app.routers.deps import no_nul_parameters
from app.routers.openapi_docs import AUTH_ERRORS
from app.routers.v1 import (
    analytics,
    api_keys,
    campaigns,
    card_classes,
    cards,
    change_account,
    checkout,
    clv,
    complaints,
    csi,
    discount_rules,
    imports,
    jobs,
    member_groups,
    members,
    nps,
    points,
    points_earning,
    points_rules,
    points_settings,
    rewards,
    sales,
    settings,
    sharing_groups,
    stores,
    voucher_rules,
    voucher_settings,
    voucher_templates,
    vouchers,
    weights,
)

router = APIRouter(prefix="/v1", responses=AUTH_ERRORS, dependencies=[Depends(no_nul_parameters)])
# Routes are matched in order: the hottest paths (the till's) come first.
router.include_router(checkout.router)
router.include_router(sales.router)
router.include_router(stores.router)
router.include_router(card_classes.router)
router.include_router(sharing_groups.router)
router.include_router(api_keys.router)
router.include_router(members.router)
router.include_router(cards.router)
router.include_router(change_account.router)
router.include_router(jobs.router)
router.include_router(discount_rules.router)
router.include_router(settings.router)
router.include_router(points.router)
router.include_router(points_settings.router)
router.include_router(points_rules.router)
router.include_router(points_earning.router)
router.include_router(clv.router)
router.include_router(imports.router)
router.include_router(nps.router)
router.include_router(weights.router)
router.include_router(csi.router)
router.include_router(complaints.router)
router.include_router(analytics.router)
router.include_router(member_groups.router)
router.include_router(campaigns.router)
router.include_router(voucher_settings.router)
router.include_router(voucher_templates.router)
router.include_router(vouchers.router)
router.include_router(rewards.router)
router.include_router(voucher_rules.router)
