"""Indicator weights (指标权重, docs/domain §9.2): a stateless calculator, one body per method."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from app.domain.access import Principal, Scope
from app.routers.deps import scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.weights import EXAMPLES, WeightsIn, WeightsRead
from app.services.weights import weigh

router = APIRouter(tags=["voice of the customer"])

METHODS_NOTE = (
    "Methods: `expert_average` (主观赋权: the mean of each expert's weights; each expert's "
    "weights sum to 1 within 0.001, else 422 `weights_not_summing_to_one`), `direct` (直接比较"
    "法: each indicator as a multiple > 0 of the least important one; weights = normalised "
    "multiples), `pairwise` (对偶比较法: every unordered pair exactly once as `{more, less}` "
    "(1 point to `more`) or `{tie: [a, b]}` (½ each); weight = points / all points; a pair "
    "twice is 422 `duplicate_pair`, a missing one 422 `missing_pair` listing them), `delphi` "
    "(德尔菲法: rounds of expert weights, ≥ 2 experts a round; per round and indicator the "
    "mean and the coefficient of variation (sample standard deviation / mean); `converged` "
    "when every CV of the last round is below `cv_threshold` (default 0.15); weights = the "
    "last round's means, normalised) and `ahp` (层次分析法: a positive reciprocal matrix on "
    'Saaty\'s 1–9 scale, entries as numbers or "a/b" strings; weights = principal '
    "eigenvector; `lambda_max`, `ci` = (λmax − n)/(n − 1), `cr` = CI/RI with Saaty's RI; CR "
    "> 0.10 is 422 `inconsistent_matrix` stating the CR). Weights come back with four "
    "decimals, ≥ 0 and summing to exactly 1 (largest remainder), keyed by indicator code, "
    "with the method's diagnostics as top-level keys beside them. Indicators: 1–50 unique "
    "codes (AHP: at most 10). Refusals are 422 naming the field, e.g. `experts[1]`, "
    "`multiples.B`, `judgements[3]`, `rounds[0][2]`, `matrix[1][0]`."
)


@router.post(
    "/analytics/weights",
    response_model=WeightsRead,
    response_model_exclude_none=True,
    summary="Weigh indicators (stateless): expert average, direct, pairwise, Delphi or AHP",
    description=f"Any scope. {METHODS_NOTE} Nothing is stored; set a CSI node's weights with "
    "`PUT /v1/csi/models/{code}/nodes/{node}/weights` (same body).",
    responses={
        **BODY_ERRORS,
        **problems(
            422,
            examples={
                422: (
                    "inconsistent_matrix",
                    "The matrix is inconsistent: CR = 0.2791 > 0.10. Revise the judgements.",
                )
            },
        ),
    },
)
async def calculate_weights(
    body: Annotated[
        WeightsIn,
        Body(
            openapi_examples={
                name: {"summary": name, "value": value} for name, value in EXAMPLES.items()
            }
        ),
    ],
    who: Principal = scoped(*Scope),
) -> WeightsRead:
    return WeightsRead.of(weigh(body.method, body.indicators, body.params()))
