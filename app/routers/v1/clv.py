"""Customer lifetime value (DOMAIN §6) under ``/v1/analytics/clv``: the stateless retention-
model calculator here; models fitted on the tenant's transactions join this router."""

from fastapi import APIRouter

from app.domain import clv
from app.domain.access import Principal, Scope
from app.routers.deps import scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.clv import RetentionClvCreate, RetentionClvRead, ScheduleRowRead

router = APIRouter(prefix="/analytics/clv", tags=["analytics"])

ANALYSTS = scoped(Scope.ANALYTICS, Scope.ADMIN)


@router.post(
    "/retention",
    response_model=RetentionClvRead,
    summary="CLV of a customer under the retention model (客户终生价值)",
    description="Scopes: `analytics`, `admin`. A calculator: reads and stores nothing. Margin "
    "per year m = `annual_spend` × `gross_margin`, kept each year with probability "
    "`retention` r, discounted at `discount_rate` d, over `years` or unbounded, in one of "
    "three timing conventions (see `convention`). Unbounded totals are the closed forms "
    "m/(1+d−r), m·r/(1+d−r) and m(1+d)/(1+d−r). Example (DOMAIN §6): 2000, 0.5, 0.8, 0.08 → "
    "3571.43 / 2857.14 / 3857.14 unbounded, 2774.95 / 2219.96 / 2996.95 over 5 years. "
    "Out-of-range values are 422 `invalid_clv_input` naming each field; an unbounded horizon "
    "with r ≥ 1 + d is 422 `clv_diverges` on `retention`.",
    responses={
        **BODY_ERRORS,
        **problems(
            422,
            examples={
                422: (
                    "clv_diverges",
                    "With an unbounded horizon the retention (1) must be below 1 + the "
                    "discount rate (1): the series does not converge. Give `years` or lower "
                    "the retention.",
                )
            },
        ),
    },
)
async def calculate_retention_clv(
    body: RetentionClvCreate, who: Principal = ANALYSTS
) -> RetentionClvRead:
    result = clv.retention_clv(
        body.annual_spend,
        body.gross_margin,
        body.retention,
        body.discount_rate,
        body.years,
        body.convention,
    )
    return RetentionClvRead(
        clv=result.clv,
        annual_margin=result.annual_margin,
        convention=result.convention.value,
        years=result.years,
        schedule=[
            ScheduleRowRead(
                year=row.year,
                margin=row.margin,
                survival=row.survival,
                discount_factor=row.discount_factor,
                present_value=row.present_value,
            )
            for row in result.schedule
        ],
    )
