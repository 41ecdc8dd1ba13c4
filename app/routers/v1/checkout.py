from fastapi import APIRouter, Request, Response

from app.domain.access import Principal, Scope
from app.domain.pricing import Line
from app.routers.deps import Uow, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.checkout import (
    QuoteCard,
    QuotedLine,
    QuoteRequest,
    QuoteResponse,
    QuoteTotals,
    RateSource,
)
from app.services import pricing

router = APIRouter(prefix="/checkout", tags=["checkout"])


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
    "does (same errors), then prices every line per DOMAIN §2: the most specific approved "
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
    who: Principal = scoped(Scope.POS, Scope.APP, Scope.ADMIN),
) -> Response:
    state = request.app.state
    result = await pricing.quote(
        uow,
        state.card_kit,
        state.pricing_cache,
        who,
        store_code=body.store_code,
        card_number=body.card_number,
        track=body.track,
        verification_code=body.verification_code,
        at=body.at,
        lines=[_line(line) for line in body.lines],
    )
    response = QuoteResponse(
        card=QuoteCard(number=result.card.number, class_=result.card.card_class)
        if result.card
        else None,
        lines=[
            QuotedLine(
                line_no=p.line_no,
                rate=p.rate,
                stackable=p.stackable,
                rate_source=RateSource(level=p.level.value, rule_id=p.rule_id) if p.level else None,
                stacked=p.stacked,
                final_unit_price=p.final_unit_price,
                original_amount=p.original_amount,
                final_amount=p.final_amount,
                discount_amount=p.discount_amount,
                member_discount=p.member_discount,
                store_borne=p.store_borne,
                supplier_borne=p.supplier_borne,
            )
            for p in result.basket.lines
        ],
        totals=QuoteTotals(
            original_amount=result.basket.totals.original_amount,
            final_amount=result.basket.totals.final_amount,
            discount_amount=result.basket.totals.discount_amount,
        ),
        openable_card_classes=result.openable_card_classes,
    )
    # Serialised once here rather than re-validated by FastAPI: this is the hottest path.
    return Response(response.model_dump_json(by_alias=True), media_type="application/json")
