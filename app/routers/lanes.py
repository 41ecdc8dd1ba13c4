"""The till's hottest calls, answered without FastAPI's request machinery.

A quote and a money-paid sale are what every checkout sends. For those, routing, dependency
resolution and the endpoint's wrappers cost more of a worker's time than the work itself
(bench/README.md). This ASGI layer reads the body of ``POST`` to a lane's path and gives it to
the lane's handler (next to its endpoint in routers/v1), which validates it with the
endpoint's own schema and calls the same service.

Everything else goes on, unchanged, to the documented endpoint, with the body handed over as
read: a request with an ``Idempotency-Key``, a body that is not JSON (malformed, too deep, a
number too long) or that the schema refuses, so invalid input is reported in one place.

A refusal on a lane (401, 403, 409, 422, ...) is rendered by the same problem table as
everywhere else. The request-context middleware labels metrics and logs with the endpoint's
route.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.domain.errors import DomainError
from app.routers.problems import PROBLEM_MEDIA_TYPE, headers_for, http_problem, render


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # JSON
    headers: dict[str, str] = field(default_factory=dict)


# (the app's state, the decoded JSON body, the Authorization header) → an answer. A pydantic
# ValidationError hands the request to the endpoint, which reports it.
Handler = Callable[[State, Any, str], Awaitable[Answer]]


@dataclass(frozen=True)
class Lane:
    handler: Handler
    operation: str  # the documented endpoint's operation id


class Lanes:
    def __init__(self, app: ASGIApp, state: State, lanes: dict[str, Lane]) -> None:
        self.app = app
        self.state = state  # the app's: its pools, caches and card kit
        self.lanes = {
            path: (lane.handler, SimpleNamespace(name=lane.operation, path_format=path))
            for path, lane in lanes.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.lanes.get(scope["path"]) if scope["type"] == "http" else None
        if found is None or scope["method"] != "POST":
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
            await _send_problem(send, *http_problem(exc))
            return
        if body is None:  # the client went away
            return
        handler, route = found
        scope["route"] = route  # the endpoint sets its own if it is handed the request
        handed_over = _replaying(body, receive)
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # not JSON: the endpoint reports it
            await self.app(scope, handed_over, send)
            return
        try:
            answer = await handler(self.state, payload, authorization)
        except ValidationError:  # refused by the schema: the endpoint reports it
            await self.app(scope, handed_over, send)
            return
        except DomainError as exc:
            status, problem = render(exc)
            await _send_problem(send, status, problem, headers_for(status, problem))
            return
        await _respond(send, answer.status, answer.body, b"application/json", answer.headers)


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


async def _send_problem(send: Send, status: int, problem: dict, headers: dict | None) -> None:
    body = json.dumps(problem, ensure_ascii=False, separators=(",", ":")).encode()
    await _respond(send, status, body, PROBLEM_MEDIA_TYPE.encode(), headers or {})


async def _respond(send: Send, status: int, body: bytes, media_type: bytes, extra: dict) -> None:
    headers = [
        (b"content-type", media_type),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in extra.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
