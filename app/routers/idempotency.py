"""The HTTP side of exactly-once: the Idempotency-Key header, the request fingerprint and the
replayed response. The transaction itself is app/services/idempotency.py."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import Header, Request, Response
from fastapi.responses import JSONResponse

from app.domain.access import Principal
from app.routers import problems
from app.routers.openapi_docs import problems as documented
from app.services import idempotency
from app.services.idempotency import Operation
from app.uow import UnitOfWork

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Makes a retry safe: the same key (per API key) and body replays the first "
        "response, refusals included, with `Idempotent-Replayed: true`. Kept at least 7 days.",
    ),
]

IDEMPOTENCY_ERRORS = documented(
    409,
    422,
    examples={
        409: (
            "idempotency_in_flight",
            "A request with this Idempotency-Key is still being processed; retry shortly.",
        ),
        422: ("idempotency_key_reused", "This Idempotency-Key was used for a different request."),
    },
)


async def fingerprint(request: Request) -> str:
    """What makes two requests "the same": method, path and the body's JSON, whatever the key
    order or whitespace."""
    raw = await request.body()
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = raw.decode("utf-8", "replace")
    text = f"{request.method} {request.url.path}\n{canonical}"
    return hashlib.sha256(text.encode()).hexdigest()


# The header a replayed answer carries (a stored first response, sent again).
REPLAYED = {"Idempotent-Replayed": "true"}


def created_or_replayed(body: dict, created: bool) -> JSONResponse:
    """201 with ``body`` when the request created it, else 200 marked as a replay."""
    return JSONResponse(
        body, status_code=201 if created else 200, headers=None if created else REPLAYED
    )


async def run_once(
    request: Request,
    uow: UnitOfWork,
    who: Principal,
    key: str | None,
    operation: Operation,
) -> Response:
    """Run ``operation`` exactly once per key; it gets the open unit of work and returns
    (status, body). Refusals it raises become problem responses, stored like successes."""
    outcome = await idempotency.run_once(
        uow, who, key, await fingerprint(request), operation, problems.render
    )
    headers = dict(REPLAYED) if outcome.replayed else {}
    if outcome.status_code >= 400:
        headers |= problems.headers_for(outcome.status_code, json.loads(outcome.body)) or {}
        media_type = problems.PROBLEM_MEDIA_TYPE
    else:
        media_type = "application/json"
    return Response(
        outcome.body, status_code=outcome.status_code, media_type=media_type, headers=headers
    )
