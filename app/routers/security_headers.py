"""Headers that keep browsers and caches from misusing what the API answers.

Every response: ``X-Content-Type-Options: nosniff`` (a JSON body is never run as a script or
a page), ``X-Frame-Options: DENY`` (no page of ours inside another site's frame) and
``Cache-Control: no-store`` (member data stays out of shared and browser caches) unless the
response chose its own or is a static asset of the docs pages; with ``hsts_max_age`` set (the
service is reached over TLS only), ``Strict-Transport-Security`` too.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    def __init__(
        self, app: ASGIApp, *, hsts_max_age: int | None, cacheable_prefix: str | None
    ) -> None:
        self.app = app
        self.always = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY")]
        if hsts_max_age is not None:
            self.always.append((b"strict-transport-security", b"max-age=%d" % hsts_max_age))
        self.cacheable_prefix = cacheable_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = self.cacheable_prefix is not None and scope["path"].startswith(
            self.cacheable_prefix
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), *self.always]
                if not cacheable and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append(NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
