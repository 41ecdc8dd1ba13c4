"""Sales and returns from the till: points earned, paid and clawed back (docs/domain §3.2, §3.3).

Both are exactly-once by their natural keys, (store_code, receipt_no) for a sale and return_no
within a sale, and honour an Idempotency-Key (``run_once``: the key commits with the effect).
A sale sent as plain JSON without a key is answered by ``sale_lane`` (routers/lanes.py) before
FastAPI's routing; both call the one ``services.sales.record_sale``."""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Path, Request, Response
from starlette.datastructures import State

from app.domain.access import Principal, Scope
from app.domain.ledger import Recorded
from app.domain.points import Payment, ReturnLine
from app.domain.sales import ReturnRequest, SaleRequest, TillLine
from app.domain.voucher_codes import canonical
from app.routers.deps import Uow, scoped
from app.routers.idempotency import (
    IDEMPOTENCY_ERRORS,
    REPLAYED,
    IdempotencyKeyHeader,
    run_once,
)
from app.routers.lanes import Answer
from app.routers.openapi_docs import BODY_ERRORS, BUSY_NOTE, problems, replayed
from app.schemas.sales import EXAMPLE_RECEIPT_NO, ReturnCreate, ReturnRead, SaleCreate, SaleRead
from app.services import sales
from app.uow import UnitOfWork

router = APIRouter(prefix="/sales", tags=["sales"])

TILL_SCOPES = frozenset({Scope.POS, Scope.ADMIN})
TILL = scoped(*TILL_SCOPES)
REPLAY_NOTE = (
    "Exactly once: the same {what} sent again (same content) answers the first response with "
    "**200** and `Idempotent-Replayed: true`; other content under the same {key} is 409 "
    "`{conflict}`. An `Idempotency-Key` is honoured too (the first response, refusals "
    "included, is replayed). " + BUSY_NOTE
)
StoreCode = Path(
    min_length=1,
    max_length=12,
    openapi_examples={"demo": {"summary": "A demo store", "value": "S01"}},
)
ReceiptNo = Path(
    min_length=1,
    max_length=64,
    openapi_examples={"demo": {"summary": "The sale example's", "value": EXAMPLE_RECEIPT_NO}},
)


def _now() -> datetime:
    return datetime.now(UTC)


def _replayed(response: Response) -> Response:
    response.headers.update(REPLAYED)
    return response


@router.post(
    "",
    status_code=201,
    response_model=SaleRead,
    summary="Record a sale from the till: earn points, pay with points",
    description="Scopes: `pos`, `admin`. The card must exist (422 `card_not_found`, 422 "
    "`invalid_card_number`) and be active now (409 `card_<status>`); no verification code is "
    "asked: the till verified the card when it priced the basket. The store must exist (422 "
    "`store_not_found`). The payments must total the lines' final amounts (422 "
    "`payments_mismatch`). Earns A = floor(Σ eligible × rate) and E = floor(A × the class's "
    "identity multiple); the eligible amount excludes the share paid with points, change "
    "account or coupons; each line's rate comes from the most specific approved "
    "points rule in effect, else the class's `default_points_rate`; B = floor(A × (k − 1)) "
    "with k the largest matching multiplier event or birthday multiplier; C the warm rules "
    "met, each once. One lot per category, pending "
    "until `occurred_at` + the tenant's `pending_days`, expiring per its policy. A `points` "
    "payment of `amount` CNY spends `amount × points_per_yuan` points FIFO in the same "
    "transaction (422 `points_payment_not_whole`, 409 `insufficient_points`: then nothing of "
    "the sale is recorded). A `change_account` payment is taken from the member's change "
    "account in the same transaction (409 `insufficient_change_balance` or "
    "`change_account_disabled`: then nothing is recorded) and refunded pro rata on returns. "
    "The sale counts towards the member's 12-month spend and "
    "may move the card up a tier (`tier_change`). "
    + REPLAY_NOTE.format(what="sale", key="receipt", conflict="receipt_conflict"),
    responses={
        **replayed(SaleRead, "The same sale again: the first response, replayed."),
        **IDEMPOTENCY_ERRORS,
        **BODY_ERRORS,
        **problems(
            409,
            examples={
                409: (
                    "receipt_conflict",
                    "Receipt R-42 of store S01 was recorded with other content.",
                )
            },
        ),
    },
)
async def create_sale(
    body: SaleCreate,
    request: Request,
    uow: Uow,
    idempotency_key: IdempotencyKeyHeader = None,
    who: Principal = TILL,
) -> Response:
    """Reached by a sale with an Idempotency-Key, or a body that is not plain valid JSON (then
    FastAPI refuses it); every other sale is answered by ``sale_lane``."""
    replayed = False
    authorization = request.headers.get("authorization")

    async def operation(tx):
        nonlocal replayed
        done = await _record(request.app.state, tx, authorization, body)
        replayed = done.replayed
        return done.status_code, _sale_dict(done.body)

    response = await run_once(request, uow, who, idempotency_key, operation)
    return _replayed(response) if replayed else response


async def sale_lane(state: State, payload: Any, authorization: str) -> Answer:
    """``POST /v1/sales`` on the lane (routers/lanes.py)."""
    body = SaleCreate.model_validate(payload)
    uow = UnitOfWork(state.sessionmaker, state.reader)
    async with uow:
        done = await _record(state, uow, authorization, body)
    return Answer(done.status_code, _sale_json(done.body), REPLAYED if done.replayed else {})


async def _record(
    state: State, uow: UnitOfWork, authorization: str | None, body: SaleCreate
) -> Recorded:
    """The one way both take to record a sale."""
    sale = SaleRequest(
        store_code=body.store_code,
        receipt_no=body.receipt_no,
        card_number=body.card_number,
        occurred_at=body.occurred_at,
        lines=tuple(TillLine(**vars(line)) for line in body.lines),
        payments=tuple(
            Payment(p.method, p.amount, _voucher_code(p.voucher_code, i))
            for i, p in enumerate(body.payments)
        ),
    )
    return await sales.record_sale(
        uow, state.card_kit, state.pricing_cache, authorization, TILL_SCOPES, sale, _now()
    )


def _voucher_code(text: str | None, i: int) -> str | None:
    """The code as stored; a mistyped one is 422 before anything is read."""
    return None if text is None else canonical(text, f"payments[{i}].voucher_code")


def _sale_dict(body: dict) -> dict:
    return SaleRead.model_validate(body).model_dump(mode="json", by_alias=True)


def _sale_json(body: dict) -> bytes:
    return SaleRead.model_validate(body).model_dump_json(by_alias=True).encode()


@router.post(
    "/{store_code}/{receipt_no}/returns",
    status_code=201,
    response_model=ReturnRead,
    summary="Return goods of a sale: claw back points, refund points paid",
    description="Scopes: `pos`, `admin`. Points are recomputed for what remains of the "
    "receipt from what was stored at sale time; the difference per category is clawed back "
    "(a full return takes back exactly what was earned), from the sale's own lots first "
    "(pending included), then the member's other lots oldest first. Returning more than is "
    "left of a line is 422 `return_exceeds_sale` (`line_no`, `returnable`). Points paid on "
    "the sale are refunded pro rata (a new R lot). If the balance can't cover the clawback: "
    "`shortfall: reject` → 409 `insufficient_points_for_return` with `shortfall` (points) "
    "and `price` (CNY at the tenant's `point_price`); `purchase` → the shortfall is bought "
    "as F points and `money_due` states what the till must collect. Nothing is half-applied. "
    "An unknown sale is 404 `sale_not_found`. "
    + REPLAY_NOTE.format(what="return", key="return_no", conflict="return_conflict"),
    responses={
        **replayed(ReturnRead, "The same return again: the first response, replayed."),
        **IDEMPOTENCY_ERRORS,
        **BODY_ERRORS,
        **problems(
            404,
            409,
            examples={
                404: ("sale_not_found", "No sale R-42 at store S01."),
                409: (
                    "insufficient_points_for_return",
                    "The return claws back 76 points; the balance is short by 26 points, "
                    "which cost 0.26 CNY.",
                ),
            },
        ),
    },
)
async def create_sale_return(
    body: ReturnCreate,
    request: Request,
    uow: Uow,
    store_code: str = StoreCode,
    receipt_no: str = ReceiptNo,
    idempotency_key: IdempotencyKeyHeader = None,
    who: Principal = TILL,
) -> Response:
    replayed = False

    async def operation(tx):
        nonlocal replayed
        back = ReturnRequest(
            store_code=store_code,
            receipt_no=receipt_no,
            return_no=body.return_no,
            lines=tuple(ReturnLine(x.line_no, x.qty) for x in body.lines),
            shortfall_mode=body.shortfall,
        )
        done = await sales.record_return(tx, who, back, _now())
        replayed = done.replayed
        return done.status_code, ReturnRead.model_validate(done.body).model_dump(mode="json")

    response = await run_once(request, uow, who, idempotency_key, operation)
    return _replayed(response) if replayed else response
