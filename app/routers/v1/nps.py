"""NPS (净推荐值, docs/domain §8): a stateless calculator for partners, survey answers and their
summary per store or month (a trend to plot)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.domain.access import Principal, Scope
from app.domain.nps import group_of
from app.routers.deps import Uow, scoped
from app.routers.idempotency import created_or_replayed
from app.routers.openapi_docs import BODY_ERRORS, problems, replayed
from app.schemas.common import Day
from app.schemas.enums import NpsGroupBy
from app.schemas.nps import (
    NpsCalculate,
    NpsGroupRead,
    NpsRead,
    NpsResponseCreate,
    NpsResponseRead,
    NpsSummaryRead,
)
from app.services import nps

router = APIRouter(tags=["voice of the customer"])

ANY = scoped(*Scope)
ANALYSTS = scoped(Scope.ADMIN, Scope.ANALYTICS)
SURVEYORS = scoped(Scope.ADMIN, Scope.POS, Scope.APP, Scope.PARTNER)

From = Annotated[
    Day | None, Query(alias="from", description="First local day (tenant's zone), inclusive.")
]
To = Annotated[Day | None, Query(description="Last local day (tenant's zone), inclusive.")]
StoreFilter = Annotated[
    str | None, Query(min_length=1, max_length=12, description="Only this store.")
]
PERIOD_NOTE = (
    "`from`/`to` are local days in the tenant's time zone, both inclusive; either may be "
    "left out (open). `to` before `from` is 422 `invalid_period`."
)


def _now() -> datetime:
    return datetime.now(UTC)


@router.post(
    "/analytics/nps",
    response_model=NpsRead,
    summary="Calculate an NPS (stateless)",
    description="Any scope. Send the answers (`scores`, whole numbers 0–10) or the three "
    "counts (`promoters` 9–10, `passives` 7–8, `detractors` 0–6), not both. Answers: "
    "promoters 9–10, passives 7–8, detractors 0–6; NPS = %promoters − %detractors on "
    "−100…100, two decimals (half up); shares are fractions of n with four decimals; "
    "`standard_error` = sqrt((p + q − (p − q)²)/n)·100 and `margin_of_error_95` = 1.96 × it. "
    "Example: 30/40/30 of 100 → NPS 0.00, standard error 7.75. A score outside 0–10 is 422 "
    "`invalid_score` naming `scores[i]`; a non-integer is 422 `validation_error`; both or "
    "neither of scores and counts is 422 `scores_or_counts`; no answers is 422 `no_answers`. "
    "Nothing is stored.",
    responses={
        **BODY_ERRORS,
        **problems(422, examples={422: ("invalid_score", "must be a whole number from 0 to 10")}),
    },
)
async def calculate_nps(body: NpsCalculate, who: Principal = ANY) -> NpsRead:
    return NpsRead.of(nps.calculate(body.scores, body.promoters, body.passives, body.detractors))


@router.post(
    "/surveys/nps/responses",
    status_code=201,
    response_model=NpsResponseRead,
    summary="Record an NPS survey answer",
    description="Scopes: `admin`, `pos`, `app`, `partner`. `score` 0–10 (else 422 "
    "`invalid_score`; a non-integer is 422 `validation_error`); `answered_at` with an offset, "
    "not in the future (5 minutes of clock skew allowed; else 422 `answered_in_future`). "
    "`member_id` and `store_code` are optional and must be the tenant's (422 "
    "`member_not_found`, `store_not_found`). With `response_ref` the answer is idempotent: "
    "the same answer sent again answers the first with **200** and `Idempotent-Replayed: "
    "true`; other content under the same reference is 409 `response_ref_conflict`.",
    responses={
        **replayed(NpsResponseRead, "The same answer again (same `response_ref`): the first one."),
        **BODY_ERRORS,
        **problems(
            409,
            422,
            examples={
                409: (
                    "response_ref_conflict",
                    "Answer wx-survey-88121 was recorded with other content.",
                ),
                422: ("member_not_found", "No member with id 3f1c…."),
            },
        ),
    },
)
async def create_nps_response(
    body: NpsResponseCreate, uow: Uow, who: Principal = SURVEYORS
) -> JSONResponse:
    done = await nps.record_response(
        uow,
        who,
        member_id=body.member_id,
        store_code=body.store_code,
        score=body.score,
        answered_at=body.answered_at,
        comment=body.comment,
        response_ref=body.response_ref,
        now=_now(),
    )
    r = done.response
    read = NpsResponseRead(
        id=r.id,
        member_id=r.member_id,
        store_code=r.store_code,
        score=r.score,
        group=group_of(r.score).value,
        answered_at=r.answered_at,
        comment=r.comment,
        response_ref=r.response_ref,
        created_at=r.created_at,
    )
    return created_or_replayed(read.model_dump(mode="json"), done.created)


@router.get(
    "/analytics/nps/summary",
    response_model=NpsSummaryRead,
    summary="NPS of the recorded answers, overall and per store or month",
    description="Scopes: `admin`, `analytics`. The same figures as the calculator for the "
    "answers in the period (by `answered_at`), optionally of one store; `group_by=store` adds "
    "one group per store (key null: answers without a store), `group_by=month` one per month "
    f"(YYYY-MM, tenant's zone), so a trend can be plotted. {PERIOD_NOTE} With no answers "
    "the counts are 0 and the figures null.",
    responses=problems(422, examples={422: ("invalid_period", "`to` must not be before `from`.")}),
)
async def nps_summary(
    uow: Uow,
    from_: From = None,
    to: To = None,
    store_code: StoreFilter = None,
    group_by: Annotated[
        NpsGroupBy | None, Query(description="Add a group per store or month.")
    ] = None,
    who: Principal = ANALYSTS,
) -> NpsSummaryRead:
    found = await nps.summary(
        uow, who, start=from_, end=to, store_code=store_code, group_by=group_by
    )
    return NpsSummaryRead(
        from_=found.start,
        to=found.end,
        store_code=found.store_code,
        group_by=found.group_by,
        overall=NpsRead.of(found.overall),
        groups=[
            NpsGroupRead(key=key, **NpsRead.of(figures).model_dump())
            for key, figures in found.groups
        ],
    )
