"""Multiplier events (B) and warm rules (C) of docs/domain §3.2."""

from fastapi import APIRouter, Response

from app.domain.access import Principal, Scope
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, IdPath, Limit, Uow, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.common import Page
from app.schemas.points_rules import (
    EventCreate,
    EventRead,
    EventUpdate,
    WarmCreate,
    WarmRead,
    WarmUpdate,
)
from app.services import points_rules as svc

router = APIRouter(prefix="/points", tags=["points earning"])

ADMIN = scoped(Scope.ADMIN)
READ = scoped(*Scope)
READ_SCOPES = "Scopes: `admin`, `pos`, `app`, `partner`, `analytics`."
NO_EVENT = problems(
    404, examples={404: ("multiplier_event_not_found", "No multiplier event with id 7.")}
)
NO_WARM = problems(404, examples={404: ("warm_rule_not_found", "No warm rule with id 9.")})
EVENT_INVALID = problems(
    422, examples={422: ("invalid_multiplier_event", "k: must be in [1, 100)")}
)
WARM_INVALID = problems(422, examples={422: ("invalid_warm_rule", "points: must be 1-1000000")})
EVENT_RULES = (
    "At a sale (and in the quote's points_preview) k is the largest k of the events in effect "
    "at the sale's time for its store and the card's class, and of the birthday multiplier "
    "(`PUT /v1/settings/points`); never their product; B = floor(A × (k − 1)). Member groups "
    "(issue 6) are not supported yet: an event applies to every member of its classes. "
    "Invalid content is 422 `invalid_multiplier_event` naming each field. Applies from the "
    "next sale; recorded sales keep the k they earned with."
)
WARM_RULES = (
    "Each rule in effect (active, within starts_at..ends_at) whose condition the receipt "
    "meets gives its points (C) once per receipt. Invalid content is 422 `invalid_warm_rule` "
    "naming each field. Applies from the next sale; recorded sales keep what they earned."
)


@router.post(
    "/multiplier-events",
    status_code=201,
    response_model=EventRead,
    summary="Create a multiplier event",
    description=f"Scope: `admin`. {EVENT_RULES}",
    responses={**BODY_ERRORS, **EVENT_INVALID},
)
async def create_multiplier_event(body: EventCreate, uow: Uow, who: Principal = ADMIN) -> EventRead:
    return EventRead.of(await svc.create_event(uow, who, body.terms()))


@router.get(
    "/multiplier-events",
    response_model=Page[EventRead],
    summary="List multiplier events",
    description=f"{READ_SCOPES} Newest first; cursor-paginated.",
)
async def list_multiplier_events(
    uow: Uow, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, who: Principal = READ
) -> Page[EventRead]:
    page = await svc.list_events(uow, who, cursor, limit)
    return Page[EventRead](
        items=[EventRead.of(e) for e in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/multiplier-events/{event_id}",
    response_model=EventRead,
    summary="Get a multiplier event",
    description=READ_SCOPES,
    responses=NO_EVENT,
)
async def get_multiplier_event(event_id: IdPath, uow: Uow, who: Principal = READ) -> EventRead:
    return EventRead.of(await svc.get_event(uow, who, event_id))


@router.patch(
    "/multiplier-events/{event_id}",
    response_model=EventRead,
    summary="Update a multiplier event",
    description="Scope: `admin`. Any of the fields; absent ones stay; the result is validated "
    f"as a whole. {EVENT_RULES}",
    responses={**BODY_ERRORS, **NO_EVENT, **EVENT_INVALID},
)
async def update_multiplier_event(
    event_id: IdPath, body: EventUpdate, uow: Uow, who: Principal = ADMIN
) -> EventRead:
    return EventRead.of(await svc.update_event(uow, who, event_id, body.changes()))


@router.delete(
    "/multiplier-events/{event_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a multiplier event",
    description="Scope: `admin`. Recorded sales keep the k they earned with.",
    responses=NO_EVENT,
)
async def delete_multiplier_event(event_id: IdPath, uow: Uow, who: Principal = ADMIN) -> Response:
    await svc.delete_event(uow, who, event_id)
    return Response(status_code=204)


@router.post(
    "/warm-rules",
    status_code=201,
    response_model=WarmRead,
    summary="Create a warm rule",
    description=f"Scope: `admin`. {WARM_RULES}",
    responses={**BODY_ERRORS, **WARM_INVALID},
)
async def create_warm_rule(body: WarmCreate, uow: Uow, who: Principal = ADMIN) -> WarmRead:
    return WarmRead.of(await svc.create_warm(uow, who, body.terms()))


@router.get(
    "/warm-rules",
    response_model=Page[WarmRead],
    summary="List warm rules",
    description=f"{READ_SCOPES} Newest first; cursor-paginated.",
)
async def list_warm_rules(
    uow: Uow, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, who: Principal = READ
) -> Page[WarmRead]:
    page = await svc.list_warm(uow, who, cursor, limit)
    return Page[WarmRead](items=[WarmRead.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get(
    "/warm-rules/{rule_id}",
    response_model=WarmRead,
    summary="Get a warm rule",
    description=READ_SCOPES,
    responses=NO_WARM,
)
async def get_warm_rule(rule_id: IdPath, uow: Uow, who: Principal = READ) -> WarmRead:
    return WarmRead.of(await svc.get_warm(uow, who, rule_id))


@router.patch(
    "/warm-rules/{rule_id}",
    response_model=WarmRead,
    summary="Update a warm rule",
    description="Scope: `admin`. Any of the fields (the condition is replaced whole); absent "
    f"ones stay; the result is validated as a whole. {WARM_RULES}",
    responses={**BODY_ERRORS, **NO_WARM, **WARM_INVALID},
)
async def update_warm_rule(
    rule_id: IdPath, body: WarmUpdate, uow: Uow, who: Principal = ADMIN
) -> WarmRead:
    return WarmRead.of(await svc.update_warm(uow, who, rule_id, body.changes()))


@router.delete(
    "/warm-rules/{rule_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a warm rule",
    description="Scope: `admin`. Recorded sales keep the points they earned.",
    responses=NO_WARM,
)
async def delete_warm_rule(rule_id: IdPath, uow: Uow, who: Principal = ADMIN) -> Response:
    await svc.delete_warm(uow, who, rule_id)
    return Response(status_code=204)
