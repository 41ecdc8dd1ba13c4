"""返券 rules (docs/domain §12): a sale earns vouchers, one per full amount of its eligible
lines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, Limit, Uow, demo_code, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.common import ChangeRead, Page
from app.schemas.enums import QueryFlag
from app.schemas.voucher_rules import VoucherRuleCreate, VoucherRuleRead, VoucherRuleUpdate
from app.services import voucher_rules

router = APIRouter(prefix="/voucher-rules", tags=["voucher rules"])

ADMIN = scoped(Scope.ADMIN)
READ = scoped(*Scope)

RuleCode = Annotated[str, demo_code("EVERY200", "The rule the create example makes")]
ActiveFilter = Annotated[
    QueryFlag | None, Query(description="Only active (`true`) or paused (`false`) rules.")
]

NOT_FOUND = problems(404, examples={404: ("voucher_rule_not_found", "No voucher rule EVERY200.")})
INVALID = problems(
    422,
    examples={
        422: (
            "invalid_voucher_rule",
            "The voucher rule is invalid: per_amount: an amount > 0 with at most 2 decimals, up "
            "to 9999999999.99; include.colour: not a level: one of major_category, "
            "mid_category, minor_category, counter, brand, sku",
        )
    },
)
INVALID[422]["content"]["application/problem+json"]["example"]["errors"] = [
    {
        "field": "per_amount",
        "message": "an amount > 0 with at most 2 decimals, up to 9999999999.99",
    },
    {
        "field": "include.colour",
        "message": "not a level: one of major_category, mid_category, minor_category, counter, "
        "brand, sku",
    },
]
VALIDATION = (
    "Bad terms are one 422 `invalid_voucher_rule` naming every field: the code, the name, "
    "`per_amount` (> 0, 2 decimals), `max_per_receipt` ≥ 1, the scope's levels, `ends_at` "
    "after `starts_at`, and a template, card class or store the tenant doesn't have."
)
VERSION = "Every worker's sales apply the change from their next sale on."


def _flag(value: str | None) -> bool | None:
    return None if value is None else value == "true"


@router.post(
    "",
    status_code=201,
    response_model=VoucherRuleRead,
    summary="Create a 返券 rule: sales earn vouchers",
    description="Scope: `admin`. A sale earns one voucher of `template` per full `per_amount` "
    "of its eligible amount (the lines in scope, less what vouchers paid), at most "
    "`max_per_receipt`, for the card classes and stores listed (none: any), in the window, "
    f"while active. {VALIDATION} A code in use is 409 `voucher_rule_exists`. Logged in "
    f"the change log. {VERSION}",
    responses={
        **BODY_ERRORS,
        **INVALID,
        **problems(
            409, examples={409: ("voucher_rule_exists", "A voucher rule EVERY200 exists already.")}
        ),
    },
)
async def create_voucher_rule(
    body: VoucherRuleCreate, uow: Uow, who: Principal = ADMIN
) -> VoucherRuleRead:
    return VoucherRuleRead.of(await voucher_rules.create_voucher_rule(uow, who, body.terms()))


@router.get(
    "",
    response_model=Page[VoucherRuleRead],
    summary="List 返券 rules",
    description="Any scope. By code, in cursor pages; `active` filters.",
)
async def list_voucher_rules(
    uow: Uow,
    active: ActiveFilter = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READ,
) -> Page[VoucherRuleRead]:
    page = await voucher_rules.list_voucher_rules(uow, who, _flag(active), cursor, limit)
    return Page[VoucherRuleRead](
        items=[VoucherRuleRead.of(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{code}",
    response_model=VoucherRuleRead,
    summary="Get a 返券 rule",
    description="Any scope.",
    responses=NOT_FOUND,
)
async def get_voucher_rule(code: RuleCode, uow: Uow, who: Principal = READ) -> VoucherRuleRead:
    return VoucherRuleRead.of(await voucher_rules.get_voucher_rule(uow, who, code))


@router.patch(
    "/{code}",
    response_model=VoucherRuleRead,
    summary="Change a 返券 rule",
    description="Scope: `admin`. Any terms but the code; absent fields stay as they are (lists "
    f"and scopes given are replaced whole) and the result is checked whole. {VALIDATION} "
    f"`active: false` pauses the rule. Each changed term is logged. {VERSION}",
    responses={**BODY_ERRORS, **NOT_FOUND, **INVALID},
)
async def update_voucher_rule(
    code: RuleCode, body: VoucherRuleUpdate, uow: Uow, who: Principal = ADMIN
) -> VoucherRuleRead:
    return VoucherRuleRead.of(
        await voucher_rules.update_voucher_rule(uow, who, code, body.changes())
    )


@router.delete(
    "/{code}",
    status_code=204,
    response_class=Response,
    summary="Delete a 返券 rule",
    description="Scope: `admin`. Sales stop earning by it; vouchers it already earned stay. "
    f"To stop it for a while instead, set `active: false`. Its change log stays readable. "
    f"{VERSION}",
    responses=NOT_FOUND,
)
async def delete_voucher_rule(code: RuleCode, uow: Uow, who: Principal = ADMIN) -> Response:
    await voucher_rules.delete_voucher_rule(uow, who, code)
    return Response(status_code=204)


@router.get(
    "/{code}/changes",
    response_model=Page[ChangeRead],
    summary="List a 返券 rule's change log",
    description="Any scope. One entry per changed term (修改日志): who, when, old and new value "
    "(lists and scopes as compact JSON); newest first, cursor-paginated. Still available "
    "after the rule is deleted.",
    responses=NOT_FOUND,
)
async def list_voucher_rule_changes(
    code: RuleCode,
    uow: Uow,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READ,
) -> Page[ChangeRead]:
    page = await voucher_rules.list_voucher_rule_changes(uow, who, code, cursor, limit)
    return ChangeRead.page(page)
