"""Points rules by level (积分规则, docs/domain §3.2): rule documents of kind ``points``, with the
life cycle, storage and change log of discount rules (app.services.discount_rules)."""

from fastapi import APIRouter

from app.domain.access import Principal, Scope
from app.domain.discount_rules import (
    RuleKind,
)
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, IdPath, Limit, Uow, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.routers.rule_filters import ClassFilter, LevelFilter, StatusFilter, TargetFilter
from app.schemas.common import ChangeRead, Page
from app.schemas.points_rules import (
    PointsRuleCreate,
    PointsRuleRead,
    PointsRuleSummaryRead,
    PointsRuleUpdate,
)
from app.services import discount_rules as rules

router = APIRouter(prefix="/points-rules", tags=["points rules"])

POINTS = RuleKind.POINTS
ADMIN = scoped(Scope.ADMIN)
READ = scoped(*Scope)
READ_SCOPES = "Scopes: `admin`, `pos`, `app`, `partner`, `analytics`."


def _invalid(code: str, field: str, detail: str) -> dict:
    out = problems(422, examples={422: (code, detail)})
    out[422]["content"]["application/problem+json"]["example"]["errors"] = [
        {"field": field, "message": detail}
    ]
    return out


NOT_FOUND = problems(404, examples={404: ("rule_not_found", "No points rule with id 42.")})
NOT_DRAFT = problems(
    409,
    examples={
        409: (
            "rule_not_draft",
            "Points rule 42 is approved; only drafts can be changed or approved.",
        )
    },
)
INVALID = {
    **_invalid("invalid_points_rule", "entries[0].rate", "must be in [0, 100)"),
}
VALIDATION = (
    "Invalid content is 422 `invalid_points_rule` naming each field (`entries[3].rate` outside "
    "[0, 100) or with more than 4 decimals, a duplicate target and class as `entries[5]`, "
    "`effective_to` not after `effective_from`); a class the tenant doesn't have is 422 "
    "`unknown_card_class` naming `entries[i].card_class`."
)


@router.post(
    "",
    status_code=201,
    response_model=PointsRuleRead,
    summary="Create a points rule document (draft)",
    description="Scope: `admin`. A document sets, for targets at one level, the points per CNY "
    "each card class earns (0 excludes the target, e.g. tobacco); at a sale the most specific "
    "level wins, else the class's default_points_rate. It starts as a `draft` and earns "
    f"nothing until approved. `stackable` is ignored. {VALIDATION} Logged in the change log.",
    responses={**BODY_ERRORS, **INVALID},
)
async def create_points_rule(
    body: PointsRuleCreate, uow: Uow, who: Principal = ADMIN
) -> PointsRuleRead:
    created = await rules.create_discount_rule(uow, who, body.terms(), POINTS)
    return PointsRuleRead.of(created)


@router.get(
    "",
    response_model=Page[PointsRuleSummaryRead],
    summary="List points rule documents",
    description=f"{READ_SCOPES} Newest first; cursor-paginated; each item counts its entries. "
    "`card_class` and `target` keep documents with an entry matching both when both are given.",
)
async def list_points_rules(
    uow: Uow,
    status: StatusFilter = None,
    level: LevelFilter = None,
    card_class: ClassFilter = None,
    target: TargetFilter = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READ,
) -> Page[PointsRuleSummaryRead]:
    page = await rules.list_discount_rules(
        uow,
        who,
        status=status,
        level=level,
        card_class=card_class,
        target=target,
        cursor=cursor,
        limit=limit,
        kind=POINTS,
    )
    return Page[PointsRuleSummaryRead](
        items=[PointsRuleSummaryRead.of(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{rule_id}",
    response_model=PointsRuleRead,
    summary="Get a points rule document",
    description=f"{READ_SCOPES} With its entries.",
    responses=NOT_FOUND,
)
async def get_points_rule(rule_id: IdPath, uow: Uow, who: Principal = READ) -> PointsRuleRead:
    return PointsRuleRead.of(await rules.get_discount_rule(uow, who, rule_id, POINTS))


@router.patch(
    "/{rule_id}",
    response_model=PointsRuleRead,
    summary="Update a draft points rule document",
    description="Scope: `admin`. Drafts only (else 409 `rule_not_draft`). Any of level, "
    "effective_from, effective_to, note and entries (replaced wholesale); absent fields are "
    f"left unchanged and the result is validated as a whole. {VALIDATION} Each changed field "
    "is logged.",
    responses={**BODY_ERRORS, **NOT_FOUND, **NOT_DRAFT, **INVALID},
)
async def update_points_rule(
    rule_id: IdPath, body: PointsRuleUpdate, uow: Uow, who: Principal = ADMIN
) -> PointsRuleRead:
    updated = await rules.update_discount_rule(uow, who, rule_id, body.changes(), POINTS)
    return PointsRuleRead.of(updated)


@router.post(
    "/{rule_id}/approve",
    response_model=PointsRuleRead,
    summary="Approve a draft points rule document (审核)",
    description="Scope: `admin`. As for discount rules: `approved_at` is now (the database "
    "clock); it applies from `effective_from`, never earlier than the approval (422 "
    "`invalid_window` if `effective_to` is then not after it); drafts only (409 "
    "`rule_not_draft`). Sales and quote previews use it from the next request.",
    responses={
        **NOT_FOUND,
        **NOT_DRAFT,
        **_invalid(
            "invalid_window",
            "effective_to",
            "effective_to must be later than the start; a document can't take effect before "
            "its approval.",
        ),
    },
)
async def approve_points_rule(rule_id: IdPath, uow: Uow, who: Principal = ADMIN) -> PointsRuleRead:
    return PointsRuleRead.of(await rules.approve_discount_rule(uow, who, rule_id, POINTS))


@router.post(
    "/{rule_id}/void",
    response_model=PointsRuleRead,
    summary="Void a points rule document",
    description="Scope: `admin`. A draft or an approved document becomes `voided`, with "
    "`voided_at` now; an approved one stops applying at once (sales dated earlier still see "
    "it). Voiding again is 409 `rule_already_voided`.",
    responses={
        **NOT_FOUND,
        **problems(
            409, examples={409: ("rule_already_voided", "Points rule 42 is already voided.")}
        ),
    },
)
async def void_points_rule(rule_id: IdPath, uow: Uow, who: Principal = ADMIN) -> PointsRuleRead:
    return PointsRuleRead.of(await rules.void_discount_rule(uow, who, rule_id, POINTS))


@router.get(
    "/{rule_id}/changes",
    response_model=Page[ChangeRead],
    summary="List a points rule document's change log",
    description=f"{READ_SCOPES} One entry per changed field: action (`create`, `update`, "
    "`approve`, `void`), who, when, old and new value; newest first, cursor-paginated.",
    responses=NOT_FOUND,
)
async def list_points_rule_changes(
    rule_id: IdPath,
    uow: Uow,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READ,
) -> Page[ChangeRead]:
    page = await rules.list_discount_rule_changes(uow, who, rule_id, cursor, limit, POINTS)
    return ChangeRead.page(page)
