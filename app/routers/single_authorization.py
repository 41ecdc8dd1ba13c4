"""One Authorization header per request.

With two, parts of the app would read different ones: Starlette's ``Headers.get`` (the
endpoints' security dependency) takes the first, a ``dict`` of the raw headers (the lanes)
the last. So one key could be checked while another is used; such a request is refused
before anything reads it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.routers.problems import problem_response


class SingleAuthorization:
    """400 ``duplicate_authorization`` for a request carrying Authorization more than once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            seen = 0
            for name, _ in scope["headers"]:
                if name.lower() == b"authorization":
                    seen += 1
            if seen > 1:
                response = problem_response(
                    400,
                    "duplicate_authorization",
                    f"Send the Authorization header once: this request carries it {seen} times.",
                    errors=[{"field": "Authorization", "message": "sent more than once"}],
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
