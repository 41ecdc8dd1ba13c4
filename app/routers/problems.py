"""The one table from error kind to HTTP status, rendered as RFC 9457 problem details.

Every error a client can cause leaves here as ``application/problem+json`` with a stable
``code``; unexpected failures become a bare 500 problem with the request id, never a trace.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.domain.error_codes import DOMAIN_CODES
from app.domain.errors import (
    N_,
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    Summary,
    TooManyAttempts,
    Unauthenticated,
    Unavailable,
)
from app.domain.errors import Message as Text
from app.routers.i18n import gettext
from app.routers.pydantic_messages import field_message
from app.schemas.common import Problem

log = logging.getLogger("app.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"

STATUS_OF: dict[type[DomainError], int] = {
    Invalid: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthenticated: 401,
    Forbidden: 403,
    TooManyAttempts: 429,
    Unavailable: 503,
}

HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}

# Every code a problem can carry: the domain's and those of the edge. (A framework error of
# another status would carry "http_<status>"; none is raised today.)
FRAMEWORK_CODES = frozenset(
    {
        *HTTP_CODES.values(),
        "duplicate_authorization",
        "internal_error",
        "malformed_json",
        "validation_error",
    }
)
ERROR_CODES = tuple(sorted(DOMAIN_CODES | FRAMEWORK_CODES))


# Titles of the problems the framework raises, marked for translation.
STATUS_TITLES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    406: N_("Not Acceptable"),
    409: N_("Conflict"),
    413: N_("Request Entity Too Large"),
    415: N_("Unsupported Media Type"),
    422: N_("Unprocessable Entity"),
    429: N_("Too Many Requests"),
    500: N_("Internal Server Error"),
    503: N_("Service Unavailable"),
}

# Problems a client should simply retry after a moment.
RETRY_AFTER_SECONDS = {"idempotency_in_flight": 1, "busy": 1, "database_unavailable": 5}


def _title(status: int) -> str:
    return STATUS_TITLES.get(status) or HTTPStatus(status).phrase


def _shown(text: str | Text) -> str:
    return text.render(gettext) if isinstance(text, Text) else gettext(text)


def problem_body(
    status: int,
    code: str,
    detail: str | Text,
    *,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    extra: dict | None = None,
) -> dict:
    """The RFC 9457 body in the request's language: ``title``, ``detail`` and each error's
    ``message`` (a template or a Message) are translated, ``code`` never."""
    body = Problem(
        type=f"urn:loyalty:problem:{code}",
        title=gettext(title or _title(status)),
        status=status,
        detail=_shown(detail),
        code=code,
        errors=[{**e, "message": _shown(e["message"])} for e in errors or []],
    ).model_dump()
    # Extension members may add to the standard ones but never replace them.
    return {**(extra or {}), **body}


def problem_response(
    status: int,
    code: str,
    detail: str | Text,
    *,
    title: str | None = None,
    errors: list[dict] | None = None,
    extra: dict | None = None,
    headers: dict | None = None,
) -> JSONResponse:
    body = problem_body(status, code, detail, title=title, errors=errors, extra=extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def render(exc: DomainError) -> tuple[int, dict]:
    """A domain error as (HTTP status, problem body): also what an idempotent replay stores."""
    status = next(s for kind, s in STATUS_OF.items() if isinstance(exc, kind))
    errors = [{"field": e.field, "message": e.text} for e in exc.errors]
    return status, problem_body(
        status, exc.code, exc.message, title=exc.title, errors=errors, extra=exc.extra
    )


def headers_for(status: int, problem: dict) -> dict | None:
    """The headers a problem response carries besides its body (``problem``)."""
    code = problem.get("code", "")
    if status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if code in RETRY_AFTER_SECONDS:
        return {"Retry-After": str(RETRY_AFTER_SECONDS[code])}
    if until := problem.get("locked_until"):  # 429 card_locked: when the lock ends
        wait = datetime.fromisoformat(until) - datetime.now(UTC)
        return {"Retry-After": str(max(1, math.ceil(wait.total_seconds())))}
    return None


def _malformed(reason: str) -> dict:
    return problem_body(
        400,
        "malformed_json",
        Text("The body is not valid JSON: {reason}.", reason=Text(reason)),
        errors=[{"field": "body", "message": N_("Malformed JSON")}],
    )


def _field(loc: tuple) -> str:
    """('body', 'lines', 0, 'qty') -> 'lines[0].qty'; ('query', 'limit') -> 'limit'."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    status, body = render(exc)
    return JSONResponse(
        body,
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers_for(status, body),
    )


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    raw = exc.errors()
    if any(e.get("type") == "json_invalid" for e in raw):
        detail = next(e for e in raw if e.get("type") == "json_invalid").get("ctx", {})
        body = _malformed(detail.get("error", "syntax"))
        return JSONResponse(body, status_code=400, media_type=PROBLEM_MEDIA_TYPE)
    content_type = request.headers.get("content-type", "")
    if content_type and "json" not in content_type and any(e.get("loc") == ("body",) for e in raw):
        return problem_response(
            415,
            "unsupported_media_type",
            Text(
                "Send the body as application/json, not {content_type}.",
                content_type=content_type.split(";")[0],
            ),
        )
    errors: list[dict[str, Any]] = [
        {"field": _field(tuple(e.get("loc", ()))), "message": field_message(e)} for e in raw
    ]
    summary = Summary([FieldError(e["field"], e["message"]) for e in errors], 5)
    return problem_response(
        422,
        "validation_error",
        Text("The request is invalid. {summary}", summary=summary),
        title=Invalid.title,
        errors=errors,
    )


def _unreadable_json(exc: HTTPException) -> str | None:
    """Why FastAPI could not parse a JSON body that is no JSONDecodeError (it answers those
    "There was an error parsing the body"), or None for another 400."""
    cause = exc.__cause__
    if exc.status_code != 400:
        return None
    if isinstance(cause, RecursionError):
        return N_("it is nested too deeply")
    if isinstance(cause, UnicodeDecodeError):
        return N_("it is not UTF-8")
    if isinstance(cause, ValueError):  # e.g. an integer literal over Python's 4300 digits
        return N_("it holds a number too long to read")
    return None


def http_problem(exc: HTTPException, method: str = "", path: str = "") -> tuple[int, dict, dict]:
    """A framework HTTP error (no route, body too large, ...) as (status, body, headers)."""
    if reason := _unreadable_json(exc):
        return 400, _malformed(reason), {}
    code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    detail: str | Text = (
        exc.text
        if isinstance(exc, _TooLarge)
        else exc.detail
        if isinstance(exc.detail, str)
        else HTTPStatus(exc.status_code).phrase
    )
    if exc.status_code == 404 and detail == "Not Found":
        detail = Text("No route matches {method} {path}.", method=method, path=path)
    elif detail == HTTPStatus(exc.status_code).phrase:
        detail = _title(exc.status_code)  # translated like the title
    return exc.status_code, problem_body(exc.status_code, code, detail), dict(exc.headers or {})


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    status, body, headers = http_problem(exc, request.method, request.url.path)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    # Starlette types every handler as taking any Exception, though it calls each with its own.
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]


class UnexpectedErrorMiddleware:
    """Last resort: a bug answers a 500 problem carrying the request id, never a trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error")
            if scope["type"] != "http" or started:
                raise
            response = problem_response(
                500, "internal_error", N_("An unexpected error occurred; it has been logged.")
            )
            await response(scope, receive, send)


class _TooLarge(HTTPException):
    def __init__(self, text: Text) -> None:
        super().__init__(413)
        self.text = text


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes: by Content-Length up front, else while streaming."""

    def __init__(self, app: ASGIApp, limit: int, overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.overrides = overrides or {}  # path -> its own limit (e.g. a streamed import)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.overrides.get(scope["path"], self.limit)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._too_large(limit)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                # FastAPI re-raises HTTPException from body reading; the handler renders it.
                raise _TooLarge(self._detail(limit))
            return message

        await self.app(scope, limited_receive, send)

    def _detail(self, limit: int) -> Text:
        return Text("The request body exceeds the limit of {limit} bytes.", limit=limit)

    def _too_large(self, limit: int) -> JSONResponse:
        return problem_response(413, "payload_too_large", self._detail(limit))
