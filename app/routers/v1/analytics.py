"""Customer analytics (issue 6): RFM (docs/domain §5), churn and lifecycle (docs/domain §7)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.domain.rfm import RfmMethod
from app.routers.deps import Cursor, IdPath, Limit, MemberIdPath, Uow, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.analytics import (
    ChurnRead,
    ChurnWindowsRead,
    DateWindow,
    LifecycleConfigRead,
    LifecycleConfigUpdate,
    LifecycleRead,
    MemberLifecycleRead,
    MemberRfmRead,
    RfmConfigRead,
    RfmConfigUpdate,
    RfmMemberRead,
    RfmRunCreate,
    RfmRunRead,
)
from app.schemas.common import Day, Page
from app.schemas.enums import RfmSegment
from app.services import analytics

router = APIRouter(tags=["analytics"])

ANALYSTS = scoped(Scope.ANALYTICS, Scope.ADMIN)
RUN_NOT_FOUND = problems(404, examples={404: ("rfm_run_not_found", "No RFM run 42.")})
SOURCE = (
    "Purchases are the sales recorded through `POST /v1/sales` net of their returns (a receipt "
    "returned in full is no purchase) plus imported history (`POST /v1/imports/transactions`); "
    "days are the tenant's."
)


def _now() -> datetime:
    return datetime.now(UTC)


def _config(settings) -> RfmConfigRead:
    c = settings.config
    return RfmConfigRead(
        method=c.method.value,
        window_days=c.window_days,
        r_days=list(c.r_days),
        f_counts=list(c.f_counts),
        m_amounts=list(c.m_amounts),
        high_score=c.high_score,
        updated_at=settings.updated_at,
    )


@router.get(
    "/analytics/rfm/config",
    response_model=RfmConfigRead,
    summary="Get the RFM settings",
    description="Scopes: `analytics`, `admin`. A tenant that never set them has the airline "
    "table: a 730-day window, R cut at 30/90/180/365 days, F at 2/6/11/24 "
    "purchases, M at 500/1000/3000/5000 CNY, high = score ≥ 3 (`updated_at` null).",
)
async def get_rfm_config(uow: Uow, who: Principal = ANALYSTS) -> RfmConfigRead:
    return _config(await analytics.get_rfm_settings(uow, who))


@router.put(
    "/analytics/rfm/config",
    response_model=RfmConfigRead,
    summary="Set the RFM settings",
    description="Scopes: `analytics`, `admin`. Replaces them all (absent fields take their "
    "defaults) and is audited; runs from now on use them, earlier runs keep theirs. The cut "
    "points are four positive, strictly ascending values each (else 422 `invalid_rfm_config` "
    "naming every offending field); `window_days` 1-3650; `high_score` 1-5.",
    responses={
        **BODY_ERRORS,
        **problems(
            422,
            examples={
                422: (
                    "invalid_rfm_config",
                    "The RFM configuration is invalid: r_days are strictly ascending.",
                )
            },
        ),
    },
)
async def put_rfm_config(
    body: RfmConfigUpdate, uow: Uow, who: Principal = ANALYSTS
) -> RfmConfigRead:
    settings = await analytics.put_rfm_settings(
        uow,
        who,
        method=RfmMethod(body.method),
        window_days=body.window_days,
        r_days=tuple(body.r_days),
        f_counts=tuple(body.f_counts),
        m_amounts=tuple(body.m_amounts),
        high_score=body.high_score,
        now=_now(),
    )
    return _config(settings)


@router.post(
    "/analytics/rfm/runs",
    status_code=201,
    response_model=RfmRunRead,
    summary="Run RFM now: a dated snapshot of every member's scores",
    description="Scopes: `analytics`, `admin`. Scores every member with a purchase in the "
    "window ending on `as_of` (today or earlier in the tenant's time zone, else 422 "
    "`invalid_as_of`): recency = whole days from the last purchase's date to `as_of`, "
    "frequency = receipts in the window, monetary = their average net amount (2 decimals, "
    "half up); scores and the eight segments per the tenant's settings. Members without a "
    f"purchase in the window are not scored. {SOURCE} The service also runs it by itself on "
    "the 1st of each month at 02:00 tenant time (as of the month's last day), once however "
    "many workers or hosts; every run is kept.",
    responses={
        **BODY_ERRORS,
        **problems(
            422,
            examples={
                422: (
                    "invalid_as_of",
                    "as_of 2027-01-01 is after today (2026-11-23, tenant time zone).",
                )
            },
        ),
    },
)
async def create_rfm_run(body: RfmRunCreate, uow: Uow, who: Principal = ANALYSTS) -> RfmRunRead:
    return RfmRunRead.model_validate(await analytics.create_rfm_run(uow, who, body.as_of, _now()))


@router.get(
    "/analytics/rfm/runs",
    response_model=Page[RfmRunRead],
    summary="List RFM runs, newest first",
    description="Scopes: `analytics`, `admin`. Scheduled and on-demand runs, in cursor pages.",
)
async def list_rfm_runs(
    uow: Uow, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, who: Principal = ANALYSTS
) -> Page[RfmRunRead]:
    page = await analytics.list_rfm_runs(uow, who, cursor, limit)
    return Page[RfmRunRead](
        items=[RfmRunRead.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/analytics/rfm/runs/{run_id}",
    response_model=RfmRunRead,
    summary="Get an RFM run",
    description="Scopes: `analytics`, `admin`. The run's date, settings and segment counts.",
    responses=RUN_NOT_FOUND,
)
async def get_rfm_run(run_id: IdPath, uow: Uow, who: Principal = ANALYSTS) -> RfmRunRead:
    return RfmRunRead.model_validate(await analytics.get_rfm_run(uow, who, run_id))


@router.get(
    "/analytics/rfm/runs/{run_id}/members",
    response_model=Page[RfmMemberRead],
    summary="The members scored by an RFM run, optionally of one segment",
    description="Scopes: `analytics`, `admin`. By member id, in cursor pages; `segment` is one "
    "of the eight segment keys (else 422 `invalid_segment`).",
    responses=RUN_NOT_FOUND,
)
async def list_rfm_run_members(
    run_id: IdPath,
    uow: Uow,
    segment: Annotated[RfmSegment | None, Query(description="Only this segment.")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = ANALYSTS,
) -> Page[RfmMemberRead]:
    page = await analytics.rfm_run_members(uow, who, run_id, segment, cursor, limit)
    return Page[RfmMemberRead](
        items=[RfmMemberRead.model_validate(s) for s in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/members/{member_id}/rfm",
    response_model=MemberRfmRead,
    summary="A member's scores in the latest RFM run",
    description="Scopes: `analytics`, `admin`. From the tenant's latest run: 404 "
    "`rfm_not_run` before the first run, `rfm_not_scored` (with `run_id`) when the member had "
    "no purchase in that run's window, `member_not_found` for an unknown member.",
    responses=problems(
        404, examples={404: ("rfm_not_scored", "The member was not scored in the latest run.")}
    ),
)
async def get_member_rfm(
    member_id: MemberIdPath, uow: Uow, who: Principal = ANALYSTS
) -> MemberRfmRead:
    s = await analytics.member_rfm(uow, who, member_id)
    return MemberRfmRead.model_validate(s)


# --- churn -------------------------------------------------------------------------------------


@router.get(
    "/analytics/churn",
    response_model=ChurnRead,
    summary="Churn over a period: absolute and relative rates",
    description="Scopes: `analytics`, `admin`. A customer is active on a day if they bought in "
    "the `inactive_days` days up to it (default 365). Active at the start: bought in the "
    "`inactive_days` before `from`; lost: active at the start and no purchase in the "
    "`inactive_days` up to `to` (lapsing and coming back within the period is no loss). Value: "
    "net spend over the 12 months before `from`. Absolute rate = lost / active at the start; "
    "relative rate = value lost / value active at the start; fractions with 4 decimals. "
    f"{SOURCE} `from` ≤ `to` ≤ today, 1 ≤ `inactive_days` ≤ 3650 (else 422 `invalid_period`).",
    responses=problems(
        422,
        examples={422: ("invalid_period", "The churn period is invalid: to is on or after from.")},
    ),
)
async def get_churn(
    uow: Uow,
    start: Annotated[Day, Query(alias="from", description="First day of the period.")],
    to: Annotated[Day, Query(description="Last day of the period (inclusive).")],
    inactive_days: Annotated[
        int, Query(description="Days without a purchase after which a customer is lost.")
    ] = 365,
    who: Principal = ANALYSTS,
) -> ChurnRead:
    report = await analytics.churn_report(uow, who, start, to, inactive_days, _now())
    w, c = report.windows, report.figures
    return ChurnRead(
        from_=report.start,
        to=report.end,
        inactive_days=report.inactive_days,
        active_at_start=c.active_at_start,
        lost=c.lost,
        retained=c.retained,
        absolute_churn_rate=c.absolute_rate,
        value_at_start=c.value_at_start,
        value_lost=c.value_lost,
        relative_churn_rate=c.relative_rate,
        windows=ChurnWindowsRead(
            active_at_start=DateWindow(from_=w.active_start[0], to=w.active_start[1]),
            active_at_end=DateWindow(from_=w.active_end[0], to=w.active_end[1]),
            value=DateWindow(from_=w.value[0], to=w.value[1]),
        ),
    )


# --- lifecycle ----------------------------------------------------------------------------------

LIFECYCLE_RULES = (
    "Stages by the first rule that holds, over the member's purchases up to `as_of`: lost (no "
    "purchase for more than `lost_after_days`), exploration (at most "
    "`exploration_max_purchases` purchases), decline (no purchase for more than "
    "`decline_after_days`, or the spend of the last `trend_days` below `decline_ratio` × the "
    "`trend_days` before), formation (first purchase less than `stability_min_days` ago or "
    "fewer than `stability_min_purchases` purchases), else stability."
)
AsOf = Annotated[
    Day | None, Query(description="Default today (tenant time zone); not after today.")
]


def _lifecycle_config(settings) -> LifecycleConfigRead:
    return LifecycleConfigRead(**settings.config.as_json(), updated_at=settings.updated_at)


@router.get(
    "/analytics/lifecycle/config",
    response_model=LifecycleConfigRead,
    summary="Get the lifecycle rules",
    description=f"Scopes: `analytics`, `admin`. {LIFECYCLE_RULES} Never set: the defaults "
    "(`updated_at` null).",
)
async def get_lifecycle_config(uow: Uow, who: Principal = ANALYSTS) -> LifecycleConfigRead:
    return _lifecycle_config(await analytics.get_lifecycle_settings(uow, who))


@router.put(
    "/analytics/lifecycle/config",
    response_model=LifecycleConfigRead,
    summary="Set the lifecycle rules",
    description="Scopes: `analytics`, `admin`. Replaces them all (absent fields take their "
    "defaults); audited. Days 1-3650, `decline_after_days` < `lost_after_days`, "
    "`exploration_max_purchases` ≥ 1 and < `stability_min_purchases`, 0 < `decline_ratio` ≤ 1 "
    "(else 422 `invalid_lifecycle_config` naming each field).",
    responses={
        **BODY_ERRORS,
        **problems(
            422,
            examples={
                422: (
                    "invalid_lifecycle_config",
                    "The lifecycle configuration is invalid: decline_after_days is less than "
                    "lost_after_days.",
                )
            },
        ),
    },
)
async def put_lifecycle_config(
    body: LifecycleConfigUpdate, uow: Uow, who: Principal = ANALYSTS
) -> LifecycleConfigRead:
    values = {name: getattr(body, name) for name in LifecycleConfigUpdate.model_fields}
    settings = await analytics.put_lifecycle_settings(uow, who, _now(), **values)
    return _lifecycle_config(settings)


@router.get(
    "/analytics/lifecycle",
    response_model=LifecycleRead,
    summary="Members by lifecycle stage",
    description=f"Scopes: `analytics`, `admin`. {LIFECYCLE_RULES} {SOURCE}",
    responses=problems(422, examples={422: ("invalid_as_of", "as_of is after today.")}),
)
async def get_lifecycle(uow: Uow, as_of: AsOf = None, who: Principal = ANALYSTS) -> LifecycleRead:
    found = await analytics.lifecycle_breakdown(uow, who, as_of, _now())
    return LifecycleRead(
        as_of=found.as_of,
        members=found.members,
        no_purchases=found.no_purchases,
        stages=found.stages,
        config=found.config.as_json(),
    )


@router.get(
    "/members/{member_id}/lifecycle",
    response_model=MemberLifecycleRead,
    summary="A member's lifecycle stage",
    description=f"Scopes: `analytics`, `admin`. {LIFECYCLE_RULES} `stage` is null without any "
    "purchase up to `as_of`.",
    responses={
        **problems(404, examples={404: ("member_not_found", "No member with id 42.")}),
        **problems(422, examples={422: ("invalid_as_of", "as_of is after today.")}),
    },
)
async def get_member_lifecycle(
    member_id: MemberIdPath, uow: Uow, as_of: AsOf = None, who: Principal = ANALYSTS
) -> MemberLifecycleRead:
    found = await analytics.member_lifecycle(uow, who, member_id, as_of, _now())
    h = found.history
    return MemberLifecycleRead(
        member_id=found.member_id,
        as_of=found.as_of,
        stage=found.stage,
        purchases=h.purchases if h else 0,
        first_purchase=h.first_day if h else None,
        last_purchase=h.last_day if h else None,
        recency_days=h.recency_days if h else None,
        tenure_days=h.tenure_days if h else None,
        recent_spend=h.recent if h else Decimal("0.00"),
        previous_spend=h.previous if h else Decimal("0.00"),
    )
