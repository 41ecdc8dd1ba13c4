"""Errors the business rules raise. Each carries a stable machine ``code`` and no HTTP status:
``app/routers/problems.py`` decides how a kind of error is shown."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    """Base class; subclasses name the kind of failure (not found, conflict, ...)."""

    title = "Request failed"

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        errors: list[FieldError] | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.errors = errors or ([FieldError(field, detail)] if field else [])
        self.extra = extra or {}


class Invalid(DomainError):
    title = "Invalid input"


def refuse_any(errors: list[FieldError], code: str, what: str) -> None:
    """Raise Invalid naming every offending field at once, when there is any: "``what`` is
    invalid: " and each message."""
    if errors:
        detail = f"{what} is invalid: " + " ".join(e.message for e in errors)
        raise Invalid(code, detail, errors=errors)


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    title = "Conflict"


class Unauthenticated(DomainError):
    title = "Authentication required"


class Forbidden(DomainError):
    title = "Forbidden"


class TooManyAttempts(DomainError):
    title = "Too many attempts"


class Unavailable(DomainError):
    title = "Service unavailable"
