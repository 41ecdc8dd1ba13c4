from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import State

from app.domain.access import Principal, Scope
from app.domain.pricing import Line
from app.routers.deps import Uow, scoped
from app.routers.lanes import Answer
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.checkout import QuoteRequest, QuoteResponse, quote_json
from app.services import pricing
from app.uow import UnitOfWork

router = APIRouter(prefix="/checkout", tags=["checkout"])
QUOTE_SCOPES = frozenset({Scope.POS, Scope.APP, Scope.ADMIN})


def _line(body) -> Line:
    return Line(
        line_no=body.line_no,
        sku=body.sku,
        major_category=body.major_category,
        mid_category=body.mid_category,
        minor_category=body.minor_category,
        counter=body.counter,
        brand=body.brand,
        original_price=body.original_price,
        existing_price=body.original_price if body.existing_price is None else body.existing_price,
        qty=body.qty,
    )


@router.post(
    "/quote",
    response_model=QuoteResponse,
    summary="Price a basket for a member card",
    description="Scopes: `pos`, `app`, `admin`. Identifies the card as `POST /v1/cards/resolve` "
    "does (same errors), then prices every line: the most specific approved "
    "discount rule in effect at `at` for the card's class (else the class default), the "
    "stacked-discount rule of the tenant's stacking mode, and the split of the member "
    "discount between store and supplier. Without a card, lines keep their existing price "
    "and `openable_card_classes` lists the classes this receipt may open. 1–500 lines.",
    responses={
        **BODY_ERRORS,
        **problems(
            403,
            404,
            409,
            429,
            examples={
                403: ("verification_failed", "This card needs its verification code."),
                404: ("card_not_found", "No card S01200000015."),
                409: ("card_frozen", "The card is frozen."),
                429: ("card_locked", "Too many wrong verification codes."),
            },
        ),
    },
)
async def quote_basket(
    body: QuoteRequest,
    request: Request,
    uow: Uow,
    who: Principal = scoped(*QUOTE_SCOPES),
) -> Response:
    """Reached when a quote is not answered by ``quote_lane`` (routers/lanes.py): a body that
    is not plain JSON (FastAPI refuses it) or one the schema refuses."""
    authorization = request.headers.get("authorization")
    quoted = await _quote(request.app.state, uow, authorization, body)
    return Response(quoted, media_type="application/json")


async def quote_lane(state: State, payload: Any, authorization: str) -> Answer:
    """``POST /v1/checkout/quote`` on the lane (routers/lanes.py)."""
    body = QuoteRequest.model_validate(payload)
    uow = UnitOfWork(state.sessionmaker, state.reader)
    return Answer(200, await _quote(state, uow, authorization, body))


async def _quote(
    state: State, uow: UnitOfWork, authorization: str | None, body: QuoteRequest
) -> bytes:
    result = await pricing.quote(
        uow,
        state.card_kit,
        state.pricing_cache,
        authorization,
        QUOTE_SCOPES,
        store_code=body.store_code,
        card_number=body.card_number,
        track=body.track,
        verification_code=body.verification_code,
        at=body.at,
        lines=[_line(line) for line in body.lines],
        vouchers=body.vouchers,
    )
    return quote_json(result)
