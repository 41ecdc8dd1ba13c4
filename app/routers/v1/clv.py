"""Customer lifetime value (docs/domain §6) under ``/v1/analytics/clv``: the stateless retention-
model calculator here; models fitted on the tenant's transactions join this router."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query

from app.domain import clv
from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, IdPath, Limit, Uow, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.clv import RetentionClvCreate, RetentionClvRead, ScheduleRowRead
from app.schemas.clv_models import (
    ClvMemberRead,
    ClvModelCreate,
    ClvModelRead,
    ValueBreakdownRead,
)
from app.schemas.common import Page
from app.schemas.enums import ClvQuadrant
from app.services import clv_models

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
    "m/(1+d−r), m·r/(1+d−r) and m(1+d)/(1+d−r). Example: 2000, 0.5, 0.8, 0.08 → "
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


# --- models fitted on the tenant's purchases (stored) ---------------------------------------------

MODEL_NOT_FOUND = problems(404, examples={404: ("clv_model_not_found", "No CLV model 7.")})
CURSOR_ERROR = problems(
    422, examples={422: ("invalid_cursor", "The cursor is not one this API issued.")}
)


def _rate(value: Decimal) -> Decimal:
    """A stored rate without the column's padding, at least 2 decimals: 0.100000 → 0.10."""
    trimmed = value.normalize()
    exponent = trimmed.as_tuple().exponent  # a str only for NaN and infinities, never stored
    return (
        trimmed
        if isinstance(exponent, int) and exponent < -2
        else trimmed.quantize(Decimal("0.01"))
    )


def _model(m) -> ClvModelRead:
    t = m.value_thresholds
    return ClvModelRead(
        id=m.id,
        time_unit=m.time_unit,
        calibration_end=m.calibration_end,
        annual_discount_rate=_rate(m.annual_discount_rate),
        horizon_periods=m.horizon_periods,
        gross_margin=_rate(m.gross_margin),
        customers=m.customers,
        bgnbd=m.fit["bgnbd"],
        gamma_gamma=m.fit["gamma_gamma"],
        log_likelihood=m.fit["bgnbd"]["log_likelihood"],
        value_thresholds={
            "current": format(t["current"], ".2f"),
            "potential": format(t["potential"], ".2f"),
            "quantile": t["quantile"],
        },
        duration_ms=m.duration_ms,
        created_at=m.created_at,
    )


@router.post(
    "/models",
    status_code=201,
    response_model=ClvModelRead,
    summary="Fit BG/NBD and Gamma-Gamma on the tenant's purchases and value every member",
    description="Scopes: `analytics`, `admin`. Maximum likelihood on every member's purchases "
    "up to the end of `calibration_end` (tenant time zone): sales recorded through the API net "
    "of returns plus imported history. Purchases on the same calendar day count as one; "
    "frequency = repeat purchase days, recency = first to last purchase day, T = first "
    "purchase day to `calibration_end`, in `time_unit` (week = 7 days, month = 365.25/12 days); "
    "Gamma-Gamma fits the mean of the repeat days' amounts. Publishes each fit's convergence "
    "(`converged`, `iterations`, `message`). Every member's P(alive), expected purchases and "
    "discounted CLV over `horizon_periods`, the historical / current / potential breakdown and "
    "the value quadrant are stored with the model (`GET .../models/{id}/members`). Data the "
    "models can't fit is 422: `insufficient_data` (fewer than 10 customers or 5 with a repeat "
    "purchase), `clv_fit_failed` (no convergence, a degenerate or infinite-mean fit); bad "
    "inputs 422 `invalid_time_unit`, `invalid_discount_rate`, `invalid_clv_input`, "
    "`invalid_value_thresholds`, `invalid_as_of`. Nothing is stored on a refusal.",
    responses={
        **BODY_ERRORS,
        **problems(
            422,
            examples={
                422: (
                    "insufficient_data",
                    "BG/NBD needs at least 5 customers with a repeat purchase; got 2.",
                )
            },
        ),
    },
)
async def create_clv_model(
    body: ClvModelCreate, uow: Uow, who: Principal = ANALYSTS
) -> ClvModelRead:
    given = body.value_thresholds
    model = await clv_models.create_model(
        uow,
        who,
        time_unit=body.time_unit,
        calibration_end=body.calibration_end,
        annual_discount_rate=body.annual_discount_rate,
        horizon_periods=body.horizon_periods,
        gross_margin=body.gross_margin,
        thresholds=clv_models.Thresholds()
        if given is None
        else clv_models.Thresholds(given.current, given.potential, given.quantile),
        now=datetime.now(UTC),
    )
    return _model(model)


@router.get(
    "/models",
    response_model=Page[ClvModelRead],
    summary="List the stored CLV models, newest first",
    description="Scopes: `analytics`, `admin`. Each model as `GET .../models/{id}` returns it "
    "(parameters, fits, convergence, quadrant cuts; the members' values stay under "
    "`GET .../models/{id}/members`), in cursor pages. A cursor this API did not issue is 422 "
    "`invalid_cursor`.",
    responses=CURSOR_ERROR,
)
async def list_clv_models(
    uow: Uow, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, who: Principal = ANALYSTS
) -> Page[ClvModelRead]:
    page = await clv_models.list_models(uow, who, cursor, limit)
    return Page[ClvModelRead](items=[_model(m) for m in page.items], next_cursor=page.next_cursor)


@router.get(
    "/models/{model_id}",
    response_model=ClvModelRead,
    summary="Get a stored CLV model",
    description="Scopes: `analytics`, `admin`. The fitted parameters, convergence and the "
    "quadrant cuts used.",
    responses=MODEL_NOT_FOUND,
)
async def get_clv_model(model_id: IdPath, uow: Uow, who: Principal = ANALYSTS) -> ClvModelRead:
    return _model(await clv_models.get_model(uow, who, model_id))


@router.get(
    "/models/{model_id}/members",
    response_model=Page[ClvMemberRead],
    summary="Every member's values under a CLV model",
    description="Scopes: `analytics`, `admin`. Per member: frequency, recency, T, "
    "P(alive), expected purchases over the horizon, expected value of a purchase, discounted "
    "CLV, the historical / current / potential breakdown and the value quadrant "
    "(current × potential: vip, improve, maintain, abandon). Optionally one `quadrant`; by "
    "member id, in cursor pages.",
    responses=MODEL_NOT_FOUND,
)
async def list_clv_model_members(
    model_id: IdPath,
    uow: Uow,
    quadrant: Annotated[
        ClvQuadrant | None,
        Query(description="Only this quadrant."),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = ANALYSTS,
) -> Page[ClvMemberRead]:
    page = await clv_models.model_members(uow, who, model_id, quadrant, cursor, limit)
    return Page[ClvMemberRead](
        items=[
            ClvMemberRead(
                member_id=m.member_id,
                member_ref=m.member_ref,
                frequency=m.frequency,
                recency=m.recency,
                T=m.t,
                monetary_value=m.monetary,
                p_alive=m.p_alive,
                expected_purchases=m.expected_purchases,
                expected_average_value=m.expected_average_value,
                clv=m.current,
                breakdown=ValueBreakdownRead(
                    historical=m.historical, current=m.current, potential=m.potential, total=m.total
                ),
                quadrant=m.quadrant,
            )
            for m in page.items
        ],
        next_cursor=page.next_cursor,
    )
