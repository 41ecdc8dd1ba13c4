"""Problem texts in the client's language: ``Accept-Language`` negotiation and the message
catalogs (app/locales/<locale>/LC_MESSAGES/messages.po, Babel/gettext format).

The catalogs are read as .po once, at start-up (``load``; a few hundred messages, a few
milliseconds): no compiled .mo files to build, ship or keep in step with the .po. A message
missing from a catalog is shown in English.
The language of the request lives in a context variable set by ``LanguageMiddleware``, so
every place that renders a problem (exception handlers, the lanes, other middleware) uses it
without each passing it along.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DEFAULT = "en"
# Catalog locale -> its language tag (Content-Language). English is the source language.
SUPPORTED = {"en": "en", "zh_Hans": "zh-Hans"}

_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT)


@cache
def catalog(locale: str) -> dict[str, str]:
    """msgid -> translation for ``locale``, without untranslated or fuzzy entries."""
    if locale == DEFAULT:
        return {}
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        po = read_po(f, locale=locale)
    return {
        m.id: m.string
        for m in po
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def load() -> None:
    """Read every catalog now (at start-up), so a broken file fails the start, not a request."""
    for locale in SUPPORTED:
        catalog(locale)


@lru_cache(maxsize=256)  # few distinct tags in practice; Locale.parse reads CLDR data
def _supported(tag: str) -> str | None:
    if tag == "*":
        return DEFAULT
    try:
        locale = Locale.parse(tag.replace("_", "-"), sep="-")
    except (ValueError, UnknownLocaleError):
        return None
    if locale.language == "en":
        return "en"
    # Simplified Chinese: zh-Hans, or zh with a territory writing it (CN, SG) or none at all.
    if locale.language == "zh" and (
        locale.script == "Hans"
        or (locale.script is None and locale.territory in (None, "CN", "SG"))
    ):
        return "zh_Hans"
    return None


def negotiate(accept_language: str | None) -> str:
    """The supported locale the client prefers most (RFC 9110 §12.5.4 q-values), else English."""
    ranked: list[tuple[float, int, str]] = []
    for i, item in enumerate((accept_language or "").split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and q > 0:
            ranked.append((-q, i, tag))
    for _, _, tag in sorted(ranked):
        if found := _supported(tag):
            return found
    return DEFAULT


@contextlib.contextmanager
def speaking(locale: str) -> Iterator[None]:
    """Render problems in ``locale`` (a key of SUPPORTED) inside the block."""
    token = _language.set(locale)
    try:
        yield
    finally:
        _language.reset(token)


def gettext(message: str) -> str:
    """``message`` in the current request's language."""
    return catalog(_language.get()).get(message, message)


def current_tag() -> str:
    return SUPPORTED[_language.get()]


def _is_problem(start: Message) -> bool:
    """A problem rendered for this request: not one replayed for an Idempotency-Key, which is
    in the language of the request that first stored it."""
    headers = start.get("headers", ())
    return not any(k == b"idempotent-replayed" for k, _ in headers) and any(
        k == b"content-type" and v.startswith(b"application/problem+json") for k, v in headers
    )


class LanguageMiddleware:
    """Sets the request's language from ``Accept-Language``; a problem response says which it
    is in (``Content-Language``) and that it depends on the header (``Vary``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope["headers"] if k == b"accept-language"), b"")

        async def labelled_send(message: Message) -> None:
            if message["type"] == "http.response.start" and _is_problem(message):
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Language", current_tag())
                headers.add_vary_header("Accept-Language")
            await send(message)

        with speaking(negotiate(header.decode("latin-1"))):
            await self.app(scope, receive, labelled_send)
