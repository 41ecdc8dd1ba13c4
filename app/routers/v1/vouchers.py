"""Vouchers one at a time (docs/domain §12): issue, read, list a member's, void; and the
expiry job. A code in a path is canonicalised first (spaces, dashes and lower case are
fine; I, L read as 1 and O as 0): a mistyped one is 422 before any lookup."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.domain.voucher_codes import canonical
from app.domain.vouchers import Status
from app.routers.deps import Cursor, Limit, Uow, scoped
from app.routers.idempotency import IDEMPOTENCY_ERRORS, IdempotencyKeyHeader, run_once
from app.routers.openapi_docs import BODY_ERRORS, IDEMPOTENT_NOTE, problems
from app.schemas.common import ChangeRead, Page
from app.schemas.enums import VoucherStatus
from app.schemas.vouchers import VoucherCreate, VoucherExpiryRead, VoucherRead, VoucherVoid
from app.services import vouchers

router = APIRouter(tags=["vouchers"])

ANY = scoped(*Scope)
ISSUERS = scoped(Scope.ADMIN)

VoucherCode = Annotated[
    str,
    Path(
        max_length=64,
        description="The voucher code as printed or typed: case, spaces and dashes don't matter.",
        examples=["X7HF-7N6S-F9HP-RS"],
    ),
]
NOT_FOUND = problems(404, examples={404: ("voucher_not_found", "No voucher X7HF7N6SF9HPRS.")})
MISTYPED = problems(
    422,
    examples={
        422: ("invalid_voucher_code", "X7HF-7N6S-F9HP-RJ is not a voucher code (mistyped?).")
    },
)
CODE_NOTE = (
    "The code is checked first: a mistyped one (wrong length, a character outside the "
    "alphabet, a wrong check character) is 422 `invalid_voucher_code` without any lookup; a "
    "well-formed one that names no voucher of yours, or another tenant's, is the same 404 "
    "`voucher_not_found`."
)


def _now() -> datetime:
    return datetime.now(UTC)


@router.post(
    "/vouchers",
    status_code=201,
    response_model=VoucherRead,
    summary="Issue a voucher to a member",
    description="Scope: `admin`. One voucher of `template` to the member (`member_id`, or the "
    "holder of `card_number`), e.g. a complaint's compensation or a welcome gift: a fresh "
    "code, valid for the template's valid_days from now or in its fixed window. Refused "
    "beyond the template's per_member_limit (409 `voucher_limit_reached`; voided vouchers "
    "don't count), when its fixed window is over (409 `voucher_template_ended`) and for an "
    "erased member (409 `member_erased`). `reason` "
    "is kept in the voucher's log with the key that issued it. "
    f"{IDEMPOTENT_NOTE}",
    responses={
        **IDEMPOTENCY_ERRORS,
        **BODY_ERRORS,
        **problems(
            409,
            422,
            examples={
                409: (
                    "voucher_limit_reached",
                    "The member already holds 1 voucher(s) of WELCOME18, its per-member limit.",
                ),
                422: ("voucher_template_not_found", "No voucher template WELCOME18."),
            },
        ),
    },
)
async def issue_voucher(
    body: VoucherCreate,
    request: Request,
    uow: Uow,
    idempotency_key: IdempotencyKeyHeader = None,
    who: Principal = ISSUERS,
) -> Response:
    async def operation(tx):
        now = _now()
        issued = await vouchers.issue_voucher(
            tx,
            who,
            template=body.template,
            member_id=body.member_id,
            card_number=body.card_number,
            reason=body.reason,
            reference=body.reference,
            now=now,
        )
        return 201, VoucherRead.of(issued, now).model_dump(mode="json")

    return await run_once(request, uow, who, idempotency_key, operation)


@router.get(
    "/vouchers",
    response_model=Page[VoucherRead],
    summary="List a member's vouchers",
    description="Any scope. The vouchers of the member (`member_id`, or the holder of "
    "`card_number`: give one), newest first, cursor-paginated; `status` filters by the status "
    "shown (an issued voucher past valid_to is `expired`).",
    responses={
        **problems(404, examples={404: ("member_not_found", "No member with id 3f1c….")}),
        **problems(
            422, examples={422: ("card_or_member_required", "Give card_number or member_id.")}
        ),
    },
)
async def list_vouchers(
    uow: Uow,
    member_id: Annotated[str | None, Query(max_length=64)] = None,
    card_number: Annotated[str | None, Query(max_length=40)] = None,
    status: VoucherStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = ANY,
) -> Page[VoucherRead]:
    now = _now()
    page = await vouchers.list_vouchers(
        uow,
        who,
        member_id=member_id,
        card_number=card_number,
        status=Status(status) if status else None,
        cursor=cursor,
        limit=limit,
        now=now,
    )
    return Page[VoucherRead](
        items=[VoucherRead.of(v, now) for v in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/vouchers/{code}",
    response_model=VoucherRead,
    summary="Get a voucher",
    description=f"Any scope. Its status, holder, template, validity and redemption. {CODE_NOTE}",
    responses={**NOT_FOUND, **MISTYPED},
)
async def get_voucher(code: VoucherCode, uow: Uow, who: Principal = ANY) -> VoucherRead:
    found = await vouchers.get_voucher(uow, who, canonical(code))
    return VoucherRead.of(found, _now())


@router.post(
    "/vouchers/{code}/void",
    response_model=VoucherRead,
    summary="Void a voucher",
    description="Scope: `admin`. An issued voucher, still valid, becomes `voided` for good; a "
    "redeemed, expired or voided one is 409 `voucher_not_voidable`. A void racing the "
    "voucher's redemption: exactly one of them wins. The reason is kept with it. "
    f"{CODE_NOTE} {IDEMPOTENT_NOTE}",
    responses={
        **IDEMPOTENCY_ERRORS,
        **BODY_ERRORS,
        **NOT_FOUND,
        **MISTYPED,
        **problems(
            409,
            examples={
                409: (
                    "voucher_not_voidable",
                    "Voucher X7HF7N6SF9HPRS is redeemed; only an issued voucher can be voided.",
                )
            },
        ),
    },
)
async def void_voucher(
    code: VoucherCode,
    body: VoucherVoid,
    request: Request,
    uow: Uow,
    idempotency_key: IdempotencyKeyHeader = None,
    who: Principal = ISSUERS,
) -> Response:
    voucher = canonical(code)

    async def operation(tx):
        now = _now()
        voided = await vouchers.void_voucher(tx, who, voucher, body.reason, now)
        return 200, VoucherRead.of(voided, now).model_dump(mode="json")

    return await run_once(request, uow, who, idempotency_key, operation)


@router.get(
    "/vouchers/{code}/changes",
    response_model=Page[ChangeRead],
    summary="List a voucher's log",
    description="Any scope. Who issued (`POST /v1/vouchers`) or voided the voucher, when and "
    "why (`reason`): one entry per field, newest first, cursor-paginated. A voucher a "
    f"campaign, a sale or a reward issued has no issue entry (its `source` says). {CODE_NOTE}",
    responses={**NOT_FOUND, **MISTYPED},
)
async def list_voucher_changes(
    code: VoucherCode,
    uow: Uow,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = ANY,
) -> Page[ChangeRead]:
    page = await vouchers.list_voucher_changes(uow, who, canonical(code), cursor, limit)
    return ChangeRead.page(page)


@router.post(
    "/jobs/expire-vouchers",
    response_model=VoucherExpiryRead,
    tags=["jobs"],
    summary="Expire vouchers past their validity",
    description="Scope: `admin`. Every issued voucher of the tenant whose valid_to has passed "
    "becomes `expired`, in one set-based statement. It runs daily by itself (03:10 tenant "
    "time); safe to run any time (such vouchers are shown as expired already).",
)
async def expire_vouchers(uow: Uow, who: Principal = ISSUERS) -> VoucherExpiryRead:
    now = _now()
    async with uow:
        run = await vouchers.expire_vouchers(uow, who, now)
        await uow.commit()
    return VoucherExpiryRead(ran_at=now, vouchers=run["vouchers"])
