"""Errors the business rules raise. Each carries a stable machine ``code`` and no HTTP status:
``app/routers/problems.py`` decides how a kind of error is shown.

Their texts are English templates with ``{placeholders}`` and the values apart, so that the edge
translates the template (a message catalog, app/locales) and then fills it in: a translated
text is never pieced together from formatted English. Babel extracts the templates from the
calls below and from ``N_`` marks (babel.cfg).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

Translate = Callable[[str], str]


def N_(template: str) -> str:
    """Marks a template kept for later (in a table, a default) for extraction; returns it."""
    return template


def _english(template: str) -> str:
    return template


class Renderable(Protocol):
    def render(self, gettext: Translate = ...) -> str: ...


class Message:
    """A template and its values, rendered in a language only when shown. A value that is
    itself a Message (or a list of them) is translated too."""

    __slots__ = ("params", "template")

    def __init__(self, template: str | Message, /, **params: Any) -> None:
        if isinstance(template, Message):  # already a message: add any values given
            self.template: str = template.template
            self.params: dict[str, Any] = {**template.params, **params}
        else:
            self.template, self.params = template, params

    def render(self, gettext: Translate = _english) -> str:
        values = {name: _shown(value, gettext) for name, value in self.params.items()}
        # A broken translation is said in English; a text that is no template (one quoting a
        # client's braces, e.g. an import row's reason) as it is.
        for text in (gettext(self.template), self.template):
            try:
                return text.format(**values)
            except (KeyError, IndexError, ValueError):
                continue
        return self.template

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Message({self.template!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Message):
            return (self.template, self.params) == (other.template, other.params)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.template)


def _shown(value: Any, gettext: Translate) -> Any:
    if hasattr(value, "render"):
        return value.render(gettext)
    if isinstance(value, list | tuple) and value and all(hasattr(v, "render") for v in value):
        return " ".join(v.render(gettext) for v in value)
    return value


class FieldError:
    """A message about one field of the request (``field`` is its path, e.g. ``lines[0].qty``)."""

    __slots__ = ("field", "text")

    def __init__(self, field: str, message: str | Message, /, **params: Any) -> None:
        self.field = field
        # A Message given as it is (it may render itself its own way) unless values are added.
        self.text = (
            message if isinstance(message, Message) and not params else Message(message, **params)
        )

    @property
    def message(self) -> str:
        """In English."""
        return self.text.render()

    def render(self, gettext: Translate = _english) -> str:
        return self.text.render(gettext)

    def __repr__(self) -> str:
        return f"FieldError({self.field!r}, {self.text!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FieldError):
            return (self.field, self.text) == (other.field, other.text)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.field, self.text))


class Summary:
    """ "field: message; field: message" over some field errors, in the language shown."""

    def __init__(self, errors: Sequence[FieldError], limit: int | None = None) -> None:
        self.errors = list(errors[:limit])

    def render(self, gettext: Translate = _english) -> str:
        return "; ".join(f"{e.field}: {e.render(gettext)}" for e in self.errors)


class DomainError(Exception):
    """Base class; subclasses name the kind of failure (not found, conflict, ...).

    ``detail`` is an English template, its placeholders filled from ``params``; a ``field``
    without ``errors`` makes the detail that field's error too."""

    title = N_("Request failed")

    def __init__(
        self,
        code: str,
        detail: str | Message,
        *,
        field: str | None = None,
        errors: list[FieldError] | None = None,
        extra: dict | None = None,
        **params: Any,
    ) -> None:
        self.message = Message(detail, **params)
        super().__init__(self.message.render())
        self.code = code
        self.errors = errors or ([FieldError(field, self.message)] if field else [])
        self.extra = extra or {}

    @property
    def detail(self) -> str:
        """In English."""
        return self.message.render()


class Invalid(DomainError):
    title = N_("Invalid input")


def refuse_any(errors: list[FieldError], code: str, what: str) -> None:
    """Raise Invalid naming every offending field at once, when there is any: "``what`` is
    invalid: " and each message."""
    if errors:
        raise Invalid(
            code,
            "{what} is invalid: {problems}",
            errors=errors,
            what=Message(what),
            problems=errors,
        )


class NotFound(DomainError):
    title = N_("Not found")


class Conflict(DomainError):
    title = N_("Conflict")


class Unauthenticated(DomainError):
    title = N_("Authentication required")


class Forbidden(DomainError):
    title = N_("Forbidden")


class TooManyAttempts(DomainError):
    title = N_("Too many attempts")


class Unavailable(DomainError):
    title = N_("Service unavailable")
