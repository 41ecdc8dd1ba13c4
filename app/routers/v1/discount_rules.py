from fastapi import APIRouter

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, IdPath, Limit, Uow, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.routers.rule_filters import ClassFilter, LevelFilter, StatusFilter, TargetFilter
from app.schemas.common import ChangeRead, Page
from app.schemas.discount_rules import (
    DiscountRuleCreate,
    DiscountRuleRead,
    DiscountRuleSummaryRead,
    DiscountRuleUpdate,
)
from app.services import discount_rules

router = APIRouter(prefix="/discount-rules", tags=["discount rules"])

ADMIN = scoped(Scope.ADMIN)
READ = scoped(*Scope)
READ_SCOPES = "Scopes: `admin`, `pos`, `app`, `partner`, `analytics`."


def _invalid(code: str, field: str, detail: str) -> dict:
    """A documented 422 whose example names ``field``."""
    out = problems(422, examples={422: (code, detail)})
    out[422]["content"]["application/problem+json"]["example"]["errors"] = [
        {"field": field, "message": detail}
    ]
    return out


NOT_FOUND = problems(404, examples={404: ("rule_not_found", "No discount rule with id 42.")})
NOT_DRAFT = problems(
    409,
    examples={
        409: (
            "rule_not_draft",
            "Discount rule 42 is approved; only drafts can be changed or approved.",
        )
    },
)
INVALID = _invalid("unknown_card_class", "entries[0].card_class", "No card class with code GOLD.")
VALIDATION = (
    "Invalid content is 422 `invalid_discount_rule` naming each field (`entries[3].rate`, a "
    "duplicate target and class as `entries[5]`, `effective_to` not after `effective_from`); "
    "a class the tenant doesn't have is 422 `unknown_card_class` naming `entries[i].card_class`."
)


@router.post(
    "",
    status_code=201,
    response_model=DiscountRuleRead,
    summary="Create a discount rule document (draft)",
    description="Scope: `admin`. A document sets, for targets at one level, the rate each card "
    "class pays and whether it may stack on a promotion. It starts as a `draft`: it prices "
    f"nothing until approved. {VALIDATION} Logged in the change log.",
    responses={**BODY_ERRORS, **INVALID},
)
async def create_discount_rule(
    body: DiscountRuleCreate, uow: Uow, who: Principal = ADMIN
) -> DiscountRuleRead:
    created = await discount_rules.create_discount_rule(uow, who, body.terms())
    return DiscountRuleRead.of(created)


@router.get(
    "",
    response_model=Page[DiscountRuleSummaryRead],
    summary="List discount rule documents",
    description=f"{READ_SCOPES} Newest first; cursor-paginated; each item counts its entries "
    "(get a document for them). `card_class` and `target` keep documents with an entry "
    "matching both when both are given.",
)
async def list_discount_rules(
    uow: Uow,
    status: StatusFilter = None,
    level: LevelFilter = None,
    card_class: ClassFilter = None,
    target: TargetFilter = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READ,
) -> Page[DiscountRuleSummaryRead]:
    page = await discount_rules.list_discount_rules(
        uow,
        who,
        status=status,
        level=level,
        card_class=card_class,
        target=target,
        cursor=cursor,
        limit=limit,
    )
    return Page[DiscountRuleSummaryRead](
        items=[DiscountRuleSummaryRead.of(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{rule_id}",
    response_model=DiscountRuleRead,
    summary="Get a discount rule document",
    description=f"{READ_SCOPES} With its entries.",
    responses=NOT_FOUND,
)
async def get_discount_rule(rule_id: IdPath, uow: Uow, who: Principal = READ) -> DiscountRuleRead:
    return DiscountRuleRead.of(await discount_rules.get_discount_rule(uow, who, rule_id))


@router.patch(
    "/{rule_id}",
    response_model=DiscountRuleRead,
    summary="Update a draft discount rule document",
    description="Scope: `admin`. Drafts only (else 409 `rule_not_draft`): approved prices are "
    "never edited, void the document and issue a new one instead. Any of level, "
    "effective_from, effective_to, note and entries (replaced wholesale); absent fields are "
    f"left unchanged and the result is validated as a whole. {VALIDATION} Each changed field "
    "is logged.",
    responses={**BODY_ERRORS, **NOT_FOUND, **NOT_DRAFT, **INVALID},
)
async def update_discount_rule(
    rule_id: IdPath, body: DiscountRuleUpdate, uow: Uow, who: Principal = ADMIN
) -> DiscountRuleRead:
    updated = await discount_rules.update_discount_rule(uow, who, rule_id, body.changes())
    return DiscountRuleRead.of(updated)


@router.post(
    "/{rule_id}/approve",
    response_model=DiscountRuleRead,
    summary="Approve a draft discount rule document (审核)",
    description="Scope: `admin`. Sets `approved_at` to now (the database clock). The document "
    "applies from `effective_from`, which defaults to and is never earlier than the approval "
    "(an earlier one becomes the approval time: prices can't be back-dated). If "
    "`effective_to` is then not after `effective_from`: 422 `invalid_window`. Only drafts can "
    "be approved (409 `rule_not_draft`). Every worker prices with it from its next quote.",
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
async def approve_discount_rule(
    rule_id: IdPath, uow: Uow, who: Principal = ADMIN
) -> DiscountRuleRead:
    return DiscountRuleRead.of(await discount_rules.approve_discount_rule(uow, who, rule_id))


@router.post(
    "/{rule_id}/void",
    response_model=DiscountRuleRead,
    summary="Void a discount rule document",
    description="Scope: `admin`. A draft or an approved document becomes `voided`, with "
    "`voided_at` now (the database clock); an approved one stops applying at once, and "
    "quotes for earlier times still see it. Voiding again is 409 `rule_already_voided`.",
    responses={
        **NOT_FOUND,
        **problems(
            409,
            examples={409: ("rule_already_voided", "Discount rule 42 is already voided.")},
        ),
    },
)
async def void_discount_rule(rule_id: IdPath, uow: Uow, who: Principal = ADMIN) -> DiscountRuleRead:
    return DiscountRuleRead.of(await discount_rules.void_discount_rule(uow, who, rule_id))


@router.get(
    "/{rule_id}/changes",
    response_model=Page[ChangeRead],
    summary="List a discount rule document's change log",
    description=f"{READ_SCOPES} One entry per changed field: action (`create`, `update`, "
    "`approve`, `void`), who (the API key's name), when, old and new value (entries as "
    "compact JSON); newest first, cursor-paginated.",
    responses=NOT_FOUND,
)
async def list_discount_rule_changes(
    rule_id: IdPath,
    uow: Uow,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READ,
) -> Page[ChangeRead]:
    page = await discount_rules.list_discount_rule_changes(uow, who, rule_id, cursor, limit)
    return ChangeRead.page(page)
