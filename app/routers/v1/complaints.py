"""Complaints (客户投诉, docs/domain §11): recorded, then the seven further steps in order, each
through its own ``POST /v1/complaints/{id}/steps/{step}``; the complaint analytics.

Step POSTs run through ``run_once`` (Idempotency-Key honoured; one transaction): implementing a
solution with compensation writes its D points adjustment exactly once.

No ``from __future__ import annotations`` here: the step endpoints are built in a loop and
FastAPI must see each one's body type as an object, not a name."""

from datetime import UTC, datetime
from typing import Annotated, cast

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from app.domain.access import Principal, Scope
from app.domain.complaints import Step
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, IdPath, Limit, Uow, scoped
from app.routers.idempotency import IDEMPOTENCY_ERRORS, IdempotencyKeyHeader, run_once
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.routers.v1.nps import PERIOD_NOTE, From, StoreFilter, To
from app.schemas.common import Page
from app.schemas.complaints import (
    STEP_BODIES,
    ComplaintAnalyticsRead,
    ComplaintCreate,
    ComplaintRead,
    ComplaintSummaryRead,
)
from app.schemas.enums import ComplaintStatus
from app.services import complaints

router = APIRouter(tags=["voice of the customer"])

HANDLERS = scoped(Scope.ADMIN, Scope.POS)
READERS = scoped(Scope.ADMIN, Scope.POS, Scope.ANALYTICS)
NOT_FOUND = problems(404, examples={404: ("complaint_not_found", "No complaint 8812.")})
OUT_OF_ORDER = problems(
    409,
    examples={
        409: (
            "step_out_of_order",
            "Complaint 8812 is recorded: the next step is nature, not solution.",
        )
    },
)
STEPS_NOTE = (
    "The eight steps, in order: record (`POST /v1/complaints`) → `nature` (判断投诉性质) → "
    "`department` (确定处理部门) → `cause` (分析投诉原因) → `solution` (提出处理方案, with "
    "optional `compensation_points`) → `approval` (提交领导批示, `admin` keys only) → "
    "`implementation` (实施处理方案: writes the compensation as a D points adjustment) → "
    "`evaluation` (总结评价: the customer's satisfaction 1–5; the complaint is closed)."
)


def _now() -> datetime:
    return datetime.now(UTC)


@router.post(
    "/complaints",
    status_code=201,
    response_model=ComplaintRead,
    summary="Record a complaint (记录投诉内容)",
    description="Scopes: `admin`, `pos`, `app`. The first of the eight steps: who, how "
    "(`channel`), where (`store_code`), what (`category`, your code; `content`). The member "
    "and the store are optional and must be the tenant's (422 `member_not_found`, "
    f"`store_not_found`); a complaint without a member cannot be compensated in points. "
    f"{STEPS_NOTE}",
    responses={
        **BODY_ERRORS,
        **problems(422, examples={422: ("store_not_found", "No store with code S09.")}),
    },
)
async def create_complaint(
    body: ComplaintCreate, uow: Uow, who: Principal = scoped(Scope.ADMIN, Scope.POS, Scope.APP)
) -> ComplaintRead:
    done = await complaints.create(
        uow,
        who,
        member_id=body.member_id,
        store_code=body.store_code,
        channel=body.channel,
        category=body.category,
        content=body.content,
        now=_now(),
    )
    return ComplaintRead.of(done)


@router.get(
    "/complaints",
    response_model=Page[ComplaintSummaryRead],
    summary="List complaints",
    description="Scopes: `admin`, `pos`, `analytics`. Newest first, cursor-paginated; filter "
    "by `status` (the last step done), `store_code`, `member_id`.",
)
async def list_complaints(
    uow: Uow,
    status: Annotated[ComplaintStatus | None, Query(description="Only this status.")] = None,
    store_code: StoreFilter = None,
    member_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only this member's.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READERS,
) -> Page[ComplaintSummaryRead]:
    page = await complaints.list_complaints(
        uow,
        who,
        status=status,
        store_code=store_code,
        member_id=member_id,
        cursor=cursor,
        limit=limit,
    )
    return Page[ComplaintSummaryRead](
        items=[ComplaintSummaryRead.of(c) for c in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/complaints/{complaint_id}",
    response_model=ComplaintRead,
    summary="Get a complaint with its steps",
    description="Scopes: `admin`, `pos`, `analytics`. With every step done: who, when, data.",
    responses=NOT_FOUND,
)
async def get_complaint(uow: Uow, complaint_id: IdPath, who: Principal = READERS) -> ComplaintRead:
    return ComplaintRead.of(await complaints.get(uow, who, complaint_id))


_STEP_DOCS = {
    Step.NATURE: (
        "Judge the complaint's nature (判断投诉性质)",
        "Whether it is founded and how severe (`low`, `medium`, `high`).",
    ),
    Step.DEPARTMENT: (
        "Assign the department (确定处理部门)",
        "The department (and optionally the person) that handles it.",
    ),
    Step.CAUSE: ("Analyse the cause (分析投诉原因)", "Why it happened."),
    Step.SOLUTION: (
        "Propose a solution (提出处理方案)",
        "What will be done, with optional `compensation_points` (0–1,000,000; 0 or absent: "
        "none) given to the member when implemented: a complaint without a member is 422 "
        "`member_required`.",
    ),
    Step.APPROVAL: (
        "Approve or reject the solution (提交领导批示)",
        "Scope `admin` only. `approved: false` rejects the solution: the complaint goes back "
        "to `cause_analysed` and a new solution must be proposed.",
    ),
    Step.IMPLEMENTATION: (
        "Implement the solution (实施处理方案)",
        "With compensation, writes a D points adjustment to the member (reason `Complaint "
        "{id} compensation`; in the member's ledger and audited) and records its "
        "`adjustment_id`: exactly once — a retry without a key is 409 `step_out_of_order`, "
        "with the same `Idempotency-Key` it replays the first response.",
    ),
    Step.EVALUATION: (
        "Evaluate and close (总结评价结果)",
        "The customer's satisfaction with the outcome, 1–5 (422 `invalid_satisfaction` "
        "otherwise); closes the complaint.",
    ),
}


def _step_endpoint(step: Step, body_type: type[BaseModel], who_dep) -> None:
    summary, what = _STEP_DOCS[step]

    async def endpoint(
        complaint_id: IdPath,
        body: body_type,  # type: ignore[valid-type]
        request: Request,
        uow: Uow,
        idempotency_key: IdempotencyKeyHeader = None,
        who: Principal = who_dep,
    ) -> Response:
        async def operation(tx):
            done = await complaints.take_step(
                tx, who, complaint_id, step, cast(BaseModel, body).model_dump(), _now()
            )
            return 200, ComplaintRead.of(done).model_dump(mode="json")

        return await run_once(request, uow, who, idempotency_key, operation)

    endpoint.__name__ = f"complaint_step_{step.value}"
    scopes = "Scope: `admin`." if step is Step.APPROVAL else "Scopes: `admin`, `pos`."
    router.post(
        f"/complaints/{{complaint_id}}/steps/{step.value}",
        response_model=ComplaintRead,
        summary=summary,
        description=f"{scopes} {what} Steps go strictly in order: anything but the next step "
        "(`next_step` of the complaint) is 409 `step_out_of_order` with `complaint_status` and "
        f"`next_step`. Records who (the API key's name) and when. {STEPS_NOTE} Send an "
        "`Idempotency-Key` to make a retry safe.",
        responses={**IDEMPOTENCY_ERRORS, **BODY_ERRORS, **NOT_FOUND, **OUT_OF_ORDER},
    )(endpoint)


for _step, _body in STEP_BODIES.items():
    _step_endpoint(_step, _body, scoped(Scope.ADMIN) if _step is Step.APPROVAL else HANDLERS)


@router.get(
    "/analytics/complaints",
    response_model=ComplaintAnalyticsRead,
    summary="Complaint analytics: by step and category, time to close, rate, satisfaction",
    description="Scopes: `admin`, `analytics`. Over the complaints recorded in the period "
    "(optionally at one store): counts by status (the last step done; all eight listed) and "
    "by category; the median time from record to close of the closed ones, in hours; the "
    "complaint rate per 1,000 members served (members served = distinct members with a sale "
    "in the period, at the store if given; null when none); the share of evaluated "
    f"complaints resolved to a satisfaction of 4 or 5. {PERIOD_NOTE}",
    responses=problems(422, examples={422: ("invalid_period", "`to` must not be before `from`.")}),
)
async def complaint_analytics(
    uow: Uow,
    from_: From = None,
    to: To = None,
    store_code: StoreFilter = None,
    who: Principal = scoped(Scope.ADMIN, Scope.ANALYTICS),
) -> ComplaintAnalyticsRead:
    found = await complaints.analytics(uow, who, start=from_, end=to, store_code=store_code)
    return ComplaintAnalyticsRead(
        from_=found.start,
        to=found.end,
        store_code=found.store_code,
        total=found.total,
        by_status={s.value: n for s, n in found.by_status.items()},
        by_category=found.by_category,
        closed=found.closed,
        median_hours_to_close=found.median_hours_to_close,
        members_served=found.members_served,
        complaints_per_1000_members=found.complaints_per_1000_members,
        evaluated=found.evaluated,
        satisfied=found.satisfied,
        satisfied_share=found.satisfied_share,
    )
