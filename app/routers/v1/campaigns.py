"""Campaigns (docs/domain §12, 活动): vouchers of a template for a generated member group, a
held-out control group, a bulk issue, and the results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.domain.voucher_states import shown_status
from app.domain.vouchers import Status
from app.routers.deps import Cursor, Limit, Uow, demo_code, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.campaigns import (
    CSV_EXAMPLE,
    CampaignCreate,
    CampaignMemberRead,
    CampaignRead,
    CampaignUpdate,
    IssueRead,
    ResultsRead,
    campaign_read,
    results_csv,
    results_read,
)
from app.schemas.common import Page
from app.schemas.enums import CampaignArm
from app.services import campaigns

CampaignCode = Annotated[str, demo_code("WINBACK-2026", "The campaign the create example makes")]

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

WHO = scoped(Scope.ADMIN, Scope.ANALYTICS)
ADMIN = scoped(Scope.ADMIN)
NOT_FOUND = problems(404, examples={404: ("campaign_not_found", "No campaign WINBACK-2026.")})
TERMS_ERRORS = problems(
    422,
    examples={422: ("invalid_control_share", "control_share is a fraction from 0 to 0.5.")},
)
GROUP_NOT_GENERATED = problems(
    409,
    examples={
        409: (
            "member_group_not_generated",
            "Member group VIP-BEAUTY is new: generate it first "
            "(POST /v1/member-groups/VIP-BEAUTY/generate).",
        )
    },
)
FIELDS = (
    "`template`: a voucher template's code (422 `voucher_template_not_found`); "
    "`member_group`: a generated member group (422 `member_group_not_found`, 409 "
    "`member_group_not_generated`); `control_share` 0 to 0.5 with 2 decimals (422 "
    "`invalid_control_share`); `ends_at` after `starts_at` (422 `invalid_campaign_window`); "
    "`budget` 1-100000000 vouchers or none (422 `invalid_budget`)."
)


def _now() -> datetime:
    return datetime.now(UTC)


@router.post(
    "",
    status_code=201,
    response_model=CampaignRead,
    summary="Create a campaign",
    description=f"Scope: `admin`. Audited. {FIELDS} The code is immutable and unique (409 "
    "`campaign_exists`; malformed: 422 `invalid_campaign_code`). Each campaign draws its "
    "control group with a random seed of its own.",
    responses={
        **BODY_ERRORS,
        **TERMS_ERRORS,
        **problems(409, examples={409: ("campaign_exists", "A campaign WINBACK exists already.")}),
    },
)
async def create_campaign(body: CampaignCreate, uow: Uow, who: Principal = ADMIN) -> CampaignRead:
    campaign = await campaigns.create_campaign(
        uow,
        who,
        code=body.code,
        name=body.name,
        template=body.template,
        member_group=body.member_group,
        control_share=body.control_share,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        budget=body.budget,
    )
    return campaign_read(campaign)


@router.get(
    "",
    response_model=Page[CampaignRead],
    summary="List campaigns",
    description="Scopes: `admin`, `analytics`. By code, in cursor pages.",
)
async def list_campaigns(
    uow: Uow, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, who: Principal = WHO
) -> Page[CampaignRead]:
    page = await campaigns.list_campaigns(uow, who, cursor, limit)
    return Page[CampaignRead](
        items=[campaign_read(c) for c in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{code}",
    response_model=CampaignRead,
    summary="Get a campaign",
    description="Scopes: `admin`, `analytics`.",
    responses=NOT_FOUND,
)
async def get_campaign(code: CampaignCode, uow: Uow, who: Principal = WHO) -> CampaignRead:
    return campaign_read(await campaigns.get_campaign(uow, who, code))


@router.get(
    "/{code}/members",
    response_model=Page[CampaignMemberRead],
    summary="A campaign's members, with their arm and voucher",
    description="Scopes: `admin`, `analytics`. Every member drawn by an issue: `treated` "
    "with the voucher issued to them (the list the codes are sent out from, by SMS or a mini "
    "program), `control` held out. `arm` filters; by member id, in cursor pages.",
    responses=NOT_FOUND,
)
async def list_campaign_members(
    code: CampaignCode,
    uow: Uow,
    arm: CampaignArm | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = WHO,
) -> Page[CampaignMemberRead]:
    page = await campaigns.list_members(uow, who, code, arm, cursor, limit)
    now = _now()
    return Page[CampaignMemberRead](
        items=[
            CampaignMemberRead(
                member_id=m.member_id,
                arm=m.arm,
                voucher_code=m.voucher_code,
                voucher_status=None
                if m.voucher_status is None or m.valid_to is None
                else shown_status(Status(m.voucher_status), m.valid_to, now),
                valid_to=m.valid_to,
            )
            for m in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.patch(
    "/{code}",
    response_model=CampaignRead,
    summary="Change a campaign",
    description="Scope: `admin`. Audited; absent fields stay. `name`, `ends_at` and `budget` "
    "(null: none) may change at any time; `template`, `member_group`, `control_share` and "
    "`starts_at` only until the first issue (409 `campaign_issued`): they decided who got a "
    f"voucher. The code cannot change (422 `code_immutable`). {FIELDS}",
    responses={
        **BODY_ERRORS,
        **NOT_FOUND,
        **TERMS_ERRORS,
        **problems(
            409,
            examples={
                409: (
                    "campaign_issued",
                    "Campaign WINBACK has issued vouchers: its template can no longer change.",
                )
            },
        ),
    },
)
async def update_campaign(
    code: CampaignCode, body: CampaignUpdate, uow: Uow, who: Principal = ADMIN
) -> CampaignRead:
    changes = body.changes()
    new_code = changes.pop("code", None)
    campaign = await campaigns.update_campaign(uow, who, code, new_code, **changes)
    return campaign_read(campaign)


@router.delete(
    "/{code}",
    status_code=204,
    response_class=Response,
    summary="Delete a campaign",
    description="Scope: `admin`. Audited. Only a campaign never issued (409 `campaign_issued`).",
    responses={
        **NOT_FOUND,
        **problems(
            409,
            examples={
                409: (
                    "campaign_issued",
                    "Campaign WINBACK has issued vouchers: it cannot be deleted.",
                )
            },
        ),
    },
)
async def delete_campaign(code: CampaignCode, uow: Uow, who: Principal = ADMIN) -> Response:
    await campaigns.delete_campaign(uow, who, code)
    return Response(status_code=204)


@router.post(
    "/{code}/issue",
    response_model=IssueRead,
    summary="Issue a campaign's vouchers",
    description="Scope: `admin`. Draws each member of the group's last generated list into "
    "the control group (a random `control_share` of them, by the campaign's seed; stored, so "
    "a member's arm never changes) or the treated, and issues one voucher (source "
    "`campaign`, validity per the template) to each treated member who has none, within the "
    "budget. Set-based, in batches each committed whole: run it again after a failure, or "
    "after the group was generated again, and it issues only to who has none. Two issues of "
    "one campaign take turns. Refused when the campaign ended (409 `campaign_ended`), the "
    "group is not generated (409 `member_group_not_generated`) or the template's validity "
    "ended (409 `voucher_template_expired`).",
    responses={
        **NOT_FOUND,
        **problems(409, examples={409: ("campaign_ended", "Campaign WINBACK ended.")}),
        **problems(422, examples={422: ("voucher_template_not_found", "No voucher template X.")}),
    },
)
async def issue_campaign(code: CampaignCode, uow: Uow, who: Principal = ADMIN) -> IssueRead:
    result = await campaigns.issue(uow, who, code, _now())
    return IssueRead(issued=result.issued, control=result.control, skipped=result.skipped)


@router.get(
    "/{code}/results",
    response_model=ResultsRead,
    summary="A campaign's results",
    description="Scopes: `admin`, `analytics`. Counts: `issued`, `redeemed`, "
    "`redemption_rate` = redeemed / issued, `redeeming_members`, `transactions` (receipts "
    "that redeemed a voucher of the campaign, each once); `revenue`: those receipts' amounts "
    "net of returns; `cost`: the voucher value redeemed (split `cost_store` / "
    "`cost_supplier`); `revenue_per_cost` = revenue / cost. With a control group: spend per "
    "member over [starts_at, min(ends_at, now)) of the treated members issued a voucher vs "
    "the control members (all purchases, net of returns), `uplift` = their difference with "
    "its 95 % Welch interval (`uplift_low`, `uplift_high`), `incremental_revenue` = uplift × "
    "treated members, `incremental_return` = (incremental_revenue × gross_margin − cost) / "
    "cost (the tenant's gross margin, PUT /v1/settings/vouchers). `by_store` and `by_day` "
    "(tenant time zone) break the redemptions down. `Accept: text/csv` answers a CSV table "
    "(the campaign's row, then one per store and per day).",
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}}},
        **NOT_FOUND,
    },
)
async def campaign_results(
    code: CampaignCode, request: Request, uow: Uow, who: Principal = WHO
) -> ResultsRead | Response:
    read = results_read(await campaigns.results(uow, who, code, _now()))
    if "text/csv" in request.headers.get("accept", ""):
        return Response(
            results_csv(read),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{code}-results.csv"'},
        )
    return read
