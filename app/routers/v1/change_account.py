"""The change account (零钞转存, docs/domain §4): the balance stored on a card's member, deposits of
change the till could not give, and spends. Every POST moves money and runs through
``run_once`` (Idempotency-Key, one transaction, retried on serialization failures)."""

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import CardNumber, Cursor, Limit, Uow, scoped
from app.routers.idempotency import IDEMPOTENCY_ERRORS, IdempotencyKeyHeader, run_once
from app.routers.openapi_docs import BODY_ERRORS, BUSY_NOTE, IDEMPOTENT_NOTE, problems
from app.schemas.change_account import (
    ChangeAccountRead,
    ChangeEntryRead,
    ChangeMovementCreate,
    ChangeMovementRead,
)
from app.schemas.common import Page
from app.services import change_account

router = APIRouter(prefix="/cards", tags=["change account"])

READERS = scoped(*Scope)
CARD_NOT_FOUND = problems(404, examples={404: ("card_not_found", "No card S01200000015.")})
ACCOUNT_NOTE = (
    "The account belongs to the card's member: a replacement card carries the balance. "
    "Amounts are CNY strings, > 0 with at most 2 decimals (else 422 `invalid_amount`). The "
    "card must be active now (else 409 `card_<status>`)."
)


def _now() -> datetime:
    return datetime.now(UTC)


def _movement(done) -> dict:
    return ChangeMovementRead(
        entry_id=done.entry_id,
        card_number=done.card_number,
        member_id=done.member_id,
        kind=done.kind.value,
        amount=done.amount,
        balance=done.balance,
        created_at=done.created_at,
    ).model_dump(mode="json")


@router.get(
    "/{number}/change-account",
    response_model=ChangeAccountRead,
    summary="A card's change account: balance, limit and latest entries",
    description="Any scope. Any card status (a lost card's holder may still ask). `limit` and "
    "`enabled` are those of the card's class; `balance` is the sum of the member's entries, "
    "never negative. `entries` are the latest 50, newest first, read in the same snapshot as "
    "the balance; older ones via `.../change-account/entries`.",
    responses=CARD_NOT_FOUND,
)
async def get_change_account(
    number: CardNumber, uow: Uow, who: Principal = READERS
) -> ChangeAccountRead:
    found = await change_account.get_account(uow, who, number)
    return ChangeAccountRead(
        card_number=found.card_number,
        member_id=found.member_id,
        balance=found.balance,
        limit=found.limit,
        enabled=found.enabled,
        entries=[ChangeEntryRead.model_validate(e) for e in found.entries],
    )


@router.get(
    "/{number}/change-account/entries",
    response_model=Page[ChangeEntryRead],
    summary="A card's change-account ledger",
    description="Any scope. All entries of the card's member (any of their cards), newest "
    "first, in cursor pages; `amount` is signed. The ledger is append-only.",
    responses=CARD_NOT_FOUND,
)
async def list_change_entries(
    number: CardNumber,
    uow: Uow,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READERS,
) -> Page[ChangeEntryRead]:
    page = await change_account.list_entries(uow, who, number, cursor, limit)
    return Page[ChangeEntryRead](
        items=[ChangeEntryRead.model_validate(e) for e in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/{number}/change-account/deposits",
    status_code=201,
    response_model=ChangeMovementRead,
    summary="Store change on the card (零钞转存)",
    description="Scopes: `pos`, `admin`. When the till has no change, store it on the card. "
    "The card's class must offer the account (else 409 `change_account_disabled`) and the "
    "balance after the deposit must stay within the class's `change_account_limit` (else 409 "
    "`change_account_limit` with `limit`, `balance` and `max_deposit`, the most that can be "
    f"stored now). {ACCOUNT_NOTE} {IDEMPOTENT_NOTE} {BUSY_NOTE}",
    responses={
        **IDEMPOTENCY_ERRORS,
        **BODY_ERRORS,
        **CARD_NOT_FOUND,
        **problems(
            409,
            examples={
                409: (
                    "change_account_limit",
                    "Deposit of 30.00 would exceed the limit of 100.00 (balance 80.00).",
                )
            },
        ),
    },
)
async def create_change_deposit(
    number: CardNumber,
    body: ChangeMovementCreate,
    request: Request,
    uow: Uow,
    idempotency_key: IdempotencyKeyHeader = None,
    who: Principal = scoped(Scope.POS, Scope.ADMIN),
) -> Response:
    async def operation(tx):
        done = await change_account.deposit(
            tx, who, number=number, amount=body.amount, reference=body.reference, now=_now()
        )
        return 201, _movement(done)

    return await run_once(request, uow, who, idempotency_key, operation)


@router.post(
    "/{number}/change-account/spends",
    status_code=201,
    response_model=ChangeMovementRead,
    summary="Spend from the card's change account",
    description="Scopes: `pos`, `admin`, `app`. Never below zero: spending more than the "
    "balance is 409 `insufficient_change_balance` with `balance` and `shortfall`. What is "
    "stored stays spendable if the class stopped offering the account; with nothing stored "
    "such a card gets 409 `change_account_disabled`. At the till, prefer a `change_account` "
    f"payment on `POST /v1/sales` (one transaction with the sale). {ACCOUNT_NOTE} "
    f"{IDEMPOTENT_NOTE} {BUSY_NOTE}",
    responses={
        **IDEMPOTENCY_ERRORS,
        **BODY_ERRORS,
        **CARD_NOT_FOUND,
        **problems(
            409,
            examples={
                409: (
                    "insufficient_change_balance",
                    "Spending 20.00 needs 2.00 more than the balance of 18.00.",
                )
            },
        ),
    },
)
async def create_change_spend(
    number: CardNumber,
    body: ChangeMovementCreate,
    request: Request,
    uow: Uow,
    idempotency_key: IdempotencyKeyHeader = None,
    who: Principal = scoped(Scope.POS, Scope.ADMIN, Scope.APP),
) -> Response:
    async def operation(tx):
        done = await change_account.spend(
            tx, who, number=number, amount=body.amount, reference=body.reference, now=_now()
        )
        return 201, _movement(done)

    return await run_once(request, uow, who, idempotency_key, operation)
