"""The till's common sale, answered without FastAPI's request machinery.

``POST /v1/sales`` is the busiest write. Most sales are paid in money and sent without an
``Idempotency-Key``; for those this ASGI layer reads the body, validates it with the same
schema, and calls the lean path (``services.sales.record_sale_fast``: two round trips, the
API-key check folded into the first). Routing, dependency resolution and the endpoint's
wrappers cost more of a worker's time than that work itself (bench/README.md).

Everything else goes on, unchanged, to the documented endpoint (routers/v1/sales.py), with
the body handed over as read: a request with an ``Idempotency-Key`` or a body that is not
plain JSON, a body the schema refuses (so invalid input is reported in one place), and every
sale the lean path declines (nothing was written then). A refusal on the lean path (401,
403, 409, 422) is rendered by the same problem table as everywhere else.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

from pydantic import ValidationError
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.domain.errors import DomainError
from app.domain.points import Payment
from app.routers.problems import PROBLEM_MEDIA_TYPE, headers_for, http_problem, render
from app.routers.v1.sales import TILL_SCOPES, sale_json
from app.schemas.sales import SaleCreate
from app.services import sales
from app.services.sales import TillLine
from app.uow import UnitOfWork

PATH = "/v1/sales"
# What the request-context middleware labels metrics and logs with: the documented endpoint.
ROUTE = SimpleNamespace(name="create_sale", path_format=PATH)


class SaleLane:
    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state  # the app's: its pools, caches and card kit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if b"idempotency-key" in headers or content_type != b"application/json":
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except HTTPException as exc:  # over the body limit (BodyLimitMiddleware)
            await _send(send, *http_problem(exc))
            return
        if body is None:  # the client went away
            return
        scope["route"] = ROUTE  # the endpoint sets its own if it is handed the request
        handed_over = _replaying(body, receive)
        try:
            sale = SaleCreate.model_validate(json.loads(body))
        except (ValueError, ValidationError):  # the endpoint reports it
            await self.app(scope, handed_over, send)
            return
        state = self.state
        try:
            done = await sales.record_sale_fast(
                UnitOfWork(state.sessionmaker, state.reader),
                state.card_kit,
                headers.get(b"authorization", b"").decode("latin-1"),
                TILL_SCOPES,
                store_code=sale.store_code,
                receipt_no=sale.receipt_no,
                card_number=sale.card_number,
                occurred_at=sale.occurred_at,
                lines=[TillLine(**dict(line)) for line in sale.lines],
                payments=[Payment(p.method, p.amount) for p in sale.payments],
                now=datetime.now(UTC),
                cache=state.pricing_cache,
            )
        except DomainError as exc:
            status, problem = render(exc)
            await _send(send, status, problem, headers_for(status, exc.code))
            return
        if done is None:  # the general path records it
            await self.app(scope, handed_over, send)
            return
        extra = [(b"idempotent-replayed", b"true")] if done.replayed else []
        await _respond(send, done.status_code, sale_json(done.body), b"application/json", extra)


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the already-read body to the next app, then waits as usual."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _send(send: Send, status: int, problem: dict, headers: dict | None = None) -> None:
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    body = json.dumps(problem, ensure_ascii=False, separators=(",", ":")).encode()
    await _respond(send, status, body, PROBLEM_MEDIA_TYPE.encode(), extra)


async def _respond(send: Send, status: int, body: bytes, media_type: bytes, extra: list) -> None:
    headers = [
        (b"content-type", media_type),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
