from fastapi import APIRouter

from app.domain.access import Principal, Scope
from app.routers.deps import Uow, scoped
from app.schemas.jobs import TierChangeRead, TierReviewResult
from app.services import tiers

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.post(
    "/tier-review",
    response_model=TierReviewResult,
    summary="Upgrade cards whose member's 12-month spend reached their class's threshold",
    description="Scope: `admin`. Follows each class's `upgrade_to` / `upgrade_spend_12m` as far "
    "as the spend carries (e.g. NORMAL → GOLD → DIAMOND), for active and frozen cards; every "
    "step is recorded in the card's events with its reason. Safe to run any time and "
    "concurrently: cards are locked while they move. Sales run the same rule for their member.",
)
async def review_tiers(uow: Uow, who: Principal = scoped(Scope.ADMIN)) -> TierReviewResult:
    reviewed_at, changes = await tiers.review_tiers(uow, who)
    return TierReviewResult(
        reviewed_at=reviewed_at, upgraded=[TierChangeRead.model_validate(c) for c in changes]
    )
