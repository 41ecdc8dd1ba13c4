from fastapi import APIRouter, Query, Request

from app.domain.access import Principal, Scope
from app.domain.card_lifecycle import CardAction
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import CardNumber, Cursor, Limit, Uow, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.cards import (
    CardClassSummary,
    CardEventRead,
    CardHolder,
    CardIssue,
    CardIssued,
    CardRead,
    CardReplace,
    CardResolve,
    CardStatusChange,
    ResolvedCard,
)
from app.schemas.common import Page
from app.services import cards
from app.services.cards import CardKit

router = APIRouter(prefix="/cards", tags=["cards"])

ISSUERS = scoped(Scope.ADMIN, Scope.POS, Scope.APP)
READERS = scoped(*Scope)
NOT_FOUND = problems(404, examples={404: ("card_not_found", "No card S01200000015.")})
TRANSITION = problems(
    409, examples={409: ("invalid_card_transition", "A lost card cannot be frozen.")}
)


def kit(request: Request) -> CardKit:
    return request.app.state.card_kit


def issued_response(issued: cards.IssuedCard) -> CardIssued:
    return CardIssued.model_validate(
        {
            **CardRead.model_validate(issued.card).model_dump(),
            "track": issued.track,
            "verification_code": issued.verification_code,
        }
    )


@router.post(
    "",
    status_code=201,
    response_model=CardIssued,
    summary="Issue a card to a member",
    description="Scopes: `admin`, `pos`, `app`. The number is store code + class prefix + "
    "serial + check digits + suffix; serials are allocated without gaps or reuse. The "
    "`track` and `verification_code` are shown only in this response.",
    responses={
        **BODY_ERRORS,
        **problems(
            409,
            examples={409: ("serial_range_exhausted", "Card class GOLD has issued every serial.")},
        ),
    },
)
async def issue_card(
    body: CardIssue, request: Request, uow: Uow, who: Principal = ISSUERS
) -> CardIssued:
    issued = await cards.issue_card(
        uow, kit(request), who, body.card_class, body.store_code, body.member_id
    )
    return issued_response(issued)


@router.post(
    "/resolve",
    response_model=ResolvedCard,
    summary="Identify a customer by card number or swipe",
    description="Scopes: `admin`, `pos`, `app`, `partner`. Give `card_number` (typed) or "
    "`track` (swiped); cards of a `code` class also need `verification_code`. Wrong check "
    "digits are 422 `invalid_card_number` and a bad MAC 422 `invalid_track`, before any card "
    "lookup; a missing or wrong code is 403 `verification_failed`, and 5 failures in 15 "
    "minutes lock the card for 15 minutes (429 `card_locked`). A card that is not active "
    "answers 409 with `card_<status>` (frozen, lost, expired, cancelled, replaced). The "
    "member's phone is masked unless the key is `admin` or `app`.",
    responses={
        **BODY_ERRORS,
        **NOT_FOUND,
        **problems(
            403,
            409,
            429,
            examples={
                403: ("verification_failed", "This card needs its verification code."),
                409: ("card_frozen", "The card is frozen."),
                429: ("card_locked", "Too many wrong verification codes."),
            },
        ),
    },
)
async def resolve_card(
    body: CardResolve,
    request: Request,
    uow: Uow,
    who: Principal = scoped(Scope.ADMIN, Scope.POS, Scope.APP, Scope.PARTNER),
) -> ResolvedCard:
    found = await cards.resolve_card(
        uow, kit(request), who, body.card_number, body.track, body.verification_code
    )
    return ResolvedCard(
        card=CardRead.model_validate(found.card),
        member=CardHolder(id=found.member.id, name=found.member.name, phone=found.member.phone),
        card_class=CardClassSummary(
            code=found.card_class.code, name=found.card_class.name, usage=found.card_class.usage
        ),
    )


@router.get(
    "",
    response_model=Page[CardRead],
    summary="List cards",
    description="Any scope. Ordered by number; filter by `member_id` for a member's cards.",
)
async def list_cards(
    uow: Uow,
    member_id: str | None = Query(default=None, max_length=64),
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READERS,
) -> Page[CardRead]:
    page = await cards.list_cards(uow, who, member_id, cursor, limit)
    return Page[CardRead](
        items=[CardRead.model_validate(c) for c in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{number}",
    response_model=CardRead,
    summary="Get a card",
    description="Any scope.",
    responses=NOT_FOUND,
)
async def get_card(number: CardNumber, uow: Uow, who: Principal = READERS) -> CardRead:
    return CardRead.model_validate(await cards.get_card(uow, who, number))


@router.get(
    "/{number}/events",
    response_model=Page[CardEventRead],
    summary="A card's history: issue, status and tier changes",
    description="Any scope. Newest first.",
    responses=NOT_FOUND,
)
async def list_card_events(
    number: CardNumber,
    uow: Uow,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = READERS,
) -> Page[CardEventRead]:
    page = await cards.card_events(uow, who, number, cursor, limit)
    return Page[CardEventRead](
        items=[CardEventRead.model_validate(e) for e in page.items],
        next_cursor=page.next_cursor,
    )


def _status_route(action: CardAction, summary: str):
    async def change(
        number: CardNumber,
        uow: Uow,
        body: CardStatusChange | None = None,
        who: Principal = scoped(Scope.ADMIN, Scope.POS, Scope.APP),
    ) -> CardRead:
        reason = body.reason if body else None
        return CardRead.model_validate(await cards.change_status(uow, who, number, action, reason))

    change.__name__ = f"{action.value.replace('-', '_')}_card"
    router.post(
        f"/{{number}}/{action.value}",
        response_model=CardRead,
        summary=summary,
        description="Scopes: `admin`, `pos`, `app`. Transitions outside the card lifecycle "
        "(active ↔ frozen; active/frozen → lost; → cancelled) are 409.",
        responses={**BODY_ERRORS, **NOT_FOUND, **TRANSITION},
    )(change)


_status_route(CardAction.FREEZE, "Freeze a card")
_status_route(CardAction.UNFREEZE, "Unfreeze a card")
_status_route(CardAction.REPORT_LOST, "Report a card lost")
_status_route(CardAction.CANCEL, "Cancel a card")


@router.post(
    "/{number}/replace",
    status_code=201,
    response_model=CardIssued,
    summary="Replace a lost card",
    description="Scopes: `admin`, `pos`, `app`. Issues a new card of the same class to the "
    "same member (points and change balance stay with the member) and marks the old one "
    "`replaced`. Only a `lost` card can be replaced (409 otherwise).",
    responses={**BODY_ERRORS, **NOT_FOUND, **TRANSITION},
)
async def replace_card(
    number: CardNumber,
    request: Request,
    uow: Uow,
    body: CardReplace | None = None,
    who: Principal = ISSUERS,
) -> CardIssued:
    body = body or CardReplace()
    issued = await cards.replace_card(uow, kit(request), who, number, body.store_code, body.reason)
    return issued_response(issued)
