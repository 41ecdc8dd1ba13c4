"""Voucher templates (docs/domain §12): what a voucher is worth, where, for whom, how long,
and who bears its cost."""

from typing import Annotated

from fastapi import APIRouter, Response

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, Limit, Uow, demo_code, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.common import ChangeRead, Page
from app.schemas.vouchers import VoucherTemplateCreate, VoucherTemplateRead, VoucherTemplateUpdate
from app.services import voucher_templates

TemplateCode = Annotated[str, demo_code("WELCOME18", "The template the create example makes")]

router = APIRouter(prefix="/voucher-templates", tags=["vouchers"])

ADMIN = scoped(Scope.ADMIN)
ANY = scoped(*Scope)
NOT_FOUND = problems(
    404, examples={404: ("voucher_template_not_found", "No voucher template WELCOME18.")}
)
INVALID = problems(
    422,
    examples={
        422: (
            "invalid_voucher_template",
            "The voucher template is invalid: is required for threshold_amount_off",
        )
    },
)
IN_USE = problems(
    409,
    examples={
        409: (
            "template_in_use",
            "Template WELCOME18 has issued vouchers, so what they are worth (face_value) can no "
            "longer change.",
        )
    },
)
RULES = (
    "Each kind has its fields: `amount_off` face_value; `threshold_amount_off` face_value and "
    "min_spend ≥ face_value; `percent_off` rate (the fraction paid, 0 < rate < 1: 0.9 is 9折) "
    "and optionally max_discount. Validity is valid_days or valid_from/valid_to, exactly one "
    "form. Stores, card classes and the sharing group must be the tenant's; sharing_group and "
    "store_share exclude each other. One 422 `invalid_voucher_template` names every bad field."
)


@router.post(
    "",
    status_code=201,
    response_model=VoucherTemplateRead,
    summary="Create a voucher template",
    description=f"Scope: `admin`. The code is immutable. {RULES} Logged in the change log.",
    responses={
        **BODY_ERRORS,
        **INVALID,
        **problems(
            409,
            examples={
                409: (
                    "voucher_template_exists",
                    "A voucher template with this code already exists.",
                )
            },
        ),
    },
)
async def create_voucher_template(
    body: VoucherTemplateCreate, uow: Uow, who: Principal = ADMIN
) -> VoucherTemplateRead:
    return VoucherTemplateRead.of(
        await voucher_templates.create_template(uow, who, body.template())
    )


@router.get(
    "",
    response_model=Page[VoucherTemplateRead],
    summary="List voucher templates",
    description="Any scope. Ordered by code; cursor-paginated.",
)
async def list_voucher_templates(
    uow: Uow, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, who: Principal = ANY
) -> Page[VoucherTemplateRead]:
    page = await voucher_templates.list_templates(uow, who, cursor, limit)
    return Page[VoucherTemplateRead](
        items=[VoucherTemplateRead.of(t) for t in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{code}",
    response_model=VoucherTemplateRead,
    summary="Get a voucher template",
    description="Any scope.",
    responses=NOT_FOUND,
)
async def get_voucher_template(
    code: TemplateCode, uow: Uow, who: Principal = ANY
) -> VoucherTemplateRead:
    return VoucherTemplateRead.of(await voucher_templates.get_template(uow, who, code))


@router.patch(
    "/{code}",
    response_model=VoucherTemplateRead,
    summary="Update a voucher template",
    description="Scope: `admin`. Any field but the code; absent fields stay, `include` and "
    "`exclude` each replace their whole map, and the result is judged whole. "
    f"{RULES} Once the template has issued a voucher, what vouchers are worth (kind, "
    "face_value, rate, max_discount) is frozen (409 `template_in_use`); the rest may change "
    "and applies to vouchers already issued (their validity excepted: it was fixed at issue). "
    "Each changed field is logged.",
    responses={**BODY_ERRORS, **NOT_FOUND, **IN_USE, **INVALID},
)
async def update_voucher_template(
    code: TemplateCode, body: VoucherTemplateUpdate, uow: Uow, who: Principal = ADMIN
) -> VoucherTemplateRead:
    updated = await voucher_templates.update_template(uow, who, code, body.changes())
    return VoucherTemplateRead.of(updated)


@router.delete(
    "/{code}",
    status_code=204,
    response_class=Response,
    summary="Delete a voucher template",
    description="Scope: `admin`. Refused (409 `template_in_use`) once it has issued a voucher. "
    "Its change log stays readable.",
    responses={
        **NOT_FOUND,
        **problems(
            409,
            examples={
                409: (
                    "template_in_use",
                    "Template WELCOME18 has issued vouchers and cannot be deleted.",
                )
            },
        ),
    },
)
async def delete_voucher_template(code: TemplateCode, uow: Uow, who: Principal = ADMIN) -> Response:
    await voucher_templates.delete_template(uow, who, code)
    return Response(status_code=204)


@router.get(
    "/{code}/changes",
    response_model=Page[ChangeRead],
    summary="List a voucher template's change log",
    description="Any scope. One entry per changed field (修改日志): who, when, old and new "
    "value (lists and scopes as compact JSON); newest first, cursor-paginated. Still available "
    "after the template is deleted.",
    responses=NOT_FOUND,
)
async def list_voucher_template_changes(
    code: TemplateCode,
    uow: Uow,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = ANY,
) -> Page[ChangeRead]:
    page = await voucher_templates.list_template_changes(uow, who, code, cursor, limit)
    return ChangeRead.page(page)
